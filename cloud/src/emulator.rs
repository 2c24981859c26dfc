//! Practice mode: start the pinned ministack (a local AWS emulator with IoT, JITR, Lambda and DynamoDB) from the
//! project's Python environment, on loopback, and point the cloud settings at it.
//!
//! ministack's HTTP API binds 127.0.0.1 when told; its MQTT-over-TLS listener binds every interface whatever it is
//! told, so Keyline starts it with `loopback_sitecustomize.py` on PYTHONPATH, which turns every wildcard bind of the
//! process (and of the Lambda workers it starts) into a loopback bind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{CloudError, Result};
use crate::settings::CloudSettings;

/// The ministack version Keyline is tested against (behaviour changes between releases).
pub const MINISTACK_VERSION: &str = "1.5.33";
/// The region practice mode uses.
pub const REGION: &str = "us-east-1";
/// The HTTP API port (every service) when nothing else is said: ministack's default.
pub const API_PORT: u16 = 4566;
/// The MQTT-over-TLS port when nothing else is said.
pub const MQTT_PORT: u16 = 8883;

/// The emulator's HTTP endpoint on its default port.
pub fn default_endpoint_url() -> String {
    format!("http://127.0.0.1:{API_PORT}")
}

/// The emulator's MQTT listener (`HOST:PORT`) on its default port.
pub fn default_mqtt_endpoint() -> String {
    format!("127.0.0.1:{MQTT_PORT}")
}
/// Makes every wildcard bind of a Python process a loopback bind (see the file's docstring).
const LOOPBACK_SITECUSTOMIZE: &str = include_str!("loopback_sitecustomize.py");

/// Writes `<workdir>/loopback/sitecustomize.py`; the folder goes first on ministack's PYTHONPATH.
fn write_loopback_hook(workdir: &Path) -> Result<PathBuf> {
    let dir = workdir.join("loopback");
    std::fs::create_dir_all(&dir).map_err(|e| emulator_error(format!("{}: {e}", dir.display())))?;
    let file = dir.join("sitecustomize.py");
    std::fs::write(&file, LOOPBACK_SITECUSTOMIZE).map_err(|e| emulator_error(format!("{}: {e}", file.display())))?;
    Ok(dir)
}

/// Largest admin response read (the Local CA PEM, health JSON).
const MAX_RESPONSE: usize = 256 * 1024;

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The `ministack` console script (e.g. `.venv/bin/ministack`).
    pub binary: PathBuf,
    /// HTTP API port on 127.0.0.1 (all services).
    pub api_port: u16,
    /// MQTT-over-TLS port on 127.0.0.1.
    pub mqtt_port: u16,
    /// Working directory; its `ministack.log` receives the output.
    pub workdir: PathBuf,
    /// Evaluate IAM and IoT policies (`AUTH=true`).
    pub enforce_policies: bool,
}

impl EmulatorConfig {
    /// Defaults: `$KEYLINE_VENV/bin/ministack` (else `<project>/.venv/bin/ministack`), ports 4566 and 8883.
    pub fn in_project(project_dir: &Path, workdir: PathBuf) -> Self {
        let venv = std::env::var_os("KEYLINE_VENV").map(PathBuf::from).unwrap_or_else(|| project_dir.join(".venv"));
        Self { binary: venv.join("bin/ministack"), api_port: API_PORT, mqtt_port: MQTT_PORT, workdir, enforce_policies: false }
    }
}

/// A running emulator; stopped when dropped.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    config: EmulatorConfig,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator_error(detail: impl Into<String>) -> CloudError {
    CloudError::Emulator { detail: detail.into() }
}

impl Emulator {
    /// Starts ministack and waits (up to a minute) until its API and MQTT listener answer.
    pub async fn start(config: EmulatorConfig) -> Result<Self> {
        if !config.binary.exists() {
            return Err(emulator_error(format!(
                "{} is missing; install it with `.venv/bin/pip install ministack=={MINISTACK_VERSION} cryptography boto3`",
                config.binary.display()
            )));
        }
        if TcpStream::connect(("127.0.0.1", config.api_port)).await.is_ok() {
            return Err(emulator_error(format!("port {} is already in use; stop whatever listens there", config.api_port)));
        }
        std::fs::create_dir_all(&config.workdir).map_err(|e| emulator_error(format!("{}: {e}", config.workdir.display())))?;
        let log_path = config.workdir.join("ministack.log");
        let log = std::fs::File::create(&log_path).map_err(|e| emulator_error(format!("{}: {e}", log_path.display())))?;
        let log_err = log.try_clone().map_err(|e| emulator_error(e.to_string()))?;
        let loopback = write_loopback_hook(&config.workdir)?;
        let child = Command::new(&config.binary)
            .current_dir(&config.workdir)
            .env("GATEWAY_PORT", config.api_port.to_string())
            .env("BIND_HOST", "127.0.0.1")
            .env("PYTHONPATH", &loopback)
            .env("IOT_MTLS_PORT", config.mqtt_port.to_string())
            .env("MINISTACK_HOST", "localhost")
            .env("MINISTACK_REGION", REGION)
            .env("LAMBDA_EXECUTOR", "local")
            .env("AUTH", if config.enforce_policies { "true" } else { "false" })
            .env_remove("AWS_ENDPOINT_URL")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| emulator_error(format!("cannot start {}: {e}", config.binary.display())))?;
        let emulator = Self { child, config };
        emulator.wait_ready(Duration::from_secs(60)).await?;
        Ok(emulator)
    }

    async fn wait_ready(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.admin("GET", "/_ministack/health").await.is_ok_and(|(status, _)| status == 200)
                && TcpStream::connect(("127.0.0.1", self.config.mqtt_port)).await.is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(emulator_error(format!("it did not become ready within {limit:?}; see {}", self.log_path().display())))
    }

    /// The emulator's output.
    pub fn log_path(&self) -> PathBuf {
        self.config.workdir.join("ministack.log")
    }

    /// `http://127.0.0.1:<api port>`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.config.api_port)
    }

    /// Cloud settings pointing at the emulator (dummy credentials, fixed region).
    pub fn settings(&self) -> CloudSettings {
        CloudSettings::emulator(self.endpoint_url(), REGION)
    }

    /// The address of the MQTT listener, for `--mqtt-endpoint`.
    pub fn mqtt_address(&self) -> String {
        format!("127.0.0.1:{}", self.config.mqtt_port)
    }

    /// The Local CA that signs the MQTT listener's certificate (the devices' server trust anchor).
    pub async fn broker_ca_pem(&self) -> Result<String> {
        let (status, body) = self.admin("GET", "/_ministack/iot/ca.pem").await?;
        if status != 200 || !body.contains("BEGIN CERTIFICATE") {
            return Err(emulator_error(format!("GET /_ministack/iot/ca.pem answered {status}")));
        }
        Ok(body)
    }

    /// Wipes all emulator state. (In 1.5.33 the MQTT listener's certificate may then be signed by a CA that is
    /// no longer served; restart the emulator before a connection test.)
    pub async fn reset(&self) -> Result<()> {
        let (status, body) = self.admin("POST", "/_ministack/reset").await?;
        if status != 200 {
            return Err(emulator_error(format!("reset answered {status}: {body}")));
        }
        self.wait_ready(Duration::from_secs(10)).await
    }

    async fn admin(&self, method: &str, path: &str) -> Result<(u16, String)> {
        admin_request("127.0.0.1", self.config.api_port, method, path).await
    }
}

/// The broker CA of an emulator already running at `endpoint_url` (`http://host:port`), e.g. one started by
/// `keyline cloud emulator` in another terminal.
pub async fn fetch_broker_ca(endpoint_url: &str) -> Result<String> {
    let authority = endpoint_url.trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = authority
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or_else(|| emulator_error(format!("{endpoint_url} is not http://HOST:PORT")))?;
    let (status, body) = admin_request(host, port, "GET", "/_ministack/iot/ca.pem").await?;
    if status != 200 || !body.contains("BEGIN CERTIFICATE") {
        return Err(emulator_error(format!("GET {endpoint_url}/_ministack/iot/ca.pem answered {status}; is it ministack?")));
    }
    Ok(body)
}

/// A minimal HTTP/1.1 request to the emulator's admin API, bounded in size and time.
async fn admin_request(host: &str, port: u16, method: &str, path: &str) -> Result<(u16, String)> {
    let exchange = async {
        let mut stream = TcpStream::connect((host, port)).await?;
        let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.take(MAX_RESPONSE as u64).read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| emulator_error(format!("{method} {path} timed out")))?
        .map_err(|e| emulator_error(format!("{method} {path}: {e}")))?;
    parse_response(&response).ok_or_else(|| emulator_error(format!("{method} {path}: malformed HTTP response")))
}

/// Status and body of an HTTP/1.1 response (content-length or chunked).
fn parse_response(response: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body)? } else { body.to_string() };
    Some((status, body))
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        assert_eq!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), Some((200, "ok".into())));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((200, "abcde".into())));
        assert_eq!(parse_response(b"garbage"), None);
    }
}
