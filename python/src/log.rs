//! The core's `tracing` events into Python's `logging`, under the `mcp_client` logger (and its
//! children by module: `mcp_client.oauth`, …). Events are formatted on the thread that emits
//! them and handed to one forwarding thread, so no runtime thread waits for the GIL. The core's
//! events never carry a token or a secret.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;

use pyo3::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The most verbose level forwarded (Python's numbers: 10 debug … 50 critical; 5 trace);
/// `set_log_level` follows the `mcp_client` logger's effective level.
static LEVEL: AtomicU8 = AtomicU8::new(30);

/// Forward events at `level` (a `logging` level number) and above.
#[pyfunction]
pub(crate) fn set_log_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

fn py_level(l: &Level) -> u8 {
    match *l {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        Level::DEBUG => 10,
        _ => 5,
    }
}

/// One record for Python, or a flush marker answered once every record before it is out.
enum Line {
    Record {
        level: u8,
        target: String,
        message: String,
    },
    Flush(mpsc::Sender<()>),
}

static SINK: OnceLock<std::sync::Mutex<mpsc::Sender<Line>>> = OnceLock::new();

fn send(line: Line) -> bool {
    SINK.get()
        .and_then(|tx| tx.lock().ok().map(|tx| tx.send(line).is_ok()))
        .unwrap_or(false)
}

/// Wait (GIL released, at most `timeout` seconds) until every record emitted so far has reached
/// `logging`.
#[pyfunction]
#[pyo3(signature = (timeout=1.0))]
pub(crate) fn flush_logs(py: Python<'_>, timeout: f64) {
    let (tx, rx) = mpsc::channel();
    if send(Line::Flush(tx)) {
        let wait = std::time::Duration::from_secs_f64(timeout.clamp(0.0, 60.0));
        py.detach(move || {
            let _ = rx.recv_timeout(wait);
        });
    }
}

/// Install the subscriber (unless the process has one) and its forwarding thread.
pub(crate) fn install() {
    let (tx, rx) = mpsc::channel::<Line>();
    if SINK.set(std::sync::Mutex::new(tx)).is_err() {
        return;
    }
    let started = std::thread::Builder::new()
        .name("mcp-client-py-log".into())
        .spawn(move || {
            while let Ok(line) = rx.recv() {
                match line {
                    Line::Flush(done) => {
                        let _ = done.send(());
                    }
                    Line::Record {
                        level,
                        target,
                        message,
                    } => {
                        let forwarded = Python::try_attach(|py| {
                            let _ = emit(py, level, &target, &message);
                        });
                        if forwarded.is_none() {
                            return;
                        }
                    }
                }
            }
        });
    if started.is_ok() {
        let _ = tracing::subscriber::set_global_default(Forward);
    }
}

fn emit(py: Python<'_>, level: u8, target: &str, message: &str) -> PyResult<()> {
    let name = target.replace("::", ".");
    let logger = py.import("logging")?.call_method1("getLogger", (name,))?;
    logger.call_method1("log", (level, "%s", message))?;
    Ok(())
}

/// The subscriber: formats each enabled event as one line.
struct Forward;

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl Subscriber for Forward {
    /// Asked again at every event: the level follows Python's and may change at any time
    /// (the default would cache a callsite's first answer forever).
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    /// The library's own events only (its dependencies' are not ours to publish).
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("mcp_client")
            && py_level(metadata.level()) >= LEVEL.load(Ordering::Relaxed)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let meta = event.metadata();
        send(Line::Record {
            level: py_level(meta.level()),
            target: meta.target().to_owned(),
            message: fields.0.trim_start().to_owned(),
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
