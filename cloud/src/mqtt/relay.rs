//! A loopback HTTP CONNECT relay that lets rumqttc dial an override address (`--mqtt-endpoint`) while TLS keeps
//! the endpoint name as SNI: rumqttc asks the relay for `<endpoint>:<port>`, the relay connects to the override.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Largest CONNECT request head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// A running relay; stops when dropped.
pub(crate) struct AddressRelay {
    /// Where rumqttc should send its CONNECT request.
    pub local: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for AddressRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AddressRelay {
    /// Starts a relay on 127.0.0.1 that forwards every connection to `target` ("host:port").
    pub(crate) async fn start(target: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let local = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Err(err) = relay_one(client, &target).await {
                        tracing::debug!(%err, "MQTT address relay connection ended");
                    }
                });
            }
        });
        Ok(Self { local, task })
    }
}

async fn relay_one(mut client: TcpStream, target: &str) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD || client.read(&mut byte).await? == 0 {
            return Err(std::io::Error::other("incomplete CONNECT request"));
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"CONNECT ") {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n").await?;
        return Err(std::io::Error::other("not a CONNECT request"));
    }
    let mut upstream = match TcpStream::connect(target).await {
        Ok(stream) => stream,
        Err(err) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await?;
            return Err(err);
        }
    };
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
