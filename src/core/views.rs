//! API views declared in `config.json` under `VIEWS`, so one build fronts any API: each is a
//! navigation entry that calls one endpoint, gated by roles.

use super::json::{self, quote, FieldError, Map, Value};

/// One API view.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiView {
    /// URL-safe identifier: the route is `/views/<id>`, the test hook `view-<id>`.
    pub id: String,
    pub title: String,
    /// `GET` unless given.
    pub method: String,
    /// Path below `API_BASE_URL`, starting with `/`.
    pub path: String,
    /// The view is available with any one of these roles (empty: any signed-in user).
    pub roles: Vec<String>,
    /// JSON body template for POST/PUT/PATCH, editable before sending.
    pub body: Option<Value>,
    pub description: Option<String>,
}

/// The fields a view may have; any other is a mistake (a typo such as `role`).
const FIELDS: [&str; 7] = [
    "id",
    "title",
    "method",
    "path",
    "roles",
    "body",
    "description",
];

const EXAMPLE: &str =
    r#"{"id":"studies","title":"Studies","path":"/studies","roles":["Study.Read"]}"#;

impl ApiView {
    fn from_map(map: &Map) -> Result<ApiView, FieldError> {
        map.deny_unknown(&FIELDS)?;
        Ok(ApiView {
            id: map.string("id")?,
            title: map.string("title")?,
            method: map.opt_string("method")?.unwrap_or_else(|| "GET".into()),
            path: map.string("path")?,
            roles: map.opt_strings("roles")?.unwrap_or_default(),
            body: map.get("body").filter(|b| !b.is_null()).cloned(),
            description: map.opt_string("description")?,
        })
    }

    pub fn sends_body(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH")
    }

    /// The body template, pretty-printed for editing.
    pub fn body_text(&self) -> String {
        self.body
            .as_ref()
            .map(json::to_string_pretty)
            .unwrap_or_default()
    }
}

/// Parses and checks the `VIEWS` value; the error says which view and what is wrong.
pub fn parse(value: &Value) -> Result<Vec<ApiView>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| format!("it must be a list of views such as [{EXAMPLE}]"))?;
    let mut views: Vec<ApiView> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = |what: &str| match item.get("id").and_then(Value::as_str) {
            Some(id) => format!("view {} ({}): {what}", i + 1, quote(id)),
            None => format!("view {}: {what}", i + 1),
        };
        let map = item
            .as_object()
            .ok_or_else(|| at(&format!("expected an object such as {EXAMPLE}")))?;
        let view = ApiView::from_map(map).map_err(|e| match e {
            FieldError::Unknown(_) => at(&format!("{e} (the fields are {})", FIELDS.join(", "))),
            _ => at(&e.to_string()),
        })?;
        if view.id.is_empty()
            || !view
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(at("id must be letters, digits, - or _"));
        }
        if views.iter().any(|v| v.id == view.id) {
            return Err(at("id is used twice"));
        }
        if !matches!(
            view.method.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
        ) {
            return Err(at("method must be GET, POST, PUT, PATCH or DELETE"));
        }
        if !view.path.starts_with('/') || view.path.starts_with("//") {
            return Err(at("path must start with a single /"));
        }
        views.push(view);
    }
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: &serde_json::Value) -> Result<Vec<ApiView>, String> {
        super::parse(&json::from_serde(value))
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
                "view 1 (\"a\"): unknown field \"role\" (the fields are id, title",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x"}, {"id": "b", "title": "t"}]),
                "view 2 (\"b\"): missing field \"path\"",
            ),
            (
                json!([{"title": "t", "path": "/x"}]),
                "view 1: missing field \"id\"",
            ),
            (
                json!([{"id": "a", "title": "t", "path": "/x", "roles": "r"}]),
                "field \"roles\" must be a list of strings",
            ),
            (json!(["studies"]), "view 1: expected an object such as"),
        ];
        for (value, expected) in cases {
            let err = parse(&value).unwrap_err();
            assert!(err.contains(expected), "{value} -> {err}");
        }
    }
}
