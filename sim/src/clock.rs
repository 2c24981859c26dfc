//! The timing model: a per-board simulated clock charged with UART byte times and ATECC608A execution times.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How time is accounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timing {
    /// Nothing is charged; every exchange takes zero simulated time.
    #[default]
    Instant,
    /// UART bytes cost 10 bit times at the line baud; chip commands cost their datasheet maxima.
    Datasheet,
}

impl FromStr for Timing {
    type Err = crate::SimError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "instant" => Ok(Timing::Instant),
            "datasheet" => Ok(Timing::Datasheet),
            other => Err(crate::SimError::BadTiming(other.to_string())),
        }
    }
}

/// ATECC608A commands with a datasheet execution time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChipOp {
    GenKey,
    Sign,
    Write,
    Lock,
    Read,
    Random,
    Info,
    Nonce,
    UpdateExtra,
}

impl ChipOp {
    /// Maximum execution time of an ATECC608A (clock divider M0), as CryptoAuthLib waits for it.
    pub fn datasheet_max(self) -> Duration {
        let ms = match self {
            ChipOp::GenKey => 115,
            ChipOp::Sign => 115,
            ChipOp::Write => 45,
            ChipOp::Lock => 35,
            ChipOp::Read => 5,
            ChipOp::Random => 23,
            ChipOp::Info => 5,
            ChipOp::Nonce => 20,
            ChipOp::UpdateExtra => 10,
        };
        Duration::from_millis(ms)
    }
}

/// Time on one line at `baud` for `bytes` bytes of 8N1 framing (10 bit times each).
pub fn uart_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_nanos((bytes as u64) * 10 * 1_000_000_000 / u64::from(baud.max(1)))
}

/// A simulated clock shared by the parts of one board. Cloning shares the same counter.
#[derive(Debug, Clone)]
pub struct SimClock {
    nanos: Arc<AtomicU64>,
    /// The part of `nanos` that was charged (bytes and chip work), not idle time.
    charged: Arc<AtomicU64>,
    timing: Timing,
    realtime: bool,
}

impl SimClock {
    /// A clock at zero using `timing`.
    pub fn new(timing: Timing) -> Self {
        SimClock { nanos: Arc::new(AtomicU64::new(0)), charged: Arc::new(AtomicU64::new(0)), timing, realtime: false }
    }

    /// Also sleep for every charged interval (practice mode realism). Tests leave this off.
    pub fn with_realtime(mut self, realtime: bool) -> Self {
        self.realtime = realtime;
        self
    }

    /// The timing model in use.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Simulated time elapsed since the clock started.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// The time charged so far (UART bytes, chip commands, handler work), without idle time: what a
    /// host that never waited more than it must would have spent.
    pub fn charged(&self) -> Duration {
        Duration::from_nanos(self.charged.load(Ordering::Relaxed))
    }

    /// Adds `interval` when the datasheet model is active.
    pub fn charge(&self, interval: Duration) {
        if self.timing == Timing::Instant {
            return;
        }
        self.nanos.fetch_add(interval.as_nanos() as u64, Ordering::Relaxed);
        self.charged.fetch_add(interval.as_nanos() as u64, Ordering::Relaxed);
        if self.realtime {
            std::thread::sleep(interval);
        }
    }

    /// Lets `interval` of idle time pass (whatever the timing model; never sleeps). The pty
    /// transport credits the time its board waited for input, so timeouts run on this clock.
    pub fn elapse(&self, interval: Duration) {
        self.nanos.fetch_add(interval.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Charges the line time of `bytes` bytes at `baud`.
    pub fn charge_uart(&self, bytes: usize, baud: u32) {
        self.charge(uart_time(bytes, baud));
    }

    /// Charges one chip command's datasheet maximum.
    pub fn charge_op(&self, op: ChipOp) {
        self.charge(op.datasheet_max());
    }
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock::new(Timing::Instant)
    }
}
