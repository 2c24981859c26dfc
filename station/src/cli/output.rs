//! Printing results: JSON on stdout with `--json`, readable text otherwise; errors on stderr.

use keyline_station::ca::{CaDetails, CaSummary, KeyStatus};
use keyline_station::ErrorReport;
use serde::Serialize;

/// Print `value` as JSON, or `text()` as text.
pub fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(out) => println!("{out}"),
            Err(error) => eprintln!("error: cannot encode the result as JSON: {error}"),
        }
    } else {
        print!("{}", text());
    }
}

/// Report an error: `{"error": {...}}` on stdout with `--json`, always a message and hint on stderr.
pub fn print_error(json: bool, report: &ErrorReport) {
    if json {
        println!("{}", serde_json::json!({ "error": report }));
    }
    eprintln!("error: {}\nhint: {}", report.message, report.hint);
}

fn key_status(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Locked => "locked (passphrase needed)",
        KeyStatus::Unlocked => "unlocked in this process",
        KeyStatus::Remembered => "passphrase remembered in the OS keyring",
    }
}

/// Several lines describing one CA.
pub fn summary_text(ca: &CaSummary) -> String {
    let role = match ca.role {
        keyline_station::ca::CaRole::Root => "root",
        keyline_station::ca::CaRole::Signer => "signer",
    };
    let expiry = if ca.days_until_expiry < 0 {
        format!("EXPIRED {} days ago", -ca.days_until_expiry)
    } else {
        format!("{} days left", ca.days_until_expiry)
    };
    let chain: Vec<String> = ca
        .chain
        .iter()
        .map(|link| link.name.clone().unwrap_or_else(|| format!("[not in store: {}]", link.subject)))
        .collect();
    let issuer = match &ca.issuer_name {
        Some(name) => format!("{} ({name})", ca.issuer),
        None => ca.issuer.clone(),
    };
    format!(
        "{name} ({role})\n  subject:  {subject}\n  issuer:   {issuer}\n  valid:    {from} to {to} ({expiry})\n  sha256:   {sha256}\n  sha1:     {sha1}\n  key:      {key}\n  custody:  {custody}\n  chain:    {chain}\n",
        name = ca.name,
        subject = ca.subject,
        from = ca.not_before,
        to = ca.not_after,
        sha256 = ca.sha256,
        sha1 = ca.sha1,
        key = key_status(ca.key_status),
        custody = custody_text(&ca.key_custody),
        chain = chain.join(" -> "),
    )
}

/// Where the key is, as `ca list` and `ca show` print it.
fn custody_text(custody: &keyline_station::ca::KeyCustody) -> String {
    match custody {
        keyline_station::ca::KeyCustody::File => "encrypted file on this station".into(),
        keyline_station::ca::KeyCustody::Token { module, token, key_label } => {
            format!("in PKCS#11 token \"{token}\" (key \"{key_label}\", module {})", module.display())
        }
        keyline_station::ca::KeyCustody::Offline => "OFFLINE: the root key is not on this station (`ca restore-root` brings it back)".into(),
    }
}

/// `ca show` text.
pub fn details_text(ca: &CaDetails) -> String {
    let mut text = summary_text(&ca.summary);
    text.push_str(&format!(
        "  serial:   {}\n  signature: {}\n  public key: {}\n  extensions:\n",
        ca.serial, ca.signature_algorithm, ca.public_key
    ));
    for ext in &ca.extensions {
        let critical = if ext.critical { " (critical)" } else { "" };
        text.push_str(&format!("    {}{critical}: {}\n", ext.name, ext.value));
    }
    text
}
