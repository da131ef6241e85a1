//! Calling the protected API: the request URL, and what a response means for the person. The
//! UI is convenience only; the API enforces. A 403 is shown as "not permitted" with the role the
//! API asked for when it says so (clinical-mdr-api style `required_roles`, a `detail` text, or an
//! RFC 6750 `WWW-Authenticate` challenge).

use leptos_oidc_spa::ApiError;
use serde::Deserialize;
use serde_json::Value;

/// The most of an answer the console reads: a megabyte. The rest is left unread, and the console
/// says so: an API that answers with more cannot fill the page's memory or freeze it.
pub const MAX_BODY: usize = 1024 * 1024;

/// The most of an answer's text the console shows when the answer is not shown as a tree (not
/// JSON, or not read whole): a quarter of a megabyte.
pub const MAX_TEXT: usize = 256 * 1024;

/// `API_BASE_URL` + path; an empty base means this origin.
pub fn url(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// How a finished HTTP exchange should be presented.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// 2xx/3xx/4xx other than below: show status and body.
    Done,
    /// 401 even after one refresh: the session is over.
    Unauthorized,
    /// 403: not permitted, with the roles the API wanted if it said.
    Forbidden {
        required: Vec<String>,
        detail: Option<String>,
    },
    /// 5xx: the server failed; the person may retry.
    ServerError,
}

/// What the console shows after a call.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiResult {
    Response {
        status: u16,
        outcome: Outcome,
        /// The body, when it is JSON and was read whole.
        json: Option<Value>,
        /// The body as it came (its first [`MAX_BODY`] bytes).
        text: String,
        /// The body went on past [`MAX_BODY`] and the rest was not read.
        truncated: bool,
    },
    /// The request never got an answer (offline, CORS, server down).
    Network(String),
}

impl ApiResult {
    /// The warning to show about this result, and whether trying again can help.
    pub fn problem(&self) -> Option<(String, bool)> {
        match self {
            ApiResult::Network(e) => Some((format!("The API could not be reached: {e}"), true)),
            ApiResult::Response {
                status,
                outcome: Outcome::ServerError,
                ..
            } => Some((
                format!("The API failed (HTTP {status}). This is not your fault; try again in a moment."),
                true,
            )),
            ApiResult::Response {
                outcome: Outcome::Unauthorized,
                ..
            } => Some(("The API did not accept your sign-in.".into(), false)),
            ApiResult::Response { .. } => None,
        }
    }
}

/// What a 403 body may say about the refusal: clinical-mdr-api's `required_roles` and
/// `detail`, or a `message`. Anything else in it is ignored.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Refusal {
    required_roles: Vec<String>,
    detail: Option<String>,
    message: Option<String>,
}

/// Classifies a response (after the 401 retry has been spent).
pub fn classify(status: u16, body: &str, www_authenticate: Option<&str>) -> Outcome {
    match status {
        401 => Outcome::Unauthorized,
        403 => {
            let refusal: Refusal = serde_json::from_str(body).unwrap_or_default();
            let mut required = refusal.required_roles;
            if required.is_empty() {
                required = www_authenticate
                    .and_then(|h| challenge_param(h, "scope"))
                    .map(|s| s.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default();
            }
            Outcome::Forbidden {
                required,
                detail: refusal.detail.or(refusal.message),
            }
        }
        500..=599 => Outcome::ServerError,
        _ => Outcome::Done,
    }
}

/// A parameter of a `WWW-Authenticate: Bearer k="v", ...` challenge.
fn challenge_param(header: &str, name: &str) -> Option<String> {
    let rest = header.trim().strip_prefix("Bearer")?;
    rest.split(',').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The result of a finished exchange: the body is kept as it came and, when it is JSON and was
/// read whole, parsed for the tree view.
pub fn response(
    status: u16,
    body: String,
    www_authenticate: Option<&str>,
    truncated: bool,
) -> ApiResult {
    ApiResult::Response {
        status,
        outcome: classify(status, &body, www_authenticate),
        json: (!truncated)
            .then(|| serde_json::from_str(&body).ok())
            .flatten(),
        text: body,
        truncated,
    }
}

/// What of `text` to show as text: its first [`MAX_TEXT`] bytes (ending on a whole character),
/// and how many bytes are not shown.
pub fn shown_text(text: &str) -> (&str, usize) {
    if text.len() <= MAX_TEXT {
        return (text, 0);
    }
    let end = (0..=MAX_TEXT)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    (&text[..end], text.len() - end)
}

/// What the console shows for a call that got no answer (the API's call for consent aside,
/// which the console offers to give): where it was going and why, in a few words.
pub fn unreached(error: ApiError) -> ApiResult {
    ApiResult::Network(match error {
        ApiError::Network { url, detail } => format!("{url}: {detail}"),
        ApiError::Timeout { url, seconds } => {
            format!("{url}: no answer within {seconds} seconds")
        }
        other => other.to_string(),
    })
}

/// Whether a request body typed in the console can be sent: it must be JSON. The error says
/// why not; then nothing is sent.
pub fn check_body(text: &str) -> Result<(), String> {
    match serde_json::from_str::<Value>(text) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("The body is not valid JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_base_and_path() {
        assert_eq!(
            url("http://127.0.0.1:8091/", "/studies"),
            "http://127.0.0.1:8091/studies"
        );
        assert_eq!(url("", "/me"), "/me");
        assert_eq!(url("/api", "/me"), "/api/me");
    }

    #[test]
    fn forbidden_names_the_required_role_from_body_or_challenge() {
        let body = r#"{"error":"forbidden","detail":"requires role Study.Write","required_roles":["Study.Write"]}"#;
        assert_eq!(
            classify(403, body, None),
            Outcome::Forbidden {
                required: vec!["Study.Write".into()],
                detail: Some("requires role Study.Write".into())
            }
        );
        assert_eq!(
            classify(
                403,
                "",
                Some(r#"Bearer error="insufficient_scope", scope="TREAdmin""#)
            ),
            Outcome::Forbidden {
                required: vec!["TREAdmin".into()],
                detail: None
            }
        );
        assert_eq!(
            classify(403, "<html>", None),
            Outcome::Forbidden {
                required: vec![],
                detail: None
            }
        );
    }

    #[test]
    fn other_statuses() {
        assert_eq!(classify(200, "{}", None), Outcome::Done);
        assert_eq!(classify(404, "{}", None), Outcome::Done);
        assert_eq!(classify(401, "", None), Outcome::Unauthorized);
        assert_eq!(classify(503, "", None), Outcome::ServerError);
    }

    #[test]
    fn keeps_the_body_and_parses_json_for_the_tree() {
        let ApiResult::Response { json, text, .. } =
            response(200, r#"{"a":1}"#.into(), None, false)
        else {
            panic!("a response")
        };
        assert_eq!(json, Some(serde_json::json!({"a": 1})));
        assert_eq!(text, r#"{"a":1}"#);
        let ApiResult::Response { json, text, .. } = response(200, "plain".into(), None, false)
        else {
            panic!("a response")
        };
        assert_eq!((json, text.as_str()), (None, "plain"));
    }

    #[test]
    fn hostile_bodies_are_text_not_a_crash_or_a_freeze() {
        // 100,000 nested arrays: serde_json stops at depth 128 instead of overflowing the stack.
        let ApiResult::Response { json, text, .. } =
            response(200, "[".repeat(100_000), None, false)
        else {
            panic!("a response")
        };
        assert_eq!((json, text.len()), (None, 100_000));
        // One key repeated 100,000 times (about 1 MB): read in linear time (the last one wins).
        let body = format!("{{{}\"k\":0}}", "\"k\":1,".repeat(100_000));
        let started = std::time::Instant::now();
        let ApiResult::Response { json, .. } = response(200, body, None, false) else {
            panic!("a response")
        };
        assert_eq!(json, Some(serde_json::json!({"k": 0})));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn an_unreached_api_is_named_with_the_reason() {
        let network = ApiError::Network {
            url: "https://api.example/studies".into(),
            detail: "Failed to fetch".into(),
        };
        assert_eq!(
            unreached(network),
            ApiResult::Network("https://api.example/studies: Failed to fetch".into())
        );
        let timeout = ApiError::Timeout {
            url: "/api/me".into(),
            seconds: 20,
        };
        assert_eq!(
            unreached(timeout),
            ApiResult::Network("/api/me: no answer within 20 seconds".into())
        );
        let ApiResult::Network(other) = unreached(ApiError::NotSignedIn) else {
            panic!("no answer")
        };
        assert_eq!(other, ApiError::NotSignedIn.to_string());
        assert_eq!(
            ApiResult::Network(other).problem().map(|(_, retry)| retry),
            Some(true)
        );
    }

    #[test]
    fn only_a_json_body_is_sent() {
        assert_eq!(check_body(r#"{"acronym": "X"}"#), Ok(()));
        assert_eq!(check_body("[]"), Ok(()));
        let err = check_body("{acronym: X}").unwrap_err();
        assert!(
            err.starts_with("The body is not valid JSON: key must be a string"),
            "{err}"
        );
        assert!(check_body("").is_err(), "an empty body is not JSON");
    }

    #[test]
    fn a_body_read_in_part_is_text_and_long_text_is_shown_in_part() {
        let ApiResult::Response {
            json, truncated, ..
        } = response(200, "[1,2".into(), None, true)
        else {
            panic!("a response")
        };
        assert_eq!(
            (json, truncated),
            (None, true),
            "never parsed: its end is missing"
        );
        assert_eq!(shown_text("short"), ("short", 0));
        let long = "é".repeat(MAX_TEXT); // two bytes each
        let (shown, rest) = shown_text(&long);
        assert_eq!(shown.len(), MAX_TEXT);
        assert_eq!(rest, MAX_TEXT);
        let odd = format!("a{long}");
        let (shown, rest) = shown_text(&odd);
        assert_eq!(
            shown.len(),
            MAX_TEXT - 1,
            "cut before a character, not inside it"
        );
        assert_eq!(shown.len() + rest, odd.len());
    }
}
