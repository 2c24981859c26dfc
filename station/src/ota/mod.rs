//! OTA for the front ends: inspect and sign firmware images, manage the Secure Boot v2 signing
//! key, and (in submodules) the device-management server and client. Calls `keyline-ota`.

mod desk;
mod images;
mod service;
mod tls_certs;

pub use desk::{EmbeddedServer, EmbeddedServerInfo, EmbeddedServerSettings, OtaDeviceRow, OtaTarget, PushRequest, DESKTOP_CLIENT_CN};
pub use images::{create_signing_key, export_signing_public_key, inspect_image, sign_image, ImageReport, KeyCreated, SignedImage};
pub use keyline_ota::image::MAX_IMAGE_BYTES;
pub use keyline_ota::server::DEFAULT_MAX_UPLOAD;
pub use keyline_ota::client::PushEvent;
pub use service::{BlockingClient, LedgerStore, OtaDevice, PushReport, ServeOptions, TlsFiles};
pub use tls_certs::{TlsCertFiles, TlsCertKind};

/// Completes when the user presses Ctrl-C (the CLI's shutdown signal for `ota serve`).
pub async fn ctrl_c() {
    let _ = keyline_ota::tokio::signal::ctrl_c().await;
}

/// What to do about an OTA error.
pub fn hint(error: &keyline_ota::Error) -> String {
    use keyline_ota::Error as E;
    match error {
        E::Image(_) => "Pass the application image (build/<project>.bin from `idf.py build`), not the ELF, a merged flash image or a bootloader.".into(),
        E::Signature(_) => "Sign the image again with `keyline ota sign --key KEY IMAGE -o OUT` using the key whose digest is burned into the device.".into(),
        E::Key(_) => "Check the key file and its passphrase (KEYLINE_CA_PASSPHRASE or KEYLINE_IMPORT_PASSPHRASE); create one with `keyline ota key create -o KEY`.".into(),
        E::Tls(_) => "Check the certificate, key and CA files; make them with `keyline cert server` / `keyline cert client` from the project CA.".into(),
        E::Protocol(_) => "The peer does not speak the rainbowtype protocol as expected; check the server URL and versions.".into(),
        E::TooLarge { .. } => "Use a smaller image or raise the server's upload limit (--max-upload).".into(),
        E::Connection { .. } => "Check the server address, that it is running, and that your client certificate comes from the server's CA.".into(),
        E::Timeout(_) => "Check that the device is powered and online; it picks up the request at its next boot.".into(),
        E::Cancelled => "Nothing to do; the operation was cancelled.".into(),
        E::Store(_) => "Check that the data directory's ledger.sqlite3 is writable.".into(),
        E::Io { .. } => "Check that the path exists and is readable/writable.".into(),
    }
}

/// The station's [`ErrorCode`](crate::ErrorCode) for an OTA error.
pub fn code(error: &keyline_ota::Error) -> crate::ErrorCode {
    use crate::ErrorCode as C;
    use keyline_ota::Error as E;
    match error {
        E::Image(_) => C::OtaBadImage,
        E::Signature(_) => C::OtaBadSignature,
        E::Key(_) => C::OtaKey,
        E::Tls(_) => C::OtaTls,
        E::Protocol(_) => C::OtaProtocol,
        E::TooLarge { .. } => C::OtaTooLarge,
        E::Connection { .. } => C::OtaConnection,
        E::Timeout(_) => C::OtaTimeout,
        E::Cancelled => C::Cancelled,
        E::Store(_) => C::OtaStore,
        E::Io { .. } => C::Io,
    }
}
