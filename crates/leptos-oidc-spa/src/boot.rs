//! What the address bar held when the app started, read before anything else runs: on the page a
//! sign-in returns to it carries the authorization response, which is taken out of the address
//! bar and history at once.

use crate::browser::location;
use crate::core::callback::carries_auth_response;
use crate::core::config::{OidcConfig, ResponseMode};

/// The start-up URL. [`AuthProvider`](crate::handle::AuthProvider) captures it itself; an app that
/// loads its configuration first captures it before that, with [`BootUrl::capture`], and hands
/// it over, so that the code never lingers in the address bar while the configuration loads.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct BootUrl {
    /// The path, e.g. `/oauth-callback`.
    pub path: String,
    /// The query without its `?`; empty if none.
    pub query: String,
    /// The fragment without its `#`; empty if none.
    pub fragment: String,
}

impl BootUrl {
    /// Reads the URL and, if it carries an authorization response, removes it from the address
    /// bar and history at once, so the code never lingers where scripts, extensions or a
    /// `Referer` could see it. Call it first thing at start-up.
    pub fn capture() -> BootUrl {
        let current = location::current();
        let boot = BootUrl {
            path: current.path,
            query: current.query,
            fragment: current.fragment,
        };
        if boot.has_auth_response() {
            location::replace_with(&boot.path);
        }
        boot
    }

    /// Whether the URL carries an authorization response (in its fragment or its query): this is
    /// the page a sign-in returns to.
    pub fn has_auth_response(&self) -> bool {
        carries_auth_response(&self.fragment) || carries_auth_response(&self.query)
    }

    /// The authorization response's parameters, when this is `config`'s callback page and it
    /// has one where `config` expects it.
    pub(crate) fn callback(&self, config: &OidcConfig) -> Option<String> {
        let params = match config.response_mode {
            ResponseMode::Fragment => &self.fragment,
            ResponseMode::Query => &self.query,
        };
        (self.path == config.redirect_path && carries_auth_response(params)).then(|| params.clone())
    }
}
