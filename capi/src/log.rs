//! Log lines for C hosts: a minimal process-wide `tracing` subscriber, installed on the first
//! `mcp_log_set_callback`, that formats each event into one line and hands it to the host's
//! callback. The library's events never carry a token or a secret.

use std::ffi::{c_char, c_void, CString};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use super::boundary::boundary;
use super::callbacks::mcp_free_fn;
use super::error::{mcp_error, mcp_result, Failure, FfiResult};
use super::foreign::{in_callback, Foreign, Revoke, Slot};

/// A log level.
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mcp_log_level {
    /// Nothing.
    Off = 0,
    /// Errors.
    Error = 1,
    /// Warnings and above.
    Warn = 2,
    /// Information and above.
    Info = 3,
    /// Debugging and above.
    Debug = 4,
    /// Everything.
    Trace = 5,
}

/// Receives one log line: its level, its target (the module, e.g. `mcp_client::oauth`) and
/// the formatted message with its fields.
#[allow(non_camel_case_types)]
pub type mcp_log_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: mcp_log_level,
        target: *const c_char,
        message: *const c_char,
    ),
>;

type LogFn = unsafe extern "C" fn(*mut c_void, mcp_log_level, *const c_char, *const c_char);

/// The current sink and its level (0: off).
static SINK: Mutex<Option<Arc<Slot<LogFn>>>> = Mutex::new(None);
static LEVEL: AtomicI32 = AtomicI32::new(0);

impl mcp_log_level {
    /// The level a C caller passed (the one place its integer is decoded).
    fn from_c(value: i32) -> FfiResult<Self> {
        Ok(match value {
            0 => Self::Off,
            1 => Self::Error,
            2 => Self::Warn,
            3 => Self::Info,
            4 => Self::Debug,
            5 => Self::Trace,
            _ => return Err(Failure::invalid(format!("unknown log level {value}"))),
        })
    }

    /// The level of a `tracing` event.
    fn of(l: &Level) -> Self {
        match *l {
            Level::ERROR => Self::Error,
            Level::WARN => Self::Warn,
            Level::INFO => Self::Info,
            Level::DEBUG => Self::Debug,
            _ => Self::Trace,
        }
    }
}

struct CSubscriber {
    next_span: AtomicU64,
}

#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

thread_local! {
    /// Set while this thread delivers a line (a line logged by the callback is dropped).
    static DELIVERING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Subscriber for CSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        mcp_log_level::of(metadata.level()) as i32 <= LEVEL.load(Ordering::Relaxed)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        use tracing::level_filters::LevelFilter;
        Some(match LEVEL.load(Ordering::Relaxed) {
            0 => LevelFilter::OFF,
            1 => LevelFilter::ERROR,
            2 => LevelFilter::WARN,
            3 => LevelFilter::INFO,
            4 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed).max(1))
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let level = mcp_log_level::of(meta.level());
        if level as i32 > LEVEL.load(Ordering::Relaxed) || DELIVERING.with(|d| d.get()) {
            return;
        }
        let Some(sink) = SINK.lock().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut line = Line::default();
            event.record(&mut line);
            line.message.push_str(&line.fields);
            let (Ok(target), Ok(message)) =
                (CString::new(meta.target()), CString::new(line.message))
            else {
                return;
            };
            DELIVERING.with(|d| d.set(true));
            sink.call(|cb| {
                // SAFETY: the host's function with its user data; the strings live for the call.
                unsafe { (cb.f)(cb.user_data, level, target.as_ptr(), message.as_ptr()) }
            });
            DELIVERING.with(|d| d.set(false));
        }));
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

fn install() -> FfiResult {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let ok = *INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(CSubscriber {
            next_span: AtomicU64::new(1),
        })
        .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Failure::invalid(
            "another tracing subscriber is installed in this process; its log goes there",
        ))
    }
}

/// Send the library's log lines at `level` and above to `callback` (process-wide: the lines of
/// every client). A NULL `callback` (or `MCP_LOG_LEVEL_OFF`) turns logging off. The callback
/// replaces any earlier one, whose `user_data_free` then runs before this call returns (after
/// any line still being delivered to it on another thread); this one's runs when it is
/// replaced in turn, never at exit. A blocking call from inside the log callback fails with
/// `MCP_RESULT_REENTRANT`.
///
/// `level` is an `mcp_log_level`. With a NULL `callback`, `user_data` and `user_data_free` are
/// ignored. On failure the library keeps nothing: `user_data_free` is not called.
/// Fails with `MCP_RESULT_INVALID_ARGUMENT` when the process already has another `tracing`
/// subscriber (a Rust host that set its own).
#[no_mangle]
pub unsafe extern "C" fn mcp_log_set_callback(
    level: i32,
    callback: mcp_log_fn,
    user_data: *mut c_void,
    user_data_free: mcp_free_fn,
    error_out: *mut *mut mcp_error,
) -> mcp_result {
    boundary(error_out, || {
        let level = mcp_log_level::from_c(level)? as i32;
        if callback.is_some() {
            install()?;
        }
        // Ownership of the user data passes to the library only from here on.
        let new = callback.map(|f| Slot::new(Foreign::new(f, user_data, user_data_free)));
        let old = {
            let mut sink = SINK.lock().unwrap_or_else(|p| p.into_inner());
            let old = std::mem::replace(&mut *sink, new);
            LEVEL.store(if sink.is_some() { level } else { 0 }, Ordering::Relaxed);
            old
        };
        // The old callback's user data is freed once no line is being delivered to it (at
        // once, unless this runs inside a callback).
        if let Some(old) = old {
            old.revoke(!in_callback());
        }
        tracing::callsite::rebuild_interest_cache();
        Ok(())
    })
}
