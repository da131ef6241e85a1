//! One API view (`/views/:id`): calls its endpoint with the bearer token and shows the status
//! (`api-status`) and the JSON result (`api-result`). GET views load on open; views that send a
//! body show an editor and a Send button. Gated by the view's roles.

use crate::api::{self, ApiResult, Outcome};
use crate::app::use_config;
use crate::components::json_tree::JsonTree;
use crate::components::not_permitted::NotPermitted;
use crate::components::progress::Progress;
use crate::pages::not_found::NotFoundPage;
use crate::views::ApiView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_entra_oidc::{use_api_client, ApiClient, RequireRole};
use leptos_router::hooks::use_params_map;

/// Calls the view's endpoint below `API_BASE_URL` with the bearer token (the client refreshes
/// once on a 401 and retries) and works out what the response means.
async fn call_api(
    api: ApiClient,
    base: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> ApiResult {
    let url = api::url(base, path);
    match api.send(method, &url, body).await {
        Ok(reply) => api::response(reply.status, reply.body, reply.www_authenticate.as_deref()),
        Err(why) => ApiResult::Network(format!("{url}: {why}")),
    }
}

/// The page for the `:id` in the route; rebuilt when the id changes.
#[component]
pub fn ViewPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let config = use_config();
    move || {
        let found = config.with_value(|c| c.views.iter().find(|v| v.id == id.get()).cloned());
        match found {
            Some(api_view) => view! { <GatedConsole api_view/> }.into_any(),
            None => view! { <NotFoundPage/> }.into_any(),
        }
    }
}

/// The console when the person's roles allow the view, else "not permitted".
#[component]
fn GatedConsole(api_view: ApiView) -> impl IntoView {
    let required = api_view.roles.clone();
    view! {
        <RequireRole any=api_view.roles.clone() fallback=move || view! { <NotPermitted any=required.clone()/> }>
            <ApiConsole api_view=api_view.clone()/>
        </RequireRole>
    }
}

/// Where the console is: nothing sent yet, a call in flight, its result, or a body that is not
/// JSON (then nothing was sent).
#[derive(Clone, Debug)]
enum Call {
    Idle,
    Busy,
    Done(ApiResult),
    BadBody(String),
}

#[component]
fn ApiConsole(api_view: ApiView) -> impl IntoView {
    let api_client = use_api_client();
    let call = RwSignal::new(Call::Idle);
    // The editor is read when sending, so typing does not go through a signal.
    let editor = NodeRef::<leptos::html::Textarea>::new();
    let sends_body = api_view.sends_body();
    let method = api_view.method.clone();
    let path = api_view.path.clone();
    let base = use_config().with_value(|c| c.api_base_url.clone());

    let run = Callback::new(move |()| {
        let body = sends_body.then(|| {
            editor
                .get_untracked()
                .map(|e| e.value())
                .unwrap_or_default()
        });
        if let Some(Err(e)) = body
            .as_deref()
            .map(serde_json::from_str::<serde_json::Value>)
        {
            call.set(Call::BadBody(format!("The body is not valid JSON: {e}")));
            return;
        }
        call.set(Call::Busy);
        let (base, method, path) = (base.clone(), method.clone(), path.clone());
        spawn_local(async move {
            call.set(Call::Done(
                call_api(api_client, &base, &method, &path, body).await,
            ));
        });
    });
    if !sends_body {
        run.run(());
    }

    view! {
        <section class="card">
            <h1>{api_view.title.clone()}</h1>
            {api_view.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
            <p class="request mono"><span class="method">{api_view.method.clone()}</span>" "{api_view.path.clone()}</p>
            <Show when=move || sends_body>
                <label for="api-body">"Request body (JSON)"</label>
                <textarea id="api-body" data-testid="api-body" rows="8" spellcheck="false" node_ref=editor>
                    {api_view.body_text()}
                </textarea>
            </Show>
            <div class="actions">
                <button
                    class="button primary"
                    data-testid="api-run"
                    disabled=move || matches!(call.get(), Call::Busy)
                    on:click=move |_| run.run(())
                >
                    {if sends_body { "Send" } else { "Reload" }}
                </button>
            </div>
        </section>
        <section class="card" aria-live="polite">
            {move || match call.get() {
                Call::Idle => view! { <p class="muted">"Not sent yet."</p> }.into_any(),
                Call::Busy => view! { <Progress label="Calling the API…"/> }.into_any(),
                Call::BadBody(e) => view! { <p class="warning" role="alert" data-testid="api-body-error">{e}</p> }.into_any(),
                Call::Done(result) => view! { <CallResult result retry=run/> }.into_any(),
            }}
        </section>
    }
}

/// The status, any warning (with a retry when that can help), a 403 explained, and the body.
#[component]
fn CallResult(result: ApiResult, retry: Callback<()>) -> impl IntoView {
    let problem = result.problem().map(|(text, can_retry)| {
        view! {
            <div class="warning" role="alert" data-testid=can_retry.then_some("api-error")>
                <p>{text}</p>
                <Show when=move || can_retry>
                    <button class="button" data-testid="api-retry" on:click=move |_| retry.run(())>"Try again"</button>
                </Show>
            </div>
        }
    });
    let ApiResult::Response {
        status,
        outcome,
        json,
        text,
    } = result
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
