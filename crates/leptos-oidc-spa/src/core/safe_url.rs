//! Where the client may send the browser or a token: provider endpoints that are `https` (plain
//! `http` only on this computer, for development), paths on this site, and return routes that
//! cannot leave the origin (open-redirect defences, RFC 3986 §5.2.4 dot segments as a browser
//! resolves them).

/// Whether the client may navigate to or call `url`: `https://`, or `http://` on a loopback host
/// (`localhost`, `127.0.0.0/8`, `[::1]`) for development. `javascript:`, `data:`, relative URLs,
/// plain `http` to another host, URLs with credentials or backslashes, and URLs with whitespace
/// or control characters (which a browser strips, changing the host) are refused.
pub fn is_secure_endpoint(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains(['@', '\\']) {
        return false;
    }
    https || is_loopback(authority)
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback(authority: &str) -> bool {
    if authority == "[::1]" || authority.starts_with("[::1]:") {
        return true;
    }
    let host = authority.split(':').next().unwrap_or_default();
    let octets: Vec<&str> = host.split('.').collect();
    host.eq_ignore_ascii_case("localhost")
        || (octets.len() == 4
            && octets[0] == "127"
            && octets.iter().all(|o| o.parse::<u8>().is_ok()))
}

/// Whether `url` is a path on this site (`/api`, `/api/studies?x=1`): it starts with one `/`,
/// and has no backslash, whitespace or control character, any of which a browser may turn into
/// another host (`/\evil.example`, `/\n/evil.example`).
pub fn is_same_site_path(url: &str) -> bool {
    url.starts_with('/')
        && !url.starts_with("//")
        && !url
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

/// Whether a request to `url` may carry an access token: a path on this site or a secure
/// endpoint ([`is_same_site_path`], [`is_secure_endpoint`]).
pub fn may_carry_token(url: &str) -> bool {
    is_same_site_path(url) || is_secure_endpoint(url)
}

/// A path segment that means "here" or "up".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DotSegment {
    /// `.`
    Current,
    /// `..`
    Parent,
}

/// Whether `segment` is `.` or `..`, also percent-encoded (`%2e`, `%2E%2e`, `.%2e`), as browsers
/// read them.
fn dot_segment(segment: &str) -> Option<DotSegment> {
    match segment.to_ascii_lowercase().as_str() {
        "." | "%2e" => Some(DotSegment::Current),
        ".." | "%2e%2e" | ".%2e" | "%2e." => Some(DotSegment::Parent),
        _ => None,
    }
}

/// Whether the path part of `url` (before any `?` or `#`) has a `.` or `..` segment, also
/// percent-encoded: a path that a browser would resolve to somewhere else than it reads.
pub fn has_dot_segments(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .any(|segment| dot_segment(segment).is_some())
}

/// Keeps a return route only if it is a path on this origin; anything else becomes `/`.
/// Blocks `//evil`, `/\evil`, `https://evil` and control characters, and the redirect path itself
/// (a return there would look like a callback).
pub fn safe_return_path(candidate: &str, redirect_path: &str) -> String {
    if !candidate.starts_with('/') || candidate.chars().any(|c| c.is_control() || c == '\\') {
        return "/".to_string();
    }
    // Dot segments are resolved first (RFC 3986 §5.2.4), so `/a/..//evil` is judged as the
    // `//evil` a browser would make of it.
    let end = candidate.find(['?', '#']).unwrap_or(candidate.len());
    let (path, rest) = candidate.split_at(end);
    let path = remove_dot_segments(path);
    if path.starts_with("//") || path == redirect_path {
        return "/".to_string();
    }
    format!("{path}{rest}")
}

/// RFC 3986 §5.2.4 for an absolute path: `.` and `..` segments (also percent-encoded, as browsers
/// read them) are applied; the result still starts with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path[1..].split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        match dot_segment(segment) {
            Some(DotSegment::Current) => {}
            Some(DotSegment::Parent) => {
                output.pop();
            }
            None => {
                output.push(segment);
                continue;
            }
        }
        // A trailing dot segment leaves the path ending in a slash.
        if i == last {
            output.push("");
        }
    }
    format!("/{}", output.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_or_loopback_http() {
        for ok in [
            "https://login.microsoftonline.com/t/oauth2/v2.0/token",
            "http://127.0.0.1:8090/t/token",
            "http://localhost:8090/token",
            "http://[::1]:8090/token",
        ] {
            assert!(is_secure_endpoint(ok), "{ok}");
        }
        for bad in [
            "http://idp.example/token",
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative/token",
            "//idp.example/token",
            "https://",
            "https://user@idp.example/token",
            "http://127.0.0.1.evil.example/token",
            "http://localhost.evil.example/token",
            "https://idp.example/a b",
            "https://idp.example/\tx",
        ] {
            assert!(!is_secure_endpoint(bad), "{bad}");
        }
    }

    #[test]
    fn paths_on_this_site_cannot_name_another_host() {
        for ok in ["/", "/api", "/api/studies?x=1#y"] {
            assert!(is_same_site_path(ok), "{ok}");
            assert!(may_carry_token(ok), "{ok}");
        }
        for bad in [
            "",
            "api",
            "//evil.example",
            "/\\evil.example",
            "/\n/evil.example",
            "/\t/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
        ] {
            assert!(!is_same_site_path(bad), "{bad:?}");
            assert!(!may_carry_token(bad), "{bad:?}");
        }
        assert!(may_carry_token("https://api.example/v1"));
        assert!(!may_carry_token("http://api.example/v1"));
    }

    #[test]
    fn dot_segments_are_found_also_percent_encoded() {
        for dotted in ["/a/../b", "/a/./b", "/%2e%2E/b", "/a/.%2e", "/.."] {
            assert!(has_dot_segments(dotted), "{dotted}");
        }
        for plain in ["/a/b", "/a/b?x=/../y", "/a.b/c..d", "/a#/../"] {
            assert!(!has_dot_segments(plain), "{plain}");
        }
    }

    #[test]
    fn return_paths_stay_on_this_origin() {
        assert_eq!(
            safe_return_path("/studies/1?tab=a#x", "/oauth-callback"),
            "/studies/1?tab=a#x"
        );
        // Dot segments are resolved, then judged.
        for (path, normalised) in [
            ("/views/a/../b?x=/../y", "/views/b?x=/../y"),
            ("/views/./a/", "/views/a/"),
            ("/views/a/..", "/views/"),
            ("/../../views", "/views"),
        ] {
            assert_eq!(
                safe_return_path(path, "/oauth-callback"),
                normalised,
                "{path}"
            );
        }
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
            "/oauth-callback?code=x",
            "/a/..//evil.example",
            "/..//evil.example",
            "/./oauth-callback",
            "/views/%2e%2e//evil.example",
        ] {
            assert_eq!(
                safe_return_path(hostile, "/oauth-callback"),
                "/",
                "{hostile:?}"
            );
        }
    }
}
