//! The real executable: starts, prints its ready line, serves, and refuses bad config.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse-api");

fn clean_command() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "OAUTH_ENABLED",
        "OAUTH_RBAC_ENABLED",
        "OAUTH_METADATA_URL",
        "OAUTH_API_APP_ID",
        "API_PORT",
        "API_CORS_ORIGINS",
        "TRE_WORKSPACES",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn prints_ready_line_and_serves_health() {
    let mut child = clean_command()
        .env("API_PORT", "0")
        // The IdP is not up: the API must still start.
        .env(
            "OAUTH_METADATA_URL",
            "http://127.0.0.1:9/.well-known/openid-configuration?appid=x",
        )
        .env("OAUTH_API_APP_ID", "x")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(20));
    let result = line.map(|line| {
        let port: u16 = line
            .strip_prefix("API ready: http://127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .parse()
            .unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    });
    let _ = child.kill();
    let _ = child.wait();
    let response = result.expect("no ready line within 20 s");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"{"status":"ok"}"#), "{response}");
}

#[test]
fn bad_tre_workspaces_exit_with_code_2() {
    let output = clean_command()
        .env("OAUTH_ENABLED", "false")
        .env("API_PORT", "0")
        .env("TRE_WORKSPACES", "alpha")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("TRE_WORKSPACES"));
}

#[test]
fn missing_oauth_settings_exit_with_code_2() {
    let output = clean_command().env("API_PORT", "0").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("OAUTH_METADATA_URL"));
}
