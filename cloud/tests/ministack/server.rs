//! Starts ministack 1.5.33 from the project venv on loopback, waits until it is healthy, resets its state between
//! tests and stops it when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The HTTP API port inside the namespace.
pub const API_PORT: u16 = 4566;
/// The MQTT-over-TLS port inside the namespace.
pub const MQTT_PORT: u16 = 8883;

pub struct Ministack {
    child: Child,
    pub log: PathBuf,
    _workdir: tempfile::TempDir,
}

impl Drop for Ministack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the ministack console script is: `KEYLINE_MINISTACK`, else `<workspace>/.venv/bin/ministack`.
pub fn ministack_binary() -> PathBuf {
    std::env::var_os("KEYLINE_MINISTACK").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/ministack")
    })
}

impl Ministack {
    pub async fn start() -> Result<Self, String> {
        let binary = ministack_binary();
        if !binary.exists() {
            return Err(format!(
                "{} not found. Install it with `python3 -m venv .venv && .venv/bin/pip install ministack==1.5.33 cryptography boto3` \
                 (or set KEYLINE_MINISTACK)",
                binary.display()
            ));
        }
        let workdir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = workdir.path().join("ministack.log");
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(&binary)
            .current_dir(workdir.path())
            .env("GATEWAY_PORT", API_PORT.to_string())
            .env("BIND_HOST", "127.0.0.1")
            .env("IOT_MTLS_PORT", MQTT_PORT.to_string())
            .env("MINISTACK_HOST", "localhost")
            .env("LAMBDA_EXECUTOR", "local")
            .env_remove("AWS_ENDPOINT_URL")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = Self { child, log, _workdir: workdir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http("GET", "/_ministack/health").await.is_ok_and(|(status, _)| status == 200) {
                wait_for_port(MQTT_PORT).await?;
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(format!("ministack did not become healthy within 60 s; see {}", server.log.display()))
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{API_PORT}")
    }

    /// Wipes all state (and restarts the MQTT listener).
    pub async fn reset(&self) -> Result<(), String> {
        let (status, body) = http("POST", "/_ministack/reset").await?;
        if status != 200 || !body.contains("ok") {
            return Err(format!("reset failed: {status} {body}"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        wait_for_port(MQTT_PORT).await
    }

    /// The Local CA that signs the MQTT listener's server certificate.
    pub async fn broker_ca_pem(&self) -> Result<String, String> {
        let (status, body) = http("GET", "/_ministack/iot/ca.pem").await?;
        if status != 200 {
            return Err(format!("GET ca.pem: {status}"));
        }
        Ok(body)
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

async fn wait_for_port(port: u16) -> Result<(), String> {
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("nothing listens on port {port}"))
}

/// A minimal HTTP/1.1 request to the admin API (Connection: close).
async fn http(method: &str, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", API_PORT)).await.map_err(|e| e.to_string())?;
    let request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{API_PORT}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no HTTP status")?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_string() };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
