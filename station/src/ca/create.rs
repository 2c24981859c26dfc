//! Adding CAs to the store: creating a root (and signer) or importing an existing CA.

use keyline_certs::token::TokenKey;
use keyline_certs::{create_root_ca, create_signer_ca, CaKey, CaSubject, CertInfo, EcKey, Validity};

use super::access::certs_error;
use super::profile_signer;
use super::{CaRole, CaStep, CaSummary, CreateCa, ImportCa, ImportTokenCa, SignerFit};
use super::NewKeyCustody;
use crate::store::{validate_name, CaRecord, FileBatch, Metadata, TokenCustody};
use crate::{Error, Passphrase, Result, Station, MIN_PASSPHRASE_CHARS};

/// Longest Organization / Common Name (X.520 upper bound).
pub(super) const MAX_DN_VALUE_LEN: usize = 64;
const MAX_YEARS: u32 = 50;

/// A CA about to be written: its record, certificate, key and the secret that protects the key (the
/// passphrase its file is encrypted under, or the PIN of its token).
struct NewCa {
    record: CaRecord,
    cert: CertInfo,
    key: CaKey,
    secret: Passphrase,
}

impl NewKeyCustody<'_> {
    /// Generate the key of CA `name` (root or signer) where this custody keeps keys, with its secret.
    fn generate(&self, name: &str, root: bool) -> Result<(CaKey, Passphrase, Option<TokenCustody>)> {
        match self {
            NewKeyCustody::Files { passphrase, root_passphrase } => {
                let secret = match (root, root_passphrase) {
                    (true, Some(root_passphrase)) => (*root_passphrase).clone(),
                    _ => (*passphrase).clone(),
                };
                Ok((CaKey::File(EcKey::generate()), secret, None))
            }
            NewKeyCustody::Token { module, token, pin } => {
                let custody = TokenCustody { module: module.clone(), token: token.clone(), key_label: name.to_owned() };
                let key = TokenKey::generate(&custody.key_ref(), pin.expose())?;
                Ok((CaKey::Token(key), (*pin).clone(), Some(custody)))
            }
        }
    }

    /// For a token: no key in it has the label `name` yet (checked for every CA before any key is made).
    fn ensure_label_free(&self, name: &str) -> Result<()> {
        if let NewKeyCustody::Token { module, token, pin } = self {
            let location = TokenCustody { module: module.clone(), token: token.clone(), key_label: name.to_owned() }.key_ref();
            TokenKey::ensure_label_free(&location, pin.expose())?;
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        match self {
            NewKeyCustody::Files { passphrase, root_passphrase } => {
                check_passphrase(passphrase)?;
                root_passphrase.map(check_passphrase).transpose()?;
                Ok(())
            }
            NewKeyCustody::Token { token, pin, .. } => {
                if token.trim().is_empty() {
                    return Err(Error::InvalidInput { what: "token".into(), reason: "give the token's label".into() });
                }
                if pin.is_empty() {
                    return Err(Error::PassphraseRequired { purpose: format!("the PIN of token \"{token}\""), env_var: crate::TOKEN_PIN_ENV.into() });
                }
                Ok(())
            }
        }
    }
}

/// The passphrase a new CA key is encrypted under must have [`MIN_PASSPHRASE_CHARS`] characters.
fn check_passphrase(passphrase: &Passphrase) -> Result<()> {
    if passphrase.char_count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::PassphraseTooShort { min_chars: MIN_PASSPHRASE_CHARS });
    }
    Ok(())
}

fn check_create_request(request: &CreateCa) -> Result<()> {
    validate_name("CA name", &request.name)?;
    if let Some(signer) = &request.signer {
        validate_name("signer CA name", signer)?;
        if signer == &request.name {
            return Err(Error::InvalidInput {
                what: "signer name".into(),
                reason: "it must differ from the root CA name".into(),
            });
        }
    }
    let org = request.org.trim();
    if org.is_empty() || org.chars().count() > MAX_DN_VALUE_LEN || org.chars().any(char::is_control) {
        return Err(Error::InvalidInput {
            what: "organization".into(),
            reason: format!("give 1-{MAX_DN_VALUE_LEN} printable characters"),
        });
    }
    if !(1..=MAX_YEARS).contains(&request.years) {
        return Err(Error::InvalidInput { what: "years".into(), reason: format!("give 1-{MAX_YEARS}") });
    }
    Ok(())
}

impl Station {
    /// Create a root CA and, if `request.signer` is set, a signer CA under it. Both keys are
    /// encrypted under `passphrase`, and both CAs stay unlocked in this process.
    pub fn create_ca(&self, request: CreateCa, passphrase: &Passphrase) -> Result<Vec<CaSummary>> {
        self.create_ca_with_progress(request, passphrase, &mut |_| {})
    }

    /// [`create_ca`](Self::create_ca), calling `on_step` as each step of
    /// [`CaStep::create_plan`] starts. Invalid requests fail before the first step.
    pub fn create_ca_with_progress(
        &self,
        request: CreateCa,
        passphrase: &Passphrase,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        self.create_ca_fitting(request, None, passphrase, on_step)
    }

    /// [`create_ca_with_progress`](Self::create_ca_with_progress) whose signer CA, with `fit`,
    /// is made for a firmware profile (see [`SignerFit`]); `template cert-chain` accepts it.
    pub fn create_ca_fitting(
        &self,
        request: CreateCa,
        fit: Option<&SignerFit>,
        passphrase: &Passphrase,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        self.create_ca_in(request, fit, &NewKeyCustody::Files { passphrase, root_passphrase: None }, on_step)
    }

    /// [`create_ca_fitting`](Self::create_ca_fitting) with the keys kept as `custody` says: encrypted files (the
    /// root under its own passphrase if one is given), or generated inside a PKCS#11 token, never leaving it.
    pub fn create_ca_in(
        &self,
        request: CreateCa,
        fit: Option<&SignerFit>,
        custody: &NewKeyCustody<'_>,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        check_create_request(&request)?;
        let profile = fit.map(|fit| profile_signer::check(fit, &request)).transpose()?;
        custody.check()?;
        let _lock = self.layout.lock()?;
        let metadata = self.metadata()?;
        let names: Vec<&String> = std::iter::once(&request.name).chain(request.signer.as_ref()).collect();
        for name in &names {
            self.ensure_free(&metadata, name)?;
            custody.ensure_label_free(name)?;
        }

        let now = self.clock.now();
        let validity = Validity::years_from(now, request.years);
        let org = request.org.trim().to_owned();
        on_step(CaStep::GeneratingRootKey);
        let (root_key, root_secret, root_token) = custody.generate(&request.name, true)?;
        let root_subject = CaSubject { common_name: request.name.clone(), organization: org.clone() };
        on_step(CaStep::SigningRootCertificate);
        let root_cert = create_root_ca(&root_subject, validity, &root_key).map_err(|e| certs_error(e, &request.name))?;
        let mut new_cas = Vec::new();
        if let Some(signer) = &request.signer {
            on_step(CaStep::GeneratingSignerKey);
            let (key, secret, token) = custody.generate(signer, false)?;
            on_step(CaStep::SigningSignerCertificate);
            let cert = match (profile, fit) {
                (Some(profile), Some(fit)) => profile_signer::issue(profile, fit, signer, &org, &key, &root_cert, &root_key, now)?,
                _ => {
                    let subject = CaSubject { common_name: signer.clone(), organization: org };
                    create_signer_ca(&subject, validity, &key, &root_cert, &root_key).map_err(|e| certs_error(e, signer))?
                }
            };
            let record = CaRecord { token, ..CaRecord::new(signer.clone(), CaRole::Signer, Some(request.name.clone())) };
            new_cas.push(NewCa { record, cert, key, secret });
        }
        let root_record = CaRecord { token: root_token, ..CaRecord::new(request.name.clone(), CaRole::Root, None) };
        new_cas.insert(0, NewCa { record: root_record, cert: root_cert, key: root_key, secret: root_secret });

        for ca in &new_cas {
            if let CaKey::Token(key) = &ca.key {
                // Best effort: the store has the certificate anyway; in the token it lets another station adopt the CA.
                if let Err(error) = key.store_certificate(&ca.cert.der) {
                    tracing::warn!(ca = %ca.record.name, %error, "cannot store the CA certificate in the token");
                }
            }
        }
        self.write_new_cas(metadata, &new_cas, on_step)?;
        for ca in &new_cas {
            tracing::info!(ca = %ca.record.name, role = ?ca.record.role, sha256 = %ca.cert.sha256_fingerprint(), "created CA");
        }
        names.iter().map(|name| self.summary_of(name)).collect()
    }

    /// Import an existing CA certificate and key; the key is re-encrypted under `passphrase`.
    pub fn import_ca(&self, request: ImportCa, passphrase: &Passphrase) -> Result<CaSummary> {
        self.import_ca_with_progress(request, passphrase, &mut |_| {})
    }

    /// [`import_ca`](Self::import_ca), calling `on_step` as each step of [`CaStep::import_plan`]
    /// starts. An invalid name or a passphrase that is too short fails before the first step.
    pub fn import_ca_with_progress(
        &self,
        request: ImportCa,
        passphrase: &Passphrase,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<CaSummary> {
        validate_name("CA name", &request.name)?;
        check_passphrase(passphrase)?;
        on_step(CaStep::CheckingImport);
        let cert = CertInfo::from_pem(&request.cert_pem).map_err(|e| certs_error(e, "the certificate file"))?;
        if !cert.is_ca() {
            return Err(Error::NotACa { subject: cert.subject.clone() });
        }
        cert.check_usable_ca().map_err(|e| certs_error(e, "the certificate file"))?;
        let key_passphrase = request.key_passphrase.as_ref().map(|p| p.expose().as_bytes());
        let key = EcKey::from_pem(request.key_pem.expose(), key_passphrase).map_err(|e| match e {
            keyline_certs::Error::WrongPassphrase => Error::WrongPassphrase { name: "the key file being imported".into() },
            other => certs_error(other, "the key file"),
        })?;
        if !cert.p256_public_key.as_ref().is_some_and(|public| key.matches(public)) {
            return Err(Error::KeyMismatch { name: request.name.clone() });
        }
        self.add_imported(&request.name, cert, CaKey::File(key), None, passphrase, on_step)
    }

    /// Adopt the existing key labelled `request.key_label` in a PKCS#11 token as CA `request.name`, with its
    /// certificate from `request.cert_pem` or, when that is `None`, from the token (same label). The key stays
    /// in the token; the store records the module, token and label.
    pub fn import_token_ca(&self, request: ImportTokenCa, pin: &Passphrase) -> Result<CaSummary> {
        validate_name("CA name", &request.name)?;
        let custody = TokenCustody { module: request.module, token: request.token, key_label: request.key_label };
        let key = TokenKey::open(&custody.key_ref(), pin.expose())?;
        let cert = match &request.cert_pem {
            Some(pem) => CertInfo::from_pem(pem).map_err(|e| certs_error(e, "the certificate file"))?,
            None => {
                let der = key.certificate_der()?.ok_or_else(|| Error::InvalidInput {
                    what: "certificate".into(),
                    reason: format!("the token holds no certificate labelled \"{}\"; pass the CA certificate with --cert FILE", custody.key_label),
                })?;
                CertInfo::from_der(&der).map_err(|e| certs_error(e, "the certificate in the token"))?
            }
        };
        if !cert.is_ca() {
            return Err(Error::NotACa { subject: cert.subject.clone() });
        }
        cert.check_usable_ca().map_err(|e| certs_error(e, "the certificate"))?;
        if cert.p256_public_key != Some(key.public_key()) {
            return Err(Error::KeyMismatch { name: request.name.clone() });
        }
        self.add_imported(&request.name, cert, CaKey::Token(key), Some(custody), pin, &mut |_| {})
    }

    /// Add an imported CA (checked certificate and matching key) to the store.
    fn add_imported(
        &self,
        name: &str,
        cert: CertInfo,
        key: CaKey,
        token: Option<TokenCustody>,
        secret: &Passphrase,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<CaSummary> {
        let _lock = self.layout.lock()?;
        let mut metadata = self.metadata()?;
        self.ensure_free(&metadata, name)?;
        let (role, parent) = if cert.is_self_signed() {
            (CaRole::Root, None)
        } else {
            (CaRole::Signer, self.find_issuer_name(&metadata, &cert))
        };
        // Existing CAs that this one issued now know their parent.
        for record in metadata.cas.iter_mut().filter(|record| record.parent.is_none() && record.role == CaRole::Signer) {
            if self.load_cert(&record.name).is_ok_and(|child| child.is_signed_by(&cert)) {
                record.parent = Some(name.to_owned());
            }
        }
        let record = CaRecord { token, ..CaRecord::new(name.to_owned(), role, parent) };
        let new_ca = NewCa { record, cert, key, secret: secret.clone() };
        self.write_new_cas(metadata, std::slice::from_ref(&new_ca), on_step)?;
        tracing::info!(ca = %name, role = ?role, sha256 = %new_ca.cert.sha256_fingerprint(), in_token = new_ca.record.token.is_some(), "imported CA");
        self.summary_of(name)
    }

    /// `already_exists` if `name` is in the metadata or its files exist.
    fn ensure_free(&self, metadata: &Metadata, name: &str) -> Result<()> {
        if metadata.find(name).is_some() || self.layout.cert_path(name).exists() || self.layout.key_path(name).exists() {
            return Err(Error::AlreadyExists { what: "CA".into(), name: name.to_owned() });
        }
        Ok(())
    }

    /// Store name of the CA in the store that signed `cert`, if any.
    pub(crate) fn find_issuer_name(&self, metadata: &Metadata, cert: &CertInfo) -> Option<String> {
        metadata
            .cas
            .iter()
            .find(|record| self.load_cert(&record.name).is_ok_and(|issuer| cert.is_signed_by(&issuer)))
            .map(|record| record.name.clone())
    }

    /// Write the certificates, encrypted keys (token keys have no file) and updated metadata of `new_cas`, all
    /// or nothing, and hold each CA's secret in this process.
    fn write_new_cas(&self, mut metadata: Metadata, new_cas: &[NewCa], on_step: &mut dyn FnMut(CaStep)) -> Result<()> {
        on_step(CaStep::EncryptingKeys);
        let key_pems = new_cas
            .iter()
            .map(|ca| match &ca.key {
                CaKey::File(key) => {
                    key.to_encrypted_pem(ca.secret.expose().as_bytes()).map(Some).map_err(|e| certs_error(e, &ca.record.name))
                }
                CaKey::Token(_) => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        on_step(CaStep::WritingFiles);
        let mut batch = FileBatch::new();
        for (ca, key_pem) in new_cas.iter().zip(&key_pems) {
            let name = &ca.record.name;
            batch.add_new(self.layout.cert_path(name), ca.cert.pem().as_bytes())?;
            if let Some(key_pem) = key_pem {
                batch.add_new(self.layout.key_path(name), key_pem.as_bytes())?;
            }
            metadata.cas.push(ca.record.clone());
        }
        batch.add_replacement(self.layout.metadata_path(), &metadata.to_json())?;
        batch.commit()?;
        for ca in new_cas {
            self.hold_passphrase(&ca.record.name, &ca.secret);
        }
        Ok(())
    }
}
