//! The person's photo and job title from Microsoft Graph (`GRAPH_PROFILE`), at the top of the
//! profile panel: `profile-photo` (an object URL of `/me/photo/$value`, released when the panel
//! closes) or the initials, and `profile-job-title`. No Graph consent, no photo or an error
//! leave the initials and no title: never an error page.

use crate::graph;
use crate::profile::initials;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_oidc_spa::{use_api_client, use_auth};

/// The id Graph has among the client's resources.
const GRAPH: &str = crate::config::resources::GRAPH;

/// An object URL for `bytes` of type `content_type`, to show as an image.
fn object_url(bytes: &[u8], content_type: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

#[component]
pub fn GraphCard(
    /// Graph's base URL (`GRAPH_BASE_URL`).
    base: String,
) -> impl IntoView {
    let auth = use_auth();
    let api = use_api_client();
    let photo = RwSignal::new(None::<String>);
    let job_title = RwSignal::new(None::<String>);
    let (me, photo_at) = (graph::me_url(&base), graph::photo_url(&base));
    spawn_local(async move {
        if let Ok(reply) = api.get(me).api(GRAPH).send().await {
            job_title.set(graph::job_title(reply.status(), &reply.text()));
        }
        let photo_request = api.get(photo_at).api(GRAPH).header("Accept", "image/*");
        if let Ok(reply) = photo_request.send().await {
            let content_type = reply.header("content-type");
            if let Some(checked) = graph::photo_type(reply.status(), content_type, reply.bytes()) {
                let url = object_url(reply.bytes(), checked);
                // The panel may have closed meanwhile; then let the URL go at once.
                if photo.try_set(url.clone()).is_some() {
                    if let Some(url) = url {
                        let _ = web_sys::Url::revoke_object_url(&url);
                    }
                }
            }
        }
    });
    on_cleanup(move || {
        if let Some(url) = photo.try_get_untracked().flatten() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    let name = move || auth.profile.get().map(|p| p.name).unwrap_or_default();
    view! {
        <div class="graph-card">
            {move || match photo.get() {
                Some(url) => view! { <img class="photo" src=url alt="" data-testid="profile-photo"/> }.into_any(),
                None => view! { <span class="avatar large" aria-hidden="true" data-testid="profile-initials">{initials(&name())}</span> }.into_any(),
            }}
            {move || job_title.get().map(|t| view! { <p class="job-title" data-testid="profile-job-title">{t}</p> })}
        </div>
    }
}
