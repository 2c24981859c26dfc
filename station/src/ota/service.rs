//! The device-management server and operator client for the front ends: TLS material from the
//! project CA store, device state in the ledger, and blocking entry points (own tokio runtime).

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyline_certs::EcKey;
use keyline_ota::client::{OperatorClient, PushEvent};
use keyline_ota::protocol::DeviceRecord;
use keyline_ota::server::ServerSettings;
use keyline_ota::store::{DeviceStore, StoredDevice};
use keyline_ota::tls::{self, TlsIdentity};
use serde::Serialize;

use crate::ledger::{Ledger, OtaStateRow};
use crate::provision::CancelToken;
use crate::{Error, Passphrase, Result, Station};

/// Device state of the embedded server, in the station's ledger.
pub struct LedgerStore {
    ledger: Mutex<Ledger>,
}

fn store_error(error: crate::ledger::LedgerError) -> keyline_ota::Error {
    keyline_ota::Error::Store(error.to_string())
}

impl DeviceStore for LedgerStore {
    fn load(&self, serial: &str) -> keyline_ota::Result<Option<DeviceRecord>> {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        Ok(ledger.ota_state(serial).map_err(store_error)?.map(|row| DeviceRecord { request: row.request, data: row.data, keynum: row.keynum, state: row.state }))
    }

    fn save(&self, serial: &str, record: &DeviceRecord, seen: bool) -> keyline_ota::Result<()> {
        let row = OtaStateRow {
            serial: serial.to_owned(),
            request: record.request.clone(),
            data: record.data.clone(),
            keynum: record.keynum,
            state: record.state.clone(),
            last_seen: None,
        };
        self.ledger.lock().unwrap_or_else(|p| p.into_inner()).save_ota_state(&row, seen).map_err(store_error)
    }

    fn all(&self) -> keyline_ota::Result<Vec<StoredDevice>> {
        let rows = self.ledger.lock().unwrap_or_else(|p| p.into_inner()).ota_states().map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|row| StoredDevice {
                serial: row.serial,
                record: DeviceRecord { request: row.request, data: row.data, keynum: row.keynum, state: row.state },
                last_seen: row.last_seen,
            })
            .collect())
    }
}

/// A TLS identity: `PREFIX.chain` (or `.crt`) and `PREFIX.key` as `keyline cert server|client` write them.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub chain: PathBuf,
    /// Encrypted (or plain PKCS#8/SEC1) private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files of a `keyline cert` output prefix.
    pub fn from_prefix(prefix: &Path) -> TlsFiles {
        let with = |ext: &str| {
            let mut name = prefix.as_os_str().to_owned();
            name.push(ext);
            PathBuf::from(name)
        };
        TlsFiles { chain: with(".chain"), key: with(".key") }
    }

    /// Read the chain and decrypt the key.
    pub fn identity(&self, passphrase: Option<&Passphrase>) -> Result<TlsIdentity> {
        let read = |path: &Path| -> Result<String> {
            let bytes = keyline_ota::read_file_bounded(path, 256 * 1024)?;
            String::from_utf8(bytes).map_err(|_| Error::InvalidInput { what: path.display().to_string(), reason: "not a PEM text file".into() })
        };
        let key = EcKey::from_pem(&read(&self.key)?, passphrase.map(|p| p.expose().as_bytes())).map_err(|e| match e {
            keyline_certs::Error::WrongPassphrase => Error::WrongPassphrase { name: self.key.display().to_string() },
            other => crate::ca::certs_error(other, &self.key.display().to_string()),
        })?;
        let der = key.pkcs8_der().map_err(|e| crate::ca::certs_error(e, &self.key.display().to_string()))?;
        Ok(TlsIdentity::new(&read(&self.chain)?, der)?)
    }
}

/// How to run the embedded server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The server's certificate chain and key (from files, or issued at start with `--cert auto`).
    pub identity: Arc<TlsIdentity>,
    /// Project CA whose chain (it and its parents) client certificates must chain to.
    pub ca: String,
    /// Largest image accepted (bytes).
    pub max_upload: usize,
}

impl Station {
    /// The ledger-backed device store of this data directory.
    pub fn ota_store(&self) -> Result<Arc<dyn DeviceStore>> {
        Ok(Arc::new(LedgerStore { ledger: Mutex::new(self.ledger()?) }))
    }

    /// PEM of CA `ca` and its parents: the trust anchors for peers of the project PKI.
    pub fn ca_chain_pem(&self, ca: &str) -> Result<String> {
        Ok(self.ca_chain(ca)?.iter().map(|cert| cert.pem()).collect())
    }

    /// Run the embedded server until `shutdown` completes; `ready` gets the bound address.
    pub fn serve_ota(
        &self,
        options: &ServeOptions,
        ready: impl FnOnce(SocketAddr),
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        let roots = tls::roots_from_pem(&self.ca_chain_pem(&options.ca)?)?;
        let config = tls::server_config(&options.identity, roots)?;
        let store = self.ota_store()?;
        let mut settings = ServerSettings::new(self.data_dir().join("ota").join("fw"));
        settings.max_upload = options.max_upload;
        runtime()?.block_on(async {
            let listener = keyline_ota::tokio::net::TcpListener::bind(options.listen)
                .await
                .map_err(|e| Error::io("cannot listen on", options.listen.to_string(), e))?;
            let address = listener.local_addr().map_err(|e| Error::io("cannot listen on", options.listen.to_string(), e))?;
            tracing::info!(%address, "OTA server listening");
            ready(address);
            Ok::<_, Error>(keyline_ota::server::serve(listener, config, store, settings, shutdown).await?)
        })
    }

    /// An operator client for `server` with the client certificate `cert`, trusting CA `ca`'s chain.
    pub fn ota_client(&self, server: &str, cert: &TlsFiles, key_passphrase: Option<&Passphrase>, ca: &str) -> Result<BlockingClient> {
        let identity = cert.identity(key_passphrase)?;
        let chain = std::fs::read_to_string(&cert.chain).map_err(|e| Error::io("cannot read", &cert.chain, e))?;
        let cn = tls::peer_common_name(&tls::certificates_from_pem(&chain)?)?;
        self.ota_client_with(server, &identity, &cn, ca)
    }

    /// An operator client for `server` presenting `identity` (CN `cn`), trusting CA `ca`'s chain.
    pub fn ota_client_with(&self, server: &str, identity: &TlsIdentity, cn: &str, ca: &str) -> Result<BlockingClient> {
        let roots = tls::roots_from_pem(&self.ca_chain_pem(ca)?)?;
        let config = tls::client_config(identity, roots)?;
        Ok(BlockingClient { client: OperatorClient::new(server, config, cn) })
    }
}

fn runtime() -> Result<keyline_ota::tokio::runtime::Runtime> {
    keyline_ota::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the network runtime", "tokio", e))
}

/// One device in `ota devices`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaDevice {
    /// Serial.
    pub serial: String,
    /// The rainbowtype record.
    #[serde(flatten)]
    pub record: DeviceRecord,
}

/// The operator client with blocking calls (the CLI).
pub struct BlockingClient {
    client: OperatorClient,
}

impl BlockingClient {
    /// The server's device list.
    pub fn devices(&self, timeout: Duration) -> Result<Vec<OtaDevice>> {
        let devices = runtime()?.block_on(self.client.devices(timeout))?;
        Ok(devices.into_iter().map(|(serial, record)| OtaDevice { serial, record }).collect())
    }

    /// Validate (and with `sign`, sign) the image, upload it and follow the device to `updatecompleted`;
    /// gives up with `Cancelled` once `cancel` is set (checked every 100 ms).
    pub fn push(
        &self,
        serial: &str,
        image: &Path,
        sign: Option<(&Path, Option<&Passphrase>)>,
        timeout: Duration,
        events: Arc<dyn Fn(PushEvent) + Send + Sync>,
        cancel: &CancelToken,
    ) -> Result<PushReport> {
        let mut bytes = keyline_ota::read_file_bounded(image, keyline_ota::image::MAX_IMAGE_BYTES)?;
        keyline_ota::AppImage::parse(&bytes)?;
        if let Some((key, passphrase)) = sign {
            tracing::info!(key = %key.display(), "signing the image for Secure Boot v2");
            bytes = super::images::sign_bytes(&bytes, &super::images::read_key(key, passphrase)?)?;
        }
        tracing::info!(serial, bytes = bytes.len(), "pushing an image");
        runtime()?.block_on(async {
            let cancelled = async {
                while !cancel.is_cancelled() {
                    keyline_ota::tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            keyline_ota::tokio::select! {
                result = self.client.push(serial, &bytes, timeout, events) => result,
                _ = cancelled => Err(keyline_ota::Error::Cancelled),
            }
        })?;
        Ok(PushReport { serial: serial.to_owned(), bytes: bytes.len(), sha256: super::images::sha256_hex(&bytes) })
    }
}

/// Result of `ota push`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    /// The device.
    pub serial: String,
    /// Bytes uploaded.
    pub bytes: usize,
    /// SHA-256 of what was uploaded (the device's flash must match), hex.
    pub sha256: String,
}
