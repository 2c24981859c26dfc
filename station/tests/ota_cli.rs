//! `keyline ota` end to end: sign with a Keyline key, issue server/client/device certificates,
//! run `keyline ota serve`, boot a simulated bootloader against it and `keyline ota push` a
//! signed image until the device reports `updatecompleted`. Run inside `unshare -n`.
#![cfg(feature = "sim")]

#[path = "cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use keyline_certs::EcKey;
use keyline_ota::tls::{self, TlsIdentity};
use keyline_ota::{tokio, ImageBuilder, RsaPublic};
use keyline_sim::ota_bootloader::SimOtaBootloader;
use support::{Env, PASS};

const SERIAL: &str = "0123a1b2c3d4e5f6ee";

/// The device's TLS identity as the bootloader presents it: its key, its device certificate and the signer.
fn device_tls(env: &Env) -> Arc<tls::ClientConfig> {
    let key = EcKey::from_pem(&std::fs::read_to_string(env.path("device.key")).unwrap(), None).unwrap();
    // server.chain = server certificate, signer, root: the device is built with signer and root.
    let server_chain = std::fs::read_to_string(env.path("server.chain")).unwrap();
    let cas = &server_chain[server_chain.find("-----END CERTIFICATE-----").unwrap() + 26..];
    let chain = std::fs::read_to_string(env.path("device.crt")).unwrap() + cas;
    let identity = TlsIdentity::new(&chain, key.pkcs8_der().unwrap()).unwrap();
    tls::client_config(&identity, tls::roots_from_pem(cas).unwrap()).unwrap()
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl is needed: apt-get install openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `keyline ota serve` on a free loopback port with `extra` arguments; returns its URL.
fn serve(env: &Env, extra: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyline"))
        .args(["ota", "serve", "--listen", "127.0.0.1:0", "--ca", "signer"])
        .args(extra)
        .env("KEYLINE_DATA_DIR", &env.data)
        .env("KEYLINE_CA_PASSPHRASE", PASS)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let server = Server(child);
    let address = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("server said {line:?}")).to_owned();
    (server, format!("https://{address}"))
}

#[test]
fn a_signed_image_reaches_a_simulated_device_through_keyline_ota_serve() {
    let env = Env::new();
    env.create_root_and_signer();
    let p = |name: &str| env.path(name).display().to_string();

    // Images and the signing key.
    let unsigned = ImageBuilder::new("blink", "3.1.0").segment(0x4008_0000, (0..60_000u32).map(|i| (i * 7) as u8).collect()).build();
    std::fs::write(env.path("app.bin"), &unsigned).unwrap();
    let created = env.json(&["ota", "key", "create", "-o", &p("sb.key")]);
    assert_eq!(created["keyDigest"].as_str().unwrap().len(), 64);
    assert!(std::fs::read_to_string(env.path("sb.key")).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    env.ok(&["ota", "key", "export-public", "--key", &p("sb.key"), "-o", &p("sb.pub.pem")]);
    let signed = env.json(&["ota", "sign", "--key", &p("sb.key"), &p("app.bin"), "-o", &p("app.signed.bin")]);
    assert_eq!(signed["keyDigest"], created["keyDigest"]);
    let inspected = env.json(&["ota", "inspect", &p("app.signed.bin")]);
    assert_eq!(inspected["image"]["appDesc"]["projectName"], "blink");
    assert_eq!(inspected["signatureValid"], true);

    // TLS certificates from the project CA.
    let server_files = env.json(&["cert", "server", "--ca", "signer", "--host", "127.0.0.1", "-o", &p("server")]);
    assert_eq!(server_files["commonName"], "127.0.0.1");
    env.ok(&["cert", "client", "--ca", "signer", "--name", "operator-1", "-o", &p("operator")]);
    // The device: a chip key and the rainbowtype-profile device certificate provisioning issues
    // (recorded in the ledger like every provisioned board).
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &p("device.key")]);
    openssl(&["pkey", "-in", &p("device.key"), "-pubout", "-out", &p("device.pub")]);
    env.ok(&["cert", "sign", "--ca", "signer", "--pubkey", &p("device.pub"), "--profile", "rainbowtype", "--serial", SERIAL, "-o", &p("device.crt")]);

    // The embedded server.
    let (_server, url) = serve(&env, &["--cert", &p("server")]);

    // The simulated device boots every 200 ms.
    let trusted = RsaPublic::from_pem(&std::fs::read_to_string(env.path("sb.pub.pem")).unwrap()).unwrap();
    let device = Arc::new(SimOtaBootloader::new(SERIAL, &url, device_tls(&env), Some(trusted)));
    let flash = device.flash();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let device = device.clone();
        runtime.spawn(async move {
            device
                .run(Duration::from_millis(200), async {
                    let _ = stopped.await;
                })
                .await
        })
    };

    // An unsigned upload is accepted by the server but refused by the device (signed updates only)...
    // ...so push the image with --sign, as the operator does.
    let out = env.keyline(&[
        "ota", "push", "--server", &url, "--device", SERIAL, "--cert", &p("operator"), "--ca", "signer", "--sign", &p("sb.key"), "--timeout", "60", &p("app.bin"), "--json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "push failed:\n{stdout}\n{}\n{:?}", String::from_utf8_lossy(&out.stderr), flash.lock().unwrap().log);
    let lines: Vec<serde_json::Value> = stdout.lines().filter(|l| l.starts_with("{\"progress\"")).map(|l| serde_json::from_str(l).unwrap()).collect();
    let phases: Vec<String> = lines.iter().map(|l| l["progress"]["event"].as_str().unwrap().to_owned()).filter(|e| e != "uploading").collect();
    assert_eq!(phases, ["uploaded", "requested", "accepted", "completed"], "{stdout}");
    let last_upload = lines.iter().rev().find(|l| l["progress"]["event"] == "uploading").unwrap();
    assert_eq!(last_upload["progress"]["data"]["sent"], last_upload["progress"]["data"]["total"]);
    let report: serde_json::Value = serde_json::from_str(&stdout[stdout.rfind("\n{\n").map_or(0, |i| i + 1)..]).unwrap();

    // The device's flash holds exactly the signed image, and espsecure-compatible verification passed on the device.
    let state = flash.lock().unwrap().clone();
    assert_eq!(state.ota_0_sha256().as_deref(), report["sha256"].as_str(), "{:?}", state.log);
    assert!(state.log.iter().any(|l| l.starts_with("installed ")), "{:?}", state.log);
    assert!(keyline_ota::AppImage::parse(state.ota_0.as_ref().unwrap()).unwrap().is_signed());

    // The server's device list (from the ledger) shows the device idle again.
    let devices = env.json(&["ota", "devices", "--server", &url, "--cert", &p("operator"), "--ca", "signer"]);
    let device_row = devices.as_array().unwrap().iter().find(|d| d["serial"] == SERIAL).unwrap();
    assert_eq!(device_row["request"], "none");
    let ledger = keyline_station::ledger::Ledger::open(&env.data).unwrap();
    assert_eq!(ledger.get(&keyline_station::ledger::DeviceSerial::parse(SERIAL).unwrap()).unwrap().unwrap().profile, "rainbowtype");
    let row = ledger.ota_state(SERIAL).unwrap().unwrap();
    assert_eq!(row.request, "none");
    assert!(row.last_seen.is_some());

    let _ = stop.send(());
    runtime.block_on(running).unwrap();

    // `--cert auto`: a server certificate issued from the CA at start; the same ledger state is served.
    let (_auto, auto_url) = serve(&env, &["--cert", "auto"]);
    let devices = env.json(&["ota", "devices", "--server", &auto_url, "--cert", &p("operator"), "--ca", "signer"]);
    assert!(devices.as_array().unwrap().iter().any(|d| d["serial"] == SERIAL), "{devices}");
}
