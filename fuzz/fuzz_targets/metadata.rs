//! Protected resource metadata (RFC 9728) and authorization server metadata (RFC 8414 /
//! OIDC) as discovery reads them (src/oauth/discovery.rs): the body as JSON, the fields, the
//! resource or issuer check, the endpoints' security.
//!
//! Structure: byte 0 picks the document kind and the server or issuer it was fetched for; the
//! rest is
//! the body. A document that is accepted must satisfy the checks and survive being stored
//! (serialised and read back, as src/oauth/stored.rs keeps it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_client::fuzzing::{auth_server_metadata, resource_metadata};
use mcp_client::oauth::discovery::{resource_matches, AuthServerMetadata, ResourceMetadata};
use mcp_client::oauth::http::is_secure_or_loopback;
use url::Url;

const SERVERS: [&str; 4] = [
    "http://127.0.0.1:8080/mcp",
    "https://mcp.example.com/mcp",
    "https://mcp.example.com",
    "https://mcp.example.com:8443/tenant/mcp/",
];

const ISSUERS: [&str; 4] = [
    "http://127.0.0.1:8080",
    "https://as.example.com",
    "https://as.example.com/tenant1",
    "https://as.example.com/",
];

fn url(s: &str) -> Url {
    Url::parse(s).expect("a URL")
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let pick = usize::from(sel >> 1);
    if sel & 1 == 0 {
        let server = url(SERVERS[pick % SERVERS.len()]);
        let at = url("http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp");
        if let Ok(m) = resource_metadata(body, &server, &at) {
            assert!(resource_matches(&server, &m.resource));
            let v = serde_json::to_value(&m).expect("serialises");
            let back: ResourceMetadata = serde_json::from_value(v).expect("reads back");
            assert_eq!(back, m);
        }
    } else {
        let issuer = ISSUERS[pick % ISSUERS.len()];
        let at = url("http://127.0.0.1:8080/.well-known/oauth-authorization-server");
        if let Ok(m) = auth_server_metadata(body, issuer, &at) {
            assert_eq!(m.issuer, issuer);
            for e in [
                &m.authorization_endpoint,
                &m.token_endpoint,
                &m.registration_endpoint,
                &m.device_authorization_endpoint,
                &m.revocation_endpoint,
            ]
            .into_iter()
            .flatten()
            {
                assert!(
                    is_secure_or_loopback(&url(e)),
                    "accepted an insecure endpoint {e}"
                );
            }
            let _ = (m.supports_s256(), m.supports_grant("authorization_code"));
            let v = serde_json::to_value(&m).expect("serialises");
            let back: AuthServerMetadata = serde_json::from_value(v).expect("reads back");
            assert_eq!(back, m);
        }
    }
});
