//! A tiny HTTP proxy in front of ministack that answers the first N requests with an injected AWS fault
//! (throttling or a 5xx) and forwards the rest, counting every request it sees.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Which fault to inject.
#[derive(Clone, Copy)]
pub enum Fault {
    /// HTTP 429 ThrottlingException.
    Throttling,
    /// HTTP 503 ServiceUnavailableException.
    Unavailable,
}

pub struct FaultyProxy {
    pub url: String,
    pub requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultyProxy {
    /// Starts the proxy; the first `faults` requests get `fault`, later ones go to `upstream_port`.
    pub async fn start(upstream_port: u16, fault: Fault, faults: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, fault, faults, counter).await;
                });
            }
        });
        Self { url, requests, task }
    }

    pub fn seen(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn read_request(client: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = client.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = client.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok(Some(data))
}

async fn serve(mut client: TcpStream, upstream_port: u16, fault: Fault, faults: usize, counter: Arc<AtomicUsize>) -> std::io::Result<()> {
    while let Some(request) = read_request(&mut client).await? {
        let index = counter.fetch_add(1, Ordering::SeqCst);
        if index < faults {
            let (status, code) = match fault {
                Fault::Throttling => ("429 Too Many Requests", "ThrottlingException"),
                Fault::Unavailable => ("503 Service Unavailable", "ServiceUnavailableException"),
            };
            let body = format!("{{\"__type\":\"{code}\",\"message\":\"injected {code}\"}}");
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client.write_all(response.as_bytes()).await?;
            continue;
        }
        // Forward with Connection: close so the whole response is whatever upstream sends before closing.
        let text = String::from_utf8_lossy(&request);
        let head_end = text.find("\r\n\r\n").unwrap_or(text.len());
        let head: Vec<&str> = text[..head_end].lines().filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
        let mut forwarded = format!("{}\r\nConnection: close\r\n\r\n", head.join("\r\n")).into_bytes();
        forwarded.extend_from_slice(&request[(head_end + 4).min(request.len())..]);
        let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
        upstream.write_all(&forwarded).await?;
        let mut response = Vec::new();
        upstream.read_to_end(&mut response).await?;
        client.write_all(&response).await?;
        return Ok(()); // upstream's response carries Connection: close
    }
    Ok(())
}
