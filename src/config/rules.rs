//! The value rules shared by the settings, `VIEWS` and `RESOURCES`: one rule each for lists,
//! ids, claim paths, base URLs, switches and endpoint URLs. A rule says what it refuses and what a
//! valid value looks like; the caller names the key.

use super::settings::Setting;
use leptos_oidc_spa::safe_url::{is_same_site_path, is_secure_endpoint, may_carry_token};
use serde_json::Value;
use std::collections::BTreeSet;

/// Why a rule refuses a setting: it is unset though required, or its value is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Absent, null or blank.
    Missing,
    /// The value as written and what a valid one looks like.
    Invalid {
        value: String,
        expected: &'static str,
    },
}

/// Parses a flag the way StudyBuilder does: `true`/`on`/`1`/`yes` and `false`/`off`/`0`/`no`,
/// case-insensitive.
pub fn parse_flag(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Some(true),
        "false" | "off" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A switch: `default` when unset, else a flag `parse_flag` reads.
pub(crate) fn flag(setting: Setting, default: bool) -> Result<bool, Rejection> {
    match setting.0 {
        None => Ok(default),
        Some(value) => parse_flag(&value).ok_or(Rejection::Invalid {
            value,
            expected: "true/false (also on/off, 1/0, yes/no)",
        }),
    }
}

/// An endpoint of the provider or of Graph: https, or http only on localhost.
pub(crate) fn url(value: String) -> Result<String, Rejection> {
    if is_secure_endpoint(&value) {
        Ok(value)
    } else {
        Err(Rejection::Invalid {
            value,
            expected: "an https:// URL (http:// only on localhost, for development)",
        })
    }
}

/// The setting's text; unset is refused.
pub(crate) fn required(setting: Setting) -> Result<String, Rejection> {
    setting.0.ok_or(Rejection::Missing)
}

/// A list setting (`VIEWS`, `RESOURCES`): a JSON list, or the same list as JSON text (an
/// environment variable copied verbatim); absent, null or blank is an empty list.
pub(crate) fn parse_list<T>(
    value: Option<Value>,
    read: impl Fn(Value) -> Result<Vec<T>, String>,
) -> Result<Vec<T>, String> {
    match value.unwrap_or(Value::Null) {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.trim().is_empty() => Ok(Vec::new()),
        Value::String(s) => serde_json::from_str(&s)
            .map_err(|e| e.to_string())
            .and_then(read),
        other => read(other),
    }
}

/// Reads each entry of a list setting with `read`. No two entries may have the same `id`: the
/// ids seen are kept in an ordered set, so a list of any length is checked in n log n time (a
/// hash set would be linear, for 3 KB more wasm: std's SipHash). An error names
/// the entry by position and id: `view 2 ("studies"): …`.
pub(crate) fn entries<T>(
    items: Vec<Value>,
    noun: &str,
    example: &str,
    mut read: impl FnMut(&Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut ids: BTreeSet<String> = BTreeSet::new();
    let mut read_so_far: Vec<T> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let id = item.get("id").and_then(Value::as_str);
        let at = |what: &str| match id {
            Some(id) => format!("{noun} {} ({id:?}): {what}", i + 1),
            None => format!("{noun} {}: {what}", i + 1),
        };
        if !item.is_object() {
            return Err(at(&format!("expected an object such as {example}")));
        }
        if id.is_some_and(|id| !ids.insert(id.to_string())) {
            return Err(at("id is used twice"));
        }
        read_so_far.push(read(&item).map_err(|e| at(&e))?);
    }
    Ok(read_so_far)
}

/// Whether `id` can name a view or an API in routes and test hooks: letters, digits, `-`, `_`.
pub(crate) fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A roles claim as path segments (`realm_access.roles`); `None` if a segment is blank. A claim
/// named by a URL (`https://example.com/roles`, Auth0's namespaced claims) is one name.
pub(crate) fn claim_path(text: &str) -> Option<Vec<String>> {
    if text.starts_with("https://") || text.starts_with("http://") {
        return (!text.contains(char::is_whitespace)).then(|| vec![text.to_string()]);
    }
    let path: Vec<String> = text.split('.').map(str::to_string).collect();
    (!path.iter().any(|segment| segment.trim().is_empty())).then_some(path)
}

/// An amount of time: unset is `None`, else a positive number up to `most` (`"24"`, `"0.5"`).
/// Read as a JSON number: serde_json's number reader is in the build already,
/// `str::parse::<f64>` would add 8 KB gzip of tables for these settings.
pub(crate) fn amount(
    setting: Setting,
    most: f64,
    expected: &'static str,
) -> Result<Option<f64>, Rejection> {
    let Some(value) = setting.0 else {
        return Ok(None);
    };
    match serde_json::from_str::<f64>(&value) {
        Ok(number) if number.is_finite() && number > 0.0 && number <= most => Ok(Some(number)),
        _ => Err(Rejection::Invalid { value, expected }),
    }
}

/// Names separated by spaces or commas, each an id (`cp1, cp2`).
pub(crate) fn names(value: String, expected: &'static str) -> Result<Vec<String>, Rejection> {
    let names: Vec<String> = (value.split([' ', ',']))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    if names.iter().all(|name| is_id(name)) {
        Ok(names)
    } else {
        Err(Rejection::Invalid { value, expected })
    }
}

/// An RFC 8707 resource indicator: an absolute URI without a fragment.
pub(crate) fn resource_indicator(value: String) -> Result<String, Rejection> {
    if is_resource_indicator(&value) {
        Ok(value)
    } else {
        Err(Rejection::Invalid {
            value,
            expected:
                "an absolute URI without a fragment, such as https://api.example.com (RFC 8707)",
        })
    }
}

/// Whether `value` may be an RFC 8707 resource indicator: an absolute URI (a scheme, then `:`)
/// without a fragment, whitespace or control characters.
fn is_resource_indicator(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && !value.contains('#')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Whether `path` may be the redirect URI's path: a path on this site (no whitespace, control
/// character or backslash), without a query or fragment.
pub(crate) fn is_redirect_path(path: &str) -> bool {
    is_same_site_path(path) && !path.contains(['?', '#'])
}

/// Whether `url` may be an API's base: a path on this site, or an https URL (http only on
/// localhost); the library refuses to send a token anywhere else.
pub(crate) fn is_base_url(url: &str) -> bool {
    may_carry_token(url)
}
