//! `WWW-Authenticate` (src/oauth/challenge.rs): every header value of a 401/403, as the HTTP
//! transport collects them, parsed into challenges and gathered into what the OAuth engine
//! reads; then the `resource_metadata` URL checked as discovery checks it.
//!
//! Two modes, by byte 0:
//! - below 0x80: the input is raw header values, one per line (the seeds are real headers);
//! - 0x80 and above: structure-aware: the rest of the input drives a generator of well-formed
//!   challenges (schemes, `name=token` and `name="quoted \"string\""` parameters, any
//!   printable text in values), which must parse back to exactly what was generated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::{www_authenticate, AuthChallenge, ChallengeInfo};

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

const SCHEMES: [&str; 6] = ["Bearer", "DPoP", "Basic", "Newauth", "x-Custom_1", "bearer"];
const NAMES: [&str; 8] = [
    "realm",
    "scope",
    "error",
    "error_description",
    "resource_metadata",
    "algs",
    "Realm",
    "x.y-z",
];
const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Bytes in, choices out.
struct Source<'a>(&'a [u8]);

impl Source<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[usize::from(self.byte()) % from.len()]
    }
    /// Up to 15 characters: tchars, or (`printable`) any visible ASCII, space or tab.
    fn text(&mut self, printable: bool) -> String {
        let n = usize::from(self.byte() % 16);
        (0..n)
            .map(|_| {
                let b = self.byte();
                if printable {
                    match b % 97 {
                        95 => ' ',
                        96 => '\t',
                        k => char::from(b' ' + 1 + k),
                    }
                } else {
                    char::from(TCHARS[usize::from(b) % TCHARS.len()])
                }
            })
            .collect()
    }
}

fn generated(mut src: Source<'_>) {
    let mut header = String::new();
    let mut expected = Vec::new();
    let challenges = 1 + src.byte() % 3;
    for i in 0..challenges {
        if i > 0 {
            header.push_str(if src.byte() % 2 == 0 { ", " } else { "," });
        }
        let scheme = src.pick(&SCHEMES);
        header.push_str(scheme);
        let mut params = Vec::new();
        for j in 0..src.byte() % 4 {
            let name = match src.byte() % 3 {
                0 => src.text(false).to_ascii_lowercase(),
                _ => src.pick(&NAMES).to_owned(),
            };
            if name.is_empty() {
                continue;
            }
            let quoted = src.byte() % 2 == 0;
            let value = src.text(quoted);
            let value = if quoted || value.is_empty() {
                // A quoted string keeps whatever the value holds (an empty token would not).
                let escaped: String = value
                    .chars()
                    .flat_map(|c| match c {
                        '"' | '\\' => vec!['\\', c],
                        c => vec![c],
                    })
                    .collect();
                header.push_str(if j == 0 { " " } else { ", " });
                header.push_str(&format!("{name}=\"{escaped}\""));
                value
            } else {
                header.push_str(if j == 0 { " " } else { ", " });
                header.push_str(&format!("{name}={value}"));
                value
            };
            params.push((name.to_ascii_lowercase(), value));
        }
        expected.push(AuthChallenge {
            scheme: scheme.to_owned(),
            params,
            token68: None,
        });
    }
    let parsed = www_authenticate(&header);
    assert_eq!(parsed, expected, "header: {header}");
}

fuzz_target!(|data: &[u8]| {
    if let Some((&mode, rest)) = data.split_first() {
        if mode >= 0x80 {
            return generated(Source(rest));
        }
    }
    let text = String::from_utf8_lossy(data);
    let headers: Vec<&str> = text.split('\n').collect();
    for h in &headers {
        for c in www_authenticate(h) {
            assert!(
                !c.scheme.is_empty() && c.scheme.bytes().all(is_tchar),
                "{c:?}"
            );
            for (name, _) in &c.params {
                assert!(!name.is_empty() && name.bytes().all(is_tchar), "{c:?}");
                assert!(!name.bytes().any(|b| b.is_ascii_uppercase()), "{c:?}");
            }
        }
    }
    let info = ChallengeInfo::from_headers(headers.iter().copied());
    if let Some(scopes) = &info.scope {
        assert!(scopes
            .iter()
            .all(|s| !s.is_empty() && !s.bytes().any(|b| b.is_ascii_whitespace())));
    }
    if let Some(u) = &info.resource_metadata {
        let _ = mcp_client::oauth::http::endpoint(u, "resource_metadata URL");
    }
});
