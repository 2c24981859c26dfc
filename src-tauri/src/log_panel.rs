//! Feeds the UI's log panel from `tracing`: a ring buffer the UI fetches on load (`get_logs`)
//! and a live app event per line. Fields of enclosing spans (board, port…) are included.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// App event that carries each new [`LogEntry`] to the UI.
pub const LOG_EVENT: &str = "keyline://log";
/// Lines kept for a UI that (re)loads.
pub const DEFAULT_CAPACITY: usize = 2000;
/// Longest message or field value forwarded, in bytes; longer text is cut.
const MAX_TEXT: usize = 4096;

/// One log line as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Increasing number; the UI uses it to merge the buffer with live events.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that logged.
    pub target: String,
    /// The event's message.
    pub message: String,
    /// Structured fields of the event and its spans (e.g. `board`, `port`, `ca`).
    pub fields: BTreeMap<String, String>,
}

impl tauri_specta::Event for LogEntry {
    const NAME: &'static str = LOG_EVENT;
}

type Sink = Box<dyn Fn(&LogEntry) + Send + Sync>;

/// The bounded buffer of recent lines plus the live sink (set once the window exists).
pub struct LogBuffer {
    inner: Mutex<Inner>,
    capacity: usize,
    sink: OnceLock<Sink>,
}

struct Inner {
    next_seq: u64,
    entries: VecDeque<LogEntry>,
}

thread_local! {
    /// Set while a line is being delivered, so a sink that logs cannot recurse.
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

impl LogBuffer {
    /// An empty buffer holding at most `capacity` lines.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(LogBuffer {
            inner: Mutex::new(Inner { next_seq: 1, entries: VecDeque::with_capacity(capacity.min(4096)) }),
            capacity: capacity.max(1),
            sink: OnceLock::new(),
        })
    }

    /// Sends every later line to `sink` too (the shell emits [`LOG_EVENT`]). Only the first call counts.
    pub fn set_sink(&self, sink: impl Fn(&LogEntry) + Send + Sync + 'static) {
        let _ = self.sink.set(Box::new(sink));
    }

    /// Stores a line, numbering it, and hands it to the sink in order.
    pub fn push(&self, level: &str, target: &str, message: String, fields: BTreeMap<String, String>) {
        if DELIVERING.with(Cell::get) {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = LogEntry {
            seq: inner.next_seq,
            timestamp_ms: now_ms(),
            level: level.to_owned(),
            target: target.to_owned(),
            message,
            fields,
        };
        inner.next_seq += 1;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry.clone());
        // Delivered under the lock so live events reach the UI in sequence order.
        if let Some(sink) = self.sink.get() {
            DELIVERING.with(|flag| flag.set(true));
            sink(&entry);
            DELIVERING.with(|flag| flag.set(false));
        }
    }

    /// The lines currently held, oldest first.
    pub fn snapshot(&self) -> Vec<LogEntry> {
        let inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.entries.iter().cloned().collect()
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The `tracing` layer that writes into a [`LogBuffer`].
pub struct UiLogLayer {
    buffer: Arc<LogBuffer>,
}

impl UiLogLayer {
    /// A layer feeding `buffer`.
    pub fn new(buffer: Arc<LogBuffer>) -> Self {
        UiLogLayer { buffer }
    }
}

/// Fields recorded on a span, kept in the span's extensions.
struct SpanFields(BTreeMap<String, String>);

impl<S> Layer<S> for UiLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = FieldCollector::default();
        attrs.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(visitor.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut visitor = FieldCollector::default();
        values.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            match extensions.get_mut::<SpanFields>() {
                Some(existing) => existing.0.extend(visitor.fields),
                None => extensions.insert(SpanFields(visitor.fields)),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.0.clone());
                }
            }
        }
        let mut visitor = FieldCollector::default();
        event.record(&mut visitor);
        fields.extend(visitor.fields);
        let metadata = event.metadata();
        self.buffer.push(metadata.level().as_str(), metadata.target(), visitor.message, fields);
    }
}

/// Collects `message` and the other fields of an event or span as text.
#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: BTreeMap<String, String>,
}

impl FieldCollector {
    fn put(&mut self, field: &Field, value: String) {
        let value = truncate(value);
        if field.name() == "message" {
            self.message = value;
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.put(field, text);
    }
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_carry_level_message_and_span_fields() {
        let buffer = LogBuffer::new(10);
        let subscriber = tracing_subscriber::registry().with(UiLogLayer::new(buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("provision", board = "B-0042", port = "/dev/ttyUSB0");
            let _guard = span.enter();
            tracing::warn!(step = "lock", "data zone already locked");
        });
        let lines = buffer.snapshot();
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line.level, "WARN");
        assert_eq!(line.message, "data zone already locked");
        assert_eq!(line.fields.get("board").map(String::as_str), Some("B-0042"));
        assert_eq!(line.fields.get("port").map(String::as_str), Some("/dev/ttyUSB0"));
        assert_eq!(line.fields.get("step").map(String::as_str), Some("lock"));
    }

    #[test]
    fn buffer_keeps_the_newest_lines_and_feeds_the_sink_in_order() {
        let buffer = LogBuffer::new(3);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink_seen = seen.clone();
        buffer.set_sink(move |entry| sink_seen.lock().unwrap().push(entry.seq));
        for i in 0..5 {
            buffer.push("INFO", "test", format!("line {i}"), BTreeMap::new());
        }
        let kept: Vec<_> = buffer.snapshot().into_iter().map(|e| e.message).collect();
        assert_eq!(kept, ["line 2", "line 3", "line 4"]);
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let cut = truncate("é".repeat(MAX_TEXT));
        assert!(cut.len() <= MAX_TEXT + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
