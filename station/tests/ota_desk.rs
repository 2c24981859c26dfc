//! The desktop's OTA API: the embedded server started in the background from an unlocked CA, the
//! desktop's in-memory operator certificate, the live device list with last-seen times, and a
//! cancellable push that a simulated bootloader completes. Run inside `unshare -n`.
#![cfg(feature = "sim")]

#[path = "cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyline_certs::EcKey;
use keyline_ota::client::PushEvent;
use keyline_ota::tls::{self, TlsIdentity};
use keyline_ota::{tokio, ImageBuilder};
use keyline_sim::ota_bootloader::SimOtaBootloader;
use keyline_station::ota::{EmbeddedServer, EmbeddedServerSettings, OtaTarget, PushRequest};
use keyline_station::provision::CancelToken;
use keyline_station::{Passphrase, Station};
use support::{Env, PASS};

const SERIAL: &str = "0123a1b2c3d4e5f6ee";

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl is needed: apt-get install openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_desktop_pushes_an_image_through_its_embedded_server_and_sees_the_device() {
    let env = Env::new();
    env.create_root_and_signer();
    let p = |name: &str| env.path(name).display().to_string();
    openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &p("device.key")]);
    openssl(&["pkey", "-in", &p("device.key"), "-pubout", "-out", &p("device.pub")]);
    env.ok(&["cert", "sign", "--ca", "signer", "--pubkey", &p("device.pub"), "--profile", "rainbowtype", "--serial", SERIAL, "-o", &p("device.crt")]);
    let image = ImageBuilder::new("blink", "4.0.0").segment(0x4008_0000, vec![0x5a; 40_000]).build();
    std::fs::write(env.path("app.bin"), &image).unwrap();

    let station = Arc::new(Station::open(env.data.clone()).unwrap());
    // Locked CA: a clear refusal, not a server without a certificate.
    let settings = EmbeddedServerSettings { listen: "127.0.0.1:0".into(), ca: "signer".into(), hosts: vec![], max_upload: None };
    let locked = EmbeddedServer::start(station.clone(), &settings).err().expect("a locked CA cannot issue the server certificate");
    assert_eq!(locked.report_for(keyline_station::Audience::Gui).code.as_str(), "passphrase_required");

    station.unlock_ca("signer", &Passphrase::new(PASS.into()), false).unwrap();
    let server = EmbeddedServer::start(station.clone(), &settings).unwrap();
    let info = server.info().clone();
    assert!(info.url.starts_with("https://127.0.0.1:"), "{info:?}");
    let target = OtaTarget::Embedded { url: info.url.clone(), ca: "signer".into() };
    assert!(station.ota_target_devices(&target).unwrap().is_empty());

    // The device boots every 200 ms with its certificate (device + signer chain) and key.
    let key = EcKey::from_pem(&std::fs::read_to_string(env.path("device.key")).unwrap(), None).unwrap();
    let cas = station.ca_chain_pem("signer").unwrap();
    let identity = TlsIdentity::new(&(std::fs::read_to_string(env.path("device.crt")).unwrap() + &cas), key.pkcs8_der().unwrap()).unwrap();
    let device_tls = tls::client_config(&identity, tls::roots_from_pem(&cas).unwrap()).unwrap();
    let device = Arc::new(SimOtaBootloader::new(SERIAL, &info.url, device_tls, None));
    let flash = device.flash();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let device = device.clone();
        runtime.spawn(async move { device.run(Duration::from_millis(200), async { let _ = stopped.await; }).await })
    };

    // The live list shows the device, provisioned here, with a last-seen time.
    let started = std::time::Instant::now();
    let row = loop {
        if let Some(row) = station.ota_target_devices(&target).unwrap().into_iter().find(|d| d.serial == SERIAL) {
            break row;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the device never appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(row.provisioned, "{row:?}");
    assert!(row.last_seen.is_some(), "{row:?}");
    assert_eq!(row.request, "none");

    // A push reports bytes, then every phase, and the device's flash holds the image.
    let events = Arc::new(Mutex::new(Vec::<PushEvent>::new()));
    let sink = events.clone();
    let request = PushRequest { serial: SERIAL.into(), image: env.path("app.bin"), sign_key: None, sign_passphrase: None, timeout_secs: Some(60) };
    let report = station.ota_target_push(&target, &request, Arc::new(move |e| sink.lock().unwrap().push(e)), &CancelToken::new()).unwrap();
    let events = events.lock().unwrap().clone();
    let phases: Vec<&PushEvent> = events.iter().filter(|e| !matches!(e, PushEvent::Uploading { .. })).collect();
    assert_eq!(phases, [&PushEvent::Uploaded, &PushEvent::Requested, &PushEvent::Accepted, &PushEvent::Completed]);
    assert!(events.iter().any(|e| matches!(e, PushEvent::Uploading { sent, total } if sent == total && *total > 40_000)));
    assert_eq!(flash.lock().unwrap().ota_0_sha256().as_deref(), Some(report.sha256.as_str()));

    // A cancelled push stops waiting with `cancelled` (the device is stopped, so it would never complete).
    let _ = stop.send(());
    runtime.block_on(running).unwrap();
    let cancel = CancelToken::new();
    let canceller = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        canceller.cancel();
    });
    let cancelled = station.ota_target_push(&target, &request, Arc::new(|_| {}), &cancel).unwrap_err();
    assert_eq!(cancelled.report_for(keyline_station::Audience::Gui).code.as_str(), "cancelled");

    server.stop().unwrap();
    assert!(station.ota_target_devices(&target).is_err(), "the server is gone after stop");
}
