//! One API view (`/views/:id`): calls its endpoint with the bearer token and shows the status
//! (`api-status`) and the JSON result (`api-result`). GET views load on open; views that send a
//! body show an editor and a Send button. Gated by the view's roles.

use crate::auth::api::{self, ApiResult};
use crate::auth::use_auth;
use crate::components::json_tree::JsonTree;
use crate::components::progress::Progress;
use crate::components::require_role::NotPermitted;
use crate::core::api::Outcome;
use crate::core::json;
use crate::core::views::ApiView;
use crate::pages::not_found::NotFoundPage;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn ViewPage(id: String) -> impl IntoView {
    let auth = use_auth();
    let Some(api_view) = auth
        .config
        .with_value(|c| c.views.iter().find(|v| v.id == id).cloned())
    else {
        return view! { <NotFoundPage/> }.into_any();
    };
    // A memo, so the console is rebuilt only when the permission changes, not on every auth
    // state change (a refresh toggles flags inside `SignedIn`).
    let roles = api_view.roles.clone();
    let allowed = Memo::new(move |_| auth.has_any_role(&roles));
    view! {
        {move || if allowed.get() {
            view! { <ApiConsole api_view=api_view.clone()/> }.into_any()
        } else {
            view! { <NotPermitted any=api_view.roles.clone()/> }.into_any()
        }}
    }
    .into_any()
}

/// Where the console is: nothing sent yet, a call in flight, its result, or a body that is not
/// JSON (then nothing was sent).
#[derive(Clone)]
enum Call {
    Idle,
    Busy,
    Done(ApiResult),
    BadBody(String),
}

#[component]
fn ApiConsole(api_view: ApiView) -> impl IntoView {
    let auth = use_auth();
    let call = RwSignal::new(Call::Idle);
    // The editor is read when sending, so typing does not go through a signal.
    let editor = NodeRef::<leptos::html::Textarea>::new();
    let sends_body = api_view.sends_body();
    let method = api_view.method.clone();
    let path = api_view.path.clone();

    let run = move || {
        let body_text = sends_body.then(|| {
            editor
                .get_untracked()
                .map(|e| e.value())
                .unwrap_or_default()
        });
        if let Some(Err(e)) = body_text.as_deref().map(json::parse) {
            call.set(Call::BadBody(format!("The body is not valid JSON: {e}")));
            return;
        }
        call.set(Call::Busy);
        let (method, path) = (method.clone(), path.clone());
        spawn_local(async move {
            call.set(Call::Done(api::call(auth, &method, &path, body_text).await));
        });
    };
    let run = StoredValue::new_local(run);
    if !sends_body {
        run.with_value(|r| r());
    }

    view! {
        <section class="card">
            <h1>{api_view.title.clone()}</h1>
            {api_view.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            <p class="request mono"><span class="method">{api_view.method.clone()}</span>" "{api_view.path.clone()}</p>
            {sends_body.then(|| view! {
                <label for="api-body">"Request body (JSON)"</label>
                <textarea id="api-body" data-testid="api-body" rows="8" spellcheck="false" node_ref=editor>
                    {api_view.body_text()}
                </textarea>
            })}
            <div class="actions">
                <button class="button primary" data-testid="api-run" disabled=move || call.with(|c| matches!(c, Call::Busy)).then_some("")
                    on:click=move |_| run.with_value(|r| r())>
                    {if sends_body { "Send" } else { "Reload" }}
                </button>
            </div>
        </section>
        <section class="card" aria-live="polite">
            {move || match call.get() {
                Call::Idle => view! { <p class="muted">"Not sent yet."</p> }.into_any(),
                Call::Busy => view! { <Progress label="Calling the API…"/> }.into_any(),
                Call::BadBody(e) => view! { <p class="warning" role="alert" data-testid="api-body-error">{e}</p> }.into_any(),
                Call::Done(r) => result_view(r, run).into_any(),
            }}
        </section>
    }
}

/// The status, any warning (with a retry when that can help), a 403 explained, and the body.
fn result_view(r: ApiResult, run: StoredValue<impl Fn() + 'static, LocalStorage>) -> impl IntoView {
    let problem = r.problem().map(|(text, retry)| view! {
        <div class="warning" role="alert" data-testid=retry.then_some("api-error")>
            <p>{text}</p>
            {retry.then(|| view! {
                <button class="button" data-testid="api-retry" on:click=move |_| run.with_value(|r| r())>"Try again"</button>
            })}
        </div>
    });
    let ApiResult::Response {
        status,
        outcome,
        json,
        text,
    } = r
    else {
        return problem.into_any();
    };
    let forbidden = match outcome {
        Outcome::Forbidden { required, detail } => Some(view! {
            <div data-testid="api-forbidden"><NotPermitted any=required detail/></div>
        }),
        _ => None,
    };
    view! {
        <p>"Status: " <strong data-testid="api-status" class=if status < 400 { "ok" } else { "bad" }>{status}</strong></p>
        {problem}
        {forbidden}
        <div data-testid="api-result"><JsonTree json text/></div>
    }
    .into_any()
}
