//! The steps of creating or importing a CA, reported as they start so a UI can show progress.

use serde::Serialize;

/// One step of [`Station::create_ca_with_progress`](crate::Station::create_ca_with_progress) or
/// [`Station::import_ca_with_progress`](crate::Station::import_ca_with_progress). Serialises as a
/// stable camelCase id (e.g. `"generatingRootKey"`), the same as [`CaStep::id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CaStep {
    /// Generating the root CA's P-256 key.
    GeneratingRootKey,
    /// Signing the self-signed root certificate.
    SigningRootCertificate,
    /// Generating the signer CA's P-256 key.
    GeneratingSignerKey,
    /// Signing the signer certificate with the root key.
    SigningSignerCertificate,
    /// Import: parsing the certificate, decrypting the key and checking that they match.
    CheckingImport,
    /// Encrypting the private keys under the passphrase (scrypt; the slow step).
    EncryptingKeys,
    /// Writing certificates, encrypted keys and metadata, all or nothing.
    WritingFiles,
    /// Storing the passphrase in the OS keyring (only [`Station::create_ca_remembering`](crate::Station::create_ca_remembering)
    /// and [`Station::import_ca_remembering`](crate::Station::import_ca_remembering) with `remember`).
    Remembering,
}

impl CaStep {
    /// The steps `create_ca_with_progress` reports, in order.
    pub fn create_plan(with_signer: bool) -> Vec<CaStep> {
        let mut plan = vec![CaStep::GeneratingRootKey, CaStep::SigningRootCertificate];
        if with_signer {
            plan.extend([CaStep::GeneratingSignerKey, CaStep::SigningSignerCertificate]);
        }
        plan.extend([CaStep::EncryptingKeys, CaStep::WritingFiles]);
        plan
    }

    /// The steps `import_ca_with_progress` reports, in order.
    pub fn import_plan() -> Vec<CaStep> {
        vec![CaStep::CheckingImport, CaStep::EncryptingKeys, CaStep::WritingFiles]
    }

    /// Stable id the UI translates (camelCase, as serialised).
    pub fn id(self) -> &'static str {
        match self {
            CaStep::GeneratingRootKey => "generatingRootKey",
            CaStep::SigningRootCertificate => "signingRootCertificate",
            CaStep::GeneratingSignerKey => "generatingSignerKey",
            CaStep::SigningSignerCertificate => "signingSignerCertificate",
            CaStep::CheckingImport => "checkingImport",
            CaStep::EncryptingKeys => "encryptingKeys",
            CaStep::WritingFiles => "writingFiles",
            CaStep::Remembering => "remembering",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_serialised_form() {
        let all = CaStep::create_plan(true).into_iter().chain(CaStep::import_plan()).chain([CaStep::Remembering]);
        for step in all {
            assert_eq!(serde_json::to_value(step).unwrap(), step.id());
        }
    }

    #[test]
    fn plans_list_the_steps_in_order() {
        use CaStep::*;
        assert_eq!(CaStep::create_plan(false), [GeneratingRootKey, SigningRootCertificate, EncryptingKeys, WritingFiles]);
        assert_eq!(CaStep::import_plan(), [CheckingImport, EncryptingKeys, WritingFiles]);
    }
}
