//! The variables that shape the hosting rather than the app: where files are, how nginx listens
//! and logs, HSTS, brotli, extra `connect-src` sources. Each is written into nginx's
//! configuration verbatim, so each rule admits only text that cannot end a directive, start a
//! variable or break out of a string.

use crate::environment::Environment;
use crate::refusal::Refusal;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// The hosting, as the environment describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The release build (read-only): `index.html`, the assets, their `.br` and `.gz` copies and
    /// the CSP hashes of its inline elements.
    pub web_root: PathBuf,
    /// The one folder the container writes: `config.json`, nginx's configuration, temp and pid
    /// files.
    pub runtime_dir: PathBuf,
    /// Where the nginx templates are.
    pub template_dir: PathBuf,
    /// nginx's `mime.types`.
    pub mime_types: PathBuf,
    /// Where nginx's dynamic modules are (the brotli modules are looked for there).
    pub modules_dir: PathBuf,
    /// `host:port` or `port` for nginx's `listen`.
    pub listen: String,
    /// `auto` or a number.
    pub worker_processes: String,
    pub error_log_level: String,
    /// A path, or `off`.
    pub access_log: String,
    pub brotli: Brotli,
    pub hsts: Hsts,
    /// Extra `connect-src` sources (`CSP_CONNECT_SRC`), checked.
    pub connect_src: Vec<String>,
    /// The workers' user and group when the master runs as root (the entrypoint looks them up).
    pub worker_user: Option<(String, String)>,
}

/// Whether responses are also brotli-compressed (`BROTLI`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brotli {
    /// When nginx's brotli modules are installed.
    Auto,
    /// Required: a missing module stops the start.
    On,
    Off,
}

/// When `Strict-Transport-Security` is sent (`HSTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hsts {
    /// On responses nginx itself sends over TLS.
    Auto,
    /// On every response: TLS ends at a proxy or an Ingress in front.
    Always,
    Off,
}

const LOG_LEVELS: [&str; 8] = [
    "debug", "info", "notice", "warn", "error", "crit", "alert", "emerg",
];

impl Deployment {
    /// Reads and checks the hosting variables.
    pub fn from_env(env: &Environment) -> Result<Deployment, Refusal> {
        // Earlier images wrote the configuration and nginx's files to two folders; one runtime
        // folder holds both now, and a setting that would be ignored is refused instead.
        for replaced in ["NGINX_CONF_DIR", "NGINX_RUN_DIR"] {
            if env.get(replaced)?.is_some() {
                return Err(Refusal::new(
                    replaced,
                    "is replaced by RUNTIME_DIR, the one folder the container writes (config.json, nginx's configuration, temp and pid files)",
                ));
            }
        }
        let path = |name: &str| -> Result<PathBuf, Refusal> {
            let value = env
                .get(name)?
                .ok_or_else(|| Refusal::new(name, "is required (the entrypoint sets it)"))?;
            safe_path(name, &value)
        };
        let web_root = path("WEB_ROOT")?;
        let runtime_dir = path("RUNTIME_DIR")?;
        let template_dir = path("GATEHOUSE_TEMPLATE_DIR")?;
        let mime_types = path("NGINX_MIME_TYPES")?;
        let modules_dir = path("NGINX_MODULES_DIR")?;
        if runtime_dir.starts_with(&web_root) || web_root.starts_with(&runtime_dir) {
            return Err(Refusal::new(
                "RUNTIME_DIR",
                format!(
                    "{} and WEB_ROOT {} must not contain one another: nginx serves WEB_ROOT, and the runtime folder holds its configuration",
                    runtime_dir.display(),
                    web_root.display()
                ),
            ));
        }

        let access_log = env.get_or("NGINX_ACCESS_LOG", "/dev/stdout")?;
        if access_log != "off" {
            let log = safe_path("NGINX_ACCESS_LOG", &access_log)?;
            if log.starts_with(&web_root) {
                return Err(Refusal::new(
                    "NGINX_ACCESS_LOG",
                    format!("{access_log} is inside WEB_ROOT, which nginx serves: the log would be public; write it elsewhere or to /dev/stdout"),
                ));
            }
        }

        let port = env.get_or("PORT", "8080")?;
        if !is_port(&port) {
            return Err(Refusal::new(
                "PORT",
                format!("must be a port number from 1 to 65535 (got {port:?})"),
            ));
        }
        let listen = match env.get("LISTEN_ADDRESS")? {
            None => port,
            Some(address) if is_listen_address(&address) => format!("{address}:{port}"),
            Some(address) => {
                return Err(Refusal::new(
                    "LISTEN_ADDRESS",
                    format!(
                        "must be an IPv4 address, [IPv6] address or host name (got {address:?})"
                    ),
                ))
            }
        };

        let worker_processes = env.get_or("NGINX_WORKER_PROCESSES", "auto")?;
        if worker_processes != "auto" && !is_positive_number(&worker_processes) {
            return Err(Refusal::new(
                "NGINX_WORKER_PROCESSES",
                format!("must be auto or a positive number (got {worker_processes:?})"),
            ));
        }
        let error_log_level = env.get_or("NGINX_ERROR_LOG_LEVEL", "warn")?;
        if !LOG_LEVELS.contains(&error_log_level.as_str()) {
            return Err(Refusal::new(
                "NGINX_ERROR_LOG_LEVEL",
                format!(
                    "must be one of {} (got {error_log_level:?})",
                    LOG_LEVELS.join(", ")
                ),
            ));
        }
        let brotli = choice(
            env,
            "BROTLI",
            [
                ("auto", Brotli::Auto),
                ("on", Brotli::On),
                ("off", Brotli::Off),
            ],
        )?;
        let hsts = choice(
            env,
            "HSTS",
            [
                ("auto", Hsts::Auto),
                ("always", Hsts::Always),
                ("off", Hsts::Off),
            ],
        )?;
        let connect_src = env
            .get("CSP_CONNECT_SRC")?
            .unwrap_or_default()
            .split_whitespace()
            .map(connect_source)
            .collect::<Result<Vec<_>, _>>()?;

        let worker_user = match env.get("NGINX_WORKER_USER")? {
            None => None,
            Some(user) => {
                let group = env.get_or("NGINX_WORKER_GROUP", &user)?;
                for (name, value) in [("NGINX_USER", &user), ("NGINX_WORKER_GROUP", &group)] {
                    if !plain(value, b"_.-") {
                        return Err(Refusal::new(
                            name,
                            format!("not a user or group name (got {value:?})"),
                        ));
                    }
                }
                Some((user, group))
            }
        };

        Ok(Deployment {
            web_root,
            runtime_dir,
            template_dir,
            mime_types,
            modules_dir,
            listen,
            worker_processes,
            error_log_level,
            access_log,
            brotli,
            hsts,
            connect_src,
            worker_user,
        })
    }
}

/// Whether `text` is only ASCII letters, digits and the bytes of `extra`: text that cannot end
/// a directive, start a variable or leave a string in nginx's configuration.
pub(crate) fn plain(text: &str, extra: &[u8]) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// An absolute path of plain characters without `.` or `..` segments.
fn safe_path(name: &str, value: &str) -> Result<PathBuf, Refusal> {
    if !value.starts_with('/') {
        return Err(Refusal::new(
            name,
            format!("must be an absolute path (got {value:?})"),
        ));
    }
    if !plain(value, b"._/@+=,:~-") {
        return Err(Refusal::new(
            name,
            format!("only letters, digits and ._/@+=,:~- are allowed in the path (got {value:?})"),
        ));
    }
    if value
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(Refusal::new(
            name,
            format!("no . or .. segments in the path (got {value:?})"),
        ));
    }
    Ok(Path::new(value).to_path_buf())
}

fn is_positive_number(text: &str) -> bool {
    !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_port(text: &str) -> bool {
    is_positive_number(text) && text.len() <= 5 && text.parse::<u32>().is_ok_and(|p| p <= 65_535)
}

/// An IPv4 address, an IPv6 address in brackets, or a host name (labels of letters, digits and
/// inner hyphens).
fn is_listen_address(text: &str) -> bool {
    if let Some(inner) = text.strip_prefix('[') {
        return inner
            .strip_suffix(']')
            .is_some_and(|ip| ip.parse::<Ipv6Addr>().is_ok());
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return text.parse::<Ipv4Addr>().is_ok();
    }
    text.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// A `CSP_CONNECT_SRC` source: `'self'`, `'none'`, or an http(s)/ws(s) source of plain
/// characters whose wildcard, if any, stays under a named domain.
fn connect_source(source: &str) -> Result<String, Refusal> {
    if source == "'self'" || source == "'none'" {
        return Ok(source.to_string());
    }
    let not_a_source = || {
        Refusal::new(
            "CSP_CONNECT_SRC",
            format!("{source:?} is not a CSP source such as https://login.microsoftonline.com"),
        )
    };
    let every_host = |scope: &str| {
        Refusal::new(
            "CSP_CONNECT_SRC",
            format!("{source:?} allows every host{scope}; name the hosts the app must reach"),
        )
    };
    if !plain(source, b".:/*_~%+-") {
        return Err(not_a_source());
    }
    let Some((scheme, rest)) = source.split_once("://") else {
        return Err(not_a_source());
    };
    if !["http", "https", "ws", "wss"].contains(&scheme) || rest.is_empty() {
        return Err(not_a_source());
    }
    let host = rest.split([':', '/']).next().unwrap_or_default();
    if host == "*" {
        return Err(every_host(""));
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if !domain.contains('.') {
            return Err(every_host(&format!(" under .{domain}")));
        }
    }
    if host.is_empty() || host[1..].contains('*') {
        return Err(not_a_source());
    }
    Ok(source.to_string())
}

/// The option variable `name` names, without regard to case; the first when it is unset.
fn choice<T: Copy, const N: usize>(
    env: &Environment,
    name: &str,
    options: [(&str, T); N],
) -> Result<T, Refusal> {
    let value = env.get_or(name, options[0].0)?.to_ascii_lowercase();
    if let Some((_, chosen)) = options.iter().find(|(option, _)| *option == value) {
        return Ok(*chosen);
    }
    let names: Vec<&str> = options.iter().map(|(option, _)| *option).collect();
    let (last, others) = names.split_last().unwrap_or((&"", &[]));
    Err(Refusal::new(
        name,
        format!("must be {} or {last} (got {value:?})", others.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(extra: &[(&str, &str)]) -> Environment {
        let mut vars = vec![
            ("WEB_ROOT", "/usr/share/gatehouse/html"),
            ("RUNTIME_DIR", "/run/gatehouse"),
            ("GATEHOUSE_TEMPLATE_DIR", "/usr/share/gatehouse/nginx"),
            ("NGINX_MIME_TYPES", "/etc/nginx/mime.types"),
            ("NGINX_MODULES_DIR", "/usr/lib/nginx/modules"),
        ];
        vars.extend_from_slice(extra);
        Environment::of(&vars)
    }

    #[test]
    fn the_defaults_listen_on_8080_with_brotli_and_hsts_on_auto() {
        let d = Deployment::from_env(&env(&[])).unwrap();
        assert_eq!(d.listen, "8080");
        assert_eq!(d.brotli, Brotli::Auto);
        assert_eq!(d.hsts, Hsts::Auto);
        assert_eq!(d.access_log, "/dev/stdout");
        assert_eq!(d.worker_user, None);
    }

    #[test]
    fn listen_addresses_and_sources_that_are_accepted() {
        for address in [
            "127.0.0.1",
            "0.0.0.0",
            "[::1]",
            "[fe80::1:2]",
            "localhost",
            "web-1.internal.example",
        ] {
            let d = Deployment::from_env(&env(&[("LISTEN_ADDRESS", address)])).unwrap();
            assert_eq!(d.listen, format!("{address}:8080"));
        }
        let d = Deployment::from_env(&env(&[(
            "CSP_CONNECT_SRC",
            "'self' https://*.example.com wss://*.api.example.org:443 http://127.0.0.1:8090/x",
        )]))
        .unwrap();
        assert_eq!(d.connect_src.len(), 4);
    }

    #[test]
    fn each_mistake_is_refused_naming_its_variable() {
        let cases = [
            ("PORT", "http"),
            ("PORT", "0"),
            ("PORT", "65536"),
            ("PORT", "080"),
            ("LISTEN_ADDRESS", "1.2.3"),
            ("LISTEN_ADDRESS", "127.0.0.256"),
            ("LISTEN_ADDRESS", "[::1"),
            ("LISTEN_ADDRESS", "localhost:8080"),
            ("LISTEN_ADDRESS", "web..example"),
            ("LISTEN_ADDRESS", "web-.example"),
            ("NGINX_ACCESS_LOG", "/var/log/../www/access.log"),
            (
                "NGINX_ACCESS_LOG",
                "/usr/share/gatehouse/html/logs/access.log",
            ),
            ("NGINX_ACCESS_LOG", "relative.log"),
            ("NGINX_WORKER_PROCESSES", "many"),
            ("NGINX_ERROR_LOG_LEVEL", "loud"),
            ("BROTLI", "maybe"),
            ("HSTS", "sometimes"),
            ("WEB_ROOT", "/srv/web root"),
            ("WEB_ROOT", "/srv/a;b"),
            ("RUNTIME_DIR", "/usr/share/gatehouse/html/run"),
            (
                "CSP_CONNECT_SRC",
                "https://ok.example.com https://x;script-src",
            ),
            ("CSP_CONNECT_SRC", "https://*"),
            ("CSP_CONNECT_SRC", "https://*:443"),
            ("CSP_CONNECT_SRC", "wss://*/socket"),
            ("CSP_CONNECT_SRC", "https://*.com"),
            ("CSP_CONNECT_SRC", "*"),
            ("CSP_CONNECT_SRC", "https:"),
            ("CSP_CONNECT_SRC", "ftp://files.example.com"),
            ("NGINX_WORKER_USER", "www data"),
            ("NGINX_CONF_DIR", "/etc/nginx/gatehouse"),
            ("NGINX_RUN_DIR", "/tmp/gatehouse-nginx"),
        ];
        for (name, value) in cases {
            let refusal = Deployment::from_env(&env(&[(name, value)])).unwrap_err();
            let expected = if name == "NGINX_WORKER_USER" {
                "NGINX_USER"
            } else {
                name
            };
            assert_eq!(refusal.subject, expected, "{name}={value}: {refusal}");
        }
    }

    #[test]
    fn the_paths_are_required() {
        let env = Environment::of(&[("WEB_ROOT", "/srv/html")]);
        assert_eq!(
            Deployment::from_env(&env).unwrap_err().subject,
            "RUNTIME_DIR"
        );
    }
}
