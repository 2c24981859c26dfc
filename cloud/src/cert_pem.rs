//! Strict parsing of certificate PEM handed to the cloud crate, and the AWS certificate id (SHA-256 of the DER).

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{CloudError, Result};

/// Largest PEM AWS accepts for a certificate (`caCertificate` ≤ 65536 characters).
pub const MAX_PEM_LEN: usize = 65_536;

/// A parsed certificate: its PEM, DER and the facts the cloud code needs.
#[derive(Debug, Clone)]
pub struct ParsedCert {
    /// Normalised PEM (one certificate).
    pub pem: String,
    /// DER bytes.
    pub der: Vec<u8>,
    /// The AWS certificate id: lowercase hex SHA-256 of the DER.
    pub id: String,
    /// The subject common name, if any.
    pub common_name: Option<String>,
    /// The subject as an RFC 4514 string.
    pub subject: String,
}

/// Parses exactly one certificate from PEM; `what` names it in errors ("CA certificate", …).
pub fn parse_cert_pem(pem_text: &str, what: &'static str) -> Result<ParsedCert> {
    if pem_text.len() > MAX_PEM_LEN {
        return Err(CloudError::InvalidCertificate { what, detail: format!("longer than {MAX_PEM_LEN} characters") });
    }
    let blocks = pem::parse_many(pem_text)
        .map_err(|e| CloudError::InvalidCertificate { what, detail: e.to_string() })?;
    let mut certs = blocks.into_iter().filter(|block| block.tag() == "CERTIFICATE");
    let block = certs
        .next()
        .ok_or_else(|| CloudError::InvalidCertificate { what, detail: "no CERTIFICATE block".into() })?;
    if certs.next().is_some() {
        return Err(CloudError::InvalidCertificate { what, detail: "more than one certificate; pass exactly one".into() });
    }
    let der = block.contents().to_vec();
    let (rest, cert) = X509Certificate::from_der(&der)
        .map_err(|e| CloudError::InvalidCertificate { what, detail: e.to_string() })?;
    if !rest.is_empty() {
        return Err(CloudError::InvalidCertificate { what, detail: "trailing bytes after the certificate".into() });
    }
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let subject = cert.subject().to_string();
    Ok(ParsedCert { pem: pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())), id: certificate_id(&der), der, common_name, subject })
}

/// The AWS IoT certificate id of a DER certificate (SHA-256 of the DER, lowercase hex).
pub use keyline_certs::certificate_id;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_text_without_a_certificate() {
        let err = parse_cert_pem("hello", "CA certificate").unwrap_err();
        assert!(matches!(err, CloudError::InvalidCertificate { what: "CA certificate", .. }));
    }

    #[test]
    fn parses_a_generated_certificate_and_hashes_its_der() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["device".into()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let parsed = parse_cert_pem(&cert.pem(), "device certificate").unwrap();
        assert_eq!(parsed.der, cert.der().to_vec());
        assert_eq!(parsed.id.len(), 64);
        assert_eq!(parsed.id, certificate_id(cert.der()));
    }
}
