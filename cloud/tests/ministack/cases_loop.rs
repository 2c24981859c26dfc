//! The full loop against ministack: register the CA, deploy JITR with the allow-list, sync the allow-list, and
//! connect like a device. The first connect is turned away, the Keyline Lambda activates the certificate, the
//! reconnect publishes and receives. A device that is not on the allow-list ends REVOKED and never connects.

use std::time::Duration;

use keyline_cloud::mqtt::{issue_device_identity, random_serial, test_connect, AttemptOutcome, ConnectTest, DeviceIdentity, ServerTrust};
use keyline_cloud::{allow_list, ca, devices, jitr, CloudError};

use crate::server::MQTT_PORT;
use crate::{case, ensure, fail, register_test_ca, Case, CaseResult, Env};

pub fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(full_loop_allowed_device_activates_and_unknown_device_waits_inactive),
        case!(a_certificate_without_a_usable_serial_is_left_inactive),
        case!(a_device_that_connects_before_it_is_allowed_waits_and_connects_after_sync),
        case!(sni_only_ca_registers_devices_that_send_the_endpoint_as_sni),
    ]
}

async fn full_loop_allowed_device_activates_and_unknown_device_waits_inactive(env: &Env) -> CaseResult {
    let (test_ca, ca_id) = register_test_ca(env, "loop").await?;
    jitr::deploy(&env.ctx, &jitr::DeployRequest { ca_id: ca_id.clone(), allow_list: true, ..Default::default() })
        .await
        .map_err(fail("jitr deploy"))?;

    let allowed = issue_device_identity(&test_ca.cert_pem(), &test_ca.key_pkcs8_pem(), &random_serial()).map_err(fail("issue device"))?;
    ensure(test_ca.verifies(&allowed.cert_pem), || "openssl does not verify the issued device certificate".into())?;
    let serials_file = env.dir.path().join("allowed.txt");
    std::fs::write(&serials_file, format!("{}\n", allowed.serial)).map_err(fail("write serials"))?;
    let serials = allow_list::read_serials_file(&serials_file).map_err(fail("read serials"))?;
    allow_list::sync(&env.ctx, &ca_id, &serials, "file", false).await.map_err(fail("allow-list sync"))?;

    let endpoint = env.ctx.data_ats_endpoint().await.map_err(fail("endpoint"))?;
    ensure(endpoint.contains("-ats.iot."), || format!("unexpected endpoint {endpoint}"))?;
    let broker_ca = env.server.broker_ca_pem().await?;
    let test = ConnectTest {
        endpoint: endpoint.clone(),
        port: 8883,
        address_override: Some(format!("127.0.0.1:{MQTT_PORT}")),
        device: allowed.clone(),
        chain_pems: vec![test_ca.cert_pem()],
        server_trust: ServerTrust::Pem(broker_ca.clone()),
        max_attempts: 8,
        first_backoff: Duration::from_millis(500),
        topic_prefix: jitr::policy::DEFAULT_TOPIC_PREFIX.to_string(),
    };
    let report = test_connect(&test).await.map_err(fail("test-connect"))?;
    ensure(report.first_attempt_turned_away(), || format!("first connect was not turned away: {report:#?}"))?;
    ensure(matches!(report.attempts[0], AttemptOutcome::ClosedWithoutConnack(_)), || format!("JITR should close without CONNACK: {report:#?}"))?;
    ensure(report.connected && report.round_trip, || format!("device never worked: {report:#?}"))?;

    let device = devices::find_device(&env.ctx, &allowed.serial).await.map_err(fail("find device by serial"))?;
    ensure(device.certificate_id == allowed.certificate_id, || format!("wrong certificate: {device:?}"))?;
    ensure(device.status == "ACTIVE", || format!("status: {device:?}"))?;
    ensure(device.things == [allowed.serial.clone()], || format!("thing: {device:?}"))?;
    let names = jitr::StackNames::for_ca(&ca_id);
    ensure(device.policies == [names.device_policy.clone()], || format!("policy: {device:?}"))?;
    ensure(device.serial.as_deref() == Some(allowed.serial.as_str()), || format!("serial: {device:?}"))?;
    let by_id = devices::find_device(&env.ctx, &allowed.certificate_id).await.map_err(fail("find device by id"))?;
    ensure(by_id == device, || "lookup by id and by serial differ".into())?;

    // A device the allow-list does not know is left INACTIVE by the Lambda (not REVOKED) and does not get in.
    let stranger = issue_device_identity(&test_ca.cert_pem(), &test_ca.key_pkcs8_pem(), &random_serial()).map_err(fail("issue stranger"))?;
    let stranger_test = ConnectTest { device: stranger.clone(), max_attempts: 4, ..test.clone() };
    let report = test_connect(&stranger_test).await.map_err(fail("stranger test-connect"))?;
    ensure(!report.connected, || format!("unknown device connected: {report:#?}"))?;
    let mut status = String::new();
    for _ in 0..20 {
        status = devices::describe_device(&env.ctx, &stranger.certificate_id)
            .await
            .map_err(fail("describe stranger"))?
            .map(|d| d.status)
            .unwrap_or_default();
        if status == "INACTIVE" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ensure(status == "INACTIVE", || format!("unknown device ended {status:?}, not INACTIVE"))?;
    let listed = devices::list_devices_of_ca(&env.ctx, &ca_id).await.map_err(fail("list devices"))?;
    ensure(listed.len() == 2, || format!("devices under the CA: {listed:?}"))?;

    // The CA cannot go while devices remain; --force deactivates it and deletes them (detaching thing and policy).
    match ca::delete_ca(&env.ctx, &ca_id, false).await {
        Err(CloudError::CaHasDeviceCertificates { count: 2, .. }) => {}
        other => return Err(format!("expected CaHasDeviceCertificates, got {other:?}")),
    }
    ca::delete_ca(&env.ctx, &ca_id, true).await.map_err(fail("forced delete"))?;
    ensure(ca::describe_ca(&env.ctx, &ca_id).await.map_err(fail("describe"))?.is_none(), || "CA still registered".into())?;
    ensure(devices::describe_device(&env.ctx, &allowed.certificate_id).await.map_err(fail("describe"))?.is_none(), || "device certificate left".into())
}

async fn a_certificate_without_a_usable_serial_is_left_inactive(env: &Env) -> CaseResult {
    let (test_ca, ca_id) = register_test_ca(env, "nocn").await?;
    jitr::deploy(&env.ctx, &jitr::DeployRequest { ca_id, allow_list: false, ..Default::default() }).await.map_err(fail("deploy"))?;
    // openssl makes a device certificate whose CN cannot be a thing name.
    let cert_pem = test_ca.sign_leaf("badcn", "not a serial!");
    let key_pem = std::fs::read_to_string(env.dir.path().join("nocn-badcn.key.pem")).map_err(fail("key"))?;
    let parsed = keyline_cloud::cert_pem::parse_cert_pem(&cert_pem, "device").map_err(fail("parse"))?;
    let device = DeviceIdentity { serial: "badcn".into(), cert_pem, key_pem: key_pem.into(), certificate_id: parsed.id.clone() };
    let test = ConnectTest {
        endpoint: env.ctx.data_ats_endpoint().await.map_err(fail("endpoint"))?,
        port: 8883,
        address_override: Some(format!("127.0.0.1:{MQTT_PORT}")),
        device,
        chain_pems: vec![test_ca.cert_pem()],
        server_trust: ServerTrust::Pem(env.server.broker_ca_pem().await?),
        max_attempts: 3,
        first_backoff: Duration::from_millis(500),
        topic_prefix: jitr::policy::DEFAULT_TOPIC_PREFIX.to_string(),
    };
    let report = test_connect(&test).await.map_err(fail("test-connect"))?;
    ensure(!report.connected, || format!("connected without a serial: {report:#?}"))?;
    // The Lambda runs asynchronously (a cold start can take seconds): wait for its verdict.
    let mut status = None;
    for _ in 0..40 {
        status = devices::describe_device(&env.ctx, &parsed.id).await.map_err(fail("describe"))?.map(|d| d.status);
        if status.as_deref() == Some("INACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    ensure(status.as_deref() == Some("INACTIVE"), || format!("status {status:?}, expected INACTIVE"))
}

async fn sni_only_ca_registers_devices_that_send_the_endpoint_as_sni(env: &Env) -> CaseResult {
    use keyline_cloud::ca::{CaMode, RegisterCaRequest};
    let test_ca = crate::openssl::TestCa::new(env.dir.path(), "snionly", "Keyline SNI Signer");
    let request = RegisterCaRequest { ca_cert_pem: test_ca.cert_pem(), verification_cert_pem: None, mode: CaMode::SniOnly, auto_registration: true };
    let ca_id = ca::register_ca(&env.ctx, &request).await.map_err(fail("register SNI_ONLY"))?.ca.ca_id;
    match jitr::deploy(&env.ctx, &jitr::DeployRequest { ca_id: "0".repeat(64), ..Default::default() }).await {
        Err(CloudError::CaNotRegistered { .. }) => {}
        other => return Err(format!("deploy for an unknown CA: expected CaNotRegistered, got {other:?}")),
    }
    jitr::deploy(&env.ctx, &jitr::DeployRequest { ca_id, ..Default::default() }).await.map_err(fail("deploy"))?;
    let device = issue_device_identity(&test_ca.cert_pem(), &test_ca.key_pkcs8_pem(), &random_serial()).map_err(fail("issue"))?;
    let test = ConnectTest {
        endpoint: env.ctx.data_ats_endpoint().await.map_err(fail("endpoint"))?,
        // Port 443 offers ALPN x-amzn-mqtt-ca (ministack ignores it; the address override keeps its listener).
        port: 443,
        address_override: Some(format!("127.0.0.1:{MQTT_PORT}")),
        device,
        chain_pems: vec![test_ca.cert_pem()],
        server_trust: ServerTrust::Pem(env.server.broker_ca_pem().await?),
        max_attempts: 8,
        first_backoff: Duration::from_millis(500),
        topic_prefix: jitr::policy::DEFAULT_TOPIC_PREFIX.to_string(),
    };
    let report = test_connect(&test).await.map_err(fail("test-connect"))?;
    ensure(report.first_attempt_turned_away() && report.connected && report.round_trip, || format!("{report:#?}"))
}

async fn a_device_that_connects_before_it_is_allowed_waits_and_connects_after_sync(env: &Env) -> CaseResult {
    use keyline_cloud::waiting;
    let (test_ca, ca_id) = register_test_ca(env, "early").await?;
    jitr::deploy(&env.ctx, &jitr::DeployRequest { ca_id: ca_id.clone(), allow_list: true, ..Default::default() })
        .await
        .map_err(fail("jitr deploy"))?;
    let early = issue_device_identity(&test_ca.cert_pem(), &test_ca.key_pkcs8_pem(), &random_serial()).map_err(fail("issue"))?;
    let test = ConnectTest {
        endpoint: env.ctx.data_ats_endpoint().await.map_err(fail("endpoint"))?,
        port: 8883,
        address_override: Some(format!("127.0.0.1:{MQTT_PORT}")),
        device: early.clone(),
        chain_pems: vec![test_ca.cert_pem()],
        server_trust: ServerTrust::Pem(env.server.broker_ca_pem().await?),
        max_attempts: 3,
        first_backoff: Duration::from_millis(500),
        topic_prefix: jitr::policy::DEFAULT_TOPIC_PREFIX.to_string(),
    };
    let report = test_connect(&test).await.map_err(fail("early test-connect"))?;
    ensure(!report.connected, || format!("a device that is not allowed connected: {report:#?}"))?;
    let mut device = None;
    for _ in 0..20 {
        device = devices::describe_device(&env.ctx, &early.certificate_id).await.map_err(fail("describe"))?;
        if device.as_ref().is_some_and(|d| d.status == "INACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let device = device.ok_or("the early device never registered")?;
    ensure(waiting::is_waiting(&device), || format!("the early device is not waiting: {device:?}"))?;

    // Another CA's allow-list entry for the same serial does not count, and nothing happens before the sync.
    allow_list::ensure_table(&env.ctx, &"cd".repeat(32)).await.map_err(fail("other table"))?;
    allow_list::add(&env.ctx, &"cd".repeat(32), &early.serial).await.map_err(fail("other add"))?;
    ensure(waiting::activate_allowed(&env.ctx, &ca_id).await.map_err(fail("activate"))?.is_empty(), || "activated without being allowed".into())?;

    allow_list::sync(&env.ctx, &ca_id, std::slice::from_ref(&early.serial), "file", false).await.map_err(fail("sync"))?;
    let activated = waiting::activate_allowed(&env.ctx, &ca_id).await.map_err(fail("activate"))?;
    ensure(activated.len() == 1 && activated[0].certificate_id == early.certificate_id, || format!("activated: {activated:?}"))?;
    let device = devices::describe_device(&env.ctx, &early.certificate_id).await.map_err(fail("describe"))?.ok_or("gone")?;
    let names = jitr::StackNames::for_ca(&ca_id);
    ensure(device.status == "ACTIVE" && device.things == [early.serial.clone()] && device.policies == [names.device_policy], || format!("{device:?}"))?;
    let report = test_connect(&ConnectTest { max_attempts: 4, ..test }).await.map_err(fail("test-connect after sync"))?;
    ensure(report.connected && report.round_trip, || format!("the device did not connect after the sync: {report:#?}"))?;
    // An operator-deactivated device (thing and policy attached) is not "waiting": sync leaves it alone.
    devices::deactivate_device(&env.ctx, &early.certificate_id).await.map_err(fail("deactivate"))?;
    ensure(waiting::activate_allowed(&env.ctx, &ca_id).await.map_err(fail("activate"))?.is_empty(), || "re-activated a deactivated device".into())
}
