//! CA keys that live in a PKCS#11 token (an HSM, or SoftHSM2 in tests): [`TokenKey`] generates a
//! P-256 key inside the token (sensitive, never extractable) or adopts one by its label, and signs
//! through the token. The private key never enters this process; only the public point does.

mod error;
mod module;

use std::path::PathBuf;
use std::sync::Mutex;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey, PKCS_ECDSA_P256_SHA256};
use sha2::{Digest, Sha256};

pub use error::TokenError;
use module::{fail, login};

/// DER of the namedCurve OID prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of a P-256 key.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Where a token key is: the module (PKCS#11 library), the token label and the key label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenKeyRef {
    /// Path of the PKCS#11 library.
    pub module: PathBuf,
    /// Label of the token.
    pub token: String,
    /// `CKA_LABEL` of the private key (and its public key).
    pub key_label: String,
}

/// The protection attributes of a token key (`CKA_SENSITIVE`, `CKA_EXTRACTABLE`, ...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyProtection {
    /// The value cannot be read in the clear.
    pub sensitive: bool,
    /// The key can be wrapped out of the token.
    pub extractable: bool,
    /// The key has never been extractable.
    pub never_extractable: bool,
    /// The key has always been sensitive.
    pub always_sensitive: bool,
}

/// A P-256 private key held by a PKCS#11 token, with a logged-in session to sign with.
pub struct TokenKey {
    location: TokenKeyRef,
    session: Mutex<Session>,
    private: ObjectHandle,
    public_key: p256::PublicKey,
    /// Uncompressed SEC1 point (65 bytes), what rcgen puts in certificates.
    public_point: Vec<u8>,
    /// `CKA_ID` of the key pair (empty when the token gave none).
    id: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey").field("location", &self.location).field("public_point", &self.public_point).finish_non_exhaustive()
    }
}

fn label_template(class: ObjectClass, label: &str) -> Vec<Attribute> {
    vec![Attribute::Class(class), Attribute::Label(label.as_bytes().to_vec())]
}

/// The point inside `CKA_EC_POINT`: a DER OCTET STRING around the uncompressed point (PKCS#11), or
/// the bare point (some modules).
fn point_from_attribute(value: &[u8]) -> Option<p256::PublicKey> {
    let point = match value {
        [0x04, 65, rest @ ..] if rest.len() == 65 => rest,
        bare if bare.len() == 65 => bare,
        _ => return None,
    };
    p256::PublicKey::from_sec1_bytes(point).ok()
}

impl TokenKey {
    /// Generate a P-256 key pair labelled `location.key_label` inside the token, logging in with
    /// `pin`. The private key is `CKA_SENSITIVE` and not `CKA_EXTRACTABLE`: it never leaves the token.
    /// A key that already has the label is refused ([`TokenError::KeyLabelTaken`]).
    pub fn generate(location: &TokenKeyRef, pin: &str) -> Result<TokenKey, TokenError> {
        let session = login(&location.module, &location.token, pin)?;
        let label = &location.key_label;
        if !find(&session, label_template(ObjectClass::PRIVATE_KEY, label))?.is_empty() {
            return Err(TokenError::KeyLabelTaken { token: location.token.clone(), label: label.clone() });
        }
        let mut id = [0u8; 16];
        rand_core::RngCore::try_fill_bytes(&mut rand_core::OsRng, &mut id).map_err(|e| fail("draw a key id", e))?;
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(P256_PARAMS.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
        ];
        let (public, private) = session
            .generate_key_pair(&Mechanism::EccKeyPairGen, &public_template, &private_template)
            .map_err(|e| fail("generate a P-256 key pair", e))?;
        let public_key = read_public_point(&session, public, label)?;
        tracing::info!(token = %location.token, label = %label, "generated a P-256 key in the token");
        Ok(TokenKey::new(location.clone(), session, private, public_key, id.to_vec()))
    }

    /// Fail with [`TokenError::KeyLabelTaken`] when the token already holds a private key labelled
    /// `location.key_label` (checked before generating several keys, so none is left half made).
    pub fn ensure_label_free(location: &TokenKeyRef, pin: &str) -> Result<(), TokenError> {
        let session = login(&location.module, &location.token, pin)?;
        if find(&session, label_template(ObjectClass::PRIVATE_KEY, &location.key_label))?.is_empty() {
            Ok(())
        } else {
            Err(TokenError::KeyLabelTaken { token: location.token.clone(), label: location.key_label.clone() })
        }
    }

    /// Open the existing key labelled `location.key_label`, logging in with `pin`. Refused unless it
    /// is an EC P-256 private key whose public half the token also holds (as a public key object or a
    /// certificate with the same label or id).
    pub fn open(location: &TokenKeyRef, pin: &str) -> Result<TokenKey, TokenError> {
        let session = login(&location.module, &location.token, pin)?;
        let label = &location.key_label;
        let found = find(&session, label_template(ObjectClass::PRIVATE_KEY, label))?;
        let private = match found.as_slice() {
            [] => return Err(TokenError::KeyLabelMissing { token: location.token.clone(), label: label.clone() }),
            [one] => *one,
            _ => return Err(TokenError::Pkcs11 { operation: "find the key", detail: format!("{} private keys are labelled \"{label}\"; give each a unique label", found.len()) }),
        };
        let attributes = session
            .get_attributes(private, &[AttributeType::KeyType, AttributeType::EcParams, AttributeType::Id])
            .map_err(|e| fail("read the key's attributes", e))?;
        let mut id = None;
        let mut curve_ok = false;
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(kind) if kind != KeyType::EC => {
                    return Err(TokenError::NotP256 { label: label.clone(), detail: format!("key type {kind}") });
                }
                Attribute::EcParams(params) => {
                    if params != P256_PARAMS {
                        return Err(TokenError::NotP256 { label: label.clone(), detail: format!("curve parameters {}", hex::encode(params)) });
                    }
                    curve_ok = true;
                }
                Attribute::Id(value) if !value.is_empty() => id = Some(value),
                _ => {}
            }
        }
        if !curve_ok {
            return Err(TokenError::NotP256 { label: label.clone(), detail: "no EC curve parameters".into() });
        }
        let public_key = find_public_key(&session, label, id.as_deref())?;
        Ok(TokenKey::new(location.clone(), session, private, public_key, id.unwrap_or_default()))
    }

    fn new(location: TokenKeyRef, session: Session, private: ObjectHandle, public_key: p256::PublicKey, id: Vec<u8>) -> TokenKey {
        let public_point = public_key.to_encoded_point(false).as_bytes().to_vec();
        TokenKey { location, session: Mutex::new(session), private, public_key, public_point, id }
    }

    /// Store `cert_der` (this key's certificate) in the token under the key's label and id, so the token alone
    /// is enough to adopt the CA elsewhere (`ca import --pkcs11-module` without `--cert`).
    pub fn store_certificate(&self, cert_der: &[u8]) -> Result<(), TokenError> {
        let info = crate::CertInfo::from_der(cert_der).map_err(|e| fail("store the certificate", e))?;
        if info.p256_public_key != Some(self.public_key) {
            return Err(fail("store the certificate", "it is not this key's certificate"));
        }
        let (_, parsed) = x509_parser::parse_x509_certificate(cert_der).map_err(|e| fail("store the certificate", e))?;
        let mut template = vec![
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Label(self.location.key_label.as_bytes().to_vec()),
            Attribute::Subject(parsed.subject().as_raw().to_vec()),
            Attribute::Value(cert_der.to_vec()),
        ];
        if !self.id.is_empty() {
            template.push(Attribute::Id(self.id.clone()));
        }
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        session.create_object(&template).map_err(|e| fail("store the certificate", e))?;
        Ok(())
    }

    /// Where the key is.
    pub fn location(&self) -> &TokenKeyRef {
        &self.location
    }

    /// The public key.
    pub fn public_key(&self) -> p256::PublicKey {
        self.public_key
    }

    /// How the token protects the private key, as it reports it.
    pub fn protection(&self) -> Result<KeyProtection, TokenError> {
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let kinds = [AttributeType::Sensitive, AttributeType::Extractable, AttributeType::NeverExtractable, AttributeType::AlwaysSensitive];
        let values = session.get_attributes(self.private, &kinds).map_err(|e| fail("read the key's attributes", e))?;
        let mut protection = KeyProtection::default();
        for attribute in values {
            match attribute {
                Attribute::Sensitive(value) => protection.sensitive = value,
                Attribute::Extractable(value) => protection.extractable = value,
                Attribute::NeverExtractable(value) => protection.never_extractable = value,
                Attribute::AlwaysSensitive(value) => protection.always_sensitive = value,
                _ => {}
            }
        }
        Ok(protection)
    }

    /// The DER of a certificate the token holds with the key's label (or id), if any.
    pub fn certificate_der(&self) -> Result<Option<Vec<u8>>, TokenError> {
        let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let found = find(&session, label_template(ObjectClass::CERTIFICATE, &self.location.key_label))?;
        let Some(handle) = found.first() else { return Ok(None) };
        let values = session.get_attributes(*handle, &[AttributeType::Value]).map_err(|e| fail("read the certificate", e))?;
        Ok(values.into_iter().find_map(|attribute| match attribute {
            Attribute::Value(der) => Some(der),
            _ => None,
        }))
    }

    /// Sign the SHA-256 digest of `msg` in the token (CKM_ECDSA) and return R ‖ S, checked against
    /// the public key before it is returned.
    pub fn sign_raw(&self, msg: &[u8]) -> Result<[u8; 64], TokenError> {
        let digest = Sha256::digest(msg);
        let raw = {
            let session = self.session.lock().unwrap_or_else(|p| p.into_inner());
            session.sign(&Mechanism::Ecdsa, self.private, &digest).map_err(|e| fail("sign", e))?
        };
        let signature = p256::ecdsa::Signature::from_slice(&raw)
            .map_err(|e| TokenError::Pkcs11 { operation: "sign", detail: format!("the token returned {} bytes that are not a P-256 signature: {e}", raw.len()) })?;
        p256::ecdsa::VerifyingKey::from(&self.public_key)
            .verify_prehash(&digest, &signature)
            .map_err(|_| TokenError::Pkcs11 { operation: "sign", detail: "the token's signature does not verify with its public key".into() })?;
        Ok(signature.to_bytes().into())
    }
}

fn find(session: &Session, template: Vec<Attribute>) -> Result<Vec<ObjectHandle>, TokenError> {
    session.find_objects(&template).map_err(|e| fail("search the token", e))
}

fn read_public_point(session: &Session, public: ObjectHandle, label: &str) -> Result<p256::PublicKey, TokenError> {
    let values = session.get_attributes(public, &[AttributeType::EcPoint]).map_err(|e| fail("read the public key", e))?;
    values
        .into_iter()
        .find_map(|attribute| match attribute {
            Attribute::EcPoint(point) => point_from_attribute(&point),
            _ => None,
        })
        .ok_or_else(|| TokenError::NotP256 { label: label.to_owned(), detail: "its public point is not a P-256 point".into() })
}

/// The public half of key `label`: its public key object (by label, then id), else a certificate
/// with the same label or id.
fn find_public_key(session: &Session, label: &str, id: Option<&[u8]>) -> Result<p256::PublicKey, TokenError> {
    let mut templates = vec![label_template(ObjectClass::PUBLIC_KEY, label)];
    if let Some(id) = id {
        templates.push(vec![Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(id.to_vec())]);
    }
    for template in templates {
        if let Some(public) = find(session, template)?.first() {
            return read_public_point(session, *public, label);
        }
    }
    let mut certificates = label_template(ObjectClass::CERTIFICATE, label);
    if let Some(id) = id {
        certificates = vec![Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(id.to_vec())];
    }
    if let Some(cert) = find(session, certificates)?.first() {
        let values = session.get_attributes(*cert, &[AttributeType::Value]).map_err(|e| fail("read the certificate", e))?;
        for attribute in values {
            if let Attribute::Value(der) = attribute {
                if let Some(public) = crate::CertInfo::from_der(&der).ok().and_then(|info| info.p256_public_key) {
                    return Ok(public);
                }
            }
        }
    }
    Err(TokenError::Pkcs11 { operation: "find the public key", detail: format!("the token holds no public key or certificate for \"{label}\"") })
}

impl PublicKeyData for TokenKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_point
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for TokenKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let raw = self.sign_raw(msg).map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            rcgen::Error::RemoteKeyError
        })?;
        let signature = p256::ecdsa::Signature::from_slice(&raw).map_err(|_| rcgen::Error::RemoteKeyError)?;
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

impl crate::device::TbsSigner for TokenKey {
    fn sign_tbs(&self, tbs: &[u8]) -> Result<[u8; 64], String> {
        self.sign_raw(tbs).map_err(|e| e.to_string())
    }
}
