//! TLS for the device-management protocol: server and client configurations with mandatory,
//! CA-verified client certificates, the peer id (client certificate CN), and client connections.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use zeroize::Zeroizing;

pub use rustls::ClientConfig;

use crate::{Error, Result};

fn bad(detail: impl Into<String>) -> Error {
    Error::Tls(detail.into())
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A certificate chain (leaf first) and its private key.
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").field("certificates", &self.chain.len()).finish_non_exhaustive()
    }
}

/// Every `CERTIFICATE` block of `pem` as DER.
pub fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let blocks = keyline_certs::pem_blocks("certificate", pem).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    for block in blocks.iter().filter(|b| b.label == "CERTIFICATE") {
        let info = keyline_certs::CertInfo::from_der(&block.der).map_err(|e| bad(e.to_string()))?;
        out.push(CertificateDer::from(info.der));
    }
    if out.is_empty() {
        return Err(bad("no CERTIFICATE block found"));
    }
    Ok(out)
}

impl TlsIdentity {
    /// A chain in PEM (leaf first) and the PKCS#8 DER of the leaf's key.
    pub fn new(chain_pem: &str, key_pkcs8_der: Zeroizing<Vec<u8>>) -> Result<TlsIdentity> {
        Ok(TlsIdentity { chain: certificates_from_pem(chain_pem)?, key: key_pkcs8_der })
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.to_vec()))
    }
}

/// Trust anchors from PEM certificates (the project root and signer CAs).
pub fn roots_from_pem(pem: &str) -> Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(pem)? {
        roots.add(cert).map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
    }
    Ok(Arc::new(roots))
}

/// Server side: present `identity`, require a client certificate chaining to `client_roots`.
pub fn server_config(identity: &TlsIdentity, client_roots: Arc<RootCertStore>) -> Result<Arc<rustls::ServerConfig>> {
    let verifier = WebPkiClientVerifier::builder_with_provider(client_roots, provider())
        .build()
        .map_err(|e| bad(format!("cannot build the client-certificate verifier: {e}")))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key())
        .map_err(|e| bad(format!("the server certificate and key do not fit together: {e}")))?;
    Ok(Arc::new(config))
}

/// Client side: trust `server_roots`, present `identity` when asked.
pub fn client_config(identity: &TlsIdentity, server_roots: Arc<RootCertStore>) -> Result<Arc<rustls::ClientConfig>> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(server_roots)
        .with_client_auth_cert(identity.chain.clone(), identity.key())
        .map_err(|e| bad(format!("the client certificate and key do not fit together: {e}")))?;
    Ok(Arc::new(config))
}

/// The peer id: subject CN of the first (leaf) client certificate.
pub fn peer_common_name(certs: &[CertificateDer<'_>]) -> Result<String> {
    let leaf = certs.first().ok_or_else(|| bad("the peer sent no certificate"))?;
    let info = keyline_certs::CertInfo::from_der(leaf).map_err(|e| bad(e.to_string()))?;
    info.common_name().ok_or_else(|| bad("the peer certificate has no CN"))
}

/// `host:port` of an `https://` or `wss://` URL (path ignored).
pub fn host_port(url: &str) -> Result<(String, u16)> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("wss://"))
        .ok_or_else(|| Error::Connection { peer: url.into(), detail: "the server URL must start with https:// or wss://".into() })?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
            (host, port.parse::<u16>().map_err(|_| Error::Connection { peer: url.into(), detail: "bad port".into() })?)
        }
        _ => (authority, 443),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(Error::Connection { peer: url.into(), detail: "no host in the URL".into() });
    }
    Ok((host.to_owned(), port))
}

/// Open a mutually authenticated TLS connection to the server of `url`.
pub async fn connect(url: &str, config: Arc<rustls::ClientConfig>) -> Result<TlsStream<TcpStream>> {
    let (host, port) = host_port(url)?;
    let failed = |detail: String| Error::Connection { peer: format!("{host}:{port}"), detail };
    let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|e| failed(e.to_string()))?;
    let name = ServerName::try_from(host.clone()).map_err(|e| failed(format!("bad server name: {e}")))?;
    tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| failed(format!("TLS handshake: {e}")))
}
