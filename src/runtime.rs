//! Process-wide pieces: the TLS crypto provider and, for the blocking bindings, one shared
//! multi-threaded tokio runtime created on first use.

use std::sync::OnceLock;

/// Install rustls' ring provider once per process (reqwest needs one before its first client;
/// a provider the host installed first is kept).
pub(crate) fn install_crypto_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The shared runtime of the blocking bindings (C, Go, Python's sync client).
pub fn shared() -> std::io::Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(rt) = RT.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("mcp-client")
        .build()?;
    Ok(RT.get_or_init(|| rt))
}
