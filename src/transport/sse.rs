//! An incremental Server-Sent Events parser (the WHATWG event-stream format).
//!
//! Bytes go in as they arrive from the network, in chunks of any size; complete events come
//! out. Lines may end in `\n`, `\r\n` or `\r` (also when a chunk boundary falls between `\r`
//! and `\n`). The parser remembers the last event id and the server's `retry` delay, which the
//! transport needs to resume a stream. One event may not grow past a configured limit.

use std::time::Duration;

use crate::error::Error;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` means the default type `message`.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id in force when this event was dispatched.
    pub id: Option<String>,
}

impl SseEvent {
    /// Whether the event is of the default `message` type.
    pub fn is_message(&self) -> bool {
        matches!(self.event.as_deref(), None | Some("message"))
    }
}

/// The incremental parser.
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    skip_lf: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry: Option<Duration>,
    limit: usize,
}

impl SseParser {
    /// A parser whose events (and lines) may be at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        SseParser {
            line: Vec::new(),
            skip_lf: false,
            event: None,
            data: String::new(),
            has_data: false,
            last_id: None,
            retry: None,
            limit,
        }
    }

    /// The last event id the stream set, for `Last-Event-ID` on reconnection.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Start from a known last event id (after a reconnection).
    pub fn set_last_event_id(&mut self, id: Option<String>) {
        self.last_id = id;
    }

    /// The reconnection delay the server asked for with `retry:`.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Feed bytes; complete events are appended to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        // The `\n` of a `\r\n` split across chunks: the next byte decides, whenever it comes.
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while !chunk.is_empty() {
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(pos) => {
                    let cr = chunk[pos] == b'\r';
                    self.extend_line(&chunk[..pos])?;
                    let line = std::mem::take(&mut self.line);
                    self.process_line(&line, out)?;
                    self.line = line;
                    self.line.clear();
                    chunk = &chunk[pos + 1..];
                    if cr {
                        match chunk.first() {
                            Some(b'\n') => chunk = &chunk[1..],
                            Some(_) => {}
                            None => self.skip_lf = true,
                        }
                    }
                }
                None => {
                    self.extend_line(chunk)?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// Whether bytes of an unfinished event are pending (the stream ended mid-event).
    pub fn has_partial_event(&self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.line.len() + bytes.len() + self.data.len() > self.limit {
            return Err(Error::BodyTooLarge { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) -> Result<(), Error> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment, e.g. a keep-alive
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| Error::MalformedSse("a line is not valid UTF-8".into()))?;
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => {
                self.last_id = if value.is_empty() {
                    None
                } else {
                    Some(value.to_owned())
                };
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {} // unknown fields are ignored, as the format requires
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> (Vec<SseEvent>, SseParser) {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).unwrap();
        }
        (out, p)
    }

    #[test]
    fn basic_event_with_id_and_retry() {
        let (ev, p) = parse_all(&[b"retry: 500\nid: 7\nevent: message\ndata: {\"a\":1}\n\n"]);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "{\"a\":1}");
        assert_eq!(ev[0].id.as_deref(), Some("7"));
        assert!(ev[0].is_message());
        assert_eq!(p.retry(), Some(Duration::from_millis(500)));
        assert_eq!(p.last_event_id(), Some("7"));
    }

    #[test]
    fn split_anywhere_and_crlf() {
        let whole = b"data: one\r\ndata: two\r\n\r\n: comment\r\nevent: endpoint\rdata: /m\r\r";
        for split in 0..whole.len() {
            let (ev, _) = parse_all(&[&whole[..split], &whole[split..]]);
            assert_eq!(ev.len(), 2, "split at {split}");
            assert_eq!(ev[0].data, "one\ntwo");
            assert_eq!(ev[1].event.as_deref(), Some("endpoint"));
            assert_eq!(ev[1].data, "/m");
        }
    }

    #[test]
    fn priming_event_without_data_is_not_dispatched_but_sets_id() {
        let (ev, p) = parse_all(&[b"id: abc\ndata:\n\nid: abd\n\n"]);
        // `data:` with an empty value is still data: an empty event is dispatched.
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "");
        assert_eq!(p.last_event_id(), Some("abd"));
    }

    #[test]
    fn limit_and_utf8() {
        let mut p = SseParser::new(8);
        let mut out = Vec::new();
        assert!(matches!(
            p.push(b"data: 0123456789\n\n", &mut out),
            Err(Error::BodyTooLarge { limit: 8 })
        ));
        let mut p = SseParser::new(100);
        assert!(matches!(
            p.push(b"data: \xff\n\n", &mut out),
            Err(Error::MalformedSse(_))
        ));
    }
}
