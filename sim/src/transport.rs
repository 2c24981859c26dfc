//! Boards on pseudo-terminals: one thread per board reads the master side and answers through it.

use crate::board::Board;
use crate::SimError;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the board keeps trying to push output nobody reads before dropping it (like a UART).
const WRITE_GIVE_UP: Duration = Duration::from_secs(2);

/// A board attached to a pseudo-terminal. Dropping it stops the thread and closes the port.
#[derive(Debug)]
pub struct PtyBoard {
    path: PathBuf,
    board: Arc<Mutex<Board>>,
    stop: Arc<AtomicBool>,
    pending: Arc<Mutex<Vec<u8>>>,
    thread: Option<JoinHandle<()>>,
}

impl PtyBoard {
    /// Creates the pty, powers the board on and starts serving it.
    pub fn spawn(board: Board) -> Result<Self, SimError> {
        let pty_err = |e: nix::Error| SimError::Pty(e.to_string());
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK).map_err(pty_err)?;
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

        let board = Arc::new(Mutex::new(board));
        let stop = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(Mutex::new(board.lock().expect("board lock").power_on()));
        let thread = {
            let (board, stop, pending) = (board.clone(), stop.clone(), pending.clone());
            std::thread::Builder::new()
                .name(format!("sim-board-{}", path.display()))
                .spawn(move || serve(master, slave, board, stop, pending))
                .map_err(|e| SimError::Pty(e.to_string()))?
        };
        Ok(PtyBoard { path, board, stop, pending, thread: Some(thread) })
    }

    /// The slave device a host opens (`/dev/pts/N`).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The board itself (lock it to inspect the chip or to reset it).
    pub fn board(&self) -> &Arc<Mutex<Board>> {
        &self.board
    }

    /// Resets the board (into download mode or a flash boot) and sends its boot output.
    pub fn reset(&self, download_mode: bool) {
        let output = self.board.lock().expect("board lock").reset(download_mode);
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
    }
}

use std::os::unix::fs::OpenOptionsExt;

fn serve(mut master: PtyMaster, slave: File, board: Arc<Mutex<Board>>, stop: Arc<AtomicBool>, pending: Arc<Mutex<Vec<u8>>>) {
    block_interrupts();
    let mut buffer = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let queued = std::mem::take(&mut *pending.lock().expect("pending lock"));
        write_all(&mut master, &queued, &stop);
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(50u16)) {
            Ok(0) => {
                let output = board.lock().expect("board lock").idle();
                write_all(&mut master, &output, &stop);
                continue;
            }
            Ok(_) => {}
            Err(nix::Error::EINTR) => continue,
            Err(error) => {
                tracing::warn!(%error, "simulated board: poll failed");
                break;
            }
        }
        let n = match master.read(&mut buffer) {
            Ok(0) => continue,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => continue,
            Err(error) => {
                tracing::warn!(%error, "simulated board: read failed");
                break;
            }
        };
        let line_baud = line_baud(&slave);
        let delivery = board.lock().expect("board lock").receive_at(&buffer[..n], line_baud);
        if delivery.flush_input {
            drain(&mut master);
        }
        write_all(&mut master, &delivery.output, &stop);
        if delivery.vanished {
            break;
        }
    }
    drop(slave);
    drop(master);
}

/// The baud rate the host configured on the pty (termios is per terminal, shared by all its fds).
/// Read with `TCGETS2`, whose `c_ospeed` holds the rate for standard and custom (BOTHER) settings.
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

/// Discards input already waiting on the line (the firmware's `uart_flush()`).
fn drain(master: &mut PtyMaster) {
    let mut scratch = [0u8; 4096];
    while let Ok(n) = master.read(&mut scratch) {
        if n == 0 {
            break;
        }
        tracing::debug!(bytes = n, "simulated board: input discarded by uart_flush()");
    }
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
