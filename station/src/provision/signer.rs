//! [`ProvisioningCa`]: a signer CA unlocked once for a shift, and issuance with its ledger row and audit entry.

use keyline_certs::atcacert::{certdef_string, AtcaDate, Profile};
use keyline_certs::device::{DeviceIssuer, IssuedDevice};
use keyline_certs::EcKey;
use time::OffsetDateTime;

use crate::ledger::{DeviceSerial, Ledger, NewDevice, Recorded};
use crate::{Error, Result, Station};

/// A signer CA ready to issue device certificates for one firmware profile: certificate, key,
/// root public key and (Espressif) the signer's cert-def string. The key stays in memory only.
pub struct ProvisioningCa {
    /// CA name in the store.
    pub ca: String,
    /// The profile device certificates are issued for.
    pub profile: Profile,
    /// Signer certificate, DER.
    pub signer_der: Vec<u8>,
    /// Root CA public key, X ‖ Y.
    pub root_public_key: [u8; 64],
    /// The helper's `provide-cert-def 1` string (esp-cryptoauthlib only).
    pub signer_cert_def: Option<String>,
    issuer: DeviceIssuer,
    key: EcKey,
}

impl std::fmt::Debug for ProvisioningCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisioningCa").field("ca", &self.ca).field("profile", &self.profile).finish_non_exhaustive()
    }
}

fn issue_error(error: keyline_certs::device::DeviceCertError) -> Error {
    Error::Issue { detail: error.to_string() }
}

impl Station {
    /// Unlocks signer CA `ca` (passphrase held by this process or remembered in the keyring) for `profile`,
    /// after proving its certificate fits the profile's slots.
    pub fn provisioning_ca(&self, ca: &str, profile: Profile) -> Result<ProvisioningCa> {
        let defs = self.profile_defs(ca, profile)?;
        let metadata = self.metadata()?;
        let record = self.record(&metadata, ca)?;
        let signer = self.load_cert(ca)?;
        let (key, _) = self.unlocked_key(&record, &signer)?;
        let root_public_key = defs.root_public_key.ok_or_else(|| Error::InvalidInput {
            what: "signer CA".into(),
            reason: format!("the CA that issued \"{ca}\" is not in the store; import it first"),
        })?;
        let signer_cert_def = match profile {
            Profile::EspCryptoauthlib => Some(certdef_string::encode(&signer.der, false).map_err(|e| Error::Issue { detail: e.to_string() })?),
            _ => None,
        };
        let issuer = DeviceIssuer::new(profile, &signer.der).map_err(issue_error)?;
        Ok(ProvisioningCa { ca: ca.into(), profile, signer_der: signer.der, root_public_key, signer_cert_def, issuer, key })
    }
}

impl ProvisioningCa {
    /// Issues a device certificate for the chip and commits it to the ledger (row `issued`, event,
    /// audit entry) in one transaction before returning it.
    pub fn issue(&self, ledger: &mut Ledger, chip_serial: &[u8; 9], public_key: &[u8; 64], at: OffsetDateTime) -> Result<(IssuedDevice, Recorded)> {
        let issued = self.issuer.issue(&self.key, public_key, chip_serial, AtcaDate::from_offset_date_time(at)).map_err(issue_error)?;
        let device = NewDevice {
            serial: DeviceSerial::from_chip(chip_serial),
            common_name: issued.common_name.clone(),
            profile: self.profile.as_str().into(),
            ca_name: self.ca.clone(),
            cert_der: issued.der.clone(),
            public_key: *public_key,
        };
        let recorded = ledger.record_issued_cert(&device)?;
        Ok((issued, recorded))
    }

    /// The helper's `provide-cert-def 0` string for a device certificate (esp-cryptoauthlib only).
    pub fn device_cert_def(&self, device_der: &[u8]) -> Result<Option<String>> {
        match self.profile {
            Profile::EspCryptoauthlib => Ok(Some(certdef_string::encode(device_der, true).map_err(|e| Error::Issue { detail: e.to_string() })?)),
            _ => Ok(None),
        }
    }
}
