//! The TLS configuration of the library's HTTP clients: the platform's verifier (the system's
//! roots, `SSL_CERT_FILE`, `SSL_CERT_DIR`) with the host's extra roots, HTTP/2 or HTTP/1.1 by
//! ALPN.
//!
//! Loading the system's roots reads and parses every file of the CA store (about 150 on
//! Debian: a few milliseconds and a few hundred KiB per copy). So the roots are loaded at the
//! first handshake that needs them (a client of an `http://` server on loopback never loads
//! them), and one configuration serves every client built within [`REUSE`] from the same
//! environment and extra roots (each MCP client makes two HTTP clients, MCP and OAuth; a host
//! may make hundreds). After that a new one is made, so a long-running host still sees a
//! changed CA store.

use std::ffi::OsString;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// How long one configuration serves the clients built after it.
const REUSE: Duration = Duration::from_secs(600);

/// What a configuration is made from: the environment the platform verifier reads, and the
/// extra roots.
#[derive(PartialEq)]
struct Key {
    ssl_cert_file: Option<OsString>,
    ssl_cert_dir: Option<OsString>,
    extra: Vec<CertificateDer<'static>>,
}

impl Key {
    fn now(extra: Vec<CertificateDer<'static>>) -> Self {
        Self {
            ssl_cert_file: std::env::var_os("SSL_CERT_FILE"),
            ssl_cert_dir: std::env::var_os("SSL_CERT_DIR"),
            extra,
        }
    }
}

/// The configurations made within [`REUSE`], by what they were made from.
static MADE: Mutex<Vec<(Key, Instant, rustls::ClientConfig)>> = Mutex::new(Vec::new());

/// The TLS configuration for a client trusting the platform's roots and `extra`: a recent one
/// made from the same environment and roots, or a new one. An extra root that is not a valid
/// CA certificate is refused here; the platform's roots are loaded at the first handshake.
pub(crate) fn client_config(
    extra: Vec<CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, String> {
    let key = Key::now(extra);
    let mut made = MADE.lock().unwrap_or_else(|p| p.into_inner());
    made.retain(|(_, at, _)| at.elapsed() < REUSE);
    if let Some((_, _, cfg)) = made.iter().find(|(k, _, _)| *k == key) {
        return Ok(cfg.clone());
    }
    let cfg = new_config(key.extra.clone())?;
    made.push((key, Instant::now(), cfg.clone()));
    Ok(cfg)
}

fn new_config(extra: Vec<CertificateDer<'static>>) -> Result<rustls::ClientConfig, String> {
    crate::runtime::install_crypto_provider();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut check = rustls::RootCertStore::empty();
    for cert in &extra {
        check
            .add(cert.clone())
            .map_err(|e| format!("cannot set up TLS verification: an extra root: {e}"))?;
    }
    let verifier = LazyVerifier {
        provider: provider.clone(),
        extra,
        loaded: OnceLock::new(),
    };
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The platform verifier, made (the roots loaded) when a certificate is first verified. The
/// handshake signatures need only the crypto provider's algorithms, as the platform verifier
/// itself checks them.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    extra: Vec<CertificateDer<'static>>,
    loaded: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn platform(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.loaded
            .get_or_init(|| {
                if self.extra.is_empty() {
                    rustls_platform_verifier::Verifier::new(self.provider.clone())
                } else {
                    rustls_platform_verifier::Verifier::new_with_extra_roots(
                        self.extra.clone(),
                        self.provider.clone(),
                    )
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.platform()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configurations made from this process's environment and no extra roots.
    fn made_for_no_extra_roots() -> usize {
        let key = Key::now(Vec::new());
        let made = MADE.lock().unwrap_or_else(|p| p.into_inner());
        made.iter().filter(|(k, _, _)| *k == key).count()
    }

    #[test]
    fn clients_built_one_after_another_share_one_configuration() {
        let settings = crate::http_client::HttpSettings {
            connect_timeout: Duration::from_secs(5),
            extra_ca_files: Vec::new(),
        };
        for _ in 0..3 {
            settings.mcp_client().expect("an MCP client");
            settings
                .oauth_client(Duration::from_secs(5))
                .expect("an OAuth client");
        }
        assert_eq!(made_for_no_extra_roots(), 1, "one configuration, shared");
    }

    #[test]
    fn the_platform_roots_are_loaded_at_the_first_verification_not_before() {
        let cfg = client_config(Vec::new()).expect("a configuration");
        let v = LazyVerifier {
            provider: cfg.crypto_provider().clone(),
            extra: Vec::new(),
            loaded: OnceLock::new(),
        };
        assert!(v.loaded.get().is_none());
        assert!(!v.supported_verify_schemes().is_empty());
        assert!(
            v.loaded.get().is_none(),
            "listing the schemes loads no roots"
        );
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let name = ServerName::try_from("example.com").expect("a name");
        let refused = v.verify_server_cert(&junk, &[], &name, &[], UnixTime::now());
        assert!(refused.is_err(), "a junk certificate is refused");
        assert!(v.loaded.get().is_some(), "verifying loaded the roots");
    }

    #[test]
    fn an_extra_root_that_is_no_certificate_is_refused_when_the_client_is_built() {
        let junk = CertificateDer::from(b"not a certificate".to_vec());
        let err = client_config(vec![junk]).expect_err("junk refused");
        assert!(err.contains("extra root"), "{err}");
    }
}
