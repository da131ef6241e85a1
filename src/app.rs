//! The application root: captures the start-up URL, loads `/config.json`, then renders the shell
//! (header + page for the current auth state) inside the router.

use crate::components::auth_error::AuthErrorPanel;
use crate::components::header::Header;
use crate::components::progress::Progress;
use crate::components::session_end::SessionEndNotice;
use crate::components::views_nav::ViewsNav;
use crate::config::context::provide_config;
use crate::config::{self, AppConfig, ConfigError, CONFIG_COPY_KEY, CONFIG_URL};
use crate::pages::config_error::ConfigErrorPage;
use crate::pages::home::HomePage;
use crate::pages::landing::LandingPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::view::ViewPage;
use leptos::prelude::*;
use leptos_oidc_spa::{use_auth, ApiError, AuthProvider, BootUrl, ConfigFile, Phase};
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

/// The file could not be had: say why, as the configuration page words it.
fn unavailable(error: ApiError) -> ConfigError {
    ConfigError::Unavailable(match error {
        ApiError::Status { status, .. } => format!("HTTP status {status}"),
        other => other.to_string().trim_end_matches('.').to_string(),
    })
}

/// The configuration: fetched, except on the page a sign-in returns to, which finishes it with
/// the copy kept when it started, so that the callback needs the token endpoint and nothing
/// else. A copy that cannot finish this sign-in is forgotten, and the file fetched.
async fn load_config(boot: &BootUrl) -> Result<AppConfig, ConfigError> {
    let file = ConfigFile::new(CONFIG_URL, CONFIG_COPY_KEY);
    if let Some(text) = file.kept(boot) {
        match config::parse(&text) {
            Ok(config) if config.completes_sign_in_at(&boot.path) => return Ok(config),
            // The tab's copy cannot finish this sign-in: the file itself decides.
            _ => file.forget(),
        }
    }
    let text = file.fetch().await.map_err(unavailable)?;
    let config = config::parse(&text)?;
    if config.oauth.is_some() {
        file.keep(&text);
    }
    Ok(config)
}

/// Starts the app: takes an authorization response out of the address bar before anything else,
/// loads `/config.json`, then replaces the start-up indicator of `index.html` (shown while the
/// wasm and the configuration load) with the shell or the configuration error page.
pub fn start() {
    let boot = BootUrl::capture();
    // wasm-bindgen's spawner: Leptos's own is set up only when something is mounted.
    wasm_bindgen_futures::spawn_local(async move {
        let config = load_config(&boot).await;
        if let Some(indicator) = document().get_element_by_id("starting") {
            indicator.remove();
        }
        leptos::mount::mount_to_body(move || match config {
            Ok(config) => {
                let oidc = config.oauth.clone();
                provide_config(config);
                view! {
                    <Router>
                        <AuthProvider config=oidc boot>
                            <Shell/>
                        </AuthProvider>
                    </Router>
                }
                .into_any()
            }
            Err(error) => view! { <ConfigErrorPage error/> }.into_any(),
        });
    });
}

#[component]
fn Shell() -> impl IntoView {
    let phase = use_auth().phase;

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header/>
        <main id="main" tabindex="-1">
            {move || match phase.get() {
                Phase::Starting => view! { <Progress label="Restoring your session…"/> }.into_any(),
                Phase::Redirecting => view! { <Progress label="Redirecting to the identity provider…"/> }.into_any(),
                Phase::Completing => view! { <Progress label="Completing sign-in…"/> }.into_any(),
                Phase::SignedOut => view! { <LandingPage/> }.into_any(),
                Phase::Error => view! { <AuthErrorPanel/> }.into_any(),
                Phase::SignedIn => view! { <SessionEndNotice/><AppRoutes/> }.into_any(),
                Phase::Disabled => view! { <AppRoutes/> }.into_any(),
                _ => view! { <Progress label="Working…"/> }.into_any(),
            }}
        </main>
    }
}

/// The signed-in pages. A path the app does not have shows the not-found page.
#[component]
fn AppRoutes() -> impl IntoView {
    view! {
        <div class="layout">
            <ViewsNav/>
            <div class="content">
                <FlatRoutes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/views/:id") view=ViewPage/>
                </FlatRoutes>
            </div>
        </div>
    }
}
