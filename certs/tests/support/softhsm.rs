//! A SoftHSM2 token store of the test's own (Debian's `softhsm2` package): a config and token directory in a
//! temp dir, tokens created with `softhsm2-util --init-token --free`. Shared by the certs and station tests.

use std::path::PathBuf;
use std::process::Command;

/// Where Debian and other distributions put SoftHSM2's PKCS#11 module.
const MODULE_PATHS: [&str; 3] =
    ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"];

/// The token user PIN the tests use.
pub const PIN: &str = "314159";

/// A private SoftHSM2 setup: `SOFTHSM2_CONF` must point at [`SoftHsm::conf`] for every process using it.
pub struct SoftHsm {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub module: PathBuf,
}

impl SoftHsm {
    /// A fresh token directory and config. A missing SoftHSM2 is a failure saying what to install.
    pub fn new() -> SoftHsm {
        let module = MODULE_PATHS.iter().map(PathBuf::from).find(|path| path.is_file()).unwrap_or_else(|| {
            panic!("SoftHSM2's PKCS#11 module is not installed (looked in {MODULE_PATHS:?}): run `apt-get install -y softhsm2` (scripts/keyline-dev.sh installs it)")
        });
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(&conf, format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens.display())).unwrap();
        SoftHsm { dir, conf, module }
    }

    /// Initialise a token labelled `label` in the first free slot with user PIN [`PIN`].
    pub fn init_token(&self, label: &str) {
        let output = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "27182818"])
            .env("SOFTHSM2_CONF", &self.conf)
            .output()
            .unwrap_or_else(|e| panic!("softhsm2-util does not run ({e}): run `apt-get install -y softhsm2`"));
        assert!(output.status.success(), "softhsm2-util --init-token failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// The module path as text, for command lines.
    pub fn module_arg(&self) -> &str {
        self.module.to_str().unwrap()
    }
}
