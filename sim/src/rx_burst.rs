//! Bursts on the wire: which of the host's bytes a UART receives without an idle gap of its RX
//! timeout, judged conservatively from the reader's stamped chunks.
//!
//! The host's bytes go out back to back at the line rate; the receiver's RX timeout (ESP-IDF
//! `UART_TOUT_THRESH_DEFAULT`, 10 symbols) ends an event only when the line has been idle that long.
//! So bytes written at `c` join the burst before them when `c` < (wire end of the earlier bytes) +
//! timeout. A chunk's bytes were committed within `(lo, hi]` (see `rx_reader`), which gives:
//! - a lower bound of the wire end: `end ≥ max(lo, previous end) + wire(bytes)`;
//! - a chunk **joins** the open burst only when `hi < end + timeout`: even its latest possible write
//!   came before the line went idle, so a board certainly joins it;
//! - inside a chunk a write boundary at byte `q` can end a burst only if `hi ≥ start + wire(q) +
//!   timeout`; beyond that every byte certainly belongs to the same burst. Where a boundary is
//!   possible (a wide interval: a loaded machine) the chunk is split where a host writing one line
//!   or one command byte per write would have had its boundaries (after `\n`, after the first byte).
//!
//! A late reader only widens intervals, so load can only make the judgement more lenient.

use crate::clock::uart_time;
use crate::rx_reader::Chunk;
use std::time::{Duration, Instant};

/// ESP-IDF `UART_TOUT_THRESH_DEFAULT`: the RX timeout in symbols (character times).
pub const RX_TIMEOUT_SYMBOLS: usize = 10;

/// The RX idle timeout at `baud` (10 symbols of 10 bits, 8N1).
pub fn rx_timeout(baud: u32) -> Duration {
    uart_time(RX_TIMEOUT_SYMBOLS, baud)
}

/// Bytes a UART received as one burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The line rate of the burst's first chunk (see [`Chunk::rate_for`]).
    pub rate: Option<u32>,
    /// Every byte had been written by this instant (the last chunk's `hi`).
    pub written_by: Instant,
    /// The earliest moment the UART can have raised the burst's last event (its RX timeout after
    /// the lower bound of its wire end): the firmware's handler cannot have started earlier, so
    /// input is counted as arriving during the handler only if written before this + handler time.
    pub event_at: Instant,
}

/// Joins stamped chunks into bursts.
#[derive(Debug, Default)]
pub struct Bursts {
    open: Option<Burst>,
    /// Lower bound of when the last byte seen so far left the wire.
    wire_end: Option<Instant>,
    /// Line rate used for wire times of the open burst.
    baud: u32,
}

impl Bursts {
    /// An assembler; `baud` is the line rate assumed until a chunk says otherwise.
    pub fn new(baud: u32) -> Self {
        Bursts { open: None, wire_end: None, baud }
    }

    /// When the open burst is certainly complete (its RX timeout event): no chunk stamped later can join.
    pub fn deadline(&self) -> Option<Instant> {
        self.open.as_ref().and(self.wire_end).map(|end| end + rx_timeout(self.baud))
    }

    /// The open burst, once `now` is past its deadline.
    pub fn due(&mut self, now: Instant) -> Option<Burst> {
        self.deadline().filter(|&d| now >= d).and_then(|_| self.take())
    }

    /// The open burst, whatever the time (the firmware stops taking bursts).
    pub fn take(&mut self) -> Option<Burst> {
        let deadline = self.deadline();
        self.open.take().map(|mut burst| {
            burst.event_at = deadline.unwrap_or(burst.event_at);
            burst
        })
    }

    /// Notes a chunk that bypassed the assembler (it still occupied the wire).
    pub fn note(&mut self, chunk: &Chunk, baud: u32) {
        let start = self.wire_end.map_or(chunk.lo, |end| end.max(chunk.lo));
        self.wire_end = Some(start + uart_time(chunk.bytes.len(), baud));
    }

    /// Adds a chunk received at `baud`; returns the bursts it completed, in order.
    pub fn push(&mut self, chunk: Chunk, baud: u32, board_baud: u32) -> Vec<Burst> {
        let mut done = Vec::new();
        let rate = chunk.rate_for(board_baud);
        let timeout = rx_timeout(baud);
        let joins = match (&self.open, self.wire_end) {
            (Some(open), Some(end)) => open.rate == rate && baud == self.baud && chunk.hi < end + timeout,
            _ => false,
        };
        if !joins {
            done.extend(self.take());
        }
        let start = self.wire_end.map_or(chunk.lo, |end| end.max(chunk.lo));
        // Possible boundaries: after a line end, and after the first byte of a piece (a command byte).
        let mut cuts = Vec::new();
        let mut line_start = 0;
        for q in 1..chunk.bytes.len() {
            if chunk.hi < start + uart_time(q, baud) + timeout {
                break;
            }
            if chunk.bytes[q - 1] == b'\n' {
                cuts.push(q);
                line_start = q;
            } else if q == line_start + 1 {
                cuts.push(q);
            }
        }
        self.wire_end = Some(start + uart_time(chunk.bytes.len(), baud));
        self.baud = baud;
        let mut from = 0;
        for cut in cuts.into_iter().chain([chunk.bytes.len()]) {
            let piece = &chunk.bytes[from..cut];
            from = cut;
            match &mut self.open {
                Some(open) => {
                    open.bytes.extend_from_slice(piece);
                    open.written_by = chunk.hi;
                }
                None => self.open = Some(Burst { bytes: piece.to_vec(), rate, written_by: chunk.hi, event_at: chunk.hi }),
            }
            if from < chunk.bytes.len() {
                let event_at = start + uart_time(from, baud) + timeout;
                done.extend(self.open.take().map(|burst| Burst { event_at, ..burst }));
            }
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAUD: u32 = 115_200;

    fn chunk(base: Instant, lo_us: u64, hi_us: u64, bytes: &[u8]) -> Chunk {
        let at = |us| base + Duration::from_micros(us);
        Chunk { lo: at(lo_us), hi: at(hi_us), bytes: bytes.to_vec(), rates: [Some(BAUD), Some(BAUD)] }
    }

    fn line(c: u8) -> Vec<u8> {
        let mut l = vec![c; 64];
        l.push(b'\n');
        l
    }

    #[test]
    fn lines_written_back_to_back_are_one_burst() {
        let t = Instant::now();
        let mut bursts = Bursts::new(BAUD);
        assert!(bursts.push(chunk(t, 0, 300, &line(b'A')), BAUD, BAUD).is_empty());
        // Written 100 µs after the first line: it is still on the wire (5.6 ms).
        assert!(bursts.push(chunk(t, 300, 700, &line(b'B')), BAUD, BAUD).is_empty());
        let deadline = bursts.deadline().unwrap();
        assert!(deadline >= t + uart_time(130, BAUD) + rx_timeout(BAUD));
        let burst = bursts.due(deadline).unwrap();
        assert_eq!(burst.bytes.len(), 130);
    }

    #[test]
    fn lines_with_a_real_gap_are_separate_bursts_however_late_the_reader() {
        let t = Instant::now();
        let mut bursts = Bursts::new(BAUD);
        bursts.push(chunk(t, 0, 400, &line(b'A')), BAUD, BAUD);
        // 50 ms later, read late: its interval starts at the last empty poll after the first line.
        let done = bursts.push(chunk(t, 1_400, 50_300, &line(b'B')), BAUD, BAUD);
        assert_eq!(done[0].bytes, line(b'A'));
        // Where the reader cannot tell, the line may have been a command byte and a line.
        assert_eq!(done[1].bytes, b"B");
        assert_eq!(bursts.take().unwrap().bytes, line(b'B')[1..]);
    }

    #[test]
    fn a_wide_interval_splits_only_where_a_boundary_was_possible() {
        let t = Instant::now();
        let mut bursts = Bursts::new(BAUD);
        // `c` and three lines read together after a 4 ms stall: a boundary is possible only in the
        // first (4 ms - 0.87 ms) / 87 µs = 36 bytes: after `c` and after the first line; then the
        // next line's first byte.
        let mut bytes = b"c-----BEGIN CERTIFICATE-----\n".to_vec();
        bytes.extend(line(b'A'));
        bytes.extend(line(b'B'));
        let done = bursts.push(chunk(t, 0, 4_000, &bytes), BAUD, BAUD);
        assert_eq!(done.iter().map(|b| b.bytes.len()).collect::<Vec<_>>(), vec![1, 28, 1]);
        assert_eq!(bursts.take().unwrap().bytes.len(), 129);
    }

    #[test]
    fn a_narrow_interval_keeps_a_chunk_whole() {
        let t = Instant::now();
        let mut bursts = Bursts::new(BAUD);
        let done = bursts.push(chunk(t, 0, 900, b"c-----BEGIN CERTIFICATE-----\n"), BAUD, BAUD);
        assert!(done.is_empty());
        assert_eq!(bursts.take().unwrap().bytes.len(), 29);
    }
}
