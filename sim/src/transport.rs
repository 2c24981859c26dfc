//! Boards on pseudo-terminals: per board a reader thread stamps what the host writes (`rx_reader`)
//! and a board thread hands it on (as UART bursts, `rx_burst`, for rainbowtype) and answers through
//! the master like a USB-UART bridge (output is lost while no host has the port open or the host's
//! line rate differs), crediting the time it waits for input to the board's clock.

use crate::board::Board;
use crate::rx_burst::{Burst, Bursts};
use crate::rx_reader::{self, line_baud, Chunk, RxStats};
use crate::SimError;
use std::collections::VecDeque;
use std::sync::mpsc::Receiver;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::termios::{cfmakeraw, tcflush, tcgetattr, tcsetattr, FlushArg, SetArg};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the board keeps trying to push output nobody reads before dropping it (like a UART).
const WRITE_GIVE_UP: Duration = Duration::from_secs(2);
/// Longest wait for input; at most this much idle time is credited to the board's clock per wait,
/// so a loaded machine slows the board's clock instead of expiring its timeouts early.
const TICK: Duration = Duration::from_millis(10);

/// A board attached to a pseudo-terminal. Dropping it stops the thread and closes the port.
#[derive(Debug)]
pub struct PtyBoard {
    path: PathBuf,
    reset_path: Option<PathBuf>,
    board: Arc<Mutex<Board>>,
    stop: Arc<AtomicBool>,
    pending: Arc<Mutex<Vec<u8>>>,
    rx_stats: Arc<Mutex<RxStats>>,
    thread: Option<JoinHandle<()>>,
}

impl PtyBoard {
    /// Creates the pty, powers the board on and starts serving it.
    pub fn spawn(board: Board) -> Result<Self, SimError> {
        Self::spawn_with_reset(board, None)
    }

    /// Like `spawn`, and creates the FIFO `reset_fifo` through which another process resets the
    /// board: a line `download` (EN pulse with IO0 low) or `boot` (EN pulse, flash boot).
    pub fn spawn_with_reset(board: Board, reset_fifo: Option<PathBuf>) -> Result<Self, SimError> {
        let pty_err = |e: nix::Error| SimError::Pty(e.to_string());
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).map_err(pty_err)?;
        grantpt(&master).map_err(pty_err)?;
        unlockpt(&master).map_err(pty_err)?;
        let path = PathBuf::from(ptsname_r(&master).map_err(pty_err)?);
        // Keep one slave descriptor open so the master never sees a hang-up between host sessions.
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(&path)
            .map_err(|e| SimError::io(&path, e))?;
        let slave = Arc::new(slave);
        let mut termios = tcgetattr(slave.as_fd()).map_err(pty_err)?;
        cfmakeraw(&mut termios);
        tcsetattr(slave.as_fd(), SetArg::TCSANOW, &termios).map_err(pty_err)?;
        // Hosts opening and closing the port (our own descriptor above is not counted).
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).map_err(pty_err)?;
        inotify.add_watch(&path, AddWatchFlags::IN_OPEN | AddWatchFlags::IN_CLOSE).map_err(pty_err)?;
        let reset = match &reset_fifo {
            Some(fifo) => Some(ResetFifo::create(fifo)?),
            None => None,
        };

        let rx = {
            let io = |e: std::io::Error| SimError::Pty(e.to_string());
            let master_copy = File::from(master.as_fd().try_clone_to_owned().map_err(io)?);
            let (wake_rx, wake_tx) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC).map_err(pty_err)?;
            let (tx, chunks) = std::sync::mpsc::channel();
            let reader = rx_reader::spawn(master_copy, slave.clone(), tx, File::from(wake_tx), format!("sim-rx-{}", path.display()))
                .map_err(io)?;
            Rx { chunks, wake: File::from(wake_rx), reader: Some(reader), held: VecDeque::new() }
        };
        let rx_stats = rx.reader.as_ref().expect("reader").stats.clone();
        let board = Arc::new(Mutex::new(board));
        let stop = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(Mutex::new(Vec::new()));
        let first = board.lock().expect("board lock").begin_power_on();
        let thread = {
            let (board, stop, pending) = (board.clone(), stop.clone(), pending.clone());
            let line = Line { master, slave, inotify, hosts: 0 };
            std::thread::Builder::new()
                .name(format!("sim-board-{}", path.display()))
                .spawn(move || serve(line, rx, reset, first, board, stop, pending))
                .map_err(|e| SimError::Pty(e.to_string()))?
        };
        Ok(PtyBoard { path, reset_path: reset_fifo, board, stop, pending, rx_stats, thread: Some(thread) })
    }

    /// What the board's UART reader measured about its own timing so far (published every 100 ms).
    pub fn rx_stats(&self) -> RxStats {
        self.rx_stats.lock().expect("rx stats").clone()
    }

    /// The slave device a host opens (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The reset FIFO, when the board has one.
    pub fn reset_path(&self) -> Option<&Path> {
        self.reset_path.as_deref()
    }

    /// The board itself (lock it to inspect the chip or to reset it).
    pub fn board(&self) -> &Arc<Mutex<Board>> {
        &self.board
    }

    /// Resets the board (into download mode or a flash boot); it boots on its own clock and its
    /// output reaches a host only while one has the port open.
    pub fn reset(&self, download_mode: bool) {
        let output = self.board.lock().expect("board lock").begin_reset(download_mode);
        self.pending.lock().expect("pending lock").extend(output);
    }

    /// Whether the serving thread has ended (e.g. the board vanished by fault injection).
    pub fn is_gone(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for PtyBoard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(fifo) = &self.reset_path {
            let _ = std::fs::remove_file(fifo);
        }
    }
}

/// Asks the simulator serving the board with reset FIFO `fifo` to reset it (from any process).
pub fn request_reset(fifo: &Path, download_mode: bool) -> Result<(), SimError> {
    let mut writer = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(fifo)
        .map_err(|e| SimError::io(fifo, e))?;
    let line: &[u8] = if download_mode { b"download\n" } else { b"boot\n" };
    writer.write_all(line).map_err(|e| SimError::io(fifo, e))
}

/// The reset FIFO: a reader for the board thread and a writer kept open so it never reads EOF.
struct ResetFifo {
    reader: File,
    _keep_open: File,
    text: Vec<u8>,
}

impl ResetFifo {
    fn create(path: &Path) -> Result<Self, SimError> {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_fifo() {
                std::fs::remove_file(path).map_err(|e| SimError::io(path, e))?;
            }
        }
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
            }
            nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600))
                .map_err(|e| SimError::io(path, std::io::Error::from(e)))?;
        }
        let open = |write: bool| {
            std::fs::OpenOptions::new()
                .read(!write)
                .write(write)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(path)
                .map_err(|e| SimError::io(path, e))
        };
        let reader = open(false)?;
        let keep_open = open(true)?;
        Ok(ResetFifo { reader, _keep_open: keep_open, text: Vec::new() })
    }

    /// Complete request lines received so far: Some(true) = download mode, Some(false) = flash boot.
    fn requests(&mut self) -> Vec<bool> {
        let mut buf = [0u8; 256];
        while let Ok(n) = self.reader.read(&mut buf) {
            if n == 0 || self.text.len() > 4096 {
                break;
            }
            self.text.extend_from_slice(&buf[..n]);
        }
        let mut out = Vec::new();
        while let Some(end) = self.text.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.text.drain(..=end).collect();
            match line.trim_ascii() {
                b"download" => out.push(true),
                b"boot" | b"run" => out.push(false),
                other => tracing::warn!(request = %String::from_utf8_lossy(other), "simulated board: unknown reset request"),
            }
        }
        out
    }
}

/// The board's side of the line.
struct Line {
    master: PtyMaster,
    /// The board's one descriptor on the slave (shared with the reader thread, which samples the
    /// host's line rate through it): host counting subtracts exactly this one.
    slave: Arc<File>,
    inotify: Inotify,
    /// Host descriptors open on the slave, counted when inotify reports an open or a close.
    hosts: usize,
}

impl Line {
    /// Host open/close events; true when a host opened the port that had none. The events only say that something
    /// changed: inotify merges an event into an identical one not read yet (a host's open followed by another
    /// program's open, e.g. `stty -F`, arrive as one), so the hosts are counted afresh from the descriptors.
    fn track_hosts(&mut self) -> bool {
        let mut changed = false;
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            changed = true;
        }
        if !changed {
            return false;
        }
        let before = self.hosts;
        self.hosts = host_descriptors(&self.slave);
        if self.hosts == 0 && before > 0 {
            // The bridge's driver discards what the host had not read yet.
            let _ = tcflush(self.slave.as_fd(), FlushArg::TCIFLUSH);
        }
        before == 0 && self.hosts > 0
    }

    /// Sends board output sent at `board_baud`: lost while no host has the port open or the
    /// host's line rate differs (framing errors).
    fn send(&mut self, bytes: &[u8], board_baud: u32, stop: &AtomicBool) {
        if bytes.is_empty() {
            return;
        }
        if self.hosts == 0 {
            tracing::debug!(bytes = bytes.len(), "simulated board: no host has the port open, output lost");
            return;
        }
        if let Some(line) = line_baud(&self.slave) {
            if !crate::board::uart::rates_match(line, board_baud) {
                tracing::debug!(bytes = bytes.len(), line, board_baud, "simulated board: host at another rate, output lost");
                return;
            }
        }
        write_all(&mut self.master, bytes, stop);
    }
}

/// The board thread's side of the reader: stamped chunks, the pipe that wakes its `poll()`, and
/// chunks that came in after a handler's busy time and wait to be handled normally.
struct Rx {
    chunks: Receiver<Chunk>,
    wake: File,
    reader: Option<rx_reader::Reader>,
    held: VecDeque<Chunk>,
}

impl Rx {
    fn next(&mut self) -> Option<Chunk> {
        self.held.pop_front().or_else(|| self.chunks.try_recv().ok())
    }

    fn drain_wake(&mut self) {
        let mut sink = [0u8; 256];
        while matches!(self.wake.read(&mut sink), Ok(n) if n > 0) {}
    }
}

impl Drop for Rx {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.stop.store(true, Ordering::Relaxed);
            let _ = reader.thread.join();
        }
    }
}

/// Longest wait past a burst's deadline for a chunk stamped before it that is still on its way.
const BURST_GRACE: Duration = Duration::from_millis(1);

fn serve(
    mut line: Line,
    mut rx: Rx,
    mut reset: Option<ResetFifo>,
    first: Vec<u8>,
    board: Arc<Mutex<Board>>,
    stop: Arc<AtomicBool>,
    pending: Arc<Mutex<Vec<u8>>>,
) {
    block_interrupts();
    let baud = |board: &Arc<Mutex<Board>>| board.lock().expect("board lock").hardware().baud;
    line.track_hosts();
    line.send(&first, baud(&board), &stop);
    let mut bursts = Bursts::new(baud(&board));
    while !stop.load(Ordering::Relaxed) {
        let queued = std::mem::take(&mut *pending.lock().expect("pending lock"));
        line.send(&queued, baud(&board), &stop);
        let started = Instant::now();
        let wait = bursts.deadline().map_or(TICK, |d| (d + BURST_GRACE).saturating_duration_since(started).min(TICK));
        let (events, resets) = {
            let mut fds = vec![PollFd::new(rx.wake.as_fd(), PollFlags::POLLIN), PollFd::new(line.inotify.as_fd(), PollFlags::POLLIN)];
            if let Some(fifo) = &reset {
                fds.push(PollFd::new(fifo.reader.as_fd(), PollFlags::POLLIN));
            }
            let millis = wait.as_micros().div_ceil(1000).min(u128::from(u16::MAX)) as u16;
            if rx.held.is_empty() {
                match poll(&mut fds, PollTimeout::from(millis)) {
                    Ok(_) | Err(nix::Error::EINTR) => {}
                    Err(error) => {
                        tracing::warn!(%error, "simulated board: poll failed");
                        break;
                    }
                }
            }
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
            (ready(&fds[1]), fds.get(2).is_some_and(ready))
        };
        rx.drain_wake();
        let waited = started.elapsed().min(TICK);
        if events && line.track_hosts() {
            let out = board.lock().expect("board lock").host_attached();
            line.send(&out, baud(&board), &stop);
        }
        if resets {
            for download in reset.as_mut().map(ResetFifo::requests).unwrap_or_default() {
                let out = board.lock().expect("board lock").begin_reset(download);
                line.send(&out, baud(&board), &stop);
            }
        }
        let out = board.lock().expect("board lock").advance(waited);
        line.send(&out, baud(&board), &stop);
        let mut vanished = false;
        while let Some(chunk) = rx.next() {
            let (events_model, board_baud) = {
                let board = board.lock().expect("board lock");
                (board.takes_uart_events(), board.hardware().baud)
            };
            if !events_model {
                // Firmwares that parse a byte stream: one chunk, one delivery.
                if let Some(burst) = bursts.take() {
                    vanished |= deliver(&mut line, &mut rx, &board, burst, &stop);
                }
                // The ROM detects a rate at SYNC: the rate when the reader woke, closest to the write.
                let rate = chunk.rates[1];
                bursts.note(&chunk, rate.unwrap_or(board_baud));
                let burst = Burst { rate, written_by: chunk.hi, event_at: Instant::now(), bytes: chunk.bytes };
                vanished |= deliver(&mut line, &mut rx, &board, burst, &stop);
            } else {
                let line_rate = chunk.rate_for(board_baud).unwrap_or(board_baud);
                for burst in bursts.push(chunk, line_rate, board_baud) {
                    vanished |= deliver(&mut line, &mut rx, &board, burst, &stop);
                }
            }
            if vanished {
                break;
            }
        }
        if let Some(burst) = bursts.due(Instant::now().checked_sub(BURST_GRACE).unwrap_or_else(Instant::now)) {
            vanished |= deliver(&mut line, &mut rx, &board, burst, &stop);
        }
        if vanished {
            break;
        }
    }
}

/// Hands one burst (one pty chunk for stream firmwares) to the board and shows its output; a
/// flushing firmware's handler time then passes with input lost. Returns whether the board vanished.
fn deliver(line: &mut Line, rx: &mut Rx, board: &Arc<Mutex<Board>>, burst: Burst, stop: &AtomicBool) -> bool {
    let handled_from = Instant::now();
    let delivery = board.lock().expect("board lock").receive_at(&burst.bytes, burst.rate);
    if delivery.flush_input {
        // The handler ran `delivery.busy` of board time (already slept with --realtime); its
        // output appears `output_after` into it. What the host wrote before the handler can have
        // ended on a board (counted from the burst's earliest event, not from when this thread got
        // round to it) reaches the firmware only as flushed, still-queued events.
        let lost_before = burst.event_at.min(handled_from) + delivery.busy;
        busy_wait(line, rx, board, handled_from + delivery.output_after, lost_before, stop);
        line.send(&delivery.output, delivery.baud, stop);
        busy_wait(line, rx, board, handled_from + delivery.busy, lost_before, stop);
    } else {
        line.send(&delivery.output, delivery.baud, stop);
    }
    delivery.vanished
}

/// Until `until` (wall clock) hands the chunks the host certainly wrote before `lost_before`
/// (stamped `hi` earlier) to the board as arriving while its firmware is busy; later ones are kept
/// for the normal path.
fn busy_wait(line: &mut Line, rx: &mut Rx, board: &Arc<Mutex<Board>>, until: Instant, lost_before: Instant, stop: &AtomicBool) {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let chunk = match rx.held.is_empty() {
            true => rx.chunks.recv_timeout(left).ok(),
            false => None,
        };
        match chunk {
            Some(chunk) if chunk.hi < lost_before => {
                let mut board = board.lock().expect("board lock");
                let out = board.receive_while_busy(&chunk.bytes);
                let baud = board.hardware().baud;
                drop(board);
                line.send(&out, baud, stop);
            }
            Some(chunk) => rx.held.push_back(chunk),
            None => {}
        }
        if until <= Instant::now() || stop.load(Ordering::Relaxed) || !rx.held.is_empty() {
            return;
        }
    }
}

/// Descriptors open on the same tty as `slave` in every process this user can read, less `slave` itself (the board's
/// only descriptor on it, shared with its reader thread): the hosts that have the port open.
fn host_descriptors(slave: &File) -> usize {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let Ok(device) = slave.metadata().map(|m| m.rdev()) else { return 0 };
    let Ok(processes) = std::fs::read_dir("/proc") else { return 0 };
    let mut open = 0usize;
    for process in processes.flatten() {
        if !process.file_name().to_str().is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit())) {
            continue;
        }
        let Ok(descriptors) = std::fs::read_dir(process.path().join("fd")) else { continue };
        open += descriptors
            .flatten()
            .filter(|fd| std::fs::metadata(fd.path()).is_ok_and(|m| m.file_type().is_char_device() && m.rdev() == device))
            .count();
    }
    open.saturating_sub(1)
}

/// Board threads leave SIGINT/SIGTERM to the thread that waits for them (`SimHandle::wait_for_interrupt`).
fn block_interrupts() {
    let mut signals = nix::sys::signal::SigSet::empty();
    signals.add(nix::sys::signal::Signal::SIGINT);
    signals.add(nix::sys::signal::Signal::SIGTERM);
    let _ = signals.thread_block();
}

fn write_all(master: &mut PtyMaster, mut bytes: &[u8], stop: &AtomicBool) {
    let started = Instant::now();
    while !bytes.is_empty() && !stop.load(Ordering::Relaxed) {
        match master.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                if started.elapsed() > WRITE_GIVE_UP {
                    tracing::debug!(dropped = bytes.len(), "simulated board: nobody reads the port, output dropped");
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(error) => {
                tracing::debug!(%error, "simulated board: write failed");
                return;
            }
        }
    }
}
