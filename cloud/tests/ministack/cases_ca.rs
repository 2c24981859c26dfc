//! CA registration against ministack: the happy path, re-runs, and the negative paths ministack enforces.

use keyline_cloud::ca::{self, CaMode, RegisterCaRequest};
use keyline_cloud::CloudError;

use crate::openssl::TestCa;
use crate::{case, ensure, fail, register_test_ca, Case, CaseResult, Env};

pub fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(register_ca_activates_with_auto_registration_and_rerun_reconciles),
        case!(wrong_registration_code_is_a_clear_error),
        case!(verification_cert_from_another_key_is_a_clear_error),
        case!(duplicate_ca_is_a_clear_error),
        case!(deleting_an_active_ca_is_refused_until_deactivated),
        case!(sni_only_mode_needs_no_verification_cert),
        case!(emulator_reset_wipes_registrations),
    ]
}

async fn register_ca_activates_with_auto_registration_and_rerun_reconciles(env: &Env) -> CaseResult {
    let (test_ca, ca_id) = register_test_ca(env, "reconcile").await?;
    let info = ca::require_ca(&env.ctx, &ca_id).await.map_err(fail("describe"))?;
    ensure(info.status == "ACTIVE" && info.auto_registration == "ENABLE", || format!("after register: {info:?}"))?;
    ensure(info.mode == "DEFAULT", || format!("mode: {info:?}"))?;
    ensure(ca_id == keyline_cloud::cert_pem::parse_cert_pem(&test_ca.cert_pem(), "ca").unwrap().id, || "CA id is not SHA-256 of DER".into())?;

    ca::set_ca_status(&env.ctx, &ca_id, false).await.map_err(fail("deactivate"))?;
    ca::set_auto_registration(&env.ctx, &ca_id, false).await.map_err(fail("disable auto-registration"))?;
    let drifted = ca::require_ca(&env.ctx, &ca_id).await.map_err(fail("describe"))?;
    ensure(drifted.status == "INACTIVE" && drifted.auto_registration == "DISABLE", || format!("after deactivate: {drifted:?}"))?;

    // Re-running needs no verification certificate when the CA is already there.
    let request = RegisterCaRequest { ca_cert_pem: test_ca.cert_pem(), verification_cert_pem: None, mode: CaMode::Default, auto_registration: true };
    let again = ca::register_ca(&env.ctx, &request).await.map_err(fail("register again"))?;
    ensure(again.already_registered && again.changes.len() == 2, || format!("re-run report: {again:?}"))?;
    ensure(again.ca.status == "ACTIVE" && again.ca.auto_registration == "ENABLE", || format!("after re-run: {again:?}"))?;
    let third = ca::register_ca(&env.ctx, &request).await.map_err(fail("register a third time"))?;
    ensure(third.changes.is_empty() && third.warnings.is_empty(), || format!("third run changed things: {third:?}"))?;
    let other_mode = RegisterCaRequest { mode: CaMode::SniOnly, ..request.clone() };
    let fourth = ca::register_ca(&env.ctx, &other_mode).await.map_err(fail("register in another mode"))?;
    ensure(fourth.warnings.len() == 1 && fourth.warnings[0].contains("DEFAULT mode"), || format!("mode warning: {fourth:?}"))?;
    let listed = ca::list_cas(&env.ctx).await.map_err(fail("list"))?;
    ensure(listed.len() == 1 && listed[0].ca_id == ca_id, || format!("list: {listed:?}"))
}

async fn wrong_registration_code_is_a_clear_error(env: &Env) -> CaseResult {
    let test_ca = TestCa::new(env.dir.path(), "wrongcode", "Keyline Wrong Code");
    let request = RegisterCaRequest {
        ca_cert_pem: test_ca.cert_pem(),
        verification_cert_pem: Some(test_ca.sign_leaf("verification", &"0".repeat(64))),
        mode: CaMode::Default,
        auto_registration: true,
    };
    match ca::register_ca(&env.ctx, &request).await {
        Err(err @ CloudError::WrongRegistrationCode { .. }) => {
            ensure(err.to_string().contains("registration code"), || format!("message: {err}"))
        }
        other => Err(format!("expected WrongRegistrationCode, got {other:?}")),
    }
}

async fn verification_cert_from_another_key_is_a_clear_error(env: &Env) -> CaseResult {
    let code = ca::registration_code(&env.ctx).await.map_err(fail("code"))?;
    let test_ca = TestCa::new(env.dir.path(), "victim", "Keyline Victim");
    // Another key under another name, and another key under the very same name.
    for (label, subject) in [("intruder", "Keyline Intruder"), ("lookalike", "Keyline Victim")] {
        let other_ca = TestCa::new(env.dir.path(), label, subject);
        let request = RegisterCaRequest {
            ca_cert_pem: test_ca.cert_pem(),
            verification_cert_pem: Some(other_ca.sign_leaf("verification", &code)),
            mode: CaMode::Default,
            auto_registration: true,
        };
        match ca::register_ca(&env.ctx, &request).await {
            Err(err @ CloudError::VerificationCertFromAnotherKey { .. }) => {
                ensure(err.to_string().contains("not signed by this CA's key"), || format!("message: {err}"))?
            }
            other => return Err(format!("{label}: expected VerificationCertFromAnotherKey, got {other:?}")),
        }
    }
    Ok(())
}

async fn duplicate_ca_is_a_clear_error(env: &Env) -> CaseResult {
    let code = ca::registration_code(&env.ctx).await.map_err(fail("code"))?;
    let test_ca = TestCa::new(env.dir.path(), "dup", "Keyline Duplicate");
    let request = RegisterCaRequest {
        ca_cert_pem: test_ca.cert_pem(),
        verification_cert_pem: Some(test_ca.sign_leaf("verification", &code)),
        mode: CaMode::Default,
        auto_registration: true,
    };
    ca::register_ca_strict(&env.ctx, &request).await.map_err(fail("first registration"))?;
    match ca::register_ca_strict(&env.ctx, &request).await {
        Err(err @ CloudError::CaAlreadyRegistered { .. }) => {
            ensure(err.to_string().contains("already registered"), || format!("message: {err}"))
        }
        other => Err(format!("expected CaAlreadyRegistered, got {other:?}")),
    }
}

async fn deleting_an_active_ca_is_refused_until_deactivated(env: &Env) -> CaseResult {
    let (_test_ca, ca_id) = register_test_ca(env, "delete").await?;
    match ca::delete_ca(&env.ctx, &ca_id, false).await {
        Err(CloudError::CaStillActive { .. }) => {}
        other => return Err(format!("expected CaStillActive, got {other:?}")),
    }
    ensure(ca::describe_ca(&env.ctx, &ca_id).await.map_err(fail("describe"))?.is_some(), || "CA vanished".into())?;
    ca::set_ca_status(&env.ctx, &ca_id, false).await.map_err(fail("deactivate"))?;
    ca::delete_ca(&env.ctx, &ca_id, false).await.map_err(fail("delete inactive CA"))?;
    ensure(ca::describe_ca(&env.ctx, &ca_id).await.map_err(fail("describe"))?.is_none(), || "CA still registered".into())?;
    match ca::delete_ca(&env.ctx, &ca_id, false).await {
        Err(CloudError::CaNotRegistered { .. }) => Ok(()),
        other => Err(format!("expected CaNotRegistered on second delete, got {other:?}")),
    }
}

async fn sni_only_mode_needs_no_verification_cert(env: &Env) -> CaseResult {
    let test_ca = TestCa::new(env.dir.path(), "sni", "Keyline SNI Only");
    let request = RegisterCaRequest { ca_cert_pem: test_ca.cert_pem(), verification_cert_pem: None, mode: CaMode::SniOnly, auto_registration: true };
    let registration = ca::register_ca(&env.ctx, &request).await.map_err(fail("register SNI_ONLY"))?;
    ensure(registration.ca.mode == "SNI_ONLY" && registration.ca.status == "ACTIVE", || format!("{registration:?}"))?;
    let default_without = RegisterCaRequest { mode: CaMode::Default, ..request };
    let other = TestCa::new(env.dir.path(), "noverif", "Keyline No Verification");
    match ca::register_ca(&env.ctx, &RegisterCaRequest { ca_cert_pem: other.cert_pem(), ..default_without }).await {
        Err(CloudError::VerificationCertMismatch { .. }) => Ok(()),
        other => Err(format!("expected VerificationCertMismatch, got {other:?}")),
    }
}

async fn emulator_reset_wipes_registrations(env: &Env) -> CaseResult {
    register_test_ca(env, "wiped").await?;
    ensure(ca::list_cas(&env.ctx).await.map_err(fail("list"))?.len() == 1, || "CA not registered".into())?;
    env.server.emulator.reset().await.map_err(fail("reset"))?;
    let left = ca::list_cas(&env.ctx).await.map_err(fail("list after reset"))?;
    ensure(left.is_empty(), || format!("left after reset: {left:?}"))
}
