//! [`super::AuthOptions::state_file`]: what the authorization server must remember across a
//! restart, in a JSON file, so that a client can recover from one without signing in again.
//!
//! Kept: the clients, the grants (revoked or not), every refresh token (rotated ones too, so
//! a replay is still detected after a restart) and the counters of [`super::AuthStats`] that
//! tests of a restarted server read (authorize, token, registration, replay, `invalid_grant`,
//! device and revocation counts).
//! Not kept: access tokens, authorization codes, consent pages, device codes, DPoP proofs and
//! nonces. A restart thus forgets every access token (as a server whose access tokens live in
//! memory does): a client presenting one gets 401 `invalid_token` and must use its refresh
//! token, and an authorization in progress must start over.
//!
//! The file is read when the server starts (a missing file is an empty state; an unreadable one
//! an error) and rewritten (a temporary file renamed over it) after every request to `/token`,
//! `/register` and `/revoke`, before the response is sent: whatever a client was given is on
//! disk by the time it has it. The write happens under the state's lock, so writes never
//! overtake each other.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::store::{Client, Grant, RefreshToken, Store};
use super::AuthServer;

/// The format of the file (bumped on an incompatible change).
const FORMAT: u64 = 1;

/// Writes the state to the configured file, if any (failures are reported on stderr: the
/// server goes on, as a server whose disk failed would).
pub(crate) fn save(auth: &AuthServer) {
    let Some(path) = &auth.opts.state_file else {
        return;
    };
    let store = auth.store();
    let text = encode(&store).to_string();
    if let Err(e) = write(path, &text) {
        eprintln!(
            "mcp-test-server: cannot write the state file {}: {e}",
            path.display()
        );
    }
}

/// Reads the state file into `store` (nothing when the file does not exist).
pub(crate) fn load(path: &Path, store: &mut Store) -> io::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("state file {}: {why}", path.display()),
        )
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    if v["format"].as_u64() != Some(FORMAT) {
        return Err(bad("unknown format"));
    }
    decode(&v, store).ok_or_else(|| bad("malformed"))
}

fn write(path: &Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn encode(store: &Store) -> Value {
    let clients: Vec<Value> = store
        .clients
        .values()
        .map(|c| {
            json!({
                "id": c.id,
                "secret": c.secret,
                "method": c.method,
                "redirect_uris": c.redirect_uris,
                "any_loopback": c.any_loopback,
            })
        })
        .collect();
    let grants: Map<String, Value> = store
        .grants
        .iter()
        .map(|(id, g)| {
            let v = json!({
                "client_id": g.client_id,
                "scopes": g.scopes,
                "jkt": g.jkt,
                "revoked": g.revoked,
            });
            (id.to_string(), v)
        })
        .collect();
    let refresh: Map<String, Value> = store
        .refresh
        .iter()
        .map(|(t, r)| (t.clone(), json!({"grant": r.grant, "active": r.active})))
        .collect();
    let s = &store.stats;
    json!({
        "format": FORMAT,
        "clients": clients,
        "next_grant": store.next_grant,
        "grants": grants,
        "refresh_tokens": refresh,
        "stats": {
            "authorize_requests": s.authorize_requests,
            "token_requests": s.token_requests,
            "registrations": s.registrations,
            "refresh_replays_detected": s.refresh_replays_detected,
            "invalid_grants": s.invalid_grants,
            "code_replays_detected": s.code_replays_detected,
            "device_authorizations": s.device_authorizations,
            "revocations": s.revocations,
        },
    })
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn opt_string(v: &Value) -> Option<Option<String>> {
    match v {
        Value::Null => Some(None),
        Value::String(s) => Some(Some(s.clone())),
        _ => None,
    }
}

fn decode(v: &Value, store: &mut Store) -> Option<()> {
    for c in v["clients"].as_array()? {
        let client = Client {
            id: c["id"].as_str()?.to_owned(),
            secret: opt_string(&c["secret"])?,
            method: c["method"].as_str()?.to_owned(),
            redirect_uris: strings(&c["redirect_uris"])?,
            any_loopback: c["any_loopback"].as_bool()?,
        };
        store.clients.insert(client.id.clone(), client);
    }
    store.next_grant = v["next_grant"].as_u64()?;
    for (id, g) in v["grants"].as_object()? {
        let grant = Grant {
            client_id: g["client_id"].as_str()?.to_owned(),
            scopes: strings(&g["scopes"])?,
            jkt: opt_string(&g["jkt"])?,
            revoked: g["revoked"].as_bool()?,
        };
        store.grants.insert(id.parse().ok()?, grant);
    }
    for (token, r) in v["refresh_tokens"].as_object()? {
        let rt = RefreshToken {
            grant: r["grant"].as_u64()?,
            active: r["active"].as_bool()?,
        };
        store.refresh.insert(token.clone(), rt);
    }
    let s = &v["stats"];
    let stats = &mut store.stats;
    let mut token_requests = BTreeMap::new();
    for (grant_type, n) in s["token_requests"].as_object()? {
        token_requests.insert(grant_type.clone(), n.as_u64()?);
    }
    stats.token_requests = token_requests;
    stats.authorize_requests = s["authorize_requests"].as_u64()?;
    stats.registrations = s["registrations"].as_u64()?;
    stats.refresh_replays_detected = s["refresh_replays_detected"].as_u64()?;
    stats.invalid_grants = s["invalid_grants"].as_u64()?;
    stats.code_replays_detected = s["code_replays_detected"].as_u64()?;
    stats.device_authorizations = s["device_authorizations"].as_u64()?;
    stats.revocations = s["revocations"].as_u64()?;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_survives_a_round_trip() {
        let mut a = Store::default();
        a.clients.insert(
            "c1".into(),
            Client {
                id: "c1".into(),
                secret: Some("s".into()),
                method: "client_secret_basic".into(),
                redirect_uris: vec!["http://127.0.0.1/cb".into()],
                any_loopback: false,
            },
        );
        let g = a.new_grant("c1", &["mcp:read".into()], None);
        a.refresh.insert(
            "rt-old".into(),
            RefreshToken {
                grant: g,
                active: false,
            },
        );
        a.refresh.insert(
            "rt-new".into(),
            RefreshToken {
                grant: g,
                active: true,
            },
        );
        a.stats.refresh_replays_detected = 2;
        a.stats.invalid_grants = 3;
        a.stats.token_requests.insert("refresh_token".into(), 7);

        let mut b = Store::default();
        decode(&encode(&a), &mut b).expect("decodes");
        assert_eq!(b.clients["c1"].secret.as_deref(), Some("s"));
        assert_eq!(b.grants[&g].scopes, vec!["mcp:read".to_owned()]);
        assert!(!b.refresh["rt-old"].active && b.refresh["rt-new"].active);
        assert_eq!(b.stats, a.stats);
        assert_eq!(b.new_grant("c1", &[], None), g + 1, "grant ids go on");
    }
}
