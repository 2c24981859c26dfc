//! Test CAs and certificates made with the `openssl` command-line tool (an independent peer, not our code).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A P-256 CA whose key lives in a temporary directory (test material only).
pub struct TestCa {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    dir: PathBuf,
    name: String,
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

impl TestCa {
    /// A self-signed CA with subject `/O=Keyline Test/CN=<subject_cn>`.
    pub fn new(dir: &Path, name: &str, subject_cn: &str) -> Self {
        let key = format!("{name}.key.pem");
        let cert = format!("{name}.cert.pem");
        openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &key], dir);
        openssl(
            &[
                "req", "-x509", "-new", "-key", &key, "-sha256", "-days", "30", "-subj", &format!("/O=Keyline Test/CN={subject_cn}"),
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", &cert,
            ],
            dir,
        );
        Self { cert_path: dir.join(cert), key_path: dir.join(key), dir: dir.to_path_buf(), name: name.to_string() }
    }

    pub fn cert_pem(&self) -> String {
        std::fs::read_to_string(&self.cert_path).unwrap()
    }

    /// The CA key as unencrypted PKCS#8 PEM (what the station hands over after decrypting it).
    pub fn key_pkcs8_pem(&self) -> Vec<u8> {
        std::fs::read(&self.key_path).unwrap()
    }

    /// A leaf with subject CN = `cn` and a fresh key, signed by this CA.
    pub fn sign_leaf(&self, label: &str, cn: &str) -> String {
        let key = format!("{}-{label}.key.pem", self.name);
        let csr = format!("{}-{label}.csr.pem", self.name);
        let cert = format!("{}-{label}.cert.pem", self.name);
        openssl(&["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &key], &self.dir);
        openssl(&["req", "-new", "-key", &key, "-subj", &format!("/CN={cn}"), "-out", &csr], &self.dir);
        // Extensions make it an X.509 v3 certificate (rustls refuses v1 leaves).
        let ext = format!("{}-{label}.ext", self.name);
        std::fs::write(self.dir.join(&ext), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n").unwrap();
        openssl(
            &[
                "x509", "-req", "-in", &csr, "-CA", self.cert_path.to_str().unwrap(), "-CAkey", self.key_path.to_str().unwrap(),
                "-CAcreateserial", "-days", "2", "-sha256", "-extfile", &ext, "-out", &cert,
            ],
            &self.dir,
        );
        std::fs::read_to_string(self.dir.join(cert)).unwrap()
    }

    /// Verifies `cert_pem` against this CA with `openssl verify`.
    pub fn verifies(&self, cert_pem: &str) -> bool {
        let path = self.dir.join("to-verify.pem");
        std::fs::write(&path, cert_pem).unwrap();
        Command::new("openssl")
            .args(["verify", "-CAfile", self.cert_path.to_str().unwrap(), path.to_str().unwrap()])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }
}
