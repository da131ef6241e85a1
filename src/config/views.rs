//! API views declared in `config.json` under `VIEWS`, so one build fronts any API: each is a
//! navigation entry that calls one endpoint, gated by roles.

use super::rules;
use leptos_oidc_spa::safe_url::has_dot_segments;
use serde::Deserialize;
use serde_json::Value;

/// One API view.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiView {
    /// URL-safe identifier: the route is `/views/<id>`, the test hook `view-<id>`.
    pub id: String,
    pub title: String,
    /// `GET` unless given.
    #[serde(default = "get")]
    pub method: String,
    /// Path below `API_BASE_URL` (or the resource's `base_url`), starting with `/`.
    pub path: String,
    /// The `RESOURCES` id of the API it calls; `None`: the main API.
    #[serde(default)]
    pub resource: Option<String>,
    /// The view is available with any one of these roles on its API (empty: any signed-in
    /// user).
    #[serde(default)]
    pub roles: Vec<String>,
    /// JSON body template for POST/PUT/PATCH, editable before sending.
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
}

fn get() -> String {
    "GET".into()
}

/// Whether `path`, appended to `API_BASE_URL`, can only name something below it on the same
/// origin: no backslash (browsers read it as `/`, so `/\\host` is `//host`), no whitespace or
/// control characters, and no `.` or `..` segment, percent-encoded or not.
fn stays_below_the_base(path: &str) -> bool {
    !path
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
        && !has_dot_segments(path)
}

/// "requires Study.Write" / "requires one of TREAdmin, TREUser"; empty when nothing is required.
pub fn missing_role_reason(any: &[String]) -> String {
    match any {
        [] => String::new(),
        [one] => format!("requires {one}"),
        many => format!("requires one of {}", many.join(", ")),
    }
}

const EXAMPLE: &str =
    r#"{"id":"studies","title":"Studies","path":"/studies","roles":["Study.Read"]}"#;

impl ApiView {
    pub fn sends_body(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH")
    }

    /// The roles as a gate names them: on another API, with its name (`TRE workspace alpha:
    /// WorkspaceOwner`), so nobody mistakes them for the main API's.
    pub fn role_labels(&self, api_name: &str) -> Vec<String> {
        match self.resource {
            None => self.roles.clone(),
            Some(_) => (self.roles.iter())
                .map(|role| format!("{api_name}: {role}"))
                .collect(),
        }
    }

    /// The body template, pretty-printed for editing.
    pub fn body_text(&self) -> String {
        self.body
            .as_ref()
            .and_then(|body| serde_json::to_string_pretty(body).ok())
            .unwrap_or_default()
    }

    /// The first rule of a usable view this one breaks, if any (`rules::entries` sees to ids
    /// used twice).
    fn problem(&self) -> Option<&'static str> {
        if !rules::is_id(&self.id) {
            Some("id must be letters, digits, - or _")
        } else if !matches!(
            self.method.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
        ) {
            Some("method must be GET, POST, PUT, PATCH or DELETE")
        } else if !self.path.starts_with('/') || self.path.starts_with("//") {
            Some("path must start with a single /")
        } else if !stays_below_the_base(&self.path) {
            Some("path must stay below API_BASE_URL: no backslashes, spaces, or . and .. segments")
        } else {
            None
        }
    }
}

/// Parses and checks the `VIEWS` value; the error says which view and what is wrong.
pub fn parse(value: Value) -> Result<Vec<ApiView>, String> {
    let Value::Array(items) = value else {
        return Err(format!("it must be a list of views such as [{EXAMPLE}]"));
    };
    rules::entries(items, "view", EXAMPLE, |item| {
        let view = ApiView::deserialize(item).map_err(|e| e.to_string())?;
        match view.problem() {
            Some(problem) => Err(problem.to_string()),
            None => Ok(view),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: &serde_json::Value) -> Result<Vec<ApiView>, String> {
        super::parse(value.clone())
    }

    #[test]
    fn parses_views_with_defaults() {
        let views = parse(&json!([
            {"id": "studies", "title": "Studies", "path": "/studies", "roles": ["Study.Read"]},
            {"id": "create-study", "title": "New study", "method": "POST", "path": "/studies",
             "roles": ["Study.Write"], "body": {"acronym": "X"}}
        ]))
        .unwrap();
        assert_eq!(views[0].method, "GET");
        assert!(!views[0].sends_body());
        assert!(views[1].sends_body());
        assert!(views[1].body_text().contains("\"acronym\": \"X\""));
        assert_eq!(views[0].resource, None);
        assert_eq!(views[0].role_labels("StudyBuilder"), vec!["Study.Read"]);
    }

    #[test]
    fn a_view_on_another_api_names_it_in_its_roles() {
        let views = parse(&json!([
            {"id": "ws", "title": "Workspace", "path": "/", "resource": "alpha",
             "roles": ["WorkspaceOwner", "WorkspaceResearcher"]}
        ]))
        .unwrap();
        assert_eq!(views[0].resource.as_deref(), Some("alpha"));
        assert_eq!(
            views[0].role_labels("TRE workspace alpha"),
            vec![
                "TRE workspace alpha: WorkspaceOwner",
                "TRE workspace alpha: WorkspaceResearcher"
            ]
        );
    }

    #[test]
    fn rejects_bad_views_naming_them() {
        let cases = [
            (json!({"id": "x"}), "a list of views"),
            (
                json!([{"id": "a b", "title": "t", "path": "/x"}]),
                "id must be",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x"}, {"id": "a", "title": "u", "path": "/y"}]),
                "used twice",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x", "method": "TRACE"}]),
                "method",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "https://evil/x"}]),
                "path",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "//evil.example/x"}]),
                "view 1 (\"a\"): path must start with a single /",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/\\evil.example/x"}]),
                "view 1 (\"a\"): path must stay below API_BASE_URL",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/studies/../../admin"}]),
                "path must stay below API_BASE_URL",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/%2E%2e/admin"}]),
                "path must stay below API_BASE_URL",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x", "role": "typo"}]),
                "view 1 (\"a\"): unknown field `role`, expected one of `id`, `title`",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x"}, {"id": "b", "title": "t"}]),
                "view 2 (\"b\"): missing field `path`",
            ),
            (
                json!([{"title": "t", "path": "/x"}]),
                "view 1: missing field `id`",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x", "roles": "r"}]),
                "invalid type: string \"r\", expected a sequence",
            ),
            (json!(["studies"]), "view 1: expected an object such as"),
        ];
        for (value, expected) in cases {
            let err = parse(&value).unwrap_err();
            assert!(err.contains(expected), "{value} -> {err}");
        }
    }
}
