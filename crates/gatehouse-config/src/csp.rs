//! The Content-Security-Policy: the build's inline elements by hash, and the origins the app
//! talks to — the provider, the API, the other APIs, Microsoft Graph — from the same
//! configuration the app reads.

use crate::deployment::plain;
use crate::inline_hashes::InlineHashes;
use crate::refusal::Refusal;
use gatehouse::config::AppConfig;
use url::{Host, Url};

/// The policy for `config`, with `extra` sources for `connect-src` (already checked).
pub fn policy(
    config: &AppConfig,
    inline: &InlineHashes,
    extra: &[String],
) -> Result<String, Refusal> {
    let mut connect = vec!["'self'".to_string()];
    let mut add = |source: String| {
        if !connect.contains(&source) {
            connect.push(source);
        }
    };
    let idp = match &config.oauth {
        Some(oauth) => Some(origin("OAUTH_METADATA_URL", &oauth.metadata_url)?),
        None => None,
    };
    if let Some(idp) = &idp {
        add(idp.clone());
    }
    if !config.api_base_url.starts_with('/') && !config.api_base_url.is_empty() {
        add(origin("API_BASE_URL", &config.api_base_url)?);
    }
    for resource in &config.resources {
        if !resource.base_url.starts_with('/') {
            add(origin("RESOURCES", &resource.base_url)?);
        }
    }
    if let Some(graph) = &config.graph_base_url {
        add(origin("GRAPH_BASE_URL", graph)?);
    }
    for source in extra {
        add(source.clone());
    }
    // The profile shows the Graph photo as a blob: URL.
    let img = if config.graph_base_url.is_some() {
        "'self' data: blob:"
    } else {
        "'self' data:"
    };
    // Sign-in and sign-out are top-level navigations to the provider; a form that posts there
    // stays allowed.
    let form_action = match &idp {
        Some(idp) => format!("'self' {idp}"),
        None => "'self'".to_string(),
    };
    let with = |first: &str, hashes: &[String]| {
        std::iter::once(first.to_string())
            .chain(hashes.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    Ok(format!(
        "default-src 'none'; script-src {} 'wasm-unsafe-eval'; style-src {}; img-src {img}; font-src 'self'; connect-src {}; manifest-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        with("'self'", &inline.scripts),
        with("'self'", &inline.styles),
        connect.join(" "),
    ))
}

/// `scheme://host[:port]` of an absolute http(s) URL, as the browser would match it, with a host
/// of plain characters only (the policy is written into nginx's configuration as it is).
fn origin(variable: &str, url: &str) -> Result<String, Refusal> {
    let refuse = || {
        Refusal::new(
            variable,
            format!("{url:?} has no origin a Content-Security-Policy can name"),
        )
    };
    let parsed = Url::parse(url).map_err(|_| refuse())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(refuse());
    }
    match parsed.host() {
        Some(Host::Domain(domain)) if plain(domain, b".-") => {}
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {}
        _ => return Err(refuse()),
    }
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_lower_case_without_path_query_or_user() {
        for (url, expected) in [
            (
                "HTTPS://User:Pw@IdP.Example.com:8090/t/v2.0?x=1#y",
                "https://idp.example.com:8090",
            ),
            ("https://a.example:443/", "https://a.example"),
            ("http://[::1]:8090", "http://[::1]:8090"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
        ] {
            assert_eq!(origin("X", url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn a_host_that_could_break_the_policy_is_refused() {
        for url in [
            "https://idp\"; script-src *;.example.com/",
            "https://x;script-src/",
            "https://x'y/",
            "https://<api-host>/api",
            "ftp://files.example",
            "/relative",
            "https://",
        ] {
            assert_eq!(origin("V", url).unwrap_err().subject, "V", "{url}");
        }
    }
}
