//! API views declared in `config.json` under `VIEWS`, so one build fronts any API: each is a
//! navigation entry that calls one endpoint, gated by roles.

use serde::Deserialize;
use serde_json::Value;

/// One API view.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiView {
    /// URL-safe identifier: the route is `/views/<id>`, the test hook `view-<id>`.
    pub id: String,
    pub title: String,
    #[serde(default = "default_method")]
    pub method: String,
    /// Path below `API_BASE_URL`, starting with `/`.
    pub path: String,
    /// The view is available with any one of these roles (empty: any signed-in user).
    #[serde(default)]
    pub roles: Vec<String>,
    /// JSON body template for POST/PUT/PATCH, editable before sending.
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub description: Option<String>,
}

fn default_method() -> String {
    "GET".to_string()
}

impl ApiView {
    pub fn sends_body(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH")
    }

    /// The body template, pretty-printed for editing.
    pub fn body_text(&self) -> String {
        self.body
            .as_ref()
            .and_then(|b| serde_json::to_string_pretty(b).ok())
            .unwrap_or_default()
    }
}

/// Parses and checks the `VIEWS` value; the error says which view and what is wrong.
pub fn parse(value: &Value) -> Result<Vec<ApiView>, String> {
    let views: Vec<ApiView> = serde_json::from_value(value.clone()).map_err(|e| {
        format!("a list of views such as [{{\"id\":\"studies\",\"title\":\"Studies\",\"path\":\"/studies\",\"roles\":[\"Study.Read\"]}}] ({e})")
    })?;
    let mut seen = Vec::new();
    for (i, view) in views.iter().enumerate() {
        let at = |what: &str| format!("view {} ({:?}): {what}", i + 1, view.id);
        if view.id.is_empty()
            || !view
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(at("id must be letters, digits, - or _"));
        }
        if seen.contains(&view.id) {
            return Err(at("id is used twice"));
        }
        seen.push(view.id.clone());
        if !matches!(
            view.method.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
        ) {
            return Err(at("method must be GET, POST, PUT, PATCH or DELETE"));
        }
        if !view.path.starts_with('/') || view.path.starts_with("//") {
            return Err(at("path must start with a single /"));
        }
    }
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                json!([{"id": "a", "title": "t", "path": "/x", "role": "typo"}]),
                "unknown field",
            ),
        ];
        for (value, expected) in cases {
            let err = parse(&value).unwrap_err();
            assert!(err.contains(expected), "{value} -> {err}");
        }
    }
}
