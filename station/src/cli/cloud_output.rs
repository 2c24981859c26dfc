//! Text output of `keyline cloud ...` (the `--json` form is the serialised result itself).

use keyline_station::cloud_ops::{
    CaInfo, CallerIdentity, Change, ConnectReport, Emulator, Health, JoinedDevice, JoinedSummary, PieceChange, RegisterCaOutcome,
    StackStatus, MINISTACK_VERSION,
};

/// `identity`.
pub fn identity(identity: &CallerIdentity) -> String {
    let target = if identity.emulator { "LOCAL EMULATOR (not AWS)" } else { "AWS" };
    format!(
        "{target}\n  account:  {}\n  identity: {}\n  region:   {}\n  endpoint: {}\n",
        identity.account,
        identity.arn,
        identity.region,
        identity.endpoint_url.as_deref().unwrap_or("(AWS default)")
    )
}

/// `register-ca`.
pub fn registration(outcome: &RegisterCaOutcome) -> String {
    let ca = &outcome.registration.ca;
    let mut text = if outcome.registration.already_registered {
        format!("CA {} was already registered as {}\n", outcome.ca_name, ca.ca_id)
    } else {
        format!("Registered CA {} as {}\n", outcome.ca_name, ca.ca_id)
    };
    if let Some(code) = &outcome.registration_code {
        text.push_str(&format!("  registration code: {code} (verification certificate CN)\n"));
    }
    for change in &outcome.registration.changes {
        text.push_str(&format!("  {change}\n"));
    }
    for warning in &outcome.registration.warnings {
        text.push_str(&format!("  warning: {warning}\n"));
    }
    text.push_str(&format!("  status: {}, auto-registration: {}, mode: {}\n", ca.status, ca.auto_registration, ca.mode));
    text
}

/// `ca list` / `ca show`; `names` maps AWS ids to store names.
pub fn ca_list(cas: &[CaInfo], names: &[(String, String)]) -> String {
    if cas.is_empty() {
        return "No CA is registered in this account and region.\n".into();
    }
    cas.iter()
        .map(|ca| {
            let name = names.iter().find(|(id, _)| *id == ca.ca_id).map(|(_, name)| name.as_str()).unwrap_or("(not in the store)");
            format!("{}  {name}\n  status: {}, auto-registration: {}, mode: {}\n", ca.ca_id, ca.status, ca.auto_registration, ca.mode)
        })
        .collect()
}

fn change_word(change: Change) -> &'static str {
    match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Unchanged => "unchanged",
        Change::Deleted => "deleted",
        Change::Absent => "absent",
    }
}

/// `jitr deploy|remove`, `jitp deploy`.
pub fn changes(changes: &[PieceChange]) -> String {
    changes.iter().map(|c| format!("{:<10} {:<22} {}\n", change_word(c.change), c.piece, c.name)).collect()
}

/// `jitr status`.
pub fn stack_status(status: &StackStatus) -> String {
    let mut text = format!("JITR stack for CA {}\n", status.names.ca_id);
    for piece in &status.pieces {
        let health = match &piece.health {
            Health::Ok => "ok".to_string(),
            Health::Missing => "MISSING".to_string(),
            Health::Drifted(detail) => format!("DRIFTED: {detail}"),
        };
        text.push_str(&format!("  {:<20} {:<34} {health}\n", piece.piece, piece.name));
    }
    text
}

/// `devices show|activate|revoke`.
pub fn device(joined: &JoinedDevice) -> String {
    let device = &joined.cloud;
    let ledger = match &joined.ledger {
        Some(known) => format!("device {} ({} profile, CA {}, {})", known.serial, known.profile, known.ca_name, known.status),
        None => "not in this station's ledger".into(),
    };
    format!(
        "{}\n  serial:   {}\n  status:   {}\n  CA:       {}\n  things:   {}\n  policies: {}\n  ledger:   {ledger}\n",
        device.certificate_id,
        device.serial.as_deref().unwrap_or("-"),
        device.status,
        device.ca_id.as_deref().unwrap_or("-"),
        device.things.join(", "),
        device.policies.join(", ")
    )
}

/// `devices list`: certificate id, cloud status, and the ledger's serial and profile when known.
pub fn joined_list(devices: &[JoinedSummary]) -> String {
    if devices.is_empty() {
        return "No device certificates are registered under this CA.\n".into();
    }
    devices
        .iter()
        .map(|d| {
            let (serial, profile) = match &d.ledger {
                Some(known) => (known.serial.as_str(), known.profile.as_str()),
                None => ("(not in ledger)", "-"),
            };
            format!("{}  {:<18}  {:<18}  {}\n", d.cloud.certificate_id, d.cloud.status, serial, profile)
        })
        .collect()
}

/// `test-connect`.
pub fn connect_report(report: &ConnectReport) -> String {
    let mut text = format!(
        "Device {} (certificate {})\n  endpoint {} via {}\n",
        report.serial, report.certificate_id, report.endpoint, report.address
    );
    for phase in &report.phases {
        text.push_str(&format!("  {:<22} {:>6} ms  {}\n", phase.name, phase.millis, phase.detail));
    }
    let verdict = match (report.connected, report.round_trip) {
        (true, true) => "PASS: the device connected, published and received",
        (true, false) => "FAIL: connected, but the message did not come back",
        _ => "FAIL: the device never connected",
    };
    text.push_str(verdict);
    text.push('\n');
    text
}

/// `emulator`.
pub fn emulator(emulator: &Emulator) -> String {
    format!(
        "Local AWS emulator (ministack {}) running: THIS IS NOT AWS.\n  endpoint: {}\n  MQTT:     {}\n  log:      {}\n\
         Use it from another terminal with `keyline cloud --emulator ...`. Ctrl-C stops it.\n",
        MINISTACK_VERSION,
        emulator.endpoint_url(),
        emulator.mqtt_address(),
        emulator.log_path().display()
    )
}
