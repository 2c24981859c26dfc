//! Log setup shared by the CLI and the desktop shell: human lines on stderr and JSON lines in
//! `<data_dir>/logs/keyline.log`. Secrets are never passed to `tracing`.

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::store::Layout;
use crate::{Error, Result};

/// Environment variable with an `EnvFilter` directive for the stderr output (e.g. `debug`).
pub const LOG_ENV: &str = "KEYLINE_LOG";

/// Target for events that are written to the log file but not to stderr (the CLI prints its
/// own error report there).
pub const REPORT_TARGET: &str = "keyline::report";

/// A layer the caller adds (the desktop shell forwards events to the UI with one).
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync + 'static>;

/// What [`init`] installs.
pub struct LogOptions {
    /// Data directory; the log file is `<data_dir>/logs/keyline.log`.
    pub data_dir: PathBuf,
    /// Also print human-readable lines on stderr.
    pub stderr: bool,
    /// Default stderr filter when [`LOG_ENV`] is unset (e.g. `"warn"`).
    pub stderr_default: String,
    /// Extra layers (each may carry its own filter).
    pub extra_layers: Vec<BoxedLayer>,
}

impl LogOptions {
    /// stderr at `warn`, the file at `info`, no extra layers.
    pub fn new(data_dir: PathBuf) -> Self {
        LogOptions { data_dir, stderr: true, stderr_default: "warn".into(), extra_layers: Vec::new() }
    }
}

/// Install the global subscriber; returns the log file path.
///
/// Fails with `io` if the log file cannot be opened, and with `invalid_input` if a global
/// subscriber is already installed.
pub fn init(options: LogOptions) -> Result<PathBuf> {
    let layout = Layout::create(options.data_dir)?;
    let path = layout.logs_dir().join("keyline.log");
    let mut open = OpenOptions::new();
    open.create(true).append(true);
    crate::store::set_private_file_mode(&mut open);
    let file = open.open(&path).map_err(|e| Error::io("cannot open log file", &path, e))?;

    let mut layers: Vec<BoxedLayer> = options.extra_layers;
    layers.push(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(Mutex::new(file))
            .with_filter(LevelFilter::INFO)
            .boxed(),
    );
    if options.stderr {
        let directives = std::env::var(LOG_ENV).unwrap_or(options.stderr_default);
        let filter = EnvFilter::try_new(format!("{directives},{REPORT_TARGET}=off"))
            .unwrap_or_else(|_| EnvFilter::new(format!("warn,{REPORT_TARGET}=off")));
        layers.push(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(false)
                .with_filter(filter)
                .boxed(),
        );
    }
    tracing_subscriber::registry().with(layers).try_init().map_err(|e| Error::InvalidInput {
        what: "logging".into(),
        reason: format!("a logger is already installed: {e}"),
    })?;
    Ok(path)
}
