//! What a running call reports while it runs: `notifications/progress` (for the progress token
//! the call carries) and `notifications/tasks/status`, shown on stderr as a progress bar when
//! stderr is a terminal and as plain lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mcp_client::Notification;
use serde_json::Value;

/// The scale a bar with a total runs on (progress values may be fractions).
const SCALE: f64 = 10_000.0;

/// The progress display of one command.
pub struct Progress {
    tty: bool,
    /// What the bar is about (the tool's name).
    label: Mutex<String>,
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress {
    /// A display that draws a bar when stderr is a terminal.
    pub fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            label: Mutex::new(String::new()),
            bar: Mutex::new(None),
        }
    }

    /// Name what the bar is about.
    pub fn set_label(&self, label: &str) {
        *lock(&self.label) = label.to_owned();
    }

    /// The notification hook.
    pub fn on_notification(&self, n: &Notification) {
        match n.method.as_str() {
            "notifications/progress" => self.progress(&n.params),
            "notifications/tasks/status" => self.task_status(&n.params),
            "notifications/elicitation/complete" => self.elicitation_complete(&n.params),
            _ => {}
        }
    }

    /// A URL-mode elicitation finished (the person did what the page asked).
    fn elicitation_complete(&self, p: &Value) {
        let id = p
            .get("elicitationId")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let text = format!(
            "The server says the page you opened is done ({}).",
            short(id)
        );
        match lock(&self.bar).as_ref() {
            Some(bar) if self.tty => bar.println(text),
            _ => eprintln!("{text}"),
        }
    }

    fn progress(&self, p: &Value) {
        let Some(done) = p.get("progress").and_then(Value::as_f64) else {
            return;
        };
        let total = p.get("total").and_then(Value::as_f64).filter(|t| *t > 0.0);
        let message = p.get("message").and_then(Value::as_str).unwrap_or("");
        let counts = match total {
            Some(t) => format!("{}/{}", number(done), number(t)),
            None => number(done),
        };
        let text = if message.is_empty() {
            counts
        } else {
            format!("{counts}  {message}")
        };
        if !self.tty {
            let percent = total
                .map(|t| format!(" ({:.0}%)", (done / t * 100.0).clamp(0.0, 100.0)))
                .unwrap_or_default();
            eprintln!("progress: {}{percent}", text);
            return;
        }
        let bar = self.bar(total.is_some());
        if let Some(t) = total {
            bar.set_position(((done / t).clamp(0.0, 1.0) * SCALE) as u64);
        }
        bar.set_message(text);
    }

    fn task_status(&self, p: &Value) {
        let id = p.get("taskId").and_then(Value::as_str).unwrap_or("?");
        let status = p.get("status").and_then(Value::as_str).unwrap_or("?");
        let mut text = format!("task {}: {status}", short(id));
        if let Some(m) = p.get("statusMessage").and_then(Value::as_str) {
            text.push_str(&format!(" ({m})"));
        }
        if !self.tty {
            eprintln!("{text}");
            return;
        }
        let bar = self.bar(false);
        if matches!(status, "completed" | "failed" | "cancelled") {
            bar.println(&text);
        }
        bar.set_message(text);
    }

    /// The bar, made (or restyled) on first use: a bar with a total, else a spinner.
    fn bar(&self, with_total: bool) -> ProgressBar {
        let mut slot = lock(&self.bar);
        if let Some(bar) = slot.as_ref() {
            if !with_total || bar.length().is_some() {
                return bar.clone();
            }
        }
        let label = lock(&self.label).clone();
        let bar = match slot.take() {
            Some(b) => b,
            None => {
                let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                b.enable_steady_tick(Duration::from_millis(100));
                b
            }
        };
        bar.set_prefix(label);
        let style = if with_total {
            bar.set_length(SCALE as u64);
            ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {percent:>3}%  {msg}")
        } else {
            ProgressStyle::with_template("{spinner} {prefix} {msg}")
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
        }
        *slot = Some(bar.clone());
        bar
    }

    /// Take the bar off the screen (before a prompt, and when the call is over); a later
    /// notification draws a new one.
    pub fn clear(&self) {
        if let Some(bar) = lock(&self.bar).take() {
            bar.finish_and_clear();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A number as people write it: no `.0` on whole numbers.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// The start of a long task id, enough to tell tasks apart.
fn short(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ids() {
        assert_eq!(number(150.0), "150");
        assert_eq!(number(0.5), "0.50");
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }
}
