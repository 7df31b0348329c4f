//! Host hooks: what the host registers to receive server notifications and to answer server
//! requests (elicitation, sampling, roots).
//!
//! Hooks are trait objects over JSON values, so the C, Go and Python bindings can implement
//! them with a callback each. Plain closures implement them too.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use serde_json::Value;

use crate::error::RpcError;
use crate::jsonrpc::Notification;

/// Receives every notification the server sends (logging, progress, list changes, resource
/// updates), in the order they arrive.
///
/// It runs on a runtime worker thread and must not block for long; hand heavy work to a
/// thread of your own.
pub trait NotificationHandler: Send + Sync + 'static {
    /// One notification.
    fn on_notification(&self, notification: &Notification);
}

impl<F> NotificationHandler for F
where
    F: Fn(&Notification) + Send + Sync + 'static,
{
    fn on_notification(&self, notification: &Notification) {
        self(notification)
    }
}

/// Answers one kind of server request (`elicitation/create`, `sampling/createMessage`,
/// `roots/list`, or any other method). `params` is the request's `params` (`null` when
/// absent); the value returned is the JSON-RPC `result`, an error becomes a JSON-RPC error.
pub trait RequestHandler: Send + Sync + 'static {
    /// Answer one request.
    fn handle(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, RpcError>>;
}

/// A [`RequestHandler`] from a synchronous closure (run on a blocking-capable thread, so it may
/// wait for a user).
pub struct SyncHandler<F>(pub F);

impl<F> RequestHandler for SyncHandler<F>
where
    F: Fn(&str, Value) -> Result<Value, RpcError> + Send + Sync + 'static,
{
    fn handle(&self, method: &str, params: Value) -> BoxFuture<'static, Result<Value, RpcError>> {
        let out = (self.0)(method, params);
        Box::pin(async move { out })
    }
}

/// The set of hooks a client holds.
#[derive(Clone, Default)]
pub struct Handlers {
    /// Server notifications.
    pub notification: Option<Arc<dyn NotificationHandler>>,
    /// `elicitation/create`.
    pub elicitation: Option<Arc<dyn RequestHandler>>,
    /// `sampling/createMessage`.
    pub sampling: Option<Arc<dyn RequestHandler>>,
    /// `roots/list`.
    pub roots: Option<Arc<dyn RequestHandler>>,
    /// Any other server request.
    pub fallback: Option<Arc<dyn RequestHandler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("notification", &self.notification.is_some())
            .field("elicitation", &self.elicitation.is_some())
            .field("sampling", &self.sampling.is_some())
            .field("roots", &self.roots.is_some())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Handlers {
    /// The handler for `method`, if one is set.
    pub fn for_method(&self, method: &str) -> Option<&Arc<dyn RequestHandler>> {
        match method {
            "elicitation/create" => self.elicitation.as_ref().or(self.fallback.as_ref()),
            "sampling/createMessage" => self.sampling.as_ref().or(self.fallback.as_ref()),
            "roots/list" => self.roots.as_ref().or(self.fallback.as_ref()),
            _ => self.fallback.as_ref(),
        }
    }
}

/// Fill in, for an accepted form elicitation, every field the user left out that has a
/// `default` in the requested schema (MCP 2025-11-25, SEP-1034: the client declared
/// `elicitation.form.applyDefaults`).
pub fn apply_elicitation_defaults(params: &Value, result: &mut Value) {
    if result.get("action").and_then(Value::as_str) != Some("accept") {
        return;
    }
    let Some(props) = params
        .get("requestedSchema")
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return;
    };
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    let content = obj
        .entry("content")
        .or_insert_with(|| Value::Object(Default::default()));
    if content.is_null() {
        *content = Value::Object(Default::default());
    }
    let Some(content) = content.as_object_mut() else {
        return;
    };
    for (name, schema) in props {
        if let Some(default) = schema.get("default") {
            content
                .entry(name.clone())
                .or_insert_with(|| default.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_only_missing_fields_of_accepted_forms() {
        let params = json!({"requestedSchema": {"type": "object", "properties": {
            "name": {"type": "string", "default": "Ada"},
            "age": {"type": "integer", "default": 36},
            "note": {"type": "string"}
        }}});
        let mut r = json!({"action": "accept", "content": {"name": "Grace"}});
        apply_elicitation_defaults(&params, &mut r);
        assert_eq!(
            r,
            json!({"action": "accept", "content": {"name": "Grace", "age": 36}})
        );

        let mut r = json!({"action": "accept"});
        apply_elicitation_defaults(&params, &mut r);
        assert_eq!(r["content"], json!({"name": "Ada", "age": 36}));

        let mut r = json!({"action": "decline"});
        apply_elicitation_defaults(&params, &mut r);
        assert_eq!(r, json!({"action": "decline"}));
    }
}
