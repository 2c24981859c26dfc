//! CA key custody through the window's commands: the CA list says where each key is; a token CA (SoftHSM2, set up
//! by this test) unlocks with its PIN and says so on a wrong one; a root is taken offline to the file the save
//! dialog picked and restored from the file the open dialog picked, and a hostile path from the page is ignored.

mod common;

#[allow(dead_code)]
#[path = "../../certs/tests/support/softhsm.rs"]
mod softhsm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{dialogs_asked, harness_answering, invoke, Harness};
use keyline_station::ca::{CreateCa, NewKeyCustody};
use keyline_station::Passphrase;
use serde_json::{json, Value};
use softhsm::{SoftHsm, PIN};

const PASS: &str = "ipc custody passphrase";
const PROFILE: &str = "# the operator's shell profile\nexport PATH=/usr/bin\n";

/// One SoftHSM2 store for this test binary (the PKCS#11 module reads `SOFTHSM2_CONF` once per process), with its
/// tokens made before any test loads the module.
fn hsm() -> &'static SoftHsm {
    static HSM: OnceLock<SoftHsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let hsm = SoftHsm::new();
        hsm.init_token("line");
        hsm.init_token("desk");
        std::env::set_var("SOFTHSM2_CONF", &hsm.conf);
        hsm
    })
}

/// `~/.bashrc` as far as the page knows: a path it wants written or read.
fn hostile(h: &Harness) -> PathBuf {
    let path = h.dir.path().join(".bashrc");
    std::fs::write(&path, PROFILE).unwrap();
    path
}

fn custody_of(h: &Harness, name: &str) -> Value {
    let cas = invoke(h, "list_cas", json!({})).unwrap();
    let ca = cas.as_array().unwrap().iter().find(|ca| ca["name"] == name).unwrap_or_else(|| panic!("{name} in {cas}"));
    ca["keyCustody"].clone()
}

fn openssl_reads_key(path: &Path, passphrase: &str) -> String {
    let out = Command::new("openssl")
        .args(["pkey", "-in", path.to_str().unwrap(), "-passin", &format!("pass:{passphrase}"), "-pubout"])
        .output()
        .expect("openssl runs (apt-get install openssl)");
    assert!(out.status.success(), "openssl pkey: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_root_goes_offline_to_the_picked_file_and_comes_back_from_the_picked_key() {
    let keep = tempfile::tempdir().unwrap();
    let exported = keep.path().join("root-offline.key");
    let h = harness_answering([Some(exported.clone()), None, Some(exported.clone()), Some(exported.clone()), Some(exported.clone())]);
    let bashrc = hostile(&h);
    let request = CreateCa { name: "root".into(), org: "Acme".into(), signer: Some("signer".into()), years: 2 };
    h.station.create_ca(request, &Passphrase::from(PASS)).unwrap();
    assert_eq!(custody_of(&h, "root"), json!({ "kind": "file" }));
    let root_key = h.station.data_dir().join("keys/root.key");

    // A wrong passphrase: refused before anything is written, even though a file was picked.
    let wrong = invoke(&h, "take_root_offline", json!({ "name": "root", "passphrase": "not the passphrase", "path": bashrc })).unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase", "{wrong}");
    assert!(!exported.exists() && root_key.exists());
    // The user cancels the save dialog: nothing changes.
    let cancelled = invoke(&h, "take_root_offline", json!({ "name": "root", "passphrase": PASS, "path": bashrc })).unwrap();
    assert_eq!(cancelled, Value::Null);
    assert!(root_key.exists());
    // Taken offline: the key is in the picked file only (openssl reads it with the passphrase), never the page's path.
    let done = invoke(&h, "take_root_offline", json!({ "name": "root", "passphrase": PASS, "path": bashrc })).unwrap();
    assert_eq!(done["exportedTo"], json!(exported));
    assert!(!root_key.exists(), "the key is no longer on the station");
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), PROFILE, "the page's path was written");
    let public = openssl_reads_key(&exported, PASS);
    assert!(public.contains("PUBLIC KEY"), "{public}");
    assert_eq!(custody_of(&h, "root"), json!({ "kind": "offline" }));
    assert_eq!(custody_of(&h, "signer"), json!({ "kind": "file" }));
    let asked = dialogs_asked(&h);
    assert_eq!((asked[0].file_name.as_str(), asked[0].extensions.clone()), ("root-root.key", vec!["key".to_string(), "pem".to_string()]));

    // An offline root cannot be unlocked, nor taken offline again; its signer still unlocks.
    let refused = invoke(&h, "unlock_ca", json!({ "name": "root", "passphrase": PASS, "remember": false })).unwrap_err();
    assert_eq!(refused["code"], "root_offline", "{refused}");
    assert_eq!(invoke(&h, "unlock_ca", json!({ "name": "signer", "passphrase": PASS, "remember": false })).unwrap()["keyStatus"], "unlocked");

    // Restore reads only a file picked for it: a path, an unknown handle or a file picked for flashing is refused.
    for key in [json!(bashrc), json!(7)] {
        assert!(invoke(&h, "restore_root", json!({ "name": "root", "key": key, "passphrase": PASS })).is_err(), "{key}");
    }
    let flash = invoke(&h, "pick_file", json!({ "purpose": "flashImage" })).unwrap();
    let other = invoke(&h, "restore_root", json!({ "name": "root", "key": flash["handle"], "passphrase": PASS })).unwrap_err();
    assert!(other["message"].as_str().unwrap().contains("not chosen"), "a file picked for flashing is not a root key: {other}");
    let picked = invoke(&h, "pick_file", json!({ "purpose": "rootKey" })).unwrap();
    assert_eq!(picked["name"], "root-offline.key");
    assert!(!picked.to_string().contains(keep.path().to_str().unwrap()), "the folder stays in the shell: {picked}");
    let handle = picked["handle"].clone();
    let wrong = invoke(&h, "restore_root", json!({ "name": "root", "key": handle, "passphrase": "not the passphrase" })).unwrap_err();
    assert_eq!(wrong["code"], "wrong_passphrase", "{wrong}");
    assert_eq!(custody_of(&h, "root"), json!({ "kind": "offline" }));
    let restored = invoke(&h, "restore_root", json!({ "name": "root", "key": handle, "passphrase": PASS })).unwrap();
    assert_eq!((restored["keyCustody"].clone(), restored["keyStatus"].clone()), (json!({ "kind": "file" }), json!("unlocked")));
    assert!(root_key.exists());
    // The restored root issues a new signer again.
    h.station.create_signer("root", "signer2", 1, &Passphrase::from(PASS)).unwrap();
    assert_eq!(std::fs::read_to_string(&bashrc).unwrap(), PROFILE);
    assert_eq!(dialogs_asked(&h)[4].extensions, ["key", "pem"]);
}

#[test]
fn a_token_ca_shows_its_token_and_unlocks_with_its_pin() {
    let hsm = hsm();
    let keep = tempfile::tempdir().unwrap();
    let h = harness_answering([Some(keep.path().join("token-root.key"))]);
    let pin = Passphrase::from(PIN);
    let custody = NewKeyCustody::Token { module: hsm.module.clone(), token: "line".into(), pin: &pin };
    let request = CreateCa { name: "troot".into(), org: "Acme".into(), signer: Some("tsigner".into()), years: 2 };
    h.station.create_ca_in(request, None, &custody, &mut |_| {}).unwrap();
    invoke(&h, "lock_ca", json!({ "name": "tsigner", "forget": false })).unwrap();

    let expected = json!({ "kind": "token", "module": hsm.module, "token": "line", "keyLabel": "tsigner" });
    assert_eq!(custody_of(&h, "tsigner"), expected);

    let wrong = invoke(&h, "unlock_ca", json!({ "name": "tsigner", "passphrase": "000000", "remember": false })).unwrap_err();
    assert_eq!(wrong["code"], "token_wrong_pin", "{wrong}");
    assert!(wrong["message"].as_str().unwrap().contains("refused the PIN"), "{wrong}");
    let cas = invoke(&h, "list_cas", json!({})).unwrap();
    assert!(cas.as_array().unwrap().iter().any(|ca| ca["name"] == "tsigner" && ca["keyStatus"] == "locked"), "{cas}");
    let unlocked = invoke(&h, "unlock_ca", json!({ "name": "tsigner", "passphrase": PIN, "remember": false })).unwrap();
    assert_eq!(unlocked["keyStatus"], "unlocked");

    // A token root's key cannot leave the token: refused before the save dialog opens, and no file is created.
    let refused = invoke(&h, "take_root_offline", json!({ "name": "troot", "passphrase": PIN })).unwrap_err();
    assert_eq!(refused["code"], "invalid_input", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("PKCS#11 token"), "{refused}");
    assert!(!keep.path().join("token-root.key").exists());
    assert!(dialogs_asked(&h).is_empty(), "no save dialog for a key that cannot be saved: {:?}", dialogs_asked(&h).len());
    // Nor for a signer.
    let signer = invoke(&h, "take_root_offline", json!({ "name": "tsigner", "passphrase": PIN })).unwrap_err();
    assert!(signer["message"].as_str().unwrap().contains("only a root CA"), "{signer}");
    assert!(dialogs_asked(&h).is_empty());
}

#[test]
fn a_ca_is_created_in_a_token_whose_library_the_user_picked() {
    let hsm = hsm();
    let h = harness_answering([Some(hsm.module.clone())]);
    let request = json!({ "name": "droot", "org": "Acme", "signer": "dsigner", "years": 2 });
    let body = |module: Value, pin: &str| json!({ "request": request, "module": module, "token": "desk", "pin": pin, "remember": false, "onEvent": "__CHANNEL__:5" });

    // The library is a file the user picked for it: a path from the page (a hostile library) or an unknown handle is
    // refused before anything is loaded.
    let hostile_library = h.dir.path().join("evil.so");
    std::fs::write(&hostile_library, b"not a library").unwrap();
    for module in [json!(hostile_library), json!(9)] {
        assert!(invoke(&h, "create_ca_in_token", body(module.clone(), PIN)).is_err(), "{module}");
    }
    let picked = invoke(&h, "pick_file", json!({ "purpose": "pkcs11Module" })).unwrap();
    assert_eq!(picked["name"], "libsofthsm2.so");
    let handle = picked["handle"].clone();

    let wrong = invoke(&h, "create_ca_in_token", body(handle.clone(), "000000")).unwrap_err();
    assert_eq!(wrong["code"], "token_wrong_pin", "{wrong}");
    assert_eq!(invoke(&h, "list_cas", json!({})).unwrap(), json!([]), "nothing is stored after a refused PIN");

    let created = invoke(&h, "create_ca_in_token", body(handle, PIN)).unwrap();
    assert_eq!(created.as_array().unwrap().len(), 2, "{created}");
    for ca in created.as_array().unwrap() {
        assert_eq!(ca["keyCustody"], json!({ "kind": "token", "module": hsm.module, "token": "desk", "keyLabel": ca["name"] }));
    }
    let steps: Vec<String> = common::messages_on(&h, 5).iter().filter(|m| m["event"] == "step").map(|m| m["data"]["step"].as_str().unwrap().to_string()).collect();
    let plan: Vec<String> = keyline_station::ca::CaStep::create_plan_remembering(true, false).iter().map(|step| step.id().to_string()).collect();
    assert_eq!(steps, plan, "each real step is reported");
    assert_eq!(std::fs::read_dir(h.station.data_dir().join("keys")).unwrap().count(), 0, "no key file: the keys are in the token");
    assert_eq!(dialogs_asked(&h)[0].extensions, ["so", "dylib", "dll"]);
}
