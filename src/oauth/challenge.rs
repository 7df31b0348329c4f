//! `WWW-Authenticate` parsing (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9728 §5.1).
//!
//! A header may hold several challenges (`Bearer realm="a", DPoP algs="ES256"`), and a response
//! may carry several headers. Parameters are `name=token` or `name="quoted string"` with
//! backslash escapes; names are case-insensitive. A scheme may instead carry a token68.

/// One challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// The scheme, as sent (`Bearer`, `DPoP`, …).
    pub scheme: String,
    /// Parameters, names lower-cased, in order.
    pub params: Vec<(String, String)>,
    /// A token68 value instead of parameters, if any.
    pub token68: Option<String>,
}

impl AuthChallenge {
    /// The value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is a `Bearer` challenge.
    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }

    /// Whether this is a `DPoP` challenge.
    pub fn is_dpop(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("dpop")
    }
}

/// What the client needs from a response's challenges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeInfo {
    /// `resource_metadata`: where the protected resource metadata is.
    pub resource_metadata: Option<String>,
    /// `scope`, split on spaces.
    pub scope: Option<Vec<String>>,
    /// `error`, e.g. `invalid_token` or `insufficient_scope`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// Whether the server offered the `DPoP` scheme.
    pub dpop: bool,
}

impl ChallengeInfo {
    /// Gather the parameters from every challenge of every header: `Bearer` first, then
    /// `DPoP`, then any other scheme.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Self {
        let mut all: Vec<AuthChallenge> = headers.into_iter().flat_map(parse).collect();
        all.sort_by_key(|c| match () {
            _ if c.is_bearer() => 0,
            _ if c.is_dpop() => 1,
            _ => 2,
        });
        let mut info = ChallengeInfo {
            dpop: all.iter().any(AuthChallenge::is_dpop),
            ..Default::default()
        };
        for c in &all {
            let take = |slot: &mut Option<String>, name: &str| {
                if slot.is_none() {
                    *slot = c.param(name).map(str::to_owned);
                }
            };
            take(&mut info.resource_metadata, "resource_metadata");
            take(&mut info.error, "error");
            take(&mut info.error_description, "error_description");
            if info.scope.is_none() {
                info.scope = c
                    .param("scope")
                    .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect());
            }
        }
        info
    }
}

/// Parse one `WWW-Authenticate` header value into its challenges. Malformed parts are skipped,
/// never an error: a server's broken header must not stop discovery.
///
/// The value is split on commas outside quoted strings; each element is `scheme`,
/// `scheme token68`, `scheme name=value` (a new challenge with its first parameter) or
/// `name=value` (another parameter of the current challenge).
pub fn parse(header: &str) -> Vec<AuthChallenge> {
    let mut out: Vec<AuthChallenge> = Vec::new();
    for element in split_elements(header) {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue;
        }
        let (head, rest) = match element.find([' ', '\t']) {
            Some(i) => (&element[..i], element[i..].trim_start_matches([' ', '\t'])),
            None => (element, ""),
        };
        if let Some((name, value)) = param(element) {
            if head.contains('=') || head.len() == element.len() || rest.starts_with('=') {
                // `name=value` (possibly with spaces around `=`): a parameter.
                if let Some(c) = out.last_mut() {
                    c.params.push((name, value));
                }
                continue;
            }
        }
        if !head.bytes().all(is_tchar) {
            continue;
        }
        let mut c = AuthChallenge {
            scheme: head.to_owned(),
            params: Vec::new(),
            token68: None,
        };
        if !rest.is_empty() {
            match param(rest) {
                Some(p) => c.params.push(p),
                None if rest.bytes().all(|b| is_tchar(b) || b == b'/' || b == b'=') => {
                    c.token68 = Some(rest.to_owned())
                }
                None => {}
            }
        }
        out.push(c);
    }
    out
}

/// `name = value` where value is a token or a quoted string.
fn param(s: &str) -> Option<(String, String)> {
    let eq = s.find('=')?;
    let name = s[..eq].trim_matches([' ', '\t']);
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return None;
    }
    let raw = s[eq + 1..].trim_matches([' ', '\t']);
    let value = if let Some(q) = raw.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = q.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                c => out.push(c),
            }
        }
        out
    } else if !raw.is_empty() && raw.bytes().all(is_tchar) {
        raw.to_owned()
    } else {
        return None; // token68 padding (`abc==`) or garbage
    };
    Some((name.to_ascii_lowercase(), value))
}

/// Split on commas that are outside quoted strings.
fn split_elements(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if in_quote => escaped = true,
            b'"' => in_quote = !in_quote,
            b',' if !in_quote => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_params() {
        let c = parse(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write""#,
        );
        assert_eq!(c.len(), 1);
        assert!(c[0].is_bearer());
        assert_eq!(
            c[0].param("resource_metadata"),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(c[0].param("SCOPE"), Some("files:read files:write"));
    }

    #[test]
    fn several_challenges_in_one_header() {
        let c = parse(
            r#"Basic realm="x", Bearer error="insufficient_scope", scope=read, DPoP algs="ES256 RS256", Newauth"#,
        );
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, vec!["Basic", "Bearer", "DPoP", "Newauth"]);
        assert_eq!(c[1].param("error"), Some("insufficient_scope"));
        assert_eq!(c[1].param("scope"), Some("read"));
        assert_eq!(c[2].param("algs"), Some("ES256 RS256"));
    }

    #[test]
    fn quoted_escapes_and_token68() {
        let c = parse(r#"Bearer error_description="say \"hi\", ok", realm=a"#);
        assert_eq!(c[0].param("error_description"), Some(r#"say "hi", ok"#));
        assert_eq!(c[0].param("realm"), Some("a"));
        let c = parse("Negotiate abc/def==, Bearer");
        assert_eq!(c[0].token68.as_deref(), Some("abc/def=="));
        assert_eq!(c[1].scheme, "Bearer");
    }

    #[test]
    fn info_prefers_bearer_and_notes_dpop() {
        let info = ChallengeInfo::from_headers([
            r#"DPoP error="use_dpop_nonce", algs="ES256""#,
            r#"Bearer error="insufficient_scope", scope="a b", resource_metadata="https://x/prm""#,
        ]);
        assert_eq!(info.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(info.scope, Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(info.resource_metadata.as_deref(), Some("https://x/prm"));
        assert!(info.dpop);
    }

    #[test]
    fn garbage_does_not_panic() {
        for h in [
            "",
            ",,,",
            "=",
            "Bearer ===",
            "Bearer a=\"unterminated",
            "\u{1F600} x=y",
        ] {
            let _ = parse(h);
        }
    }
}
