//! The embedded server over real TLS on loopback (run inside `unshare -n`): the protocol as the
//! public server speaks it, the device's OTA download, and every refusal.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Pki;
use keyline_ota::client::{download_firmware, next_action, open_socket, send_action, send_binary, OperatorClient, PushEvent};
use keyline_ota::protocol::{Action, DeviceRecord};
use keyline_ota::server::{serve, ServerSettings};
use keyline_ota::store::{DeviceStore, MemoryStore};
use keyline_ota::ImageBuilder;

const SERIAL: &str = "0123c4d5e6f7a8b9ee";

struct Running {
    url: String,
    store: Arc<MemoryStore>,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(pki: &Pki, max_upload: usize) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::new(dir.path().join("fw"));
    settings.max_upload = max_upload;
    let store = Arc::new(MemoryStore::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_store: Arc<dyn DeviceStore> = store.clone();
    tokio::spawn(serve(listener, pki.server_config(), server_store, settings, async {
        let _ = stopped.await;
    }));
    Running { url, store, _dir: dir, _stop: stop }
}

fn image() -> Vec<u8> {
    ImageBuilder::new("blink", "2.0.0").segment(0x4008_0000, vec![0xA5; 40_000]).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootup_gets_the_public_servers_exact_ack_and_the_operator_sees_every_device() {
    let pki = Pki::new("acme");
    let server = start(&pki, 1 << 20).await;
    let device = pki.client_config(SERIAL, &pki);
    let mut socket = open_socket(&server.url, "/rtserver", device, None).await.unwrap();
    send_binary(&mut socket, format!("{{\"serial\": \"{SERIAL}\", \"action\": \"bootup\"}}").as_bytes()).await.unwrap();
    let ack = next_action(&mut socket).await.unwrap().unwrap();
    assert_eq!(
        ack.encode(),
        format!("{{\"serial\":\"{SERIAL}\",\"action\":\"ack\",\"request\":\"none\",\"data\":\"none\",\"keynum\":0,\"state\":\"offlineboot\"}}")
    );
    assert!(server.store.load(SERIAL).unwrap().is_some());

    let operator = OperatorClient::new(&server.url, pki.client_config("operator-1", &pki), "operator-1");
    let devices = operator.devices(Duration::from_secs(10)).await.unwrap();
    assert_eq!(devices, vec![(SERIAL.to_owned(), DeviceRecord::default())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_uploads_requests_ota_and_the_device_downloads_exactly_that_image() {
    let pki = Pki::new("acme");
    let server = start(&pki, 1 << 20).await;
    let device_tls = pki.client_config(SERIAL, &pki);
    let operator = OperatorClient::new(&server.url, pki.client_config("operator-1", &pki), "operator-1");
    let image = image();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let push = {
        let image = image.clone();
        tokio::spawn(async move { operator.push(SERIAL, &image, Duration::from_secs(30), Arc::new(move |e| seen.lock().unwrap().push(e))).await })
    };
    // The device: boots until it sees the ota request, downloads, then boots again.
    let mut downloaded = None;
    for _ in 0..100 {
        let mut socket = open_socket(&server.url, "/rtserver", device_tls.clone(), None).await.unwrap();
        send_action(&mut socket, &Action::Bootup { serial: SERIAL.into() }).await.unwrap();
        let Some(Action::Ack { record, .. }) = next_action(&mut socket).await.unwrap() else { panic!("no ack") };
        if record.request == "ota" {
            send_action(&mut socket, &Action::OtaAccepted { serial: SERIAL.into() }).await.unwrap();
            downloaded = Some(download_firmware(&server.url, SERIAL, device_tls.clone(), 1 << 22).await.unwrap());
        } else if downloaded.is_some() {
            send_action(&mut socket, &Action::UpdateCompleted { serial: SERIAL.into() }).await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    push.await.unwrap().unwrap();
    assert_eq!(downloaded.unwrap(), image);
    let events = events.lock().unwrap().clone();
    let total = (image.len() + 18) as u64;
    assert!(events.contains(&PushEvent::Uploading { sent: total, total }), "{events:?}");
    let phases: Vec<_> = events.into_iter().filter(|e| !matches!(e, PushEvent::Uploading { .. })).collect();
    assert_eq!(phases, [PushEvent::Uploaded, PushEvent::Requested, PushEvent::Accepted, PushEvent::Completed]);
    assert_eq!(server.store.load(SERIAL).unwrap().unwrap().request, "none");

    // Another device may not fetch this device's firmware.
    let other = pki.client_config("0123aaaaaaaaaaaaee", &pki);
    let err = download_firmware(&server.url, SERIAL, other, 1 << 22).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

/// A raw TLS handshake with `config`; returns the first error seen on the connection.
async fn handshake_error(url: &str, config: Arc<rustls::ClientConfig>) -> String {
    match open_socket(url, "/rtserver", config, None).await {
        Ok(mut socket) => match next_action(&mut socket).await {
            Ok(_) => "connection stayed open".into(),
            Err(error) => error.to_string(),
        },
        Err(error) => error.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_without_a_project_certificate_are_refused() {
    let pki = Pki::new("acme");
    let server = start(&pki, 1 << 20).await;

    // No client certificate at all.
    let roots = keyline_ota::tls::roots_from_pem(&pki.chain_pem()).unwrap();
    let anonymous = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let error = handshake_error(&server.url, anonymous).await;
    assert!(error.contains("CertificateRequired"), "{error}");

    // A certificate from another CA (trusting our server so only the client side fails).
    let other = Pki::new("mallory");
    let error = handshake_error(&server.url, other.client_config("operator-1", &pki)).await;
    assert!(error.contains("UnknownCA"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_uploads_malformed_actions_and_impersonation_are_refused_with_reasons() {
    let pki = Pki::new("acme");
    let server = start(&pki, 64 * 1024).await;
    let operator_tls = pki.client_config("operator-1", &pki);
    let operator = OperatorClient::new(&server.url, operator_tls.clone(), "operator-1");

    let big = ImageBuilder::new("big", "1").segment(0x4008_0000, vec![1; 100_000]).build();
    let err = operator.upload(SERIAL, &big, Arc::new(|_, _| {})).await.unwrap_err();
    assert!(err.to_string().contains("upload refused: the upload is larger than the 65536-byte limit"), "{err}");
    // The same limit on the HTTP upload path.
    let err = operator.upload_post(SERIAL, &big).await.unwrap_err();
    assert!(err.to_string().contains("413"), "{err}");
    let err = operator.upload(SERIAL, b"not an image at all", Arc::new(|_, _| {})).await.unwrap_err();
    assert!(err.to_string().contains("magic") || err.to_string().contains("not a valid"), "{err}");

    for (payload, expect) in [
        (&b"{\"serial\": \"operator-1\", \"action\": "[..], "malformed JSON"),
        (b"null", "malformed JSON"),
        (b"[1,2]", "not a JSON object"),
        (b"{\"action\":\"getallstate\"}", "`serial` is missing"),
        (b"{\"serial\":\"operator-1\",\"action\":\"reboot\"}", "unknown action"),
        (b"{\"serial\":\"x\",\"action\":\"setstate\",\"request\":\"format\",\"data\":\"none\",\"state\":\"onlineboot\"}", "`request`"),
        (b"{\"serial\":\"operator-2\",\"action\":\"getallstate\"}", "your own CN"),
    ] {
        let mut socket = open_socket(&server.url, "/rtserver", operator_tls.clone(), None).await.unwrap();
        send_binary(&mut socket, payload).await.unwrap();
        let err = next_action(&mut socket).await.unwrap_err().to_string();
        assert!(err.contains(expect), "{}: {err}", String::from_utf8_lossy(payload));
    }

    // A device may only speak for itself.
    let device = pki.client_config(SERIAL, &pki);
    let mut socket = open_socket(&server.url, "/rtserver", device.clone(), None).await.unwrap();
    send_action(&mut socket, &Action::Bootup { serial: "0123ffffffffffffee".into() }).await.unwrap();
    let err = next_action(&mut socket).await.unwrap_err().to_string();
    assert!(err.contains("not the CN of your certificate"), "{err}");
    let mut socket = open_socket(&server.url, "/rtserver", device, None).await.unwrap();
    send_action(&mut socket, &Action::SetState { serial: SERIAL.into(), record: DeviceRecord::default() }).await.unwrap();
    let err = next_action(&mut socket).await.unwrap_err().to_string();
    assert!(err.contains("a device may not send `setstate`"), "{err}");
}
