//! The engine's decisions, free of I/O: what a refusal calls for, how many step-ups an
//! operation gets, and which scopes a new authorization asks for.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::HeaderValue;

use crate::error::OAuthError;
use crate::oauth::challenge::ChallengeInfo;
use crate::oauth::discovery::{AuthServerMetadata, ResourceMetadata};
use crate::oauth::Grant;

/// What a 401 or 403 calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Another request already got a new token while this one waited: retry with it.
    Retry,
    /// A 403 that more authorization will not fix: give up.
    GiveUp,
    /// 403 `insufficient_scope`: authorize again for more scopes.
    StepUp,
    /// 401: the token was refused or there is none: refresh if possible, else authorize.
    Reauthorize,
}

/// Whether the challenge only demands a DPoP nonce (RFC 9449 §9): retry with it.
pub(crate) fn is_nonce_demand(info: &ChallengeInfo) -> bool {
    info.error.as_deref() == Some("use_dpop_nonce")
}

/// Decide on a refusal, given the `Authorization` the refused request sent and the one held
/// now (after waiting for any authorization in flight).
pub(crate) fn decide(
    status: u16,
    info: &ChallengeInfo,
    sent: Option<&HeaderValue>,
    current: Option<&HeaderValue>,
) -> Verdict {
    if current.is_some() && current != sent {
        return Verdict::Retry;
    }
    match status {
        403 if info.error.as_deref() == Some("insufficient_scope") => Verdict::StepUp,
        403 => Verdict::GiveUp,
        _ => Verdict::Reauthorize,
    }
}

/// The outcome of the last authorization attempt (a refresh, a sign-in, a step-up), shared
/// with the requests that waited for it: when it failed, they fail with its error instead of
/// each trying again in turn (N sign-ins, N browser windows, N timeouts).
#[derive(Default)]
pub(crate) struct Attempts {
    /// Attempts made so far.
    made: std::sync::atomic::AtomicU64,
    /// The last attempt's number and error, when it failed.
    failed: Mutex<Option<(u64, OAuthError)>>,
}

impl Attempts {
    /// How many attempts were made (read before waiting for the single flight).
    pub(crate) fn seen(&self) -> u64 {
        self.made.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The error of an attempt made since `seen`, when the last one failed.
    pub(crate) fn failed_since(&self, seen: u64) -> Option<OAuthError> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        match &*failed {
            Some((n, e)) if *n > seen && *n == self.seen() => Some(e.clone()),
            _ => None,
        }
    }

    /// Record an attempt's outcome.
    pub(crate) fn record<T>(&self, outcome: &Result<T, OAuthError>) {
        let n = self.made.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        *failed = outcome.as_ref().err().map(|e| (n, e.clone()));
    }
}

/// Step-up attempts, counted per required scope set (one operation's needs), so a long-lived
/// client can step up for different operations over time.
#[derive(Default)]
pub(crate) struct StepUps {
    attempts: Mutex<HashMap<String, u32>>,
}

impl StepUps {
    /// Count one step-up for `required`; an error when the limit is reached, or when the token
    /// already holds every required scope and asking again will not help.
    pub(crate) fn count(
        &self,
        required: &[String],
        held: &[String],
        max: u32,
        last_requested: &[String],
    ) -> Result<(), OAuthError> {
        let mut key: Vec<&str> = required.iter().map(String::as_str).collect();
        key.sort_unstable();
        let n = {
            let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            let n = attempts.entry(key.join(" ")).or_insert(0);
            *n += 1;
            *n
        };
        let already_held = !required.is_empty() && required.iter().all(|r| held.contains(r));
        if n > max || (already_held && n > 1) {
            return Err(OAuthError::StepUpLimit {
                attempts: n - 1,
                scopes: last_requested.join(" "),
            });
        }
        Ok(())
    }

    /// Forget the counts (after a fresh authorization).
    pub(crate) fn reset(&self) {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// What the scope choice looks at.
pub(crate) struct ScopeInputs<'a> {
    /// Scopes the host configured, overriding the server's guidance.
    pub configured: Option<&'a [String]>,
    /// The grant that will run.
    pub grant: &'a Grant,
    /// The challenge.
    pub info: &'a ChallengeInfo,
    /// The protected resource metadata.
    pub prm: Option<&'a ResourceMetadata>,
    /// The authorization server metadata.
    pub meta: Option<&'a AuthServerMetadata>,
    /// Scopes of the last authorization request.
    pub last_requested: &'a [String],
    /// Scopes of the tokens held.
    pub granted: &'a [String],
}

/// Scopes for a new authorization: configured, else the challenge's, else the resource
/// metadata's. A step-up asks for the union of what was asked and granted before and what the
/// challenge requires. `offline_access` is added for the user grants when the authorization
/// server offers it.
pub(crate) fn choose_scopes(s: &ScopeInputs<'_>, step_up: bool) -> Vec<String> {
    let base: Vec<String> = match (s.configured, &s.info.scope) {
        (Some(c), _) => c.to_vec(),
        (None, Some(c)) => c.clone(),
        (None, None) => s
            .prm
            .and_then(|p| p.scopes_supported.clone())
            .unwrap_or_default(),
    };
    let mut scopes = if step_up {
        // The challenge's scopes are what this operation needs, whatever was configured.
        let challenge = s.info.scope.iter().flatten();
        union(
            s.last_requested
                .iter()
                .chain(s.granted)
                .chain(&base)
                .chain(challenge),
        )
    } else {
        base
    };
    let offers_offline = s
        .meta
        .and_then(|m| m.scopes_supported.as_ref())
        .is_some_and(|v| v.iter().any(|x| x == "offline_access"));
    if matches!(s.grant, Grant::AuthorizationCode | Grant::DeviceCode)
        && offers_offline
        && !scopes.iter().any(|x| x == "offline_access")
    {
        scopes.push("offline_access".into());
    }
    scopes
}

/// The scopes in order of first appearance, each once.
fn union<'a>(all: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in all {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_newer_token_means_retry_and_403_without_scope_means_give_up() {
        let info = ChallengeInfo::default();
        let a = HeaderValue::from_static("Bearer a");
        let b = HeaderValue::from_static("Bearer b");
        assert_eq!(decide(401, &info, Some(&a), Some(&b)), Verdict::Retry);
        assert_eq!(decide(401, &info, Some(&a), Some(&a)), Verdict::Reauthorize);
        assert_eq!(decide(403, &info, Some(&a), Some(&a)), Verdict::GiveUp);
        let scope = ChallengeInfo {
            error: Some("insufficient_scope".into()),
            ..Default::default()
        };
        assert_eq!(decide(403, &scope, Some(&a), Some(&a)), Verdict::StepUp);
    }

    #[test]
    fn step_ups_are_counted_per_scope_set() {
        let s = StepUps::default();
        assert!(s.count(&v(&["a"]), &[], 2, &[]).is_ok());
        assert!(s.count(&v(&["a"]), &[], 2, &[]).is_ok());
        assert!(s.count(&v(&["a"]), &[], 2, &[]).is_err());
        assert!(s.count(&v(&["b"]), &[], 2, &[]).is_ok());
        // Held already: a second ask will not help.
        assert!(s.count(&v(&["c"]), &v(&["c"]), 2, &[]).is_ok());
        assert!(s.count(&v(&["c"]), &v(&["c"]), 2, &[]).is_err());
        s.reset();
        assert!(s.count(&v(&["a"]), &[], 2, &[]).is_ok());
    }

    #[test]
    fn step_up_asks_for_the_union() {
        let info = ChallengeInfo {
            scope: Some(v(&["write"])),
            ..Default::default()
        };
        let (configured, last, granted) = (v(&["read"]), v(&["read"]), v(&["read", "extra"]));
        let inputs = ScopeInputs {
            configured: Some(&configured),
            grant: &Grant::ClientCredentials,
            info: &info,
            prm: None,
            meta: None,
            last_requested: &last,
            granted: &granted,
        };
        assert_eq!(choose_scopes(&inputs, false), v(&["read"]));
        assert_eq!(choose_scopes(&inputs, true), v(&["read", "extra", "write"]));
    }
}
