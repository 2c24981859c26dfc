//! The pty's receive side: a thread that does nothing but read what the host writes and stamp each
//! chunk with a proven interval for the moment the host's `write()` handed its bytes to the kernel.
//!
//! Why the interval is a proof, not an estimate (Linux `drivers/tty`): a host's `write()` on the
//! slave commits its bytes to the master's flip buffer (`pty_write` →
//! `tty_insert_flip_string_and_push_buffer`) and queues the work that moves them to the master's
//! line discipline. `n_tty_poll` and `n_tty_read` call `tty_buffer_flush_work` whenever no input is
//! available, i.e. they wait for that work before they report "nothing". So:
//! - a `poll()` started at `a` with timeout `t` that returns 0 checked last at or after `a + t`: no
//!   byte was committed before `a + t`;
//! - a read that returns `EAGAIN` found nothing committed before it started;
//! - every byte a read returns was committed before the read ended.
//!
//! Each [`Chunk`] therefore carries `(lo, hi]`: all its bytes were committed after `lo` and before
//! `hi`. A starved reader (a loaded machine) only widens the interval; it never moves it. The
//! reader asks for `SCHED_FIFO` (falls back to normal priority when not permitted, logged once) and
//! polls every millisecond while the host is active, so on a quiet machine the interval is about a
//! millisecond wide.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Poll period while the host is active: the width of a chunk's interval on a quiet machine.
const ACTIVE_TICK_MS: u16 = 1;
/// Poll period when the host has been silent for `ACTIVE_FOR` (also how soon a stop is seen).
const IDLE_TICK_MS: u16 = 20;
/// How long after the last byte the reader keeps the short period.
const ACTIVE_FOR: Duration = Duration::from_secs(3);
/// Most bytes gathered into one chunk.
const MAX_CHUNK: usize = 64 * 1024;

/// Bytes the host wrote, with the interval in which its `write()` calls committed them.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Every byte was committed after this instant.
    pub lo: Instant,
    /// Every byte was committed before this instant (when the reader had them).
    pub hi: Instant,
    /// The bytes, in order.
    pub bytes: Vec<u8>,
    /// The host's line rate at `lo` (sampled at the reader's last empty poll) and when the reader
    /// woke for the bytes: a host that changed its rate in between wrote at one of the two.
    pub rates: [Option<u32>; 2],
}

impl Chunk {
    /// The rate the bytes were sent at, as a board at `board_baud` sees it: when the host changed
    /// its rate within the chunk's interval, the benefit of the doubt (the rate the board understands).
    pub fn rate_for(&self, board_baud: u32) -> Option<u32> {
        let [before, woke] = self.rates;
        match (before, woke) {
            (Some(b), Some(w)) if b != w && crate::board::uart::rates_match(b, board_baud) => Some(b),
            _ => woke.or(before),
        }
    }
}

/// What the reader measured about itself: how late its timed wake-ups came (its scheduling
/// latency) and how wide the chunks' intervals were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RxStats {
    /// Whether the reader runs at `SCHED_FIFO`.
    pub realtime: bool,
    /// Timed wake-ups (poll timeouts) measured.
    pub wakeups: u64,
    /// Wake-up lateness histogram: counts at or under 0.1, 0.5, 1, 2, 5, 10, 50 ms, and above.
    pub late_histogram: [u64; 8],
    /// Largest wake-up lateness, in microseconds.
    pub max_late_us: u64,
    /// Chunks read while the host was active (the reader on its 1 ms period).
    pub chunks: u64,
    /// Their interval width histogram (same buckets as `late_histogram`).
    pub width_histogram: [u64; 8],
    /// Their widest interval, in microseconds.
    pub max_width_us: u64,
    /// Chunks that were the first after 3 s of silence (interval up to the 20 ms idle period wide).
    pub after_idle: u64,
}

/// Upper bounds of the histogram buckets, in microseconds (the last bucket is everything above).
pub const BUCKETS_US: [u64; 7] = [100, 500, 1_000, 2_000, 5_000, 10_000, 50_000];

fn bucket(us: u64) -> usize {
    BUCKETS_US.iter().position(|&b| us <= b).unwrap_or(BUCKETS_US.len())
}

impl RxStats {
    fn late(&mut self, late: Duration) {
        let us = late.as_micros() as u64;
        self.wakeups += 1;
        self.late_histogram[bucket(us)] += 1;
        self.max_late_us = self.max_late_us.max(us);
    }

    fn width(&mut self, width: Duration) {
        let us = width.as_micros() as u64;
        self.chunks += 1;
        self.width_histogram[bucket(us)] += 1;
        self.max_width_us = self.max_width_us.max(us);
    }
}

/// The reader thread of one board.
pub(crate) struct Reader {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) stats: Arc<Mutex<RxStats>>,
    pub(crate) thread: JoinHandle<()>,
}

/// Starts the reader on `master` (a duplicate of the board's master descriptor). Chunks go to
/// `chunks`; after each one a byte goes to `wake` so the board's thread leaves its `poll()`.
pub(crate) fn spawn(master: File, slave: Arc<File>, chunks: Sender<Chunk>, wake: File, name: String) -> std::io::Result<Reader> {
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Mutex::new(RxStats::default()));
    let thread = {
        let (stop, stats) = (stop.clone(), stats.clone());
        std::thread::Builder::new().name(name).spawn(move || run(master, slave, chunks, wake, &stop, &stats))?
    };
    Ok(Reader { stop, stats, thread })
}

/// Whether the readers could get `SCHED_FIFO` (known after the first reader started).
pub fn realtime_readers() -> Option<bool> {
    REALTIME.get().copied()
}

static REALTIME: OnceLock<bool> = OnceLock::new();

/// Asks for `SCHED_FIFO` priority 1 for the calling thread (unless `KEYLINE_SIM_READER_PRIORITY`
/// is `normal`: measuring what an unprivileged CI runner gets); logs once per process which it got.
fn raise_priority() -> bool {
    let normal = std::env::var("KEYLINE_SIM_READER_PRIORITY").is_ok_and(|v| v == "normal");
    let param = nix::libc::sched_param { sched_priority: 1 };
    // SAFETY: pthread_self() is the calling thread; `param` is a valid sched_param for the call.
    let rc = if normal { nix::libc::EPERM } else { unsafe { nix::libc::pthread_setschedparam(nix::libc::pthread_self(), nix::libc::SCHED_FIFO, &param) } };
    let granted = rc == 0;
    REALTIME.get_or_init(|| {
        if granted {
            tracing::info!("simulated boards: UART readers run at SCHED_FIFO 1");
        } else {
            tracing::info!(errno = rc, "simulated boards: SCHED_FIFO not permitted, UART readers run at normal priority (a loaded machine widens their intervals)");
        }
        granted
    });
    granted
}

fn run(mut master: File, slave: Arc<File>, chunks: Sender<Chunk>, mut wake: File, stop: &AtomicBool, shared: &Mutex<RxStats>) {
    let realtime = raise_priority();
    let mut stats = RxStats { realtime, ..RxStats::default() };
    let mut buffer = vec![0u8; MAX_CHUNK];
    let mut lo = Instant::now();
    let mut rate_lo = line_baud(&slave);
    let mut last_data: Option<Instant> = None;
    let mut published = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let active = last_data.is_some_and(|t| t.elapsed() < ACTIVE_FOR);
        let tick = if active { ACTIVE_TICK_MS } else { IDLE_TICK_MS };
        let a = Instant::now();
        let ready = {
            let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(tick)) {
                Ok(0) => false,
                Ok(_) => true,
                Err(nix::Error::EINTR) => continue,
                Err(error) => {
                    tracing::warn!(%error, "simulated board: reader poll failed");
                    return;
                }
            }
        };
        if !ready {
            let due = a + Duration::from_millis(u64::from(tick));
            stats.late(Instant::now().saturating_duration_since(due));
            lo = lo.max(due);
            rate_lo = line_baud(&slave);
            if published.elapsed() > Duration::from_millis(100) {
                *shared.lock().expect("rx stats") = stats.clone();
                published = Instant::now();
            }
            continue;
        }
        let rate_woke = line_baud(&slave);
        let mut bytes = Vec::new();
        let mut next_lo = None;
        while bytes.len() < MAX_CHUNK {
            let started = Instant::now();
            match master.read(&mut buffer[..MAX_CHUNK - bytes.len()]) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    next_lo = Some(started);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(error) => {
                    tracing::debug!(%error, "simulated board: reader read failed");
                    return;
                }
            }
        }
        let hi = Instant::now();
        if !bytes.is_empty() {
            if active {
                stats.width(hi - lo);
            } else {
                stats.after_idle += 1;
            }
            last_data = Some(hi);
            if chunks.send(Chunk { lo, hi, bytes, rates: [rate_lo, rate_woke] }).is_err() {
                break;
            }
            let _ = wake.write(&[1]);
        }
        // Bytes a read ending in EAGAIN did not return were committed after it started; without
        // that proof (a full chunk) the next chunk keeps this one's lower bound.
        if let Some(next) = next_lo {
            lo = next;
        }
        rate_lo = rate_woke;
    }
    *shared.lock().expect("rx stats") = stats;
}

/// The baud rate the host configured on the pty (termios is per terminal, shared by all its fds).
/// Read with `TCGETS2`, whose `c_ospeed` holds the rate for standard and custom (BOTHER) settings.
pub(crate) fn line_baud(slave: &File) -> Option<u32> {
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
