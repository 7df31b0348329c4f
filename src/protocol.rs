//! MCP protocol versions and the rules that differ between them.

/// The HTTP+SSE era (deprecated transport; reached only through the legacy fallback).
pub const V2024_11_05: &str = "2024-11-05";
/// The first Streamable HTTP revision.
pub const V2025_03_26: &str = "2025-03-26";
/// Adds the `MCP-Protocol-Version` header and elicitation.
pub const V2025_06_18: &str = "2025-06-18";
/// Adds SSE polling (`retry`), form defaults, and URL elicitation.
pub const V2025_11_25: &str = "2025-11-25";
/// The stateless revision: no `initialize`, no sessions, per-request `_meta` and headers.
pub const V2026_07_28: &str = "2026-07-28";

/// Every version this client speaks, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &[
    V2026_07_28,
    V2025_11_25,
    V2025_06_18,
    V2025_03_26,
    V2024_11_05,
];

/// The newest version that uses the `initialize` handshake.
pub const LATEST_STATEFUL: &str = V2025_11_25;

/// Whether `version` is one this client speaks.
pub fn is_supported(version: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// Whether `version` belongs to the stateless era (2026-07-28 and later): no `initialize`, no
/// sessions, protocol version and client identity carried in each request's `_meta`.
pub fn is_stateless(version: &str) -> bool {
    // Versions are ISO dates, so string order is time order.
    version >= V2026_07_28
}

/// Whether the `MCP-Protocol-Version` header goes on HTTP requests after the handshake.
/// Required from 2025-06-18; sent for 2025-03-26 too (servers of that revision ignore it and
/// later ones use it to pick the revision), never on the HTTP+SSE transport.
pub fn sends_version_header(version: &str) -> bool {
    version >= V2025_03_26
}

/// The `_meta` key carrying the protocol version in stateless requests.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key carrying the client's name and version in stateless requests.
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// The `_meta` key carrying the client's capabilities in stateless requests.
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eras() {
        assert!(is_stateless(V2026_07_28));
        assert!(!is_stateless(V2025_11_25));
        assert!(sends_version_header(V2025_06_18));
        assert!(!sends_version_header(V2024_11_05));
        assert!(is_supported("2025-03-26"));
        assert!(!is_supported("2099-01-01"));
    }
}
