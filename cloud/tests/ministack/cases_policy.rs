//! The device policy under policy enforcement (ministack `AUTH=true`): a device gets in only as its own thing
//! name and can use only its own topics. Cases here are named `enforced_*`; the harness starts their emulator
//! with enforcement on.
//!
//! Under enforcement ministack checks the Lambda's `iot:AttachPolicy` against `*` instead of the certificate, so
//! Keyline's least-privilege Lambda role cannot attach the policy there; this case performs the Lambda's steps
//! as the operator, in the Lambda's order, and tests what the device can then do.

use std::time::Duration;

use keyline_cloud::mqtt::{issue_device_identity, random_serial, test_connect, ConnectTest, DeviceIdentity, ServerTrust};
use keyline_cloud::{devices, jitr};

use crate::server::MQTT_PORT;
use crate::{case, ensure, fail, register_test_ca, Case, CaseResult, Env};

pub fn cases() -> Vec<(&'static str, Case)> {
    vec![case!(enforced_device_policy_allows_only_the_own_client_id_and_topics)]
}

async fn connect(env: &Env, device: DeviceIdentity, chain: String, topic_prefix: &str, attempts: u32) -> Result<keyline_cloud::mqtt::ConnectReport, String> {
    let test = ConnectTest {
        endpoint: env.ctx.data_ats_endpoint().await.map_err(fail("endpoint"))?,
        port: 8883,
        address_override: Some(format!("127.0.0.1:{MQTT_PORT}")),
        device,
        chain_pems: vec![chain],
        server_trust: ServerTrust::Pem(env.server.broker_ca_pem().await?),
        max_attempts: attempts,
        first_backoff: Duration::from_millis(300),
        topic_prefix: topic_prefix.to_string(),
    };
    test_connect(&test).await.map_err(fail("test-connect"))
}

async fn enforced_device_policy_allows_only_the_own_client_id_and_topics(env: &Env) -> CaseResult {
    let (test_ca, ca_id) = register_test_ca(env, "enforced").await?;
    jitr::deploy(&env.ctx, &jitr::DeployRequest { ca_id: ca_id.clone(), ..Default::default() }).await.map_err(fail("deploy"))?;
    let device = issue_device_identity(&test_ca.cert_pem(), &test_ca.key_pkcs8_pem(), &random_serial()).map_err(fail("issue"))?;

    // First connect: JITR registers the certificate PENDING_ACTIVATION.
    let first = connect(env, device.clone(), test_ca.cert_pem(), "keyline", 1).await?;
    ensure(!first.connected, || format!("a pending certificate got in: {first:#?}"))?;
    let pending = devices::describe_device(&env.ctx, &device.certificate_id).await.map_err(fail("describe"))?;
    let pending = pending.ok_or("JITR did not register the certificate")?;

    // The Lambda's steps, activation last.
    let names = jitr::StackNames::for_ca(&ca_id);
    let iot = &env.ctx.iot;
    iot.create_thing().thing_name(&device.serial).send().await.map_err(fail("CreateThing"))?;
    iot.attach_thing_principal().thing_name(&device.serial).principal(&pending.arn).send().await.map_err(fail("AttachThingPrincipal"))?;
    iot.attach_policy().policy_name(&names.device_policy).target(&pending.arn).send().await.map_err(fail("AttachPolicy"))?;
    devices::activate_device(&env.ctx, &device.certificate_id).await.map_err(fail("activate"))?;

    let own = connect(env, device.clone(), test_ca.cert_pem(), "keyline", 3).await?;
    ensure(own.connected && own.round_trip, || format!("the device could not use its own topic: {own:#?}"))?;

    let foreign_topic = connect(env, device.clone(), test_ca.cert_pem(), "elsewhere", 1).await?;
    ensure(foreign_topic.connected && !foreign_topic.round_trip, || format!("a foreign topic worked: {foreign_topic:#?}"))?;

    let impostor = DeviceIdentity { serial: random_serial(), ..device };
    let other_id = connect(env, impostor, test_ca.cert_pem(), "keyline", 1).await?;
    ensure(!other_id.connected, || format!("connected under another client id: {other_id:#?}"))
}
