//! [`SerialLink`]: one open serial port with a bounded receive buffer, deadline reads and a byte log.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::{BoardError, CancelToken, Clock};

/// The console baud rate of both provisioning firmwares.
pub const DEFAULT_BAUD: u32 = 115_200;
/// Most bytes kept unconsumed; a board that talks more than this without a token is refused.
const MAX_RX: usize = 64 * 1024;
/// Longest single blocking read, so cancellation is seen quickly.
const READ_SLICE: Duration = Duration::from_millis(20);

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// Host to board.
    ToBoard,
    /// Board to host.
    FromBoard,
}

/// Receives every byte written or read (the per-port serial log).
pub type ByteLog = Arc<dyn Fn(Direction, &[u8]) + Send + Sync>;

/// Bytes moved on the link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkStats {
    /// Bytes sent to the board.
    pub bytes_out: u64,
    /// Bytes received from the board.
    pub bytes_in: u64,
}

/// An open serial port.
pub struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
    name: String,
    rx: Vec<u8>,
    log: Option<ByteLog>,
    clock: Arc<dyn Clock>,
    cancel: CancelToken,
    stats: LinkStats,
}

impl std::fmt::Debug for SerialLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialLink").field("name", &self.name).field("pending", &self.rx.len()).field("stats", &self.stats).finish()
    }
}

fn open_error(port: &str, error: serialport::Error) -> BoardError {
    let reason = error.to_string();
    if reason.contains("ENOTTY") || reason.contains("Inappropriate ioctl") || reason.contains("Not a typewriter") {
        BoardError::NotASerialPort { port: port.into(), reason }
    } else {
        BoardError::PortOpen { port: port.into(), reason }
    }
}

impl SerialLink {
    /// Opens `path` at `baud`, 8N1, no flow control. Bytes already waiting (a boot dump) are kept.
    pub fn open(path: &str, baud: u32, clock: Arc<dyn Clock>, cancel: CancelToken) -> Result<Self, BoardError> {
        match std::fs::metadata(path) {
            Err(e) => return Err(BoardError::PortOpen { port: path.into(), reason: e.to_string() }),
            Ok(meta) if meta.is_file() || meta.is_dir() => {
                return Err(BoardError::NotASerialPort { port: path.into(), reason: "it is a file, not a device".into() })
            }
            Ok(_) => {}
        }
        let port = serialport::new(path, baud)
            .flow_control(serialport::FlowControl::None)
            .timeout(READ_SLICE)
            .open()
            .map_err(|e| open_error(path, e))?;
        Ok(SerialLink { port, name: path.into(), rx: Vec::new(), log: None, clock, cancel, stats: LinkStats::default() })
    }

    /// Sends every byte in both directions to `log` from now on.
    pub fn set_log(&mut self, log: ByteLog) {
        self.log = Some(log);
    }

    /// The port path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The clock deadlines are measured with.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Bytes moved so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Received bytes not consumed yet.
    pub fn received(&self) -> &[u8] {
        &self.rx
    }

    /// Drops the first `n` received bytes.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.rx.len());
        self.rx.drain(..n);
    }

    /// Drops everything received so far.
    pub fn clear(&mut self) {
        self.rx.clear();
    }

    /// Writes all of `bytes` and waits until the OS has sent them.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        if self.cancel.is_cancelled() {
            return Err(BoardError::Cancelled);
        }
        if let Some(log) = &self.log {
            log(Direction::ToBoard, bytes);
        }
        self.port.write_all(bytes).map_err(|e| disconnected(&e))?;
        self.port.flush().map_err(|e| disconnected(&e))?;
        self.stats.bytes_out += bytes.len() as u64;
        Ok(())
    }

    /// One read of at most `wait`; returns how many bytes arrived (0: none in time).
    fn read_once(&mut self, wait: Duration) -> Result<usize, BoardError> {
        if self.cancel.is_cancelled() {
            return Err(BoardError::Cancelled);
        }
        let wait = wait.clamp(Duration::from_millis(1), READ_SLICE);
        self.port.set_timeout(wait).map_err(|e| BoardError::Io { reason: e.to_string() })?;
        let mut buffer = [0u8; 1024];
        match self.port.read(&mut buffer) {
            Ok(0) => Err(BoardError::Disconnected { reason: "end of file on the port".into() }),
            Ok(n) => {
                if self.rx.len() + n > MAX_RX {
                    return Err(BoardError::Malformed { what: "output", reason: format!("more than {MAX_RX} bytes without an expected reply") });
                }
                if let Some(log) = &self.log {
                    log(Direction::FromBoard, &buffer[..n]);
                }
                self.stats.bytes_in += n as u64;
                self.rx.extend_from_slice(&buffer[..n]);
                Ok(n)
            }
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => Ok(0),
            Err(e) => Err(disconnected(&e)),
        }
    }

    /// Reads until `check` finds what it wants in the received bytes, or `timeout` passes.
    /// `check` sees all unconsumed bytes each time and returns `Some` when done.
    pub fn read_until<T>(&mut self, waiting_for: &'static str, timeout: Duration, mut check: impl FnMut(&[u8]) -> Option<T>) -> Result<T, BoardError> {
        let start = self.clock.now();
        loop {
            if let Some(found) = check(&self.rx) {
                return Ok(found);
            }
            let waited = self.clock.since(start);
            if waited >= timeout {
                return Err(BoardError::Timeout { waiting_for, waited_ms: waited.as_millis() as u64, tail: self.tail() });
            }
            self.read_once(timeout - waited)?;
        }
    }

    /// Reads until the line has been quiet for `gap` (bytes that arrive are kept), at most `timeout`.
    pub fn wait_quiet(&mut self, gap: Duration, timeout: Duration) -> Result<(), BoardError> {
        let start = self.clock.now();
        let mut last = start;
        loop {
            let now = self.clock.now();
            if now.saturating_duration_since(last) >= gap {
                return Ok(());
            }
            if now.saturating_duration_since(start) >= timeout {
                return Err(BoardError::Timeout { waiting_for: "a quiet line", waited_ms: timeout.as_millis() as u64, tail: self.tail() });
            }
            let remaining = gap - now.saturating_duration_since(last);
            if self.read_once(remaining)? > 0 {
                last = self.clock.now();
            }
        }
    }

    /// Sets the DTR and RTS modem lines (true = asserted); used by [`crate::ResetStrategy`].
    pub fn set_control_lines(&mut self, dtr: bool, rts: bool) -> Result<(), BoardError> {
        let fail = |e: serialport::Error| BoardError::Io { reason: format!("cannot set the modem lines of {}: {e}", self.name) };
        self.port.write_data_terminal_ready(dtr).map_err(fail)?;
        self.port.write_request_to_send(rts).map_err(fail)
    }

    /// Holds the line state for `time`, a physical pulse width (measured with the real clock, in
    /// slices so cancellation is seen). Nothing is read meanwhile.
    pub fn pause(&mut self, time: Duration) -> Result<(), BoardError> {
        let start = std::time::Instant::now();
        while start.elapsed() < time {
            if self.cancel.is_cancelled() {
                return Err(BoardError::Cancelled);
            }
            std::thread::sleep(time.saturating_sub(start.elapsed()).min(READ_SLICE));
        }
        Ok(())
    }

    /// The last received bytes, normalised, for error messages.
    pub fn tail(&self) -> String {
        let text = crate::parse::normalise(&self.rx);
        let skip = text.chars().count().saturating_sub(200);
        text.chars().skip(skip).collect()
    }
}

fn disconnected(error: &std::io::Error) -> BoardError {
    BoardError::Disconnected { reason: error.to_string() }
}

/// Tells when the line has been quiet for a while, from successive looks at the receive buffer:
/// boot output still arriving (or leftovers of an interrupted session) is not "quiet".
pub(crate) struct QuietTracker {
    clock: Arc<dyn Clock>,
    last_len: usize,
    since: std::time::Instant,
}

impl QuietTracker {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        let since = clock.now();
        QuietTracker { clock, last_len: 0, since }
    }

    /// Whether no new byte arrived for `gap` (given the buffer's current length).
    pub(crate) fn quiet_for(&mut self, len: usize, gap: Duration) -> bool {
        if len != self.last_len {
            self.last_len = len;
            self.since = self.clock.now();
        }
        self.clock.since(self.since) >= gap
    }
}
