//! A JSON value as a collapsible tree (`<details>` per object and array), as plain text only.
//! Numbers appear as the API wrote them, strings as JSON literals.

use crate::core::json::{quote, Value};
use leptos::prelude::*;

fn scalar(value: &Value) -> (String, &'static str) {
    match value {
        Value::Null => ("null".into(), "json-null"),
        Value::Bool(b) => (b.to_string(), "json-bool"),
        Value::Number(n) => (n.to_string(), "json-number"),
        Value::String(s) => (quote(s), "json-string"),
        _ => (String::new(), ""),
    }
}

fn node(label: Option<String>, value: Value, depth: usize) -> AnyView {
    let label = label.map(|l| view! { <span class="json-key">{l}": "</span> });
    // Objects and arrays share one view: a summary and one entry per member or item.
    let (summary, entries): (String, Vec<(String, Value)>) = match value {
        Value::Object(map) => (
            format!("{{…}} {} keys", map.len()),
            map.into_iter().collect(),
        ),
        Value::Array(items) => (
            format!("[…] {} items", items.len()),
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
        ),
        other => {
            let (text, class) = scalar(&other);
            return view! { <span>{label}<span class=class>{text}</span></span> }.into_any();
        }
    };
    let children = entries
        .into_iter()
        .map(|(k, v)| view! { <li>{node(Some(k), v, depth + 1)}</li> })
        .collect_view();
    view! { <details open=(depth < 3).then_some("")><summary>{label}<span class="muted">{summary}</span></summary><ul>{children}</ul></details> }.into_any()
}

/// The body of a response: a tree when it is JSON, else the text as it came.
#[component]
pub fn JsonTree(json: Option<Value>, text: String) -> impl IntoView {
    match json {
        Some(value) => view! { <div class="json-tree">{node(None, value, 0)}</div> }.into_any(),
        None => view! { <pre class="mono">{text}</pre> }.into_any(),
    }
}
