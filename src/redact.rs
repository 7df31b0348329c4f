//! Text fit for errors and logs: URLs without their query strings or user info, and bodies
//! cut short on a character boundary. Nothing here knows about the rest of the crate.

/// Keep at most `max` bytes of `s`, cut on a character boundary.
pub(crate) fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A URL fit for error messages and logs: no query string, no fragment, no user info
/// (query strings can hold codes or tokens).
pub(crate) fn redact_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// A short excerpt of a response body for error messages (at most 200 bytes, trimmed).
pub(crate) fn excerpt(body: &[u8]) -> String {
    truncate_utf8(String::from_utf8_lossy(body).trim(), 200).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }

    #[test]
    fn redact_url_drops_query_and_userinfo() {
        let u = url::Url::parse("https://user:pw@example.com/cb?code=secret#x").unwrap();
        assert_eq!(redact_url(&u), "https://example.com/cb");
    }

    #[test]
    fn excerpt_is_short_and_trimmed() {
        assert_eq!(excerpt(b"  oops \n"), "oops");
        assert_eq!(excerpt(&[b'x'; 500]).len(), 200);
    }
}
