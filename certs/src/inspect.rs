//! [`CertInfo`]: an X.509 certificate parsed strictly into owned fields for display and checks.

use p256::ecdsa::signature::Verifier;
use p256::pkcs8::DecodePublicKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{self, Oid};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::pem_blocks::{corrupt, pem_blocks, to_pem};
use crate::{Error, Result};

const WHAT: &str = "certificate";

/// The certificate id AWS IoT (and the device ledger) gives a certificate: SHA-256 of the DER, lowercase hex.
/// The one definition in the workspace.
pub fn certificate_id(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// One extension, summarised for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// Short name ("basicConstraints") or the dotted OID.
    pub name: String,
    /// Critical flag.
    pub critical: bool,
    /// Readable value.
    pub value: String,
}

/// Facts about one certificate, copied out of the parser.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// DER encoding.
    pub der: Vec<u8>,
    /// Subject DN ("CN=root, O=Acme").
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Serial number as encoded (big-endian, may start with 0x00 to stay positive).
    pub serial: Vec<u8>,
    /// Signature algorithm name ("ecdsa-with-SHA256") or OID.
    pub signature_algorithm: String,
    /// Public key description ("EC prime256v1").
    pub public_key_description: String,
    /// The public key when it is P-256 (the only kind Keyline can use).
    pub p256_public_key: Option<p256::PublicKey>,
    /// BasicConstraints: (cA, pathLenConstraint), if present.
    pub basic_constraints: Option<(bool, Option<u32>)>,
    /// KeyUsage keyCertSign bit, or `None` when there is no KeyUsage extension.
    pub key_cert_sign: Option<bool>,
    /// SubjectKeyIdentifier.
    pub subject_key_id: Option<Vec<u8>>,
    /// AuthorityKeyIdentifier keyIdentifier.
    pub authority_key_id: Option<Vec<u8>>,
    /// All extensions, in order.
    pub extensions: Vec<ExtensionInfo>,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    tbs_der: Vec<u8>,
    signature_oid: String,
    signature: Vec<u8>,
}

impl CertInfo {
    /// Parse the first `CERTIFICATE` block of `text`.
    pub fn from_pem(text: &str) -> Result<CertInfo> {
        Ok(Self::chain_from_pem(text)?.remove(0))
    }

    /// Parse every `CERTIFICATE` block of `text` (at least one).
    pub fn chain_from_pem(text: &str) -> Result<Vec<CertInfo>> {
        let blocks = pem_blocks(WHAT, text)?;
        let mut certs = Vec::new();
        for block in blocks.iter().filter(|block| block.label == "CERTIFICATE") {
            certs.push(Self::from_der(&block.der)?);
        }
        if certs.is_empty() {
            let labels: Vec<&str> = blocks.iter().map(|block| block.label.as_str()).collect();
            return Err(corrupt(WHAT, &format!("no CERTIFICATE block (found {})", labels.join(", "))));
        }
        Ok(certs)
    }

    /// Parse DER; trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<CertInfo> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(|e| corrupt(WHAT, &format!("bad X.509: {e}")))?;
        if !rest.is_empty() {
            return Err(corrupt(WHAT, "trailing bytes after the certificate"));
        }
        let validity = cert.validity();
        let mut info = CertInfo {
            der: der.to_vec(),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
            serial: cert.raw_serial().to_vec(),
            signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
            public_key_description: describe_public_key(&cert),
            p256_public_key: p256::PublicKey::from_public_key_der(cert.public_key().raw).ok(),
            basic_constraints: None,
            key_cert_sign: None,
            subject_key_id: None,
            authority_key_id: None,
            extensions: Vec::new(),
            subject_der: cert.subject().as_raw().to_vec(),
            issuer_der: cert.issuer().as_raw().to_vec(),
            tbs_der: cert.tbs_certificate.as_ref().to_vec(),
            signature_oid: cert.signature_algorithm.algorithm.to_id_string(),
            signature: cert.signature_value.data.to_vec(),
        };
        for ext in cert.extensions() {
            let value = match ext.parsed_extension() {
                ParsedExtension::BasicConstraints(bc) => {
                    info.basic_constraints = Some((bc.ca, bc.path_len_constraint));
                    let mut value = format!("CA:{}", if bc.ca { "TRUE" } else { "FALSE" });
                    if let Some(len) = bc.path_len_constraint {
                        value.push_str(&format!(", pathlen:{len}"));
                    }
                    value
                }
                ParsedExtension::KeyUsage(usage) => {
                    info.key_cert_sign = Some(usage.key_cert_sign());
                    usage.to_string()
                }
                ParsedExtension::SubjectKeyIdentifier(id) => {
                    info.subject_key_id = Some(id.0.to_vec());
                    colon_hex(id.0)
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => match &aki.key_identifier {
                    Some(id) => {
                        info.authority_key_id = Some(id.0.to_vec());
                        colon_hex(id.0)
                    }
                    None => "(no key identifier)".into(),
                },
                ParsedExtension::ExtendedKeyUsage(eku) => {
                    let mut names = Vec::new();
                    for (set, name) in [(eku.server_auth, "serverAuth"), (eku.client_auth, "clientAuth"), (eku.code_signing, "codeSigning")] {
                        if set {
                            names.push(name.to_owned());
                        }
                    }
                    names.extend(eku.other.iter().map(|oid| oid.to_id_string()));
                    names.join(", ")
                }
                ParsedExtension::SubjectAlternativeName(san) => {
                    san.general_names.iter().map(describe_general_name).collect::<Vec<_>>().join(", ")
                }
                _ => format!("{} bytes", ext.value.len()),
            };
            info.extensions.push(ExtensionInfo { name: oid_name(&ext.oid), critical: ext.critical, value });
        }
        Ok(info)
    }

    /// A CA: BasicConstraints cA=TRUE, and keyCertSign when KeyUsage is present.
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints, Some((true, _))) && self.key_cert_sign != Some(false)
    }

    /// Subject and issuer are the same name and the certificate verifies with its own key.
    pub fn is_self_signed(&self) -> bool {
        self.is_signed_by(self)
    }

    /// `issuer`'s subject is this certificate's issuer and its P-256 key verifies the
    /// signature (ecdsa-with-SHA256 only).
    pub fn is_signed_by(&self, issuer: &CertInfo) -> bool {
        if self.issuer_der != issuer.subject_der || self.signature_oid != oid_registry::OID_SIG_ECDSA_WITH_SHA256.to_id_string() {
            return false;
        }
        let Some(public_key) = &issuer.p256_public_key else { return false };
        let Ok(signature) = p256::ecdsa::Signature::from_der(&self.signature) else { return false };
        p256::ecdsa::VerifyingKey::from(public_key).verify(&self.tbs_der, &signature).is_ok()
    }

    /// SHA-256 fingerprint, `AB:CD:...` like `openssl x509 -fingerprint -sha256`.
    pub fn sha256_fingerprint(&self) -> String {
        colon_hex(&Sha256::digest(&self.der))
    }

    /// SHA-1 fingerprint, `AB:CD:...`.
    pub fn sha1_fingerprint(&self) -> String {
        colon_hex(&Sha1::digest(&self.der))
    }

    /// Serial number, `01:AB:...`.
    pub fn serial_hex(&self) -> String {
        colon_hex(&self.serial)
    }

    /// The certificate as PEM.
    pub fn pem(&self) -> String {
        to_pem("CERTIFICATE", &self.der)
    }

    /// The subject's Common Name, if any.
    pub fn common_name(&self) -> Option<String> {
        let (_, cert) = X509Certificate::from_der(&self.der).ok()?;
        let cn = cert.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
        Some(cn)
    }

    /// The subject's Organization, if any.
    pub fn organization(&self) -> Option<String> {
        let (_, cert) = X509Certificate::from_der(&self.der).ok()?;
        let org = cert.subject().iter_organization().next()?.as_str().ok()?.to_owned();
        Some(org)
    }

    /// Reject certificates Keyline cannot use as a CA, with the reason.
    pub fn check_usable_ca(&self) -> Result<()> {
        if self.p256_public_key.is_none() {
            return Err(Error::Unsupported {
                what: "certificate",
                detail: format!("{} has a {} key; Keyline CAs use EC P-256", self.subject, self.public_key_description),
            });
        }
        Ok(())
    }
}

/// Uppercase hex bytes separated by colons.
pub fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn oid_name(oid: &Oid<'_>) -> String {
    oid_registry::OidRegistry::default()
        .with_all_crypto()
        .with_x509()
        .get(oid)
        .map(|entry| entry.sn().to_owned())
        .unwrap_or_else(|| oid.to_id_string())
}

fn describe_public_key(cert: &X509Certificate<'_>) -> String {
    let spki = cert.public_key();
    let algorithm = oid_name(&spki.algorithm.algorithm);
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|params| params.as_oid().ok())
        .map(|oid| if oid == oid_registry::OID_EC_P256 { "prime256v1".to_owned() } else { oid_name(&oid) });
    match curve {
        Some(curve) => format!("{algorithm} {curve}"),
        None => algorithm,
    }
}

fn describe_general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::RFC822Name(mail) => format!("email:{mail}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::{create_root_ca, create_signer_ca, CaSubject, EcKey, Validity};

    fn chain() -> (CertInfo, CertInfo) {
        let now = OffsetDateTime::now_utc();
        let subject = |cn: &str| CaSubject { common_name: cn.into(), organization: "Acme".into() };
        let root_key = EcKey::generate();
        let root = create_root_ca(&subject("root"), Validity::years_from(now, 1), &root_key).unwrap();
        let signer_key = EcKey::generate();
        let signer = create_signer_ca(&subject("signer"), Validity::years_from(now, 1), &signer_key, &root, &root_key).unwrap();
        (root, signer)
    }

    #[test]
    fn pem_round_trips_and_chains_keep_their_order() {
        let (root, signer) = chain();
        let text = format!("{}{}", signer.pem(), root.pem());
        let parsed = CertInfo::chain_from_pem(&text).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].der, signer.der);
        assert_eq!(parsed[1].der, root.der);
        assert_eq!(CertInfo::from_pem(&text).unwrap().subject, "O=Acme, CN=signer");
    }

    #[test]
    fn trailing_bytes_and_key_only_files_are_rejected() {
        let (root, _) = chain();
        let mut der = root.der.clone();
        der.push(0);
        assert!(matches!(CertInfo::from_der(&der), Err(Error::CorruptPem { .. })));
        let key_only = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(CertInfo::from_pem(key_only), Err(Error::CorruptPem { .. })));
    }

    #[test]
    fn a_tampered_signature_does_not_verify() {
        let (root, signer) = chain();
        let mut der = signer.der.clone();
        let len = der.len();
        der[len - 10] ^= 0x01;
        if let Ok(tampered) = CertInfo::from_der(&der) {
            assert!(!tampered.is_signed_by(&root));
        }
        assert_eq!(signer.serial_hex().len(), 20 * 3 - 1);
        assert_eq!(signer.sha256_fingerprint().len(), 32 * 3 - 1);
    }

    #[test]
    fn random_and_mangled_input_never_panics() {
        let (root, _) = chain();
        let pem = root.pem();
        // xorshift: deterministic, no extra dependency.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut der = root.der.clone();
            for _ in 0..(next() % 4 + 1) {
                let index = (next() as usize) % der.len();
                der[index] = next() as u8;
            }
            der.truncate(der.len() - (next() as usize % 8));
            let _ = CertInfo::from_der(&der);
            let mut text = pem.clone().into_bytes();
            let index = (next() as usize) % text.len();
            text[index] = b"-A=\n\r "[next() as usize % 6];
            if let Ok(text) = String::from_utf8(text) {
                let _ = CertInfo::chain_from_pem(&text);
                let _ = EcKey::from_pem(&text.replace("CERTIFICATE", "PRIVATE KEY"), Some(b"x"));
            }
        }
    }
}
