//! `mcp-client auth status|login|logout`: the stored OAuth credentials.

use mcp_client::oauth::stored::{decode, key_for, CredentialSummary};
use mcp_client::{Error, ErrorKind};

use crate::{builder, AuthAction, Failure, Global};

pub(crate) async fn run(g: &Global, action: AuthAction) -> Result<u8, Failure> {
    match action {
        AuthAction::Status { url } => status(g, url.as_deref()),
        AuthAction::Login { url } => login(g, &url).await,
        AuthAction::Logout { url } => logout(g, &url).await,
    }
}

fn store_failure(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: 8,
        message: format!("credential store: {e}"),
    }
}

fn status(g: &Global, url: Option<&str>) -> Result<u8, Failure> {
    let store = g.oauth.store_choice().open().map_err(store_failure)?;
    let keys = match url {
        Some(u) => {
            let parsed = url::Url::parse(u).map_err(|e| Failure {
                code: 2,
                message: format!("invalid URL `{u}`: {e}"),
            })?;
            vec![key_for(&parsed)]
        }
        None => store.keys().map_err(store_failure)?.unwrap_or_default(),
    };
    let mut found: Vec<CredentialSummary> = Vec::new();
    for k in &keys {
        if let Some(raw) = store.load(k).map_err(store_failure)? {
            match decode(k, &raw) {
                Some(c) => found.push(c.summary()),
                None => eprintln!("{k}: stored entry unreadable (a sign-in will replace it)"),
            }
        }
    }
    if g.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&found).unwrap_or_else(|_| "[]".into())
        );
        return Ok(0);
    }
    if found.is_empty() {
        println!("No stored credentials in {}.", store.name());
        return Ok(0);
    }
    println!("Store: {}", store.name());
    for s in found {
        println!("\n{}", s.server);
        println!(
            "  authorization server: {}",
            s.issuer.as_deref().unwrap_or("-")
        );
        println!(
            "  client: {} ({})",
            s.client_id.as_deref().unwrap_or("-"),
            s.registration.as_deref().unwrap_or("-")
        );
        match (&s.token_type, s.expires_at) {
            (Some(t), Some(exp)) => println!("  token: {t}, {}", describe_expiry(exp, s.expired)),
            (Some(t), None) => println!("  token: {t}, no expiry given"),
            _ => println!("  token: none"),
        }
        println!(
            "  refresh token: {}",
            if s.has_refresh_token { "yes" } else { "no" }
        );
        if !s.scopes.is_empty() {
            println!("  scopes: {}", s.scopes.join(" "));
        }
    }
    Ok(0)
}

fn describe_expiry(at: u64, expired: bool) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    if expired {
        format!("expired {} s ago", now.saturating_sub(at))
    } else {
        format!("expires in {} s", at.saturating_sub(now))
    }
}

async fn login(g: &Global, url: &str) -> Result<u8, Failure> {
    if g.oauth.no_oauth {
        return Err(Failure {
            code: 2,
            message: "`auth login` needs OAuth (drop --no-oauth)".into(),
        });
    }
    let client = builder(g, Some(url))?.connect().await?;
    let oauth = client.oauth().cloned();
    let outcome = async {
        let Some(p) = oauth else {
            return Err(Error::InvalidArgument("OAuth is not enabled".into()));
        };
        if !p.status().has_token {
            // The server did not ask during connect: sign in through the well-known URLs.
            p.authorize().await?;
        }
        let st = p.status();
        println!(
            "Signed in to {} (authorization server {}, scopes: {}).",
            url,
            st.issuer.as_deref().unwrap_or("-"),
            if st.scopes.is_empty() {
                "-".into()
            } else {
                st.scopes.join(" ")
            }
        );
        Ok(0)
    }
    .await;
    let _ = client.close().await;
    Ok(outcome?)
}

async fn logout(g: &Global, url: &str) -> Result<u8, Failure> {
    let parsed = url::Url::parse(url).map_err(|e| Failure {
        code: 2,
        message: format!("invalid URL `{url}`: {e}"),
    })?;
    let engine = mcp_client::oauth::OAuthEngine::for_server(
        g.oauth.config(g.verbose),
        &parsed,
        &builder(g, Some(url))?.build().http_settings(),
    )?;
    match engine.logout().await {
        Ok(()) => {
            println!("Signed out of {url}: tokens revoked where supported, and deleted.");
            Ok(0)
        }
        Err(e) => {
            let e = Error::from(e);
            if e.kind() == ErrorKind::Auth {
                eprintln!("warning: {e}");
            }
            Err(e.into())
        }
    }
}
