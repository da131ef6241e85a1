//! `gatehouse-config`: Gatehouse's hosting tool, one binary for the two moments a static build
//! needs help:
//!
//! - at build time, `gatehouse-config build <web root>` prepares the release build for serving:
//!   short names for the imports between the wasm and its js glue and the glue minified, the CSP
//!   hashes of `index.html`'s inline elements (`csp-inline.json`), and brotli and gzip copies of
//!   its assets;
//! - at container start, `gatehouse-config configure` reads the environment, checks it with the
//!   app's own configuration rules (a mistake stops the start with the message the app's error
//!   page would show, naming the variable), and writes `config.json` and nginx's configuration
//!   into the runtime folder (`RUNTIME_DIR`), the one place the container writes.
//!
//! `check` does what `configure` does without writing; `probe` is the container's health check.

mod app_settings;
mod csp;
mod deployment;
mod environment;
mod glue;
mod glue_names;
mod inline_hashes;
mod js_minify;
mod nginx;
mod precompress;
mod probe;
mod refusal;

use deployment::Deployment;
use environment::Environment;
use inline_hashes::InlineHashes;
use refusal::Refusal;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage:
  gatehouse-config build <web root>   prepare a release build: short glue names, minified glue, csp-inline.json, .br and .gz copies
  gatehouse-config configure          check the environment; write config.json and nginx's configuration to RUNTIME_DIR
  gatehouse-config check              check the environment; write nothing
  gatehouse-config probe              GET /healthz on 127.0.0.1:PORT (the container's health check)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env = Environment::from_process();
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["build", web_root] => build(Path::new(web_root)),
        ["configure"] => configure(&env, true),
        ["check"] => configure(&env, false),
        ["probe"] => env
            .get_or("PORT", "8080")
            .and_then(|port| {
                port.parse()
                    .map_err(|_| Refusal::new("PORT", format!("not a port number: {port:?}")))
            })
            .and_then(probe::probe),
        ["--help" | "-h"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(refusal) => {
            eprintln!("gatehouse-config: {refusal}");
            ExitCode::FAILURE
        }
    }
}

/// Prepares the release build in `web_root` for serving.
fn build(web_root: &Path) -> Result<(), Refusal> {
    let glue = glue::prepare(web_root)?;
    let index = web_root.join("index.html");
    let html = fs::read_to_string(&index).map_err(|e| Refusal::io("build", "read", &index, e))?;
    let hashes = InlineHashes::of(&html);
    let text =
        serde_json::to_string_pretty(&hashes).map_err(|e| Refusal::new("build", e.to_string()))?;
    let file = web_root.join(inline_hashes::FILE);
    fs::write(&file, text + "\n").map_err(|e| Refusal::io("build", "write", &file, e))?;
    let summary = precompress::precompress(web_root)?;
    println!(
        "gatehouse-config: {}: {} glue imports renamed and the glue minified ({} B of wasm and js, {} B before); {} inline scripts, {} inline styles hashed; {} files precompressed: {} B raw, {} B gzip -9, {} B brotli 11",
        web_root.display(),
        glue.imports,
        glue.after,
        glue.before,
        hashes.scripts.len(),
        hashes.styles.len(),
        summary.files,
        summary.raw,
        summary.gzip,
        summary.brotli
    );
    Ok(())
}

/// Checks the environment and, when `write`, installs `config.json` and nginx's configuration.
/// Nothing is written unless everything is valid.
fn configure(env: &Environment, write: bool) -> Result<(), Refusal> {
    let settings = app_settings::from_env(env)?;
    let deployment = Deployment::from_env(env)?;
    let index = deployment.web_root.join("index.html");
    if !index.is_file() {
        return Err(Refusal::new(
            "WEB_ROOT",
            format!("{} not found (is the app's build there?)", index.display()),
        ));
    }
    if !deployment.mime_types.is_file() {
        return Err(Refusal::new(
            "NGINX_MIME_TYPES",
            format!("{} not found", deployment.mime_types.display()),
        ));
    }
    let hashes_file = deployment.web_root.join(inline_hashes::FILE);
    let hashes: InlineHashes = fs::read_to_string(&hashes_file)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string()))
        .map_err(|e| {
            Refusal::new(
                "WEB_ROOT",
                format!(
                    "{}: {e}; prepare the build with \"gatehouse-config build {}\"",
                    hashes_file.display(),
                    deployment.web_root.display()
                ),
            )
        })?;
    let csp = csp::policy(&settings.config, &hashes, &deployment.connect_src)?;
    let rendered = nginx::render(&deployment, &csp)?;
    if !write {
        println!("gatehouse-config: the environment is valid");
        println!("gatehouse-config: Content-Security-Policy: {csp}");
        return Ok(());
    }

    let runtime = &deployment.runtime_dir;
    fs::create_dir_all(runtime).map_err(|e| Refusal::io("RUNTIME_DIR", "create", runtime, e))?;
    let mut files: Vec<(PathBuf, &str)> = vec![(runtime.join("config.json"), &settings.json)];
    for (name, text) in &rendered.files {
        files.push((runtime.join(name), text));
    }
    // Every file is written under a temporary name first, then all are renamed into place.
    let staged = |path: &Path| {
        let mut name = path.as_os_str().to_owned();
        name.push(".new");
        PathBuf::from(name)
    };
    for (path, text) in &files {
        let temp = staged(path);
        fs::write(&temp, text).map_err(|e| Refusal::io("RUNTIME_DIR", "write", &temp, e))?;
    }
    for (path, _) in &files {
        fs::rename(staged(path), path).map_err(|e| Refusal::io("RUNTIME_DIR", "write", path, e))?;
    }
    println!(
        "gatehouse-config: wrote config.json and nginx.conf to {} (listen {}, brotli {})",
        runtime.display(),
        deployment.listen,
        if rendered.brotli { "on" } else { "off" }
    );
    println!("gatehouse-config: Content-Security-Policy: {csp}");
    Ok(())
}
