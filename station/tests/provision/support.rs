//! Test support: a data directory with a root and signer CA, `keyline sim` in another process, chip read-back.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use keyline_certs::atcacert::rebuild::DeviceImage;
use serde_json::Value;

pub const PASS: &str = "correct horse battery staple";

/// Simulated boards live on wall time: a starved simulator thread merges writes that a board's UART
/// would have taken as separate events. So at most this many tests of this binary drive boards at once.
const BOARD_TESTS_AT_ONCE: usize = 2;

static RUNNING: (std::sync::Mutex<usize>, std::sync::Condvar) = (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// Some of the [`BOARD_TESTS_AT_ONCE`] turns (one, or all for a test that loads the machine
/// itself), given back on drop.
pub struct Turn(usize);

impl Turn {
    fn take(turns: usize) -> Turn {
        let (count, freed) = &RUNNING;
        let mut running = count.lock().unwrap_or_else(|e| e.into_inner());
        while *running + turns > BOARD_TESTS_AT_ONCE {
            running = freed.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += turns;
        Turn(turns)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        *count.lock().unwrap_or_else(|e| e.into_inner()) -= self.0;
        freed.notify_all();
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    _turn: Turn,
}

impl Env {
    /// A data directory with root CA `root` and signer CA `signer`; waits for a turn to drive boards.
    pub fn with_cas() -> Env {
        Env::with_cas_turns(1)
    }

    /// Like [`Env::with_cas`], running alone: for a test whose many boards load the machine
    /// themselves (the timing-sensitive tests beside it would starve).
    pub fn with_cas_alone() -> Env {
        Env::with_cas_turns(BOARD_TESTS_AT_ONCE)
    }

    fn with_cas_turns(turns: usize) -> Env {
        let env = Env::with_turns(turns);
        env.ok(&["ca", "create", "--name", "root", "--org", "Acme Corp", "--signer", "signer"]);
        env
    }

    /// An empty data directory; waits for a turn to drive boards.
    pub fn empty() -> Env {
        Env::with_turns(1)
    }

    fn with_turns(turns: usize) -> Env {
        let _turn = Turn::take(turns);
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        Env { dir, data, _turn }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyline"));
        command.args(args).env("KEYLINE_DATA_DIR", &self.data).env("KEYLINE_CA_PASSPHRASE", PASS).env_remove("KEYLINE_LOG").stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("keyline runs")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "keyline {args:?} failed\nstdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&output.stderr));
        stdout
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).expect("JSON on stdout")
    }

    /// `keyline --json …` that must fail; returns the error object.
    pub fn json_error(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let output = self.run(&args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(!output.status.success(), "keyline {args:?} should fail: {stdout}");
        let value: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("no JSON error: {stdout}"));
        value["error"].clone()
    }

    pub fn cert_der(&self, name: &str) -> Vec<u8> {
        pem_der(&std::fs::read_to_string(self.data.join("certs").join(format!("{name}.crt"))).unwrap())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The rainbowtype build's compiled certificate templates for CA `signer`, as `keyline template
    /// cert-chain` generates them, in the directory `keyline sim --cert-chain` reads (signer.der, device.der).
    /// Boards built with it refuse certificates that do not fit their one compiled `cert_chain.c`.
    pub fn cert_chain_dir(&self) -> PathBuf {
        let dir = self.path("cert-chain");
        if !dir.join("device.der").exists() {
            let template = self.json(&["template", "cert-chain", "--ca", "signer", "--profile", "rainbowtype"]);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, field) in [("signer", "signerTemplateHex"), ("device", "deviceTemplateHex")] {
                let hex = template[field].as_str().unwrap_or_else(|| panic!("template cert-chain --json has no {field}: {template}"));
                std::fs::write(dir.join(format!("{name}.der")), hex_bytes(hex)).unwrap();
            }
        }
        dir
    }

    /// A simulator configuration for `boards` boards of `firmware` built with [`Env::cert_chain_dir`].
    pub fn sim_config(&self, boards: usize, firmware: keyline_sim::FirmwareKind) -> keyline_sim::SimConfig {
        let mut config = keyline_sim::SimConfig::new(boards, firmware, self.data.join("sim"));
        config.cert_chain = Some(std::sync::Arc::new(keyline_sim::firmware::CertChain::from_dir(&self.cert_chain_dir()).unwrap()));
        config
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2) && hex.is_ascii(), "not hex: {hex}");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

pub fn pem_der(text: &str) -> Vec<u8> {
    keyline_certs::device::request::der_from_pem_or_der(text.as_bytes(), "CERTIFICATE").unwrap()
}

/// `keyline sim` in its own process; stopped (SIGINT) on drop.
pub struct Sim {
    child: Child,
    pub ports: Vec<String>,
    pub state_dir: PathBuf,
}

impl Sim {
    pub fn start(env: &Env, firmware: &str, boards: usize, extra: &[&str]) -> Sim {
        let cert_chain = env.cert_chain_dir();
        let mut args = vec!["sim", "--boards", &*Box::leak(boards.to_string().into_boxed_str()), "--firmware", firmware, "--json"];
        args.extend(["--cert-chain", &*Box::leak(cert_chain.to_string_lossy().into_owned().into_boxed_str())]);
        args.extend_from_slice(extra);
        let mut child = env.command(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut json = String::new();
        while !json.trim_end().ends_with(']') {
            assert!(stdout.read_line(&mut json).unwrap() > 0, "keyline sim ended early: {json}");
        }
        let listed: Value = serde_json::from_str(&json).unwrap();
        let ports = listed.as_array().unwrap().iter().map(|p| p["path"].as_str().unwrap().to_string()).collect();
        Sim { child, ports, state_dir: env.data.join("sim") }
    }

    /// Stops the simulator and waits until its chips are saved.
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).stderr(Stdio::null()).status();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The persisted chip of simulated board `index` as a rebuild image: config, slots 10-15 and the slot-0 key.
pub fn chip_image(state_dir: &Path, index: usize) -> DeviceImage {
    let board = keyline_sim::Board::new(keyline_sim::BoardConfig {
        index,
        state_dir: Some(state_dir.join(format!("board-{index}"))),
        derive_templates: true,
        ..keyline_sim::BoardConfig::default()
    })
    .unwrap();
    let chip = &board.hardware().chip;
    let mut image = DeviceImage::with_serial(&chip.serial());
    image.config = chip.read_config_zone().to_vec();
    for slot in 10..16u8 {
        if let Ok(bytes) = chip.read_slot(usize::from(slot), 0, 72) {
            image.write_slot(slot, 0, &bytes);
        }
    }
    if let Ok(key) = chip.get_pubkey(0) {
        image.genkey.insert(0, key);
    }
    image
}

pub fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl CLI is installed (apt-get install openssl)")
}
