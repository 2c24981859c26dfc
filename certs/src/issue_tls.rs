//! TLS end-entity certificates from a project CA: the device-management server's certificate
//! (the rainbowtype "rt server cert") and operator-client certificates ("rt client cert").

use std::net::IpAddr;

use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, SanType};

use crate::issue::{end_entity_params, issue_error, issuer_from, parse_issued};
use crate::{CaSigner, CertInfo, EcKey, Error, Result, Validity};

fn end_entity(cn: &str, validity: Validity, key: &EcKey, issuer: &CertInfo, eku: ExtendedKeyUsagePurpose) -> Result<CertificateParams> {
    let mut params = end_entity_params(cn, validity, key, issuer)?;
    params.extended_key_usages = vec![eku];
    Ok(params)
}

/// A TLS server certificate for `hosts` (names or IP addresses; CN = the first). Every host is a
/// dNSName SAN (what the device's mbedTLS 2.16 matches, even for an IP) and IP addresses are
/// also iPAddress SANs (what browsers, Node and rustls match).
pub fn issue_tls_server_cert(hosts: &[String], validity: Validity, key: &EcKey, issuer: &CertInfo, issuer_key: &impl CaSigner) -> Result<CertInfo> {
    let first = hosts.first().ok_or_else(|| Error::Issue("a server certificate needs at least one host name or IP".into()))?;
    let mut params = end_entity(first, validity, key, issuer, ExtendedKeyUsagePurpose::ServerAuth)?;
    for host in hosts {
        let name = host.as_str().try_into().map_err(|e| Error::Issue(format!("host {host:?} is not a valid name: {e}")))?;
        params.subject_alt_names.push(SanType::DnsName(name));
        if let Ok(ip) = host.parse::<IpAddr>() {
            params.subject_alt_names.push(SanType::IpAddress(ip));
        }
    }
    let cert = params.signed_by(key, &issuer_from(issuer, issuer_key)?).map_err(issue_error)?;
    parse_issued(cert)
}

/// A TLS client certificate with subject CN `name` (the peer id on a rainbowtype server).
pub fn issue_tls_client_cert(name: &str, validity: Validity, key: &EcKey, issuer: &CertInfo, issuer_key: &impl CaSigner) -> Result<CertInfo> {
    let params = end_entity(name, validity, key, issuer, ExtendedKeyUsagePurpose::ClientAuth)?;
    let cert = params.signed_by(key, &issuer_from(issuer, issuer_key)?).map_err(issue_error)?;
    parse_issued(cert)
}
