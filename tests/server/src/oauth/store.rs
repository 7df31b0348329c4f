//! The authorization server's state: clients, codes, grants, tokens, devices.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::AuthStats;

/// How long finished codes, devices and expired tokens are kept (for replay
/// detection and clear errors) before being forgotten.
const KEEP: Duration = Duration::from_secs(600);

/// A client: registered, pre-registered, or a Client ID Metadata Document URL.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub(crate) method: String,
    /// Registered redirect URIs.
    pub(crate) redirect_uris: Vec<String>,
    /// Any loopback redirect URI is fine (pre-registered and CIMD clients).
    pub(crate) any_loopback: bool,
}

impl Client {
    /// A public client (no secret).
    pub(crate) fn is_public(&self) -> bool {
        self.method == "none"
    }

    /// Whether `uri` is one of this client's redirect URIs: exact, except
    /// that the port of a loopback URI is ignored (RFC 8252 §7.3).
    pub(crate) fn accepts_redirect(&self, uri: &str) -> bool {
        if self.any_loopback && is_loopback_http(uri) {
            return true;
        }
        self.redirect_uris
            .iter()
            .any(|r| r == uri || same_ignoring_loopback_port(r, uri))
    }
}

/// Whether a URI is `http` on a loopback host (127.0.0.0/8, ::1, localhost)
/// without a fragment.
pub(crate) fn is_loopback_http(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    u.scheme() == "http" && u.fragment().is_none() && is_loopback_host(&u)
}

fn is_loopback_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn same_ignoring_loopback_port(registered: &str, uri: &str) -> bool {
    if !is_loopback_http(registered) || !is_loopback_http(uri) {
        return false;
    }
    match (url::Url::parse(registered), url::Url::parse(uri)) {
        (Ok(a), Ok(b)) => {
            a.scheme() == b.scheme()
                && a.host() == b.host()
                && a.path() == b.path()
                && a.query() == b.query()
                && a.username() == b.username()
                && a.password() == b.password()
        }
        _ => false,
    }
}

/// What an authorization request asked for (validated).
#[derive(Debug, Clone)]
pub(crate) struct AuthzRequest {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) challenge: String,
    /// The `resource` sent (absent only on a legacy server).
    pub(crate) resource: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) dpop_jkt: Option<String>,
}

/// An authorization code.
#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) req: AuthzRequest,
    pub(crate) expires: Instant,
    pub(crate) used: bool,
    /// The grant it was exchanged for.
    pub(crate) grant: Option<u64>,
}

/// A consent page waiting for a decision.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) req: AuthzRequest,
    pub(crate) expires: Instant,
}

/// One authorization (the family of tokens from one code, device or
/// client-credentials request).
#[derive(Debug)]
pub(crate) struct Grant {
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    /// The DPoP key refresh requests must prove (public clients only).
    pub(crate) jkt: Option<String>,
    pub(crate) revoked: bool,
}

/// An access token.
#[derive(Debug)]
pub(crate) struct AccessToken {
    pub(crate) grant: u64,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    /// The audience.
    pub(crate) resource: String,
    pub(crate) expires: Instant,
    /// The DPoP key thumbprint it is bound to.
    pub(crate) jkt: Option<String>,
    pub(crate) revoked: bool,
}

/// A refresh token (rotated ones stay, inactive, for replay detection).
#[derive(Debug)]
pub(crate) struct RefreshToken {
    pub(crate) grant: u64,
    pub(crate) active: bool,
}

/// A device authorization (RFC 8628).
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) user_code: String,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires: Instant,
    pub(crate) approved: bool,
    pub(crate) last_poll: Option<Instant>,
    /// Tokens were issued; the device code is spent.
    pub(crate) done: bool,
}

/// Everything the authorization server remembers.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) clients: HashMap<String, Client>,
    pub(crate) codes: HashMap<String, Code>,
    pub(crate) pending: HashMap<String, Pending>,
    pub(crate) grants: HashMap<u64, Grant>,
    pub(crate) next_grant: u64,
    pub(crate) access: HashMap<String, AccessToken>,
    pub(crate) refresh: HashMap<String, RefreshToken>,
    pub(crate) devices: HashMap<String, Device>,
    /// DPoP proof `jti`s seen, with when they may be forgotten.
    pub(crate) jtis: HashMap<String, Instant>,
    pub(crate) stats: AuthStats,
    /// The `client_name` each registered client gave (for the login and consent pages).
    pub(crate) client_names: HashMap<String, String>,
    /// Login sessions (`AuthOptions::login`): cookie value, expiry.
    pub(crate) sessions: HashMap<String, Instant>,
}

impl Store {
    /// Starts a grant.
    pub(crate) fn new_grant(
        &mut self,
        client_id: &str,
        scopes: &[String],
        jkt: Option<String>,
    ) -> u64 {
        self.next_grant += 1;
        let id = self.next_grant;
        self.grants.insert(
            id,
            Grant {
                client_id: client_id.to_owned(),
                scopes: scopes.to_vec(),
                jkt,
                revoked: false,
            },
        );
        id
    }

    /// Revokes a grant and every token of it.
    pub(crate) fn revoke_grant(&mut self, id: u64) {
        if let Some(g) = self.grants.get_mut(&id) {
            g.revoked = true;
        }
        for t in self.access.values_mut().filter(|t| t.grant == id) {
            t.revoked = true;
        }
        for r in self.refresh.values_mut().filter(|r| r.grant == id) {
            r.active = false;
        }
    }

    /// Whether a grant exists and is not revoked.
    pub(crate) fn grant_live(&self, id: u64) -> bool {
        self.grants.get(&id).is_some_and(|g| !g.revoked)
    }

    /// A client by id: registered or pre-registered, else (when `cimd`) an
    /// https URL with a path as a public client.
    pub(crate) fn client(&self, id: &str, cimd: bool) -> Option<Client> {
        if let Some(c) = self.clients.get(id) {
            return Some(c.clone());
        }
        if cimd && is_cimd_id(id) {
            return Some(Client {
                id: id.to_owned(),
                secret: None,
                method: "none".into(),
                redirect_uris: Vec::new(),
                any_loopback: true,
            });
        }
        None
    }

    /// Forgets long-finished codes, consent pages, devices, proofs and
    /// tokens expired for a while.
    pub(crate) fn prune(&mut self) {
        let now = Instant::now();
        let stale = |t: Instant| now.checked_duration_since(t).is_some_and(|d| d > KEEP);
        self.codes.retain(|_, c| !stale(c.expires));
        self.pending.retain(|_, p| !stale(p.expires));
        self.devices.retain(|_, d| !stale(d.expires));
        self.jtis.retain(|_, t| *t > now);
        self.access.retain(|_, t| !stale(t.expires));
        self.sessions.retain(|_, t| *t > now);
    }
}

/// Whether a client id is a Client ID Metadata Document URL: https with a path.
pub(crate) fn is_cimd_id(id: &str) -> bool {
    match url::Url::parse(id) {
        Ok(u) => {
            u.scheme() == "https"
                && u.host().is_some()
                && u.path() != "/"
                && !u.path().is_empty()
                && u.fragment().is_none()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> Client {
        Client {
            id: "c".into(),
            secret: None,
            method: "none".into(),
            redirect_uris: uris.iter().map(|s| (*s).to_owned()).collect(),
            any_loopback: false,
        }
    }

    #[test]
    fn loopback_ports_are_ignored_but_nothing_else() {
        let c = client(&["http://127.0.0.1:1234/callback", "https://app.example/cb"]);
        assert!(c.accepts_redirect("http://127.0.0.1:1234/callback"));
        assert!(c.accepts_redirect("http://127.0.0.1:9999/callback"));
        assert!(c.accepts_redirect("http://127.0.0.1/callback"));
        assert!(!c.accepts_redirect("http://127.0.0.1:9999/other"));
        assert!(!c.accepts_redirect("http://localhost:1234/callback"));
        assert!(c.accepts_redirect("https://app.example/cb"));
        assert!(!c.accepts_redirect("https://app.example:8443/cb"));
        assert!(!c.accepts_redirect("https://app.example/cb?x=1"));
    }

    #[test]
    fn cimd_ids_are_https_urls_with_paths() {
        assert!(is_cimd_id("https://app.example/client.json"));
        assert!(!is_cimd_id("https://app.example/"));
        assert!(!is_cimd_id("http://app.example/client.json"));
        assert!(!is_cimd_id("my-client"));
    }
}
