//! A JSON value as a collapsible tree (`<details>` per object and array), as plain text only:
//! strings appear as JSON literals, so quotes and control characters stay visible.

use leptos::prelude::*;
use serde_json::Value;

/// One value: a scalar inline, an object or array as a `<details>` with one entry per member.
fn node(label: Option<String>, value: Value, depth: usize) -> AnyView {
    let label = label.map(|l| view! { <span class="json-key">{l}": "</span> });
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
        scalar => {
            let class = match scalar {
                Value::Null => "json-null",
                Value::Bool(_) => "json-bool",
                Value::Number(_) => "json-number",
                _ => "json-string",
            };
            return view! { <span>{label}<span class=class>{scalar.to_string()}</span></span> }
                .into_any();
        }
    };
    let children = entries
        .into_iter()
        .map(|(k, v)| view! { <li>{node(Some(k), v, depth + 1)}</li> })
        .collect_view();
    view! {
        <details open=depth < 3>
            <summary>{label}<span class="muted">{summary}</span></summary>
            <ul>{children}</ul>
        </details>
    }
    .into_any()
}

/// The body of a response: a tree when it is JSON, else the text as it came.
#[component]
pub fn JsonTree(json: Option<Value>, text: String) -> impl IntoView {
    match json {
        Some(value) => view! { <div class="json-tree">{node(None, value, 0)}</div> }.into_any(),
        None => view! { <pre class="mono">{text}</pre> }.into_any(),
    }
}
