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

/// One record for Python.
struct Line {
    level: u8,
    target: String,
    message: String,
}

static SINK: OnceLock<std::sync::Mutex<mpsc::Sender<Line>>> = OnceLock::new();

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
                let forwarded = Python::try_attach(|py| {
                    let _ = emit(py, &line);
                });
                if forwarded.is_none() {
                    return;
                }
            }
        });
    if started.is_ok() {
        let _ = tracing::subscriber::set_global_default(Forward);
    }
}

fn emit(py: Python<'_>, line: &Line) -> PyResult<()> {
    let name = match line.target.strip_prefix("mcp_client") {
        Some(rest) => format!("mcp_client{}", rest.replace("::", ".")),
        None => format!("mcp_client.{}", line.target.replace("::", ".")),
    };
    let logger = py.import("logging")?.call_method1("getLogger", (name,))?;
    logger.call_method1("log", (line.level, "%s", line.message.as_str()))?;
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
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        py_level(metadata.level()) >= LEVEL.load(Ordering::Relaxed)
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
        let line = Line {
            level: py_level(meta.level()),
            target: meta.target().to_owned(),
            message: fields.0.trim_start().to_owned(),
        };
        if let Some(tx) = SINK.get() {
            let _ = tx.lock().map(|tx| tx.send(line));
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
