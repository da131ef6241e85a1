//! Calling the protected API: the request URL, and what a response means for the person. The
//! UI is convenience only; the API enforces. A 403 is shown as "not permitted" with the role the
//! API asked for when it says so (clinical-mdr-api style `required_roles`, a `detail` text, or an
//! RFC 6750 `WWW-Authenticate` challenge).

use super::json::{self, Value};

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
        json: Option<Value>,
        text: String,
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

/// Classifies a response (after the 401 retry has been spent).
pub fn classify(status: u16, body: &str, www_authenticate: Option<&str>) -> Outcome {
    match status {
        401 => Outcome::Unauthorized,
        403 => {
            let json = json::parse(body).ok();
            let mut required: Vec<String> = json
                .as_ref()
                .and_then(|j| j.get("required_roles"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if required.is_empty() {
                required = www_authenticate
                    .and_then(|h| challenge_param(h, "scope"))
                    .map(|s| s.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default();
            }
            let detail = json
                .as_ref()
                .and_then(|j| j.get("detail").or_else(|| j.get("message")))
                .and_then(Value::as_str)
                .map(str::to_string);
            Outcome::Forbidden { required, detail }
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

/// Pretty-prints a JSON body, or returns the text as it is.
pub fn pretty(body: &str) -> (Option<Value>, String) {
    match json::parse(body) {
        Ok(v) => {
            let text = json::to_string_pretty(&v);
            (Some(v), text)
        }
        Err(_) => (None, body.to_string()),
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
    fn pretty_prints_json_and_keeps_text() {
        assert_eq!(pretty(r#"{"a":1}"#).1, "{\n  \"a\": 1\n}");
        assert_eq!(pretty("plain").1, "plain");
        // Numbers are shown as the API wrote them.
        assert_eq!(
            pretty("[1.50,12345678901234567890123]").1,
            "[\n  1.50,\n  12345678901234567890123\n]"
        );
    }
}
