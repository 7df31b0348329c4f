//! The credentials the engine holds for one MCP server: the discovered metadata, the client
//! registration and the tokens, in memory and in the store, kept in step across processes
//! that share the store.
//!
//! The store is opened, read and announced lazily: a client whose server never asks for
//! authorization touches neither the keyring nor the disk, and says nothing about them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use base64::Engine;
use reqwest::header::{HeaderValue, AUTHORIZATION};

use crate::auth::{AuthHeaders, RequestInfo};
use crate::error::OAuthError;
use crate::oauth::discovery::{AuthServerMetadata, ResourceMetadata};
use crate::oauth::dpop::{DpopKey, DPOP};
use crate::oauth::events::{AuthEvent, Events};
use crate::oauth::registration::Registration;
use crate::oauth::stored::{self, StoredCredential, StoredTokens};
use crate::oauth::token::TokenSet;
use crate::secret::Secret;
use crate::store::{MemoryStore, OpenedStore, Saved, StoreChoice, StoreError, StoreLock};

/// What is known about the server, its authorization server and the client there.
#[derive(Default)]
pub(crate) struct Held {
    /// The resource identifier used in token requests.
    pub resource: Option<String>,
    /// The protected resource metadata.
    pub prm: Option<ResourceMetadata>,
    /// The authorization server metadata in use.
    pub meta: Option<AuthServerMetadata>,
    /// The registration with `meta`'s issuer.
    pub registration: Option<Registration>,
    /// Registrations with other issuers (kept, never used with another issuer).
    pub registrations: BTreeMap<String, Registration>,
    /// The issuer the host's own credentials were first used with (see
    /// [`crate::oauth::stored::StoredCredential::bound_issuer`]).
    pub bound_issuer: Option<String>,
    /// When the metadata was discovered.
    pub discovered_at: u64,
    tokens: Option<TokenSet>,
    /// The issuer that granted `tokens`.
    tokens_issuer: Option<String>,
    /// The `Authorization` value for `tokens` (built once per token).
    header: Option<HeaderValue>,
    /// The generation of the stored entry last read or written.
    generation: u64,
    /// Whether the tokens changed here (new from the authorization server, or dropped) since
    /// the entry was last read or written: then ours win over a stored entry; otherwise a
    /// newer stored entry's tokens win over ours.
    tokens_changed: bool,
}

impl Held {
    /// The tokens held, if any.
    pub fn tokens(&self) -> Option<&TokenSet> {
        self.tokens.as_ref()
    }

    /// The issuer of the metadata in use.
    pub fn issuer(&self) -> Option<&str> {
        self.meta.as_ref().map(|m| m.issuer.as_str())
    }

    /// Drop the tokens.
    pub fn forget_tokens(&mut self) {
        self.tokens = None;
        self.header = None;
        self.tokens_changed = true;
    }

    /// Keep `tokens`, granted by `issuer`.
    fn keep_tokens(&mut self, tokens: TokenSet, issuer: Option<String>) -> Result<(), OAuthError> {
        self.header = Some(authorization_value(&tokens)?);
        self.tokens = Some(tokens);
        self.tokens_issuer = issuer;
        self.tokens_changed = true;
        Ok(())
    }
}

/// `Authorization: Bearer …` or `Authorization: DPoP …`: the one place the scheme is chosen.
fn authorization_value(tokens: &TokenSet) -> Result<HeaderValue, OAuthError> {
    let scheme = if tokens.is_dpop() { "DPoP" } else { "Bearer" };
    let mut v = HeaderValue::from_str(&format!("{scheme} {}", tokens.access_token.expose()))
        .map_err(|_| OAuthError::BadResponse {
            what: "token response".into(),
            reason: "the access token is not a valid header value".into(),
        })?;
    v.set_sensitive(true);
    Ok(v)
}

/// A snapshot of the engine's state for status displays; never holds a secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OAuthStatus {
    /// The resource the tokens are for.
    pub resource: Option<String>,
    /// The authorization server.
    pub issuer: Option<String>,
    /// The client id.
    pub client_id: Option<String>,
    /// How the client was registered.
    pub registration: Option<String>,
    /// Whether an access token is held.
    pub has_token: bool,
    /// Whether a refresh token is held.
    pub has_refresh_token: bool,
    /// Token type (`Bearer` / `DPoP`).
    pub token_type: Option<String>,
    /// Expiry, seconds since the epoch.
    pub expires_at: Option<u64>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// The credential holder of one engine.
pub(crate) struct Credentials {
    /// The store key (the server's canonical URL).
    key: String,
    choice: StoreChoice,
    store: OnceLock<OpenedStore>,
    announced: AtomicBool,
    loaded: AtomicBool,
    held: Mutex<Held>,
    dpop: Mutex<Option<Arc<DpopKey>>>,
    events: Events,
    /// How many holds of the cross-process lock this engine has now (a save made under one
    /// takes no other: a second `flock` from this process would wait for itself).
    xlocks: std::sync::atomic::AtomicUsize,
}

/// The cross-process lock on this server's entry, as this engine holds it.
pub(crate) struct CrossProcessLock<'a> {
    _lock: Option<StoreLock>,
    creds: &'a Credentials,
}

impl Drop for CrossProcessLock<'_> {
    fn drop(&mut self) {
        self.creds.xlocks.fetch_sub(1, Ordering::AcqRel);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A store failure the engine cannot go on without, as an OAuth error.
fn unavailable(e: StoreError) -> OAuthError {
    match e {
        StoreError::Unavailable { store, reason } => OAuthError::StoreUnavailable { store, reason },
        other => OAuthError::StoreUnavailable {
            store: "credential store".into(),
            reason: other.to_string(),
        },
    }
}

impl Credentials {
    pub(crate) fn new(
        key: String,
        choice: StoreChoice,
        dpop: Option<Arc<DpopKey>>,
        events: Events,
    ) -> Self {
        Credentials {
            key,
            choice,
            store: OnceLock::new(),
            announced: AtomicBool::new(false),
            loaded: AtomicBool::new(false),
            held: Mutex::new(Held::default()),
            dpop: Mutex::new(dpop),
            events,
            xlocks: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The server's store key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// What is held (lock it briefly: never across an await).
    pub(crate) fn held(&self) -> MutexGuard<'_, Held> {
        lock(&self.held)
    }

    /// The DPoP key, when tokens are (or will be) bound.
    pub(crate) fn dpop_key(&self) -> Option<Arc<DpopKey>> {
        lock(&self.dpop).clone()
    }

    /// Bind future tokens with a fresh DPoP key, unless one is held already.
    pub(crate) fn ensure_dpop_key(&self) -> Result<(), OAuthError> {
        let mut k = lock(&self.dpop);
        if k.is_none() {
            *k = Some(Arc::new(DpopKey::generate()?));
        }
        Ok(())
    }

    /// The `Authorization` value of the tokens held.
    pub(crate) fn current_header(&self) -> Option<HeaderValue> {
        self.held().header.clone()
    }

    /// The headers for one request: `Authorization`, plus a DPoP proof for DPoP-bound tokens.
    pub(crate) fn request_headers(
        &self,
        request: RequestInfo<'_>,
    ) -> Result<AuthHeaders, OAuthError> {
        let (header, dpop_token) = {
            let h = self.held();
            let Some(header) = h.header.clone() else {
                return Ok(Vec::new());
            };
            let dpop_token = h
                .tokens
                .as_ref()
                .filter(|t| t.is_dpop())
                .map(|t| t.access_token.clone());
            (header, dpop_token)
        };
        let mut out = vec![(AUTHORIZATION, header)];
        if let (Some(token), Some(k)) = (dpop_token, self.dpop_key()) {
            out.push((
                DPOP,
                k.proof_header(request.method, request.url, Some(token.expose()))?,
            ));
        }
        Ok(out)
    }

    /// What is held now (no secrets).
    pub(crate) fn status(&self) -> OAuthStatus {
        let h = self.held();
        let t = h.tokens();
        OAuthStatus {
            resource: h.resource.clone(),
            issuer: h.issuer().map(str::to_owned),
            client_id: h.registration.as_ref().map(|r| r.client_id.clone()),
            registration: h.registration.as_ref().map(|r| r.kind.clone()),
            has_token: t.is_some(),
            has_refresh_token: t.is_some_and(|t| t.refresh_token.is_some()),
            token_type: t.map(|t| t.token_type.clone()),
            expires_at: t.and_then(|t| t.expires_at),
            scopes: t.map(|t| t.scopes.clone()).unwrap_or_default(),
        }
    }

    /// The store's name (opens it, quietly).
    pub(crate) fn store_name(&self) -> String {
        match self.opened() {
            Ok(o) => o.store.name(),
            Err(OAuthError::StoreUnavailable { store, .. }) => store,
            Err(e) => e.to_string(),
        }
    }

    /// The store, opened on first use. A local store that cannot be opened is replaced by
    /// memory (said once, when a credential first uses it); a store the engine cannot do
    /// without (Redis, without a configured fallback) is an error, and is tried again on the
    /// next use.
    fn opened(&self) -> Result<&OpenedStore, OAuthError> {
        if let Some(o) = self.store.get() {
            return Ok(o);
        }
        let opened = match self.choice.open_with_reason() {
            Ok(o) => o,
            Err(e @ StoreError::Unavailable { .. }) => return Err(unavailable(e)),
            Err(e) => OpenedStore {
                store: Arc::new(MemoryStore::default()),
                fallback: Some(format!("credential store unusable ({e})")),
            },
        };
        Ok(self.store.get_or_init(|| opened))
    }

    /// Say which store holds the credentials, once: when one is first loaded or saved.
    fn announce(&self) {
        let Ok(opened) = self.opened() else { return };
        if self.announced.swap(true, Ordering::AcqRel) {
            return;
        }
        let event = AuthEvent::StoreSelected {
            server: self.key.clone(),
            store: opened.store.name(),
            fallback: opened.fallback.clone(),
        };
        if opened.fallback.is_some() {
            // One wording for the log and the hosts: the event's own line.
            tracing::warn!("{event}");
        }
        self.events.emit(event);
    }

    /// Read the stored entry once, before the first use. A store the engine cannot do
    /// without that fails is an error (and read again next time).
    pub(crate) fn ensure_loaded(&self) -> Result<(), OAuthError> {
        if self.loaded.load(Ordering::Acquire) {
            return Ok(());
        }
        let stored = self.read_stored()?;
        if self.loaded.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        match stored {
            Some(c) => {
                self.adopt(c, true);
            }
            None => tracing::debug!(server = %self.key, "no stored credential"),
        }
        Ok(())
    }

    /// The stored entry, if there is a readable one. Only a store the engine cannot do
    /// without fails here; another store's failure is logged and reads as no entry.
    pub(crate) fn read_stored(&self) -> Result<Option<StoredCredential>, OAuthError> {
        let store = &self.opened()?.store;
        match crate::runtime::blocking(|| store.load(&self.key)) {
            Ok(Some(raw)) => {
                let c = stored::decode(&self.key, &raw);
                if c.is_some() {
                    self.announce();
                }
                Ok(c)
            }
            Ok(None) => Ok(None),
            Err(e) if store.required() => Err(unavailable(e)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored credential; signing in afresh");
                Ok(None)
            }
        }
    }

    /// Take a stored entry's state. With `all`, metadata and registrations too (start-up);
    /// otherwise only its tokens (another process refreshed).
    pub(crate) fn adopt(&self, c: StoredCredential, all: bool) -> bool {
        let mut h = self.held();
        if all {
            h.resource = c.resource.clone();
            h.prm = c.resource_metadata.clone();
            h.meta = c.auth_server.clone();
            h.discovered_at = c.discovered_at;
            h.registration = h
                .meta
                .as_ref()
                .and_then(|m| c.registrations.get(&m.issuer).cloned());
            h.registrations = c.registrations;
            h.bound_issuer = c.bound_issuer;
        }
        h.generation = h.generation.max(c.generation);
        let Some(t) = c.tokens else { return false };
        // Tokens from another issuer than the one in use are not ours to send.
        if h.issuer() != Some(t.issuer.as_str()) {
            tracing::info!("the stored tokens are from another issuer; not using them");
            return false;
        }
        let mut key = None;
        if let Some(k) = &t.dpop_key {
            let decoded = base64::engine::general_purpose::STANDARD.decode(k.expose());
            match decoded.ok().and_then(|b| DpopKey::from_pkcs8(&b).ok()) {
                Some(k) => key = Some(Arc::new(k)),
                None => {
                    // A bound token without its key is useless.
                    tracing::warn!("the stored DPoP key is unreadable; not using its tokens");
                    return false;
                }
            }
        }
        match h.keep_tokens(t.tokens, Some(t.issuer)) {
            Ok(()) => {
                h.tokens_changed = false;
                if key.is_some() {
                    *lock(&self.dpop) = key;
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "stored token unusable");
                false
            }
        }
    }

    /// Another process may have refreshed: use its tokens when they differ from ours and are
    /// still good for `margin_secs`. Returns whether it did.
    pub(crate) fn adopt_newer_tokens(&self, margin_secs: u64) -> Result<bool, OAuthError> {
        let Some(c) = self.read_stored()? else {
            return Ok(false);
        };
        let (ours, generation) = {
            let h = self.held();
            (
                h.tokens.as_ref().map(|t| t.access_token.clone()),
                h.generation,
            )
        };
        // Only a newer entry (a later generation) with other, still fresh tokens: an older
        // one must never replace what this process holds.
        let theirs = c.tokens.as_ref().filter(|t| {
            c.generation > generation
                && Some(&t.tokens.access_token) != ours.as_ref()
                && !t.tokens.due_for_refresh(margin_secs)
        });
        let Some(expires_at) = theirs.map(|t| t.tokens.expires_at) else {
            return Ok(false);
        };
        if !self.adopt(c, false) {
            return Ok(false);
        }
        tracing::debug!("adopted a token another process refreshed");
        self.events.emit(AuthEvent::TokenAdopted {
            server: self.key.clone(),
            expires_at,
        });
        Ok(true)
    }

    /// Keep new tokens from the issuer in use and save them.
    pub(crate) fn set_tokens(&self, tokens: TokenSet) -> Result<(), OAuthError> {
        {
            let mut h = self.held();
            let issuer = h.issuer().map(str::to_owned);
            h.keep_tokens(tokens, issuer)?;
        }
        self.persist();
        Ok(())
    }

    /// Forget the tokens held and save that.
    pub(crate) fn drop_tokens(&self) {
        self.held().forget_tokens();
        self.persist();
    }

    /// Write the current state to the store (failures are logged, never fatal: the session
    /// goes on with the credentials in memory).
    pub(crate) fn persist(&self) {
        let Ok(opened) = self.opened() else {
            tracing::warn!(store = %self.store_name(), "cannot save the credential: the store is unavailable; it lasts only for this session");
            return;
        };
        let store = opened.store.clone();
        // Under the cross-process lock: read, merge, write, with nobody writing in between.
        let _lock = self.lock_for_save();
        // Another process may have written since this one last read or wrote the entry:
        // unless our tokens changed since, its tokens are newer than ours (a rotated refresh
        // token must not be overwritten with the one it replaced). Take them, then write
        // with a generation past both.
        if let Ok(Some(stored)) = self.read_stored() {
            let (behind, unchanged) = {
                let h = self.held();
                (stored.generation > h.generation, !h.tokens_changed)
            };
            if behind {
                if unchanged && stored.tokens.is_some() {
                    self.adopt(stored, false);
                } else {
                    let mut h = self.held();
                    h.generation = h.generation.max(stored.generation);
                }
            }
        }
        match self.write_snapshot(&*store) {
            Ok(Saved::Written) => self.announce(),
            Ok(Saved::Stale { stored }) => self.lost_write(stored, &*store),
            Err(e) => {
                tracing::warn!(error = %e, "cannot save the credential; it lasts only for this session")
            }
        }
    }

    /// Write the current state, at the next generation, unless the store holds a later one.
    fn write_snapshot(&self, store: &dyn crate::store::CredentialStore) -> Result<Saved, String> {
        let cred = self.snapshot();
        let raw = serde_json::to_string(&cred).map_err(|e| format!("cannot encode it: {e}"))?;
        crate::runtime::blocking(|| store.save_versioned(&self.key, &raw, cred.generation))
            .map_err(|e| e.to_string())
    }

    /// The store refused our write: it holds a later generation. A readable entry was written
    /// by another process that could not wait for the lock: theirs stands, and we take its
    /// tokens. One that reads as absent (damaged, or plaintext where entries are sealed) is
    /// replaced, written once more past its generation.
    fn lost_write(&self, stored: u64, store: &dyn crate::store::CredentialStore) {
        if let Ok(Some(c)) = self.read_stored() {
            tracing::warn!(
                store = %store.name(),
                stored,
                "another process saved a newer credential meanwhile; using it instead of overwriting it"
            );
            self.adopt(c, false);
            return;
        }
        self.held().generation = stored;
        match self.write_snapshot(store) {
            Ok(Saved::Written) => self.announce(),
            Ok(Saved::Stale { .. }) => tracing::warn!(
                "the stored credential keeps changing; this one lasts only for this session"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot save the credential; it lasts only for this session")
            }
        }
    }

    /// The entry to store, with the next generation.
    fn snapshot(&self) -> StoredCredential {
        let mut h = self.held();
        h.generation += 1;
        h.tokens_changed = false;
        if let Some(r) = h.registration.clone() {
            h.registrations.insert(r.issuer.clone(), r);
        }
        let dpop_key = lock(&self.dpop)
            .as_ref()
            .map(|k| Secret::new(base64::engine::general_purpose::STANDARD.encode(k.pkcs8())));
        StoredCredential {
            format: stored::FORMAT,
            server: self.key.clone(),
            generation: h.generation,
            saved_at: crate::oauth::jwt::now_secs(),
            resource: h.resource.clone(),
            resource_metadata: h.prm.clone(),
            auth_server: h.meta.clone(),
            discovered_at: h.discovered_at,
            registrations: h.registrations.clone(),
            bound_issuer: h.bound_issuer.clone(),
            tokens: match (&h.tokens, &h.tokens_issuer) {
                (Some(t), Some(i)) => Some(StoredTokens {
                    issuer: i.clone(),
                    tokens: t.clone(),
                    dpop_key: if t.is_dpop() { dpop_key } else { None },
                }),
                _ => None,
            },
        }
    }

    /// Take the cross-process lock for this server's entry (off the async threads: it may
    /// wait, a bounded time, for another process's refresh). Held without a file lock when
    /// that cannot be had (said in the log).
    /// A store the engine cannot do without (Redis) fails instead: refreshing without the
    /// lock there could use a refresh token another host is using.
    pub(crate) async fn cross_process_lock(&self) -> Result<CrossProcessLock<'_>, OAuthError> {
        let store = self.opened()?.store.clone();
        let required = store.required();
        let key = self.key.clone();
        let file = match tokio::task::spawn_blocking(move || store.lock(&key)).await {
            Ok(Ok(l)) => Some(l),
            Ok(Err(e)) if required => return Err(unavailable(e)),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot take the credential lock; going on without it");
                None
            }
            Err(_) if required => {
                return Err(OAuthError::StoreUnavailable {
                    store: self.store_name(),
                    reason: "taking the refresh lock failed".into(),
                })
            }
            Err(_) => None,
        };
        self.xlocks.fetch_add(1, Ordering::AcqRel);
        Ok(CrossProcessLock {
            _lock: file,
            creds: self,
        })
    }

    /// The lock for a save: none when this engine already holds it, else taken here (a
    /// bounded wait; a save goes on without it when it cannot be had).
    fn lock_for_save(&self) -> Option<StoreLock> {
        if self.xlocks.load(Ordering::Acquire) > 0 {
            return None;
        }
        let store = &self.opened().ok()?.store;
        match crate::runtime::blocking(|| store.lock(&self.key)) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the credential lock to save; saving without it");
                None
            }
        }
    }

    /// Delete the stored entry (failures logged).
    pub(crate) fn delete_stored(&self) {
        let deleted = self.opened().map_err(|e| e.to_string()).and_then(|o| {
            crate::runtime::blocking(|| o.store.delete(&self.key)).map_err(|e| e.to_string())
        });
        if let Err(e) = deleted {
            tracing::warn!(error = %e, "cannot delete the stored credential");
        }
    }
}
