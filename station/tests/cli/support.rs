//! Test helpers: a temporary data directory, running the built `keyline` binary and `openssl`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Store passphrase used by the tests.
pub const PASS: &str = "correct horse battery staple";

/// A temporary working directory with a data directory inside it.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Env { dir, data }
    }

    /// A path in the working directory (outside the data directory).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A path inside the data directory.
    pub fn data_path(&self, relative: &str) -> PathBuf {
        self.data.join(relative)
    }

    /// Run keyline with the test passphrase in the environment.
    pub fn keyline(&self, args: &[&str]) -> Output {
        self.keyline_env(args, &[("KEYLINE_CA_PASSPHRASE", PASS)])
    }

    /// Run keyline with exactly these extra environment variables (no passphrase otherwise).
    pub fn keyline_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyline"));
        command
            .args(args)
            .env("KEYLINE_DATA_DIR", &self.data)
            .env_remove("KEYLINE_CA_PASSPHRASE")
            .env_remove("KEYLINE_IMPORT_PASSPHRASE")
            .env_remove("KEYLINE_LOG")
            .stdin(Stdio::null());
        for (key, value) in envs {
            command.env(key, value);
        }
        command.output().expect("keyline runs")
    }

    /// Run keyline (test passphrase) and return stdout; panics with stderr on failure.
    pub fn ok(&self, args: &[&str]) -> String {
        succeeded(self.keyline(args), args)
    }

    /// Run keyline with `--json` and parse stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).expect("stdout is JSON")
    }

    /// Create root CA `root` and signer CA `signer` (org "Acme Corp").
    pub fn create_root_and_signer(&self) {
        self.ok(&["ca", "create", "--name", "root", "--org", "Acme Corp", "--signer", "signer"]);
    }

    /// Every file in the data directory (except the lock file) with its contents.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        for path in walk(&self.data) {
            if path.file_name().is_some_and(|name| name == ".lock") {
                continue;
            }
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
        files
    }

    /// Data-directory snapshot without the log file (which grows with every command).
    pub fn snapshot_without_log(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = self.snapshot();
        files.retain(|path, _| !path.starts_with(self.data.join("logs")));
        files
    }
}

/// Stdout of a successful run; panics with both streams otherwise.
pub fn succeeded(output: Output, args: &[&str]) -> String {
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "keyline {args:?} failed\nstdout: {stdout}\nstderr: {stderr}");
    stdout
}

/// Assert a run failed with error `code` (read from its `--json` output); returns stderr.
pub fn failed_with(output: Output, code: &str) -> String {
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "expected failure {code}\nstdout: {stdout}\nstderr: {stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("no JSON error: {stdout}"));
    assert_eq!(report["error"]["code"], code, "stdout: {stdout}\nstderr: {stderr}");
    assert!(!report["error"]["hint"].as_str().unwrap().is_empty());
    assert!(stderr.contains("hint:"), "{stderr}");
    stderr
}

/// Run `openssl` and return stdout; panics with stderr on failure.
pub fn openssl(args: &[&str]) -> String {
    let output = openssl_output(args);
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Run `openssl`, whatever the outcome.
pub fn openssl_output(args: &[&str]) -> Output {
    Command::new("openssl").args(args).stdin(Stdio::null()).output().expect("openssl is installed")
}

/// `openssl pkey ARGS` on a key file Keyline stored (scrypt N=2^17, over `openssl pkey`'s 32 MiB
/// cap), decrypted by the OpenSSL CLI through scripts/openssl-decrypt-key.sh; whatever the outcome.
pub fn store_key_pkey_output(key: &Path, passphrase: &str, pkey_args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/openssl-decrypt-key.sh");
    Command::new("bash")
        .args(["-o", "pipefail", "-c", r#"script=$1; key=$2; shift 2; "$script" "$key" | openssl pkey "$@""#, "decrypt"])
        .arg(script)
        .arg(key)
        .args(pkey_args)
        .env("KEYLINE_KEY_PASSPHRASE", passphrase)
        .stdin(Stdio::null())
        .output()
        .expect("bash and openssl are installed")
}

/// [`store_key_pkey_output`] that must succeed; returns stdout.
pub fn store_key_pkey(key: &Path, passphrase: &str, pkey_args: &[&str]) -> String {
    let output = store_key_pkey_output(key, passphrase, pkey_args);
    assert!(output.status.success(), "openssl pkey {pkey_args:?} of {}: {}", key.display(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// `openssl x509 -text` of a certificate file.
pub fn x509_text(path: &Path) -> String {
    openssl(&["x509", "-in", path.to_str().unwrap(), "-noout", "-text"])
}

/// Make a self-signed CA with the openssl CLI: returns (cert path, key path).
/// `key_args` are the extra `req` options that choose the key format.
pub fn openssl_root(env: &Env, stem: &str, key_path: &Path, key_args: &[&str]) -> PathBuf {
    let cert = env.path(&format!("{stem}.crt"));
    let mut args = vec![
        "req", "-x509", "-key", key_path.to_str().unwrap(), "-out", cert.to_str().unwrap(), "-days", "365",
        "-subj", "/O=External/CN=External Root",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ];
    args.extend_from_slice(key_args);
    openssl(&args);
    cert
}

/// The 32-byte private scalar of a (possibly encrypted) key file, via `openssl pkey -text`.
/// Encrypted keys go through [`store_key_pkey`].
pub fn private_scalar(key: &Path, passphrase: Option<&str>) -> Vec<u8> {
    let text = match passphrase {
        Some(pass) => store_key_pkey(key, pass, &["-noout", "-text"]),
        None => openssl(&["pkey", "-in", key.to_str().unwrap(), "-noout", "-text"]),
    };
    let priv_hex: String = text
        .split("priv:")
        .nth(1)
        .and_then(|rest| rest.split("pub:").next())
        .expect("openssl printed priv:")
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect();
    let bytes: Vec<u8> =
        (0..priv_hex.len()).step_by(2).map(|i| u8::from_str_radix(&priv_hex[i..i + 2], 16).unwrap()).collect();
    let mut scalar = vec![0u8; 32usize.saturating_sub(bytes.len())];
    scalar.extend_from_slice(&bytes[bytes.len().saturating_sub(32)..]);
    scalar
}

/// The public key of a certificate or key file, as DER SubjectPublicKeyInfo.
pub fn public_key_of_cert(cert: &Path) -> String {
    openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-pubkey"])
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return files };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Run the shell `script` in its own D-Bus session with a fresh, unlocked gnome-keyring (HOME inside the test's
/// directory), in the working directory, with `KEYLINE_DATA_DIR` set and `$K` naming the keyline binary, plus
/// `envs`. No passphrase or PIN is inherited.
pub fn in_keyring_session(env: &Env, script: &str, envs: &[(&str, &Path)]) -> Output {
    let have = |program: &str| Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().is_ok_and(|o| o.status.success());
    assert!(
        have("dbus-run-session") && have("gnome-keyring-daemon"),
        "dbus-run-session and gnome-keyring-daemon are needed: apt install dbus gnome-keyring (scripts/keyline-dev.sh installs them)"
    );
    let script = format!(
        "set -e\nprintf %s keyring-test | gnome-keyring-daemon --components=secrets --daemonize --unlock >/dev/null\n{script}"
    );
    for dir in ["home/share", "home/cache"] {
        std::fs::create_dir_all(env.path(dir)).unwrap();
    }
    let mut command = Command::new("dbus-run-session");
    command
        .args(["--", "sh", "-c", &script])
        .current_dir(env.dir.path())
        .env_remove("KEYLINE_CA_PASSPHRASE")
        .env_remove("KEYLINE_TOKEN_PIN")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("KEYLINE_DATA_DIR", &env.data)
        .env("K", env!("CARGO_BIN_EXE_keyline"))
        // A fresh login keyring, unlocked with the password piped to the daemon.
        .env("HOME", env.path("home"))
        .env("XDG_DATA_HOME", env.path("home/share"))
        .env("XDG_CACHE_HOME", env.path("home/cache"));
    for (key, value) in envs {
        command.env(key, value);
    }
    command.output().unwrap()
}
