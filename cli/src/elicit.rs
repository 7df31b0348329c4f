//! Elicitation in the terminal: a server's `elicitation/create` is shown to the person at the
//! keyboard, who fills in the form field by field on stdin (each field with its type, default
//! and constraints, checked before it is sent), declines it (an empty answer or `n` at the
//! first question) or cancels it (Ctrl-C). A URL-mode request opens the browser once the
//! person agrees. With `--no-input` every request is declined without asking.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mcp_client::{BoxFuture, CancellationToken, RequestHandler, RpcError};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::progress::Progress;

/// Answers the server's requests for input.
pub struct Prompter {
    no_input: bool,
    progress: Arc<Progress>,
    /// Lines read from stdin by a thread of their own (started at the first question); `None`
    /// at end of input.
    lines: tokio::sync::Mutex<Option<mpsc::UnboundedReceiver<Option<String>>>>,
    /// One form at a time.
    busy: tokio::sync::Mutex<()>,
    /// Fired by Ctrl-C while a form is open.
    current: Mutex<Option<CancellationToken>>,
}

impl Prompter {
    pub fn new(no_input: bool, progress: Arc<Progress>) -> Self {
        Prompter {
            no_input,
            progress,
            lines: tokio::sync::Mutex::new(None),
            busy: tokio::sync::Mutex::new(()),
            current: Mutex::new(None),
        }
    }

    /// Ctrl-C: cancel the open form, if there is one (then `true`).
    pub fn interrupt(&self) -> bool {
        match lock(&self.current).take() {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    async fn elicit(&self, params: Value) -> Value {
        let message = params.get("message").and_then(Value::as_str).unwrap_or("");
        if self.no_input {
            eprintln!(
                "mcp-client: declined the server's request for input (--no-input): {message}"
            );
            return json!({"action": "decline"});
        }
        let _one = self.busy.lock().await;
        self.progress.clear();
        let token = CancellationToken::new();
        *lock(&self.current) = Some(token.clone());
        let answer = tokio::select! {
            a = self.ask_user(&params) => a,
            () = token.cancelled() => {
                eprintln!();
                eprintln!("Cancelled.");
                json!({"action": "cancel"})
            }
        };
        lock(&self.current).take();
        answer
    }

    async fn ask_user(&self, params: &Value) -> Value {
        let decline = json!({"action": "decline"});
        let message = params.get("message").and_then(Value::as_str).unwrap_or("");
        eprintln!();
        eprintln!("The server asks: {message}");
        if params.get("mode").and_then(Value::as_str) == Some("url") {
            let url = params.get("url").and_then(Value::as_str).unwrap_or("");
            eprintln!("  {url}");
            return match self.confirm("Open this page in your browser? [y/N] ").await {
                Some(true) => {
                    if !mcp_client::oauth::presenter::open_browser(url) {
                        eprintln!("Could not start a browser: open the address above yourself.");
                    }
                    json!({"action": "accept"})
                }
                _ => {
                    eprintln!("Declined.");
                    decline
                }
            };
        }
        let schema = params
            .get("requestedSchema")
            .cloned()
            .unwrap_or(Value::Null);
        let empty = Map::new();
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !props.is_empty() {
            let names: Vec<&str> = props.keys().map(String::as_str).collect();
            eprintln!("  It wants: {}", names.join(", "));
        }
        match self
            .confirm("Answer? [y/N] (an empty answer declines, Ctrl-C cancels) ")
            .await
        {
            Some(true) => {}
            _ => {
                eprintln!("Declined.");
                return decline;
            }
        }
        let mut content = Map::new();
        for (name, field) in props {
            let is_required = required.contains(&name.as_str());
            for (i, choice) in choices(field).iter().enumerate() {
                eprintln!("    {}) {}", i + 1, choice.1);
            }
            loop {
                let Some(line) = self.line(&field_prompt(name, field, is_required)).await else {
                    eprintln!("Declined (end of input).");
                    return decline;
                };
                match parse_field(field, &line, is_required) {
                    Ok(Some(v)) => {
                        content.insert(name.clone(), v);
                        break;
                    }
                    Ok(None) => break,
                    Err(why) => eprintln!("    {why}"),
                }
            }
        }
        eprintln!("Sent.");
        json!({"action": "accept", "content": content})
    }

    /// A yes/no question: `None` at end of input.
    async fn confirm(&self, prompt: &str) -> Option<bool> {
        loop {
            let line = self.line(prompt).await?;
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Some(true),
                "" | "n" | "no" => return Some(false),
                _ => eprintln!("  Please answer y or n."),
            }
        }
    }

    /// Show `prompt` and read one line (without its end); `None` at end of input.
    async fn line(&self, prompt: &str) -> Option<String> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut slot = self.lines.lock().await;
        let rx = slot.get_or_insert_with(stdin_lines);
        match rx.recv().await {
            Some(Some(line)) => Some(line),
            _ => {
                eprintln!();
                None
            }
        }
    }
}

/// Read stdin line by line on a thread of its own (a blocking read must not hold a runtime
/// worker, and a cancelled question leaves the read where the next question finds it).
fn stdin_lines() -> mpsc::UnboundedReceiver<Option<String>> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        loop {
            let mut line = String::new();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(_) => {
                    let line = line.trim_end_matches(['\n', '\r']).to_owned();
                    if tx.send(Some(line)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// The `elicitation/create` hook.
pub struct Elicitation(pub Arc<Prompter>);

impl RequestHandler for Elicitation {
    fn handle(&self, _method: &str, params: Value) -> BoxFuture<'static, Result<Value, RpcError>> {
        let p = self.0.clone();
        Box::pin(async move { Ok(p.elicit(params).await) })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The values a field may take, with their labels: `enum` (with `enumNames`), `oneOf`/`anyOf`
/// of `const`s, or the same under `items` for a multi-select array.
fn choices(field: &Value) -> Vec<(Value, String)> {
    let source = if field.get("type").and_then(Value::as_str) == Some("array") {
        field.get("items").unwrap_or(&Value::Null)
    } else {
        field
    };
    if let Some(values) = source.get("enum").and_then(Value::as_array) {
        let names = source.get("enumNames").and_then(Value::as_array);
        return values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let label = names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| plain(v));
                (v.clone(), label)
            })
            .collect();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = source.get(key).and_then(Value::as_array) {
            return options
                .iter()
                .filter_map(|o| {
                    let v = o.get("const")?;
                    let label = o
                        .get("title")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| plain(v));
                    Some((v.clone(), label))
                })
                .collect();
        }
    }
    Vec::new()
}

/// A JSON value as text, strings without quotes.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `  Age (age) [integer, 0..150, default 36] *: `
fn field_prompt(name: &str, field: &Value, required: bool) -> String {
    let kind = field
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let title = field.get("title").and_then(Value::as_str).unwrap_or(name);
    let mut facts: Vec<String> = Vec::new();
    let options = choices(field);
    match kind {
        "boolean" => facts.push("y/n".into()),
        "array" => facts.push(format!("numbers 1-{} separated by commas", options.len())),
        _ if !options.is_empty() => facts.push(format!("a number 1-{}", options.len())),
        "integer" | "number" => facts.push(kind.into()),
        _ => facts.push(
            field
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or("text")
                .into(),
        ),
    }
    let bound = |lo: &str, hi: &str, unit: &str| {
        let lo = field.get(lo).map(plain);
        let hi = field.get(hi).map(plain);
        match (lo, hi) {
            (Some(l), Some(h)) => Some(format!("{l}..{h}{unit}")),
            (Some(l), None) => Some(format!("at least {l}{unit}")),
            (None, Some(h)) => Some(format!("at most {h}{unit}")),
            (None, None) => None,
        }
    };
    facts.extend(bound("minimum", "maximum", ""));
    facts.extend(bound("minLength", "maxLength", " characters"));
    facts.extend(bound("minItems", "maxItems", " choices"));
    if let Some(p) = field.get("pattern").and_then(Value::as_str) {
        facts.push(format!("pattern {p}"));
    }
    if let Some(d) = field.get("default") {
        let shown = match (kind, d) {
            ("boolean", Value::Bool(b)) => if *b { "y" } else { "n" }.to_owned(),
            _ => plain(d),
        };
        facts.push(format!("default {shown}"));
    }
    let mut out = format!("  {title}");
    if title != name {
        out.push_str(&format!(" ({name})"));
    }
    if let Some(d) = field.get("description").and_then(Value::as_str) {
        out.push_str(&format!(" - {d}"));
    }
    out.push_str(&format!(" [{}]", facts.join(", ")));
    if required {
        out.push_str(" *");
    }
    out.push_str(": ");
    out
}

/// Check one answer against its field: `Ok(None)` leaves an optional field out.
pub(crate) fn parse_field(
    field: &Value,
    input: &str,
    required: bool,
) -> Result<Option<Value>, String> {
    let input = input.trim();
    if input.is_empty() {
        return match field.get("default") {
            Some(d) => Ok(Some(d.clone())),
            None if required => Err("This field is required.".into()),
            None => Ok(None),
        };
    }
    let kind = field
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let options = choices(field);
    let pick = |word: &str| -> Result<Value, String> {
        if let Ok(n) = word.parse::<usize>() {
            if (1..=options.len()).contains(&n) {
                return Ok(options[n - 1].0.clone());
            }
        }
        options
            .iter()
            .find(|(v, label)| plain(v) == word || label == word)
            .map(|(v, _)| v.clone())
            .ok_or_else(|| format!("Choose a number from 1 to {}.", options.len()))
    };
    let value = match kind {
        "boolean" => match input.to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" | "1" => Value::Bool(true),
            "n" | "no" | "false" | "0" => Value::Bool(false),
            _ => return Err("Answer y or n.".into()),
        },
        "array" => {
            let picked = input
                .split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(pick)
                .collect::<Result<Vec<_>, _>>()?;
            let n = picked.len() as u64;
            if let Some(min) = field.get("minItems").and_then(Value::as_u64) {
                if n < min {
                    return Err(format!("Choose at least {min}."));
                }
            }
            if let Some(max) = field.get("maxItems").and_then(Value::as_u64) {
                if n > max {
                    return Err(format!("Choose at most {max}."));
                }
            }
            Value::Array(picked)
        }
        _ if !options.is_empty() => pick(input)?,
        "integer" => {
            let n: i64 = input
                .parse()
                .map_err(|_| format!("`{input}` is not an integer."))?;
            check_range(field, n as f64)?;
            Value::from(n)
        }
        "number" => {
            let x: f64 = input
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| format!("`{input}` is not a number."))?;
            check_range(field, x)?;
            serde_json::Number::from_f64(x)
                .map(Value::Number)
                .ok_or_else(|| format!("`{input}` is not a number."))?
        }
        _ => {
            let len = input.chars().count() as u64;
            if let Some(min) = field.get("minLength").and_then(Value::as_u64) {
                if len < min {
                    return Err(format!("At least {min} characters, please."));
                }
            }
            if let Some(max) = field.get("maxLength").and_then(Value::as_u64) {
                if len > max {
                    return Err(format!("At most {max} characters, please."));
                }
            }
            check_format(field.get("format").and_then(Value::as_str), input)?;
            check_pattern(field.get("pattern").and_then(Value::as_str), input)?;
            Value::String(input.to_owned())
        }
    };
    Ok(Some(value))
}

fn check_range(field: &Value, x: f64) -> Result<(), String> {
    if let Some(min) = field.get("minimum").and_then(Value::as_f64) {
        if x < min {
            return Err(format!(
                "The smallest allowed is {}.",
                plain(&field["minimum"])
            ));
        }
    }
    if let Some(max) = field.get("maximum").and_then(Value::as_f64) {
        if x > max {
            return Err(format!(
                "The largest allowed is {}.",
                plain(&field["maximum"])
            ));
        }
    }
    Ok(())
}

/// A JSON Schema `pattern` (unanchored, as the schema means it). A pattern this regex engine
/// cannot compile (an ECMA-262 feature such as a lookahead) is shown but not checked: the
/// server still validates.
fn check_pattern(pattern: Option<&str>, s: &str) -> Result<(), String> {
    let Some(p) = pattern else {
        return Ok(());
    };
    match regex::Regex::new(p) {
        Ok(re) if !re.is_match(s) => Err(format!("`{s}` does not match the pattern {p}.")),
        _ => Ok(()),
    }
}

fn check_format(format: Option<&str>, s: &str) -> Result<(), String> {
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    let date = |d: &str| {
        let p: Vec<&str> = d.split('-').collect();
        p.len() == 3 && digits(p[0], 4) && digits(p[1], 2) && digits(p[2], 2)
    };
    let ok = match format {
        Some("email") => s
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !s.contains(' ')),
        Some("uri") => url::Url::parse(s).is_ok(),
        Some("date") => date(s),
        Some("date-time") => s
            .split_once(['T', 't'])
            .is_some_and(|(d, t)| date(d) && t.len() >= 5),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "That is not a valid {}.",
            format.unwrap_or("value")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_against_their_schema() {
        let age = json!({"type": "integer", "minimum": 0, "maximum": 150, "default": 36});
        assert_eq!(parse_field(&age, "", false), Ok(Some(json!(36))));
        assert_eq!(parse_field(&age, "41", false), Ok(Some(json!(41))));
        assert!(parse_field(&age, "abc", false).is_err());
        assert!(parse_field(&age, "151", false).is_err());

        let name = json!({"type": "string", "minLength": 2});
        assert_eq!(parse_field(&name, "", false), Ok(None));
        assert!(parse_field(&name, "", true).is_err());
        assert!(parse_field(&name, "A", true).is_err());
        assert_eq!(parse_field(&name, " Ada ", true), Ok(Some(json!("Ada"))));

        let email = json!({"type": "string", "format": "email"});
        assert!(parse_field(&email, "nope", true).is_err());
        assert!(parse_field(&email, "ada@example.org", true).is_ok());

        let code = json!({"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"});
        assert!(parse_field(&code, "abc-1", true).is_err());
        assert_eq!(
            parse_field(&code, "ABC-12", true),
            Ok(Some(json!("ABC-12")))
        );
        // A lookahead (ECMA-262, not this engine): shown, not checked.
        let odd = json!({"type": "string", "pattern": "^(?=a)a$"});
        assert!(parse_field(&odd, "b", true).is_ok());

        let yes = json!({"type": "boolean"});
        assert_eq!(parse_field(&yes, "n", true), Ok(Some(json!(false))));
        assert!(parse_field(&yes, "maybe", true).is_err());

        let color = json!({"type": "string", "enum": ["red", "green"]});
        assert_eq!(parse_field(&color, "2", true), Ok(Some(json!("green"))));
        assert_eq!(parse_field(&color, "red", true), Ok(Some(json!("red"))));
        assert!(parse_field(&color, "3", true).is_err());

        let titled = json!({"type": "string", "oneOf": [{"const": "a", "title": "Apple"}]});
        assert_eq!(parse_field(&titled, "Apple", true), Ok(Some(json!("a"))));

        let many = json!({"type": "array", "items": {"enum": ["x", "y", "z"]}, "maxItems": 2});
        assert_eq!(
            parse_field(&many, "1, 3", true),
            Ok(Some(json!(["x", "z"])))
        );
        assert!(parse_field(&many, "1,2,3", true).is_err());
    }

    #[test]
    fn prompts_show_type_default_and_constraints() {
        let p = field_prompt(
            "age",
            &json!({"type": "integer", "title": "Age", "minimum": 0, "maximum": 150, "default": 36}),
            true,
        );
        assert_eq!(p, "  Age (age) [integer, 0..150, default 36] *: ");
        let p = field_prompt(
            "subscribe",
            &json!({"type": "boolean", "default": true}),
            false,
        );
        assert_eq!(p, "  subscribe [y/n, default y]: ");
    }
}
