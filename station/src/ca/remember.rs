//! Create or import a CA and, when asked, remember its passphrase in the OS keyring as the last reported step:
//! the whole operation a front end offers behind one "remember" checkbox.

use super::{CaStep, CaSummary, CreateCa, ImportCa};
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
}
