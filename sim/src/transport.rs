//! Boards on pseudo-terminals: one thread per board reads the master side and answers through it,
//! like a USB-UART bridge (output is lost while no host has the port open or the host's line rate
//! differs), crediting the time it waits for input to the board's clock.

use crate::board::Board;
use crate::SimError;
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

        let board = Arc::new(Mutex::new(board));
        let stop = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(Mutex::new(Vec::new()));
        let first = board.lock().expect("board lock").begin_power_on();
        let thread = {
            let (board, stop, pending) = (board.clone(), stop.clone(), pending.clone());
            let line = Line { master, slave, inotify, hosts: 0 };
            std::thread::Builder::new()
                .name(format!("sim-board-{}", path.display()))
                .spawn(move || serve(line, reset, first, board, stop, pending))
                .map_err(|e| SimError::Pty(e.to_string()))?
        };
        Ok(PtyBoard { path, reset_path: reset_fifo, board, stop, pending, thread: Some(thread) })
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
    slave: File,
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

fn serve(
    mut line: Line,
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
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let queued = std::mem::take(&mut *pending.lock().expect("pending lock"));
        line.send(&queued, baud(&board), &stop);
        let started = Instant::now();
        let (data, events, resets) = {
            let mut fds = vec![
                PollFd::new(line.master.as_fd(), PollFlags::POLLIN),
                PollFd::new(line.inotify.as_fd(), PollFlags::POLLIN),
            ];
            if let Some(fifo) = &reset {
                fds.push(PollFd::new(fifo.reader.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::from(TICK.as_millis() as u16)) {
                Ok(_) => {}
                Err(nix::Error::EINTR) => continue,
                Err(error) => {
                    tracing::warn!(%error, "simulated board: poll failed");
                    break;
                }
            }
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| r.contains(PollFlags::POLLIN));
            (ready(&fds[0]), ready(&fds[1]), fds.get(2).is_some_and(ready))
        };
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
        if !data {
            continue;
        }
        let n = match line.master.read(&mut buffer) {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => continue,
            Err(error) => {
                tracing::warn!(%error, "simulated board: read failed");
                break;
            }
        };
        let line_rate = line_baud(&line.slave);
        let handled_from = Instant::now();
        let delivery = board.lock().expect("board lock").receive_at(&buffer[..n], line_rate);
        if delivery.flush_input {
            // The handler ran `delivery.busy` of board time (already slept with --realtime); its
            // output appears `output_after` into it. What the host sends meanwhile reaches the
            // firmware only as flushed, still-queued events.
            busy_wait(&mut line, &board, handled_from + delivery.output_after, &mut buffer, &stop);
            line.send(&delivery.output, delivery.baud, &stop);
            busy_wait(&mut line, &board, handled_from + delivery.busy, &mut buffer, &stop);
        } else {
            line.send(&delivery.output, delivery.baud, &stop);
        }
        if delivery.vanished {
            break;
        }
    }
}

/// Until `until` (wall clock), and once more for what is already waiting, hands input to the board
/// as arriving while its firmware is busy.
fn busy_wait(line: &mut Line, board: &Arc<Mutex<Board>>, until: Instant, buffer: &mut [u8], stop: &AtomicBool) {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let mut fds = [PollFd::new(line.master.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::from(left.as_millis().min(u128::from(u16::MAX)) as u16);
        let readable = matches!(poll(&mut fds, timeout), Ok(n) if n > 0);
        let got = if readable { line.master.read(buffer).unwrap_or(0) } else { 0 };
        if got > 0 {
            let mut board = board.lock().expect("board lock");
            let out = board.receive_while_busy(&buffer[..got]);
            let baud = board.hardware().baud;
            drop(board);
            line.send(&out, baud, stop);
        }
        if left.is_zero() || stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

/// The baud rate the host configured on the pty (termios is per terminal, shared by all its fds).
/// Read with `TCGETS2`, whose `c_ospeed` holds the rate for standard and custom (BOTHER) settings.
/// Descriptors open on the same tty as `slave` in every process this user can read, less `slave` itself: the hosts
/// that have the port open.
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

fn line_baud(slave: &File) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let mut termios2 = std::mem::MaybeUninit::<nix::libc::termios2>::zeroed();
    // SAFETY: TCGETS2 fills a `struct termios2` for a valid tty fd; `slave` is open for our lifetime
    // and the pointer refers to writable memory of exactly that type.
    let rc = unsafe { nix::libc::ioctl(slave.as_raw_fd(), nix::libc::TCGETS2, termios2.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: the ioctl succeeded, so the kernel initialised the structure.
    let speed = unsafe { termios2.assume_init() }.c_ospeed;
    (speed > 0).then_some(speed)
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
