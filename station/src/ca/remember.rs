//! Create or import a CA and, when asked, remember its passphrase in the OS keyring as the last reported step:
//! the whole operation a front end offers behind one "remember" checkbox.

use std::path::PathBuf;

use super::{CaStep, CaSummary, CreateCa, ImportCa, NewKeyCustody};
use crate::{Passphrase, Result, Station};

impl CaStep {
    /// The steps [`Station::create_ca_remembering`] reports, in order.
    pub fn create_plan_remembering(with_signer: bool, remember: bool) -> Vec<CaStep> {
        with_remembering(CaStep::create_plan(with_signer), remember)
    }

    /// The steps [`Station::import_ca_remembering`] reports, in order.
    pub fn import_plan_remembering(remember: bool) -> Vec<CaStep> {
        with_remembering(CaStep::import_plan(), remember)
    }
}

fn with_remembering(mut plan: Vec<CaStep>, remember: bool) -> Vec<CaStep> {
    if remember {
        plan.push(CaStep::Remembering);
    }
    plan
}

impl Station {
    /// [`create_ca_with_progress`](Self::create_ca_with_progress); with `remember`, then stores the passphrase of
    /// every created CA in the OS keyring ([`CaStep::Remembering`]) and returns the CAs as they are then.
    pub fn create_ca_remembering(
        &self,
        request: CreateCa,
        passphrase: &Passphrase,
        remember: bool,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        let created = self.create_ca_with_progress(request, passphrase, on_step)?;
        self.remember_all(created, passphrase, remember, on_step)
    }

    /// [`create_ca_in`](Self::create_ca_in) with the keys generated inside the PKCS#11 token labelled `token` of the
    /// library `module` (they never leave it), reporting [`CaStep::create_plan_remembering`]; with `remember`, the
    /// token PIN is then stored in the OS keyring for each created CA.
    pub fn create_ca_in_token_remembering(
        &self,
        request: CreateCa,
        module: PathBuf,
        token: String,
        pin: &Passphrase,
        remember: bool,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        let created = self.create_ca_in(request, None, &NewKeyCustody::Token { module, token, pin }, on_step)?;
        self.remember_all(created, pin, remember, on_step)
    }

    /// [`import_ca_with_progress`](Self::import_ca_with_progress); with `remember`, then stores the passphrase in
    /// the OS keyring ([`CaStep::Remembering`]).
    pub fn import_ca_remembering(
        &self,
        request: ImportCa,
        passphrase: &Passphrase,
        remember: bool,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        let imported = vec![self.import_ca_with_progress(request, passphrase, on_step)?];
        self.remember_all(imported, passphrase, remember, on_step)
    }

    fn remember_all(
        &self,
        cas: Vec<CaSummary>,
        passphrase: &Passphrase,
        remember: bool,
        on_step: &mut dyn FnMut(CaStep),
    ) -> Result<Vec<CaSummary>> {
        if !remember {
            return Ok(cas);
        }
        on_step(CaStep::Remembering);
        cas.iter().map(|ca| self.unlock_ca(&ca.name, passphrase, true)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::KeyStatus;

    #[test]
    fn remembering_is_the_last_step_only_when_asked() {
        assert_eq!(CaStep::create_plan_remembering(true, true).last(), Some(&CaStep::Remembering));
        assert_eq!(CaStep::import_plan_remembering(false), CaStep::import_plan());
        assert_eq!(CaStep::create_plan_remembering(false, true)[..4], CaStep::create_plan(false)[..]);
    }

    #[test]
    fn a_create_without_remembering_reports_exactly_its_plan() {
        let dir = tempfile::tempdir().unwrap();
        let station = Station::open(dir.path().join("data")).unwrap();
        let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 5 };
        let mut steps = Vec::new();
        let passphrase = Passphrase::new("correct horse battery staple".into());
        let created = station.create_ca_remembering(request, &passphrase, false, &mut |step| steps.push(step)).unwrap();
        assert_eq!(steps, CaStep::create_plan_remembering(true, false));
        assert_eq!(created.iter().map(|ca| ca.name.as_str()).collect::<Vec<_>>(), ["root", "signer"]);
    }

    /// The keyring path needs a real Secret Service: the suite runs inside
    /// `dbus-run-session -- bash scripts/with-keyring.sh cargo test ...` (gnome-keyring).
    #[test]
    fn create_and_import_with_remembering_leave_the_passphrase_in_the_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let station = Station::open(data.clone()).unwrap();
        let status = station.keyring_status();
        assert!(
            status.available,
            "the OS keyring is not reachable ({}): install gnome-keyring and dbus (scripts/keyline-dev.sh does) and run \
             the tests inside `dbus-run-session -- bash scripts/with-keyring.sh cargo test ...`",
            status.reason
        );
        let passphrase = Passphrase::new("remembered across restarts".into());

        let mut steps = Vec::new();
        let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 5 };
        let created = station.create_ca_remembering(request, &passphrase, true, &mut |step| steps.push(step)).unwrap();
        assert_eq!(steps, CaStep::create_plan_remembering(true, true));
        assert!(created.iter().all(|ca| ca.key_status == KeyStatus::Remembered), "{created:?}");

        let import = ImportCa {
            name: "copy".into(),
            cert_pem: std::fs::read_to_string(data.join("certs/signer.crt")).unwrap(),
            key_pem: std::fs::read_to_string(data.join("keys/signer.key")).unwrap().into(),
            key_passphrase: Some(passphrase.clone()),
        };
        steps.clear();
        let imported = station.import_ca_remembering(import, &passphrase, true, &mut |step| steps.push(step)).unwrap();
        assert_eq!(steps, CaStep::import_plan_remembering(true));
        assert_eq!(imported.len(), 1);
        assert_eq!(imported[0].key_status, KeyStatus::Remembered);

        // Another process on the same directory holds nothing, yet uses every key through the keyring.
        let restarted = Station::open(data).unwrap();
        let listed = restarted.list_cas().unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().all(|ca| ca.key_status == KeyStatus::Remembered), "{listed:?}");
        let cert = restarted.make_verification_cert("copy", "fromkeyring").unwrap();
        assert!(cert.cert_path.exists());
        assert!(restarted.unlock_ca_from_keyring("root").unwrap());
        for name in ["root", "signer", "copy"] {
            assert_eq!(restarted.forget_passphrase(name).unwrap().key_status, KeyStatus::Locked);
        }
    }
}
