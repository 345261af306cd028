//! The one HTTP/TLS client of a process: rustls with ring as its one crypto provider and
//! Mozilla's roots compiled in (webpki-roots), so nothing is read from disk at cold start.

use std::sync::Arc;
use std::time::Duration;

/// The one HTTP client of a process, for Twilio, X, Discord and the AWS SDK. Its timeout stays
/// well under the functions' Lambda timeout, so a hung remote becomes a retry, not a killed
/// invocation.
pub fn http_client() -> reqwest::Client {
    http_client_builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(3))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .expect("TLS backend available")
}

/// A reqwest client builder on the bridge's TLS configuration, for clients with other timeouts
/// (the CLI, the emulators). `reqwest::Client::new()` would panic: ring is installed per client,
/// not as a process-wide default.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(tls_config())
}

/// TLS 1.2 and 1.3 with ring, trusting Mozilla's root program as compiled into `webpki-roots`:
/// building it reads no file, so a cold start pays nothing for certificates.
fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}
