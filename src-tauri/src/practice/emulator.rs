//! The local AWS emulator of practice mode: find the pinned ministack in the project's `.venv`, start it on
//! loopback in the background, report its state, and stop it (it is a child process, killed when dropped).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use keyline_station::cloud_ops::{start_emulator, CloudSettings, Emulator, EmulatorConfig, EMULATOR_REGION as REGION, MINISTACK_VERSION};
use keyline_station::{Audience, ErrorCode, ErrorReport};
use serde::Serialize;

/// Environment variable naming the Keyline checkout whose `.venv` holds ministack.
pub const PROJECT_DIR_ENV: &str = "KEYLINE_PROJECT_DIR";
/// How long app exit waits for an emulator that is still starting, so it can be stopped too.
const EXIT_WAIT: Duration = Duration::from_secs(20);

/// Where the emulator is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum EmulatorState {
    /// Not started (or stopped).
    Off,
    /// Started; waiting for its API and MQTT listener.
    Starting,
    /// Answering on loopback.
    Running,
    /// It failed to start; `error` says why.
    Failed,
    /// `.venv/bin/ministack` is missing; `error` says how to install it.
    NotInstalled,
}

/// The emulator as the practice panel shows it.
#[derive(Debug, Clone, Serialize)]
#[derive(specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct EmulatorStatus {
    /// Its state.
    pub state: EmulatorState,
    /// The pinned ministack version.
    pub version: &'static str,
    /// The region it serves.
    pub region: &'static str,
    /// `http://127.0.0.1:4566` while running.
    pub endpoint_url: Option<String>,
    /// `127.0.0.1:8883` (MQTT over TLS) while running.
    pub mqtt_address: Option<String>,
    /// The `ministack` program used (or looked for).
    pub binary: Option<String>,
    /// Its output file.
    pub log_path: Option<String>,
    /// Why it is not running, with what to do.
    pub error: Option<ErrorReport>,
}

enum Phase {
    Off,
    Starting,
    Running(Emulator),
    Failed(ErrorReport),
    NotInstalled(ErrorReport),
}

struct Inner {
    phase: Phase,
    /// Bumped by every stop, so a start that finishes after a stop is discarded.
    generation: u64,
    /// A start task is running.
    in_flight: bool,
    binary: Option<PathBuf>,
}

/// Where to look for ministack: read once from the environment at launch, or given by a test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmulatorSource {
    /// A Python environment whose `bin/ministack` to run (`KEYLINE_VENV`).
    pub venv: Option<PathBuf>,
    /// The Keyline checkout whose `.venv` holds ministack (see [`project_dir`]).
    pub project_dir: Option<PathBuf>,
}

impl EmulatorSource {
    /// `KEYLINE_VENV` and the checkout found by [`project_dir`].
    pub fn from_env() -> Self {
        let venv = std::env::var_os("KEYLINE_VENV").filter(|v| !v.is_empty()).map(PathBuf::from);
        Self { venv, project_dir: project_dir() }
    }
}

/// The emulator slot: at most one ministack per app.
pub struct EmulatorSlot {
    workdir: PathBuf,
    source: EmulatorSource,
    inner: Arc<Mutex<Inner>>,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl EmulatorSlot {
    /// An empty slot; ministack comes from `source` and keeps its output in `workdir/ministack.log`.
    pub fn new(workdir: PathBuf, source: EmulatorSource) -> Self {
        let inner = Inner { phase: Phase::Off, generation: 0, in_flight: false, binary: None };
        Self { workdir, source, inner: Arc::new(Mutex::new(inner)) }
    }

    /// State, addresses and error.
    pub fn status(&self) -> EmulatorStatus {
        let inner = lock(&self.inner);
        let mut status = EmulatorStatus {
            state: EmulatorState::Off,
            version: MINISTACK_VERSION,
            region: REGION,
            endpoint_url: None,
            mqtt_address: None,
            binary: inner.binary.as_ref().map(|b| b.display().to_string()),
            log_path: None,
            error: None,
        };
        match &inner.phase {
            Phase::Off => {}
            Phase::Starting => {
                status.state = EmulatorState::Starting;
                status.log_path = Some(self.workdir.join("ministack.log").display().to_string());
            }
            Phase::Running(emulator) => {
                status.state = EmulatorState::Running;
                status.endpoint_url = Some(emulator.endpoint_url());
                status.mqtt_address = Some(emulator.mqtt_address());
                status.log_path = Some(emulator.log_path().display().to_string());
            }
            Phase::Failed(report) => {
                status.state = EmulatorState::Failed;
                status.error = Some(report.clone());
                status.log_path = Some(self.workdir.join("ministack.log").display().to_string());
            }
            Phase::NotInstalled(report) => {
                status.state = EmulatorState::NotInstalled;
                status.error = Some(report.clone());
            }
        }
        status
    }

    /// Cloud settings pointing at the running emulator (for the Cloud connecting wizard), if it runs.
    pub fn settings(&self) -> Option<CloudSettings> {
        match &lock(&self.inner).phase {
            Phase::Running(emulator) => Some(emulator.settings()),
            _ => None,
        }
    }

    /// Starts ministack on a background task unless it runs or is starting; the state says how it went.
    pub fn start_in_background(&self) {
        let mut inner = lock(&self.inner);
        if matches!(inner.phase, Phase::Starting | Phase::Running(_)) {
            return;
        }
        let config = match locate(self.workdir.clone(), &self.source) {
            Ok(config) => config,
            Err((binary, report)) => {
                tracing::warn!(error = %report.message, hint = %report.hint, "local AWS emulator not installed");
                inner.binary = binary;
                inner.phase = Phase::NotInstalled(report);
                return;
            }
        };
        inner.binary = Some(config.binary.clone());
        if let Some(report) = busy_port(&[config.api_port, config.mqtt_port]) {
            tracing::error!(error = %report.message, hint = %report.hint, "local AWS emulator could not start");
            inner.phase = Phase::Failed(report);
            return;
        }
        inner.phase = Phase::Starting;
        inner.in_flight = true;
        let generation = inner.generation;
        drop(inner);
        tracing::info!(binary = %config.binary.display(), api_port = config.api_port, mqtt_port = config.mqtt_port, "local AWS emulator starting");
        let shared = self.inner.clone();
        tauri::async_runtime::spawn(async move {
            let outcome = start_emulator(config).await;
            let mut inner = lock(&shared);
            inner.in_flight = false;
            if inner.generation != generation {
                tracing::info!("local AWS emulator stopped (it finished starting after a stop)");
                return; // dropping `outcome` kills the process
            }
            inner.phase = match outcome {
                Ok(emulator) => {
                    tracing::info!(endpoint = %emulator.endpoint_url(), mqtt = %emulator.mqtt_address(), version = MINISTACK_VERSION, "local AWS emulator running");
                    Phase::Running(emulator)
                }
                Err(error) => {
                    let report = error.report_for(Audience::Gui);
                    tracing::error!(error = %report.message, hint = %report.hint, "local AWS emulator could not start");
                    Phase::Failed(report)
                }
            };
        });
    }

    /// Stops the emulator (a start in progress is discarded when it finishes).
    pub fn stop(&self) {
        let mut inner = lock(&self.inner);
        inner.generation += 1;
        let previous = std::mem::replace(&mut inner.phase, Phase::Off);
        drop(inner);
        match previous {
            Phase::Running(emulator) => {
                drop(emulator);
                tracing::info!("local AWS emulator stopped");
            }
            Phase::Starting => tracing::info!("local AWS emulator start cancelled"),
            _ => {}
        }
    }

    /// Stops the emulator and waits (bounded) for a start in progress, so no ministack outlives the app.
    pub fn shutdown(&self) {
        self.stop();
        let deadline = Instant::now() + EXIT_WAIT;
        while lock(&self.inner).in_flight && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The emulator configuration, or (the program looked for, why it cannot start).
fn locate(workdir: PathBuf, source: &EmulatorSource) -> Result<EmulatorConfig, (Option<PathBuf>, ErrorReport)> {
    let venv = match (&source.venv, &source.project_dir) {
        (Some(venv), _) => venv.clone(),
        (None, Some(project)) => project.join(".venv"),
        (None, None) => {
            return Err((None, not_installed("no .venv was found where Keyline is installed; set KEYLINE_VENV or KEYLINE_PROJECT_DIR")))
        }
    };
    let mut config = EmulatorConfig { binary: venv.join("bin/ministack"), ..EmulatorConfig::in_project(&venv, workdir) };
    if !config.binary.is_file() {
        let why = format!("{} does not exist", config.binary.display());
        return Err((Some(config.binary), not_installed(&why)));
    }
    match guard_with_parent_death(&config.binary, &config.workdir) {
        Ok(Some(wrapper)) => config.binary = wrapper,
        Ok(None) => tracing::warn!("setpriv is missing: ministack may outlive the app if the app is killed"),
        Err(error) => tracing::warn!(%error, "cannot write the ministack wrapper: ministack may outlive the app if the app is killed"),
    }
    Ok(config)
}

/// Where util-linux's `setpriv` may live.
const SETPRIV: [&str; 2] = ["/usr/bin/setpriv", "/bin/setpriv"];

/// Writes `<workdir>/ministack-guarded`, which runs `binary` with a parent-death signal, so the emulator dies with
/// the app even when the app is killed outright (SIGKILL, e.g. by tauri-driver). Its Lambda workers exit when
/// their stdin closes. `None` when `setpriv` is not installed.
fn guard_with_parent_death(binary: &Path, workdir: &Path) -> std::io::Result<Option<PathBuf>> {
    let Some(setpriv) = SETPRIV.iter().map(Path::new).find(|path| path.is_file()) else {
        return Ok(None);
    };
    std::fs::create_dir_all(workdir)?;
    let quote = |path: &Path| format!("'{}'", path.display().to_string().replace('\'', r"'\''"));
    let script = format!(
        "#!/bin/sh\n# Written by Keyline practice mode: ministack dies with the app that started it.\nexec {} --pdeathsig KILL -- {} \"$@\"\n",
        quote(setpriv),
        quote(binary)
    );
    let wrapper = workdir.join("ministack-guarded");
    std::fs::write(&wrapper, script)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(Some(wrapper))
}

/// A report when something already listens on one of the emulator's loopback ports.
fn busy_port(ports: &[u16]) -> Option<ErrorReport> {
    let port = ports.iter().copied().find(|port| {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], *port));
        std::net::TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok()
    })?;
    Some(ErrorReport {
        code: ErrorCode::EmulatorPortBusy,
        message: format!("the local AWS emulator cannot start: something already listens on 127.0.0.1:{port}"),
        hint: format!(
            "Stop the program on port {port} (often a ministack left by an earlier run: `ss -ltnp | grep {port}` shows it), \
             then press Start emulator."
        ),
    })
}

fn not_installed(why: &str) -> ErrorReport {
    ErrorReport {
        code: ErrorCode::EmulatorNotInstalled,
        message: format!("the local AWS emulator (ministack {MINISTACK_VERSION}) is not installed: {why}"),
        hint: format!(
            "In the Keyline checkout run `scripts/keyline-dev.sh setup` (or `.venv/bin/pip install ministack=={MINISTACK_VERSION} \
             cryptography boto3`), start the app with {PROJECT_DIR_ENV}=<checkout> if it runs from elsewhere, then press Start emulator."
        ),
    }
}

/// The Keyline checkout or install: `KEYLINE_PROJECT_DIR` (configured), else the nearest ancestor of the
/// executable that holds a `.venv` (where Keyline is installed or built). Never the working directory: a `.venv`
/// planted in a folder the app happens to be started from must not choose the program practice mode runs.
pub fn project_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(PROJECT_DIR_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::current_exe().ok().and_then(|exe| ancestor_with_venv(&exe))
}

fn ancestor_with_venv(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(".venv").is_dir()).map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_ancestor_with_a_venv_is_the_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".venv/bin")).unwrap();
        std::fs::create_dir_all(dir.path().join("target/debug")).unwrap();
        let found = ancestor_with_venv(&dir.path().join("target/debug/keyline-app"));
        assert_eq!(found.as_deref(), Some(dir.path()));
        assert_eq!(ancestor_with_venv(Path::new("/nonexistent/a/b")), None);
    }

    #[test]
    fn the_guarded_emulator_dies_with_the_thread_that_started_it() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake ministack's");
        std::fs::write(&fake, "#!/bin/sh\nexec sleep 300\n").unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let wrapper = guard_with_parent_death(&fake, &dir.path().join("work"))
            .unwrap()
            .expect("setpriv is not installed: apt install util-linux (scripts/keyline-dev.sh installs it)");
        // PR_SET_PDEATHSIG follows the thread that forked: a thread that ends stands in for a killed app.
        // The thread lives on until setpriv has set the signal (a parent that dies before that is not noticed).
        let pid = std::thread::spawn(move || {
            let pid = std::process::Command::new(&wrapper).spawn().unwrap().id();
            std::thread::sleep(Duration::from_millis(500));
            pid
        })
        .join()
        .unwrap();
        let alive = || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(), "the guarded process outlived its parent");
    }

    #[test]
    fn a_taken_port_is_reported_with_what_to_do() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let report = busy_port(&[port]).expect("the port is taken");
        assert_eq!(report.code, "emulator_port_busy");
        assert!(report.message.contains(&format!("127.0.0.1:{port}")) && report.hint.contains("ss -ltnp"), "{report:?}");
        // (No check that a closed port is free: connecting to a free ephemeral port can self-connect.)
        drop(listener);
    }

    #[test]
    fn a_fresh_slot_is_off_and_offers_no_settings() {
        let slot = EmulatorSlot::new(PathBuf::from("/tmp/unused"), EmulatorSource::default());
        let status = slot.status();
        assert_eq!(status.state, EmulatorState::Off);
        assert_eq!(status.version, "1.5.33");
        assert!(status.endpoint_url.is_none() && slot.settings().is_none());
    }
}
