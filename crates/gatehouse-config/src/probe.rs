//! The container's health check (`HEALTHCHECK` in the Dockerfile; Kubernetes probes `/healthz`
//! itself): asks the local nginx for `/healthz` and succeeds on a 200, within a bounded time.

use crate::refusal::Refusal;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long the whole probe may take, connect and answer.
const TIMEOUT: Duration = Duration::from_secs(3);

/// `GET /healthz` on 127.0.0.1:`port`.
pub fn probe(port: u16) -> Result<(), Refusal> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let failed = |e: std::io::Error| Refusal::new("healthz", format!("{address}: {e}"));
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT).map_err(failed)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(failed)?;
    stream.set_write_timeout(Some(TIMEOUT)).map_err(failed)?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .map_err(failed)?;
    // The status line is all that matters; a longer answer is not read.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]).map_err(failed)? {
            0 => break,
            n => read += n,
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status_line = status_line.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(Refusal::new(
            "healthz",
            format!("{address} answered {status_line:?}"),
        ))
    }
}
