//! A JSON value as a collapsible tree (`<details>` per object and array), as plain text only:
//! strings appear as JSON literals, so quotes and control characters stay visible. However large
//! the answer, the page stays responsive: a section's members are made only when it is opened,
//! a hundred at a time ("… N more" shows the next hundred), and an answer shown as text is cut
//! at `api::MAX_TEXT`.

use crate::api::shown_text;
use leptos::html::Details;
use leptos::prelude::*;
use serde_json::Value;
use std::sync::Arc;

/// An object's or an array's members, as key (or index) and value: shared by every page of
/// them, so showing the next page copies none.
type Members = Arc<[(String, Value)]>;

/// How many members of an object or array are shown at a time.
const PAGE: usize = 100;

/// An answer this small opens three levels deep; a larger one opens its top level only.
const SMALL: usize = 16 * 1024;

/// One value: a scalar inline, an object or array as a `<details>` whose members are made when
/// it is first opened. `open` is how many levels, this one included, start open.
fn node(label: Option<String>, value: Value, open: usize) -> AnyView {
    let label = label.map(|l| view! { <span class="json-key">{l}": "</span> });
    let (summary, members): (String, Members) = match value {
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
    let details = NodeRef::<Details>::new();
    let opened = RwSignal::new(open > 0);
    let on_toggle = move |_: web_sys::Event| {
        if let Some(details) = details.get_untracked() {
            if details.open() {
                opened.set(true); // made once; closing again keeps them
            }
        }
    };
    view! {
        <details open={open > 0} node_ref=details on:toggle=on_toggle>
            <summary>{label}<span class="muted">{summary}</span></summary>
            <Show when=move || opened.get()>
                <MembersPage members=members.clone() open=open.saturating_sub(1)/>
            </Show>
        </details>
    }
    .into_any()
}

/// The members of an object or array from `start`, a page at a time: the page's members, then
/// a button that puts the next page beneath them (the pages shown stay as they are).
#[component]
fn MembersPage(members: Members, open: usize, #[prop(default = 0)] start: usize) -> impl IntoView {
    let total = members.len();
    let end = (start + PAGE).min(total);
    let page = members[start..end]
        .iter()
        .cloned()
        .map(|(key, value)| view! { <li>{node(Some(key), value, open)}</li> })
        .collect_view();
    let more = RwSignal::new(false);
    let rest = (end < total).then(move || {
        view! {
            <Show
                when=move || more.get()
                fallback=move || view! {
                    <button class="button small" data-testid="json-more" on:click=move |_| more.set(true)>
                        "… " {total - end} " more"
                    </button>
                }
            >
                <MembersPage members=members.clone() open start=end/>
            </Show>
        }
    });
    view! { <ul>{page}</ul> {rest} }.into_any()
}

/// The body of a response: a tree when it is JSON, else the text as it came, cut at
/// `api::MAX_TEXT` with a line saying how much is not shown.
#[component]
pub fn JsonTree(json: Option<Value>, text: String) -> impl IntoView {
    let open = if text.len() <= SMALL { 3 } else { 1 };
    match json {
        Some(value) => view! { <div class="json-tree">{node(None, value, open)}</div> }.into_any(),
        None => {
            let (shown, rest) = shown_text(&text);
            let rest = (rest > 0).then(|| {
                view! { <p class="muted" data-testid="api-text-cut">"… " {rest} " more bytes not shown"</p> }
            });
            view! { <pre class="mono">{shown.to_string()}</pre> {rest} }.into_any()
        }
    }
}
