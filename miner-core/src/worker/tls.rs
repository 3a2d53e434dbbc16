//! TLS for `stratum+ssl://` pools with rustls (ring provider): the system's trust roots, or
//! only the certificates of a `--cert FILE` (PEM) for a pool with a self-signed certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Why TLS could not be set up or established.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The `--cert` file could not be read.
    #[error("reading certificate file {path}: {source}")]
    CertFile {
        /// The file as given.
        path: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The `--cert` file (given) has no `BEGIN CERTIFICATE` block.
    #[error("certificate file {0} holds no PEM certificate")]
    NoCert(String),
    /// No `--cert` and the system store yielded no certificate rustls accepts.
    #[error("no usable trust roots on this system (use --cert FILE)")]
    NoRoots,
    /// rustls refused the client configuration.
    #[error("TLS setup: {0}")]
    Config(#[from] rustls::Error),
    /// The pool host (given) is neither a DNS name nor an IP address rustls accepts.
    #[error("{0:?} is not a valid TLS server name")]
    ServerName(String),
    /// The handshake with the pool failed (certificate, protocol or I/O).
    #[error("TLS handshake: {0}")]
    Handshake(std::io::Error),
}

/// A client configuration trusting `cert` (PEM file) if given, else the system roots.
pub fn client_config(cert: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    match cert {
        Some(path) => {
            for der in read_pem_certs(path)? {
                roots.add(der)?;
            }
        }
        None => {
            // Unreadable individual system certificates are skipped, as browsers do.
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(TlsError::NoRoots);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let file_err = |source| TlsError::CertFile {
        path: shown.clone(),
        source,
    };
    let data = std::fs::read(path).map_err(file_err)?;
    let certs = rustls_pemfile::certs(&mut data.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(file_err)?;
    if certs.is_empty() {
        return Err(TlsError::NoCert(shown));
    }
    Ok(certs)
}

/// Runs the TLS handshake on `tcp`, checking the certificate against `host`.
pub async fn connect(
    config: Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, TlsError> {
    let name =
        ServerName::try_from(host.to_owned()).map_err(|_| TlsError::ServerName(host.to_owned()))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(TlsError::Handshake)
}
