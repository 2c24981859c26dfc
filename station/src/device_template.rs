//! The "Device template" operation: for a signer CA and a firmware profile, the `cert_chain.c` and
//! header the firmware compiles, plus the slot map and template fields as rows for a table.

use keyline_certs::atcacert::{cert_chain_c, certdef_string};
use keyline_certs::atcacert::der_walk::walk_certificate;
use keyline_certs::atcacert::{CertDef, DeviceLoc, DeviceZone, Profile, ProfileDefs};
use keyline_certs::device::{certificate_public_key, place_signer};
use serde::Serialize;

use crate::{Error, Result, Station};

/// One device location the definitions read (a row of the slot map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SlotRow {
    /// "data", "config" or "genkey".
    pub zone: String,
    /// Slot number (data zone and GenKey).
    pub slot: u8,
    /// First byte.
    pub offset: u16,
    /// Number of bytes.
    pub count: u16,
    /// What is stored there.
    pub contents: String,
}

/// One variable field of a template certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TemplateField {
    /// "signer" or "device".
    pub certificate: String,
    /// Element name (`STDCERT_*` or the extra element's id).
    pub element: String,
    /// Offset in the template.
    pub offset: u16,
    /// Length in the template.
    pub count: u16,
}

/// Everything the Device template screen and `keyline template cert-chain` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DeviceTemplate {
    /// Firmware profile.
    pub profile: String,
    /// Signer CA name.
    pub signer: String,
    /// `cert_chain.c` text.
    pub cert_chain_c: String,
    /// `cert_chain.h` text.
    pub cert_chain_h: String,
    /// Where each field lives on the chip.
    pub slot_map: Vec<SlotRow>,
    /// Where each variable field sits in the templates.
    pub template_fields: Vec<TemplateField>,
    /// Device template DER, hex.
    pub device_template_hex: String,
    /// Signer template DER (the signer certificate), hex.
    pub signer_template_hex: String,
    /// For esp-cryptoauthlib: the signer's string for the helper's `provide-cert-def 1`.
    pub signer_cert_def_string: Option<String>,
}

/// Parses a profile name (`rainbowtype`, `esp-cryptoauthlib`, `trustflex`).
pub fn parse_profile(name: &str) -> Result<Profile> {
    Profile::parse(name).ok_or_else(|| Error::InvalidInput {
        what: "profile".into(),
        reason: format!("\"{name}\" is not one of rainbowtype, esp-cryptoauthlib, trustflex"),
    })
}

fn slot_row(loc: &DeviceLoc, contents: String) -> Option<SlotRow> {
    if loc.is_absent() {
        return None;
    }
    let zone = match (loc.zone, loc.is_genkey) {
        (DeviceZone::Data, true) => "genkey",
        (DeviceZone::Data, false) => "data",
        (DeviceZone::Config, _) => "config",
        _ => "other",
    };
    Some(SlotRow { zone: zone.into(), slot: loc.slot, offset: loc.offset, count: loc.count, contents })
}

fn def_rows(which: &str, def: &CertDef) -> Vec<SlotRow> {
    let key_kind = if def.public_key_dev_loc.is_genkey { "public key (from the private key via GenKey)" } else { "public key (72-byte padded)" };
    let mut rows = vec![
        slot_row(&def.comp_cert_dev_loc, format!("{which} compressed certificate")),
        slot_row(&def.public_key_dev_loc, format!("{which} {key_kind}")),
        slot_row(&def.cert_sn_dev_loc, format!("{which} serial number")),
    ];
    rows.extend(def.elements.iter().map(|el| slot_row(&el.device_loc, format!("{which} {}", el.id))));
    rows.into_iter().flatten().collect()
}

fn fields(which: &str, def: &CertDef) -> Vec<TemplateField> {
    let mut out: Vec<TemplateField> = def
        .std
        .in_order()
        .into_iter()
        .filter(|(_, loc)| loc.count != 0)
        .map(|(name, loc)| TemplateField { certificate: which.into(), element: name.into(), offset: loc.offset, count: loc.count })
        .collect();
    out.push(TemplateField { certificate: which.into(), element: "TBS".into(), offset: def.tbs_cert_loc.offset, count: def.tbs_cert_loc.count });
    out.extend(def.elements.iter().map(|el| TemplateField { certificate: which.into(), element: el.id.clone(), offset: el.cert_loc.offset, count: el.cert_loc.count }));
    out
}

/// Builds the page from placed definitions.
pub fn describe(signer: &str, defs: &ProfileDefs) -> DeviceTemplate {
    let files = cert_chain_c::generate(defs);
    let mut slot_map = def_rows("signer", &defs.signer);
    slot_map.extend(def_rows("device", &defs.device));
    if let Some(root) = &defs.root {
        slot_map.extend(slot_row(&root.public_key_dev_loc, "root CA public key (72-byte padded)".into()));
    }
    slot_map.sort_by_key(|r| (r.zone.clone(), r.slot, r.offset));
    let mut template_fields = fields("signer", &defs.signer);
    template_fields.extend(fields("device", &defs.device));
    DeviceTemplate {
        profile: defs.profile.as_str().into(),
        signer: signer.into(),
        cert_chain_c: files.source,
        cert_chain_h: files.header,
        slot_map,
        template_fields,
        device_template_hex: hex_string(&defs.device.template),
        signer_template_hex: hex_string(&defs.signer.template),
        signer_cert_def_string: (defs.profile == Profile::EspCryptoauthlib)
            .then(|| certdef_string::encode(&defs.signer.template, false).ok())
            .flatten(),
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn refused(ca: &str, profile: Profile, error: impl std::fmt::Display) -> Error {
    Error::SignerMisfit { ca: ca.into(), profile: profile.as_str().into(), reason: error.to_string() }
}

impl Station {
    /// The profile's definitions for signer CA `ca`, proven to rebuild the signer itself.
    /// Needs the CA that issued `ca` in the store (its key goes into the chain and slot 15).
    pub fn profile_defs(&self, ca: &str, profile: Profile) -> Result<ProfileDefs> {
        let metadata = self.metadata()?;
        self.record(&metadata, ca)?;
        let signer = self.load_cert(ca)?;
        let summary = self.list_cas()?.into_iter().find(|s| s.name == ca).ok_or_else(|| Error::CorruptStore { detail: format!("CA \"{ca}\" vanished") })?;
        let root = match summary.issuer_name.as_deref() {
            Some(issuer) if issuer != ca => self.load_cert(issuer)?,
            Some(_) => signer.clone(),
            None => {
                return Err(Error::InvalidInput {
                    what: "signer CA".into(),
                    reason: format!("the CA that issued \"{ca}\" ({}) is not in the store; import it first", summary.issuer),
                })
            }
        };
        walk_certificate(&signer.der).map_err(|e| refused(ca, profile, e))?;
        let root_key = certificate_public_key(&root.der).map_err(|e| refused(ca, profile, e))?;
        place_signer(profile, &signer.der, &root_key).map_err(|e| refused(ca, profile, e))
    }

    /// `cert_chain.c`, `cert_chain.h`, slot map and template fields for signer `ca` and `profile`.
    pub fn device_template(&self, ca: &str, profile: &str) -> Result<DeviceTemplate> {
        let profile = parse_profile(profile)?;
        let defs = self.profile_defs(ca, profile)?;
        Ok(describe(ca, &defs))
    }
}
