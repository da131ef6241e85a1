//! One API view (`/views/:id`): calls its endpoint with the bearer token and shows the status
//! (`api-status`) and the JSON result (`api-result`). GET views load on open; views that send a
//! body show an editor and a Send button. Gated by the view's roles on the API it calls; a view
//! on another API whose consent is missing offers to sign in again for it (`api-consent`), and
//! an API that asks for more (a claims challenge the provider wants the person for, a stronger
//! or more recent sign-in) offers a sign-in for that (`api-step-up`), keeping what was typed.

use crate::api::{self, ApiResult, Outcome};
use crate::components::json_tree::JsonTree;
use crate::components::not_permitted::NotPermitted;
use crate::components::progress::Progress;
use crate::components::view_access::{role_labels, view_access};
use crate::components::{draft, use_return_path};
use crate::config::context::use_config;
use crate::config::views::ApiView;
use crate::pages::not_found::NotFoundPage;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_oidc_spa::{use_api_client, use_auth, ApiClient, ApiError, Method, StepUpRequest};
use leptos_router::hooks::use_params_map;

/// Calls the view's endpoint below its API's base URL with that API's access token (the
/// library gets one fresh token on a 401 and tries once more) and works out what the answer
/// means.
async fn call_api(
    api: ApiClient,
    resource: Option<&str>,
    base: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Call {
    let url = api::url(base, path);
    let Ok(method) = method.parse::<Method>() else {
        return Call::BadBody(format!("{method} is not an HTTP method"));
    };
    let mut request = api.request(method, url).max_body(api::MAX_BODY);
    if let Some(id) = resource {
        request = request.api(id);
    }
    if let Some(body) = body {
        request = request.body(body, "application/json");
    }
    match request.send().await {
        Ok(reply) => Call::Done(api::response(
            reply.status(),
            reply.text(),
            reply.header("www-authenticate"),
            reply.is_truncated(),
        )),
        Err(ApiError::ConsentRequired { api, message, .. }) => Call::Consent {
            resource: api,
            message,
        },
        Err(ApiError::StepUpRequired { asked, request, .. }) => Call::StepUp { asked, request },
        Err(stopped @ (ApiError::ChallengeRepeated { .. } | ApiError::StepUpRefused { .. })) => {
            Call::Stopped(stopped.to_string())
        }
        Err(other) => Call::Done(api::unreached(other)),
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

/// The console when the person's roles allow the view (or are not known yet: the call tells),
/// else "not permitted".
#[component]
fn GatedConsole(api_view: ApiView) -> impl IntoView {
    let auth = use_auth();
    let required = role_labels(&api_view);
    let gate = api_view.clone();
    let allowed = Memo::new(move |_| view_access(auth, &gate) != Some(false));
    view! {
        <Show when=move || allowed.get() fallback=move || view! { <NotPermitted any=required.clone()/> }>
            <ApiConsole api_view=api_view.clone()/>
        </Show>
    }
}

/// Where the console is: nothing sent yet, a call in flight, its result, a body that is not
/// JSON (then nothing was sent), an API the person has not consented to, an API that asks for
/// a sign-in the person can give, or one whose demand nothing here can meet.
#[derive(Clone, Debug)]
enum Call {
    Idle,
    Busy,
    Done(ApiResult),
    BadBody(String),
    Consent {
        resource: String,
        message: String,
    },
    StepUp {
        asked: String,
        request: StepUpRequest,
    },
    Stopped(String),
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
    let resource = api_view.resource.clone();
    let resource_name = api_view.resource.clone();
    let base = use_config()
        .with_value(|c| (c.base_url_of(resource.as_deref()).unwrap_or_default()).to_string());
    // What the person typed before a sign-in for an API's challenge, back from the provider.
    let body_text = draft::take(&api_view.id).unwrap_or_else(|| api_view.body_text());
    let view_id = api_view.id.clone();
    let keep_draft = Callback::new(move |()| {
        if let Some(editor) = editor.get_untracked() {
            draft::keep(&view_id, &editor.value());
        }
    });

    let run = Callback::new(move |()| {
        let body = sends_body.then(|| {
            editor
                .get_untracked()
                .map(|e| e.value())
                .unwrap_or_default()
        });
        if let Some(Err(problem)) = body.as_deref().map(api::check_body) {
            call.set(Call::BadBody(problem));
            return;
        }
        call.set(Call::Busy);
        let (base, method, path) = (base.clone(), method.clone(), path.clone());
        let resource = resource.clone();
        spawn_local(async move {
            let result = call_api(api_client, resource.as_deref(), &base, &method, &path, body);
            call.set(result.await);
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
                    {body_text.clone()}
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
                Call::Consent { resource, message } => view! { <ConsentNeeded resource message/> }.into_any(),
                Call::StepUp { asked, request } => {
                    view! { <StepUpNeeded resource=resource_name.clone() asked request keep_draft/> }.into_any()
                }
                Call::Stopped(why) => view! { <p class="warning" role="alert" data-testid="api-step-up-stopped">{why}</p> }.into_any(),
            }}
        </section>
    }
}

/// The API asks for a sign-in the person can give (an authentication context, a stronger
/// method, a more recent sign-in): say what, and offer it, coming back here with what was typed.
#[component]
fn StepUpNeeded(
    resource: Option<String>,
    asked: String,
    request: StepUpRequest,
    keep_draft: Callback<()>,
) -> impl IntoView {
    let auth = use_auth();
    let name = use_config().with_value(|c| c.api_name_of(resource.as_deref()).to_string());
    let sign_in = Callback::new(move |here: String| {
        keep_draft.run(());
        auth.step_up(&request, here);
    });
    view! {
        <SignInOffer
            test_id="api-step-up"
            headline=sentence_start(format!("{name} asks for {asked}."))
            detail="Sign in again to give it: you come back to this page, with what you typed."
            button=String::from("Sign in to continue")
            sign_in
        />
    }
}

/// Another API needs the person's consent: say so, and offer to sign in again for it, coming
/// back here. The session and the other APIs stay as they are.
#[component]
fn ConsentNeeded(resource: String, message: String) -> impl IntoView {
    let auth = use_auth();
    let name = use_config().with_value(|c| c.api_name_of(Some(&resource)).to_string());
    let sign_in = Callback::new(move |here: String| auth.consent_to(&resource, here));
    view! {
        <SignInOffer
            test_id="api-consent"
            headline=sentence_start(format!("{name} needs your consent."))
            detail="Gatehouse may not call it for you until you allow it. You stay signed in to everything else."
            note=message
            button=format!("Give consent for {name}")
            sign_in
        />
    }
}

/// `text` with its first letter a capital, for an API name that starts a sentence ("the
/// StudyBuilder API asks…" reads "The StudyBuilder API asks…"). ASCII only: a name starting with
/// another letter stays as it is (Unicode's case tables cost 9.7 KB gzip).
fn sentence_start(mut text: String) -> String {
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// What an API needs before it answers, and a button that signs in again for it, coming back
/// to this page (`<test_id>-needed` around it, `<test_id>` on the button).
#[component]
fn SignInOffer(
    test_id: &'static str,
    headline: String,
    detail: &'static str,
    #[prop(optional)] note: Option<String>,
    button: String,
    sign_in: Callback<String>,
) -> impl IntoView {
    let here = use_return_path();
    view! {
        <div class="warning" role="alert" data-testid=format!("{test_id}-needed")>
            <p><strong>{headline}</strong> " " {detail}</p>
            {note.map(|note| view! { <p class="muted">{note}</p> })}
            <button class="button primary" data-testid=test_id on:click=move |_| sign_in.run(here())>
                {button}
            </button>
        </div>
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
        truncated,
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
        <Show when=move || truncated>
            <p class="warning" role="status" data-testid="api-truncated">
                "The answer is larger than 1 MB: only its first megabyte was read, and it is shown as text."
            </p>
        </Show>
        <div data-testid="api-result"><JsonTree json text/></div>
    }
    .into_any()
}
