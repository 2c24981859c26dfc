//! Reading CAs back: the list, one CA's details, chains and PEM export.

use keyline_certs::CertInfo;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{CaDetails, CaSummary, ChainLink, ExtensionSummary, KeyStatus};
use crate::store::{CaRecord, Metadata};
use crate::{Result, Station};

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_else(|_| time.to_string())
}

impl Station {
    /// Every CA in the store, in creation order.
    pub fn list_cas(&self) -> Result<Vec<CaSummary>> {
        let metadata = self.metadata()?;
        metadata.cas.iter().map(|record| self.summarise(&metadata, record)).collect()
    }

    /// One CA with its extensions and PEM.
    pub fn show_ca(&self, name: &str) -> Result<CaDetails> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        let cert = self.load_cert(name)?;
        let summary = self.summarise(&metadata, &record)?;
        Ok(CaDetails {
            summary,
            serial: cert.serial_hex(),
            signature_algorithm: cert.signature_algorithm.clone(),
            public_key: cert.public_key_description.clone(),
            extensions: cert
                .extensions
                .iter()
                .map(|ext| ExtensionSummary { name: ext.name.clone(), critical: ext.critical, value: ext.value.clone() })
                .collect(),
            pem: cert.pem(),
        })
    }

    /// The CA certificate followed by its issuers up to the root, as PEM.
    pub fn export_ca_pem(&self, name: &str) -> Result<String> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        let mut pem = String::new();
        for (_, cert) in self.chain_of(&metadata, &record)? {
            pem.push_str(&cert.pem());
        }
        Ok(pem)
    }

    /// Summary of CA `name`.
    pub(crate) fn summary_of(&self, name: &str) -> Result<CaSummary> {
        let metadata = self.metadata()?;
        let record = self.record(&metadata, name)?;
        self.summarise(&metadata, &record)
    }

    pub(crate) fn key_status(&self, record: &CaRecord) -> KeyStatus {
        if record.remembered {
            KeyStatus::Remembered
        } else if self.is_unlocked(&record.name) {
            KeyStatus::Unlocked
        } else {
            KeyStatus::Locked
        }
    }

    fn summarise(&self, metadata: &Metadata, record: &CaRecord) -> Result<CaSummary> {
        let chain = self.chain_of(metadata, record)?;
        let cert = &chain[0].1;
        let mut links: Vec<ChainLink> = chain
            .iter()
            .map(|(name, cert)| ChainLink { name: Some(name.clone()), subject: cert.subject.clone() })
            .collect();
        let top = &chain[chain.len() - 1].1;
        if !top.is_self_signed() {
            links.push(ChainLink { name: None, subject: top.issuer.clone() });
        }
        Ok(CaSummary {
            name: record.name.clone(),
            role: record.role,
            subject: cert.subject.clone(),
            issuer: cert.issuer.clone(),
            issuer_name: record.parent.clone(),
            not_before: rfc3339(cert.not_before),
            not_after: rfc3339(cert.not_after),
            days_until_expiry: (cert.not_after - self.clock.now()).whole_days(),
            sha256: cert.sha256_fingerprint(),
            sha1: cert.sha1_fingerprint(),
            key_status: self.key_status(record),
            key_custody: super::offline::custody_of(record),
            chain: links,
        })
    }

    /// The CA and its known issuers, following `parent` links (bounded, so a damaged
    /// `cas.json` with a loop cannot hang).
    fn chain_of(&self, metadata: &Metadata, record: &CaRecord) -> Result<Vec<(String, CertInfo)>> {
        let mut chain = vec![(record.name.clone(), self.load_cert(&record.name)?)];
        let mut parent = record.parent.clone();
        while let Some(name) = parent {
            if chain.len() > metadata.cas.len() || chain.iter().any(|(seen, _)| *seen == name) {
                break;
            }
            let Some(parent_record) = metadata.find(&name) else { break };
            chain.push((name.clone(), self.load_cert(&name)?));
            parent = parent_record.parent.clone();
        }
        Ok(chain)
    }
}
