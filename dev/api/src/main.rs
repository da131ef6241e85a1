//! The `gatehouse-api` binary: reads the environment, warms up the signing
//! keys in the background and serves the API on 127.0.0.1.

use std::net::Ipv4Addr;
use std::process::ExitCode;

use gatehouse_api::config::Config;
use gatehouse_api::{router, AppState};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gatehouse-api: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match &config.oauth {
        Some(oauth) => eprintln!(
            "gatehouse-api: OAuth on (metadata {}, audience {}), RBAC {}",
            oauth.metadata_url,
            oauth.api_app_id,
            if config.rbac_enabled { "on" } else { "off" }
        ),
        None => {
            eprintln!("gatehouse-api: OAUTH_ENABLED is off: every caller is an anonymous superuser")
        }
    }

    if !config.workspaces.is_empty() {
        let list: Vec<String> = config
            .workspaces
            .iter()
            .map(|w| format!("{} (aud {})", w.id(), w.audience().app_id()))
            .collect();
        eprintln!("gatehouse-api: TRE workspaces {}", list.join(", "));
    }

    let listener = match tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "gatehouse-api: cannot listen on 127.0.0.1:{}: {e}",
                config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map_or(config.port, |a| a.port());
    // The port actually listened on (API_PORT=0 picks one): DPoP proofs name it in `htu`.
    let config = Config { port, ..config };
    if config.oauth.is_some() {
        let dpop = config.dpop_settings();
        let urls: Vec<String> = dpop.public_urls.iter().map(ToString::to_string).collect();
        eprintln!(
            "gatehouse-api: DPoP accepted (ES256, iat within {} s, nonces {}) at {}",
            dpop.iat_window,
            if dpop.nonce { "on" } else { "off" },
            urls.join(", ")
        );
    }
    let (state, keys) = AppState::from_config(&config);
    if let Some(keys) = keys {
        tokio::spawn(keys.warm_up());
    }
    println!("API ready: http://127.0.0.1:{port}");

    match axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse-api: server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
