//! IPC tests of the Device template screen's commands: a CA made through the station, then
//! `device_template` over Tauri's mock runtime (saving is in `ipc_files.rs`).

mod common;

use common::{invoke, window_over, Harness};
use keyline_station::ca::CreateCa;
use keyline_station::{Passphrase, Station};
use serde_json::json;

/// A window over a store holding root CA `root` and its signer `signer`, both locked (created by
/// another station, as the CLI would, so this session holds no passphrase).
fn harness_with_cas() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let creator = Station::open(dir.path().to_path_buf()).unwrap();
    let request = CreateCa { name: "root".into(), org: "Acme Devices".into(), signer: Some("signer".into()), years: 5 };
    creator.create_ca(request, &Passphrase::from("ipc template passphrase")).unwrap();
    drop(creator);
    let data = dir.path().to_path_buf();
    window_over(dir, data, false)
}

#[test]
fn device_template_returns_cert_chain_c_for_a_locked_signer() {
    let h = harness_with_cas();
    let cas = invoke(&h, "list_cas", json!({})).unwrap();
    assert!(cas.as_array().unwrap().iter().all(|ca| ca["keyStatus"] == "locked"), "the CAs are locked: {cas}");

    for profile in ["rainbowtype", "esp-cryptoauthlib"] {
        let template = invoke(&h, "device_template", json!({ "ca": "signer", "profile": profile })).unwrap();
        assert_eq!(template["profile"], profile);
        assert_eq!(template["signer"], "signer");
        let source = template["certChainC"].as_str().unwrap();
        let header = template["certChainH"].as_str().unwrap();
        assert!(source.contains("g_cert_def_2_device"), "{profile}: cert_chain.c defines g_cert_def_2_device");
        assert!(source.contains("g_cert_def_1_signer"), "{profile}: cert_chain.c defines g_cert_def_1_signer");
        assert!(header.contains("g_cert_def_2_device"), "{profile}: the header declares g_cert_def_2_device");

        let slots = template["slotMap"].as_array().unwrap();
        assert!(slots.iter().any(|row| row["contents"] == "device compressed certificate" && row["count"] == 72), "{profile}: slot map has the 72-byte device compressed certificate");
        let fields = template["templateFields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["certificate"] == "device" && f["element"] == "STDCERT_PUBLIC_KEY" && f["count"] == 64), "{profile}: device public key field");
        assert_eq!(template["signerCertDefString"].is_string(), profile == "esp-cryptoauthlib", "{profile}: cert-def string only for Espressif");
    }

    let rainbowtype = invoke(&h, "device_template", json!({ "ca": "signer", "profile": "rainbowtype" })).unwrap();
    let source = rainbowtype["certChainC"].as_str().unwrap();
    assert!(source.contains("\natcacert_def_t g_cert_def_2_device"), "rainbowtype keeps g_cert_def_2_device non-const");
    assert!(rainbowtype["slotMap"].as_array().unwrap().iter().any(|row| row["slot"] == 15 && row["contents"].as_str().unwrap().contains("root CA public key")));
}

#[test]
fn device_template_refusals_are_coded_reports() {
    let h = harness_with_cas();
    let unknown_profile = invoke(&h, "device_template", json!({ "ca": "signer", "profile": "arduino" })).unwrap_err();
    assert_eq!(unknown_profile["code"], "invalid_input");
    assert!(unknown_profile["message"].as_str().unwrap().contains("arduino"));
    assert!(!unknown_profile["hint"].as_str().unwrap().is_empty());

    // A plain signer's serial and key identifiers do not follow TrustFLEX's slot layout.
    let misfit = invoke(&h, "device_template", json!({ "ca": "signer", "profile": "trustflex" })).unwrap_err();
    assert_eq!(misfit["code"], "invalid_input");
    assert!(misfit["message"].as_str().unwrap().contains("trustflex"), "{misfit}");

    let unknown_ca = invoke(&h, "device_template", json!({ "ca": "missing", "profile": "trustflex" })).unwrap_err();
    assert_eq!(unknown_ca["code"], "not_found");
    assert!(unknown_ca["message"].as_str().unwrap().contains("missing"));
}
