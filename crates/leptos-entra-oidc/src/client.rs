//! The OpenID Connect client in the browser: discovery and JWKS (kept for the tab, see
//! `core::provider_cache`), starting a sign-in, completing the callback, refreshing and signing out. Each step calls the
//! pure checks in `core` and only moves data in and out of the browser; the session's state
//! machine decides when each runs.

use crate::browser::http::Reply;
use crate::browser::session_store::{Document, SessionStore};
use crate::browser::{clock, http, location, signature};
use crate::core::authorize::{self, PendingLogin, RequestExtras};
use crate::core::callback::{self, AuthResponse, CallbackError};
use crate::core::config::OidcConfig;
use crate::core::discovery::{self, ProviderMetadata};
use crate::core::error::AuthError;
use crate::core::id_token::{self, Expectations, IdTokenError};
use crate::core::jwks::{self, RsaKey};
use crate::core::jwt::Jwt;
use crate::core::logout::{self, LogoutHint};
use crate::core::machine::{RefreshError, ResourceError};
use crate::core::pkce::{self, CodeVerifier};
use crate::core::provider_cache::CachedDocument;
use crate::core::refresh::{self, RefreshFailure, ResourceFailure};
use crate::core::session::Session;
use crate::core::token::{self, TokenError, TokenSet};
use futures_util::lock::Mutex;
use std::cell::RefCell;
use std::rc::Rc;

struct Inner {
    config: OidcConfig,
    store: SessionStore,
    metadata: RefCell<Option<ProviderMetadata>>,
    keys: RefCell<Option<Vec<RsaKey>>>,
    /// Held while a provider document is looked up or fetched: a second caller (a sign-in
    /// click during the prefetch, a refresh during start-up) waits and finds it in memory.
    fetching: Mutex<()>,
}

/// The client's browser steps. Cheap to clone; clones share the caches.
#[derive(Clone)]
pub struct OidcClient(Rc<Inner>);

fn network(during: &'static str, url: &str, detail: String) -> AuthError {
    AuthError::Network {
        during,
        url: url.to_string(),
        detail,
    }
}

/// RFC 9207 §2.4 for any authorization response: `iss` is the provider's issuer, and present when
/// the provider promises it.
fn check_issuer(iss: Option<&str>, metadata: &ProviderMetadata) -> Result<(), CallbackError> {
    callback::check_issuer(
        iss,
        &metadata.issuer,
        metadata.authorization_response_iss_parameter_supported,
    )
}

impl OidcClient {
    /// A client for `config`, its caches empty (nothing is fetched until needed).
    pub fn new(config: OidcConfig) -> Self {
        Self(Rc::new(Inner {
            store: SessionStore::new(&config),
            config,
            metadata: RefCell::new(None),
            keys: RefCell::new(None),
            fetching: Mutex::new(()),
        }))
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &OidcConfig {
        &self.0.config
    }

    /// Where this client keeps the session and pending sign-ins.
    pub fn store(&self) -> &SessionStore {
        &self.0.store
    }

    /// The absolute redirect URI: this page's origin followed by [`OidcConfig::redirect_path`].
    pub fn redirect_uri(&self) -> String {
        format!("{}{}", location::origin(), self.0.config.redirect_path)
    }

    /// The provider metadata: from this page's memory, else the tab's stored copy (fresh, from
    /// the configured URL, and passing every check again), else fetched and kept for the tab.
    pub async fn metadata(&self) -> Result<ProviderMetadata, AuthError> {
        if let Some(m) = self.0.metadata.borrow().as_ref() {
            return Ok(m.clone());
        }
        let _turn = self.0.fetching.lock().await;
        if let Some(m) = self.0.metadata.borrow().as_ref() {
            return Ok(m.clone()); // fetched while this caller waited its turn
        }
        let url = &self.0.config.metadata_url;
        let stored = self
            .stored(Document::Discovery, url)
            .and_then(|body| discovery::parse(url, &body).ok());
        let metadata = match stored {
            Some(metadata) => metadata,
            None => {
                let during = "loading the identity provider's configuration";
                let body = self.fetch(during, url).await?;
                let metadata = discovery::parse(url, &body)?;
                self.keep(Document::Discovery, url, body);
                metadata
            }
        };
        *self.0.metadata.borrow_mut() = Some(metadata.clone());
        Ok(metadata)
    }

    /// The signing keys: from this page's memory or the tab's stored copy unless `refetch`
    /// (a token names a key they lack), else fetched and kept for the tab.
    async fn signing_keys(&self, refetch: bool) -> Result<Vec<RsaKey>, AuthError> {
        let in_memory = || (!refetch).then(|| self.0.keys.borrow().clone()).flatten();
        if let Some(keys) = in_memory() {
            return Ok(keys);
        }
        let url = self.metadata().await?.jwks_uri;
        let _turn = self.0.fetching.lock().await;
        if let Some(keys) = in_memory() {
            return Ok(keys); // fetched while this caller waited its turn
        }
        let stored = if refetch {
            None
        } else {
            self.stored(Document::Jwks, &url)
                .and_then(|body| jwks::parse(&body))
        };
        let keys = match stored {
            Some(keys) => keys,
            None => {
                let during = "loading the identity provider's signing keys";
                let body = self.fetch(during, &url).await?;
                let keys = jwks::parse(&body)
                    .ok_or_else(|| network(during, &url, "the reply is not a key set".into()))?;
                self.keep(Document::Jwks, &url, body);
                keys
            }
        };
        *self.0.keys.borrow_mut() = Some(keys.clone());
        Ok(keys)
    }

    /// The tab's fresh stored copy of `document` from `url`; a copy that is not usable any more
    /// is deleted.
    fn stored(&self, document: Document, url: &str) -> Option<String> {
        let copy = self.0.store.load_document(document)?;
        let body = copy.fresh_body(url, clock::now_ms()).map(str::to_string);
        if body.is_none() {
            self.0.store.forget_document(document);
        }
        body
    }

    /// Keeps a checked document for the tab.
    fn keep(&self, document: Document, url: &str, body: String) {
        let copy = CachedDocument::new(url, body, clock::now_ms());
        self.0.store.save_document(document, &copy);
    }

    /// Forgets the provider's documents, here and in the tab's storage: after a sign-in that
    /// used them failed, the next attempt starts from fresh copies.
    fn forget_documents(&self) {
        *self.0.metadata.borrow_mut() = None;
        *self.0.keys.borrow_mut() = None;
        self.0.store.forget_document(Document::Discovery);
        self.0.store.forget_document(Document::Jwks);
    }

    /// A provider document's body, fetched.
    async fn fetch(&self, during: &'static str, url: &str) -> Result<String, AuthError> {
        let reply = http::get(url).await.map_err(|e| network(during, url, e))?;
        if !reply.ok {
            return Err(network(
                during,
                url,
                format!("HTTP status {}", reply.status),
            ));
        }
        Ok(reply.body)
    }

    /// Fetches the discovery document and the signing keys ahead of need and keeps them for the
    /// tab, so that the callback page needs only the token endpoint. Failures are left to the
    /// step that needs the documents, which reports them.
    pub async fn prefetch(&self) {
        let _ = self.signing_keys(false).await;
    }

    /// Checks an ID token completely: algorithm, claims, and the signature with WebCrypto
    /// (refetching the key set once when the `kid` is unknown, as after a key rollover).
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<Jwt, AuthError> {
        let jwt = id_token::decode(token)?;
        let metadata = self.metadata().await?;
        id_token::validate_claims(
            &jwt,
            &Expectations {
                issuer: &metadata.issuer,
                client_id: &self.0.config.client_id,
                nonce,
                now_s: clock::now_ms() / 1000.0,
            },
        )?;
        let alg = jwt.alg().unwrap_or_default();
        let hash = jwks::hash_for(alg).ok_or_else(|| IdTokenError::Algorithm(alg.to_string()))?;
        let mut keys = self.signing_keys(false).await?;
        if jwks::select(&keys, jwt.kid()).is_none() {
            keys = self.signing_keys(true).await?;
        }
        let key = jwks::select(&keys, jwt.kid())
            .ok_or_else(|| IdTokenError::UnknownKey(jwt.kid().unwrap_or("(none)").to_string()))?;
        let valid = signature::verify(key, hash, jwt.signing_input.as_bytes(), &jwt.signature)
            .await
            .map_err(AuthError::Browser)?;
        if !valid {
            return Err(IdTokenError::BadSignature.into());
        }
        Ok(jwt)
    }

    /// Records a new single-use login state and sends the browser to the provider; with a
    /// `resource`, for that API's scopes (to consent to it).
    pub async fn begin_sign_in(
        &self,
        return_to: &str,
        mut extras: RequestExtras,
        resource: Option<&str>,
    ) -> Result<(), AuthError> {
        if let Some(id) = resource {
            let resource =
                self.0.config.resource(id).ok_or_else(|| {
                    AuthError::Browser(format!("no API named {id} is configured"))
                })?;
            extras.scope = Some(resource.scope());
        }
        let metadata = self.metadata().await?;
        // Kept for the tab before leaving, so the callback page needs only the token endpoint.
        self.prefetch().await;
        let now = clock::now_ms();
        self.0.store.clear_pending_logins(|p| !p.is_expired(now));
        let state = clock::random_bytes::<16>().map_err(AuthError::Browser)?;
        let nonce = clock::random_bytes::<16>().map_err(AuthError::Browser)?;
        let verifier =
            clock::random_bytes::<{ pkce::VERIFIER_BYTES }>().map_err(AuthError::Browser)?;
        let login = PendingLogin {
            state: pkce::random_token(&state),
            nonce: pkce::random_token(&nonce),
            verifier: CodeVerifier::from_random_bytes(&verifier),
            redirect_uri: self.redirect_uri(),
            return_to: authorize::safe_return_path(return_to, &self.0.config.redirect_path),
            created_at_ms: now,
            resource: resource.map(str::to_string),
        };
        self.0
            .store
            .save_pending_login(&login)
            .map_err(AuthError::Browser)?;
        let url = authorize::authorization_url(
            &metadata.authorization_endpoint,
            &self.0.config,
            &login,
            &extras,
        );
        location::go_to(&url).map_err(AuthError::Browser)
    }

    /// Completes the sign-in from the callback's parameters: returns the new session and the
    /// route to return to. The login state is consumed first, so a replay always fails. A
    /// failure forgets the provider's documents, so the next attempt fetches them afresh.
    pub async fn complete_sign_in(&self, params: &str) -> Result<(Session, String), AuthError> {
        let result = self.redeem_response(params).await;
        if result.is_err() {
            self.forget_documents();
        }
        result
    }

    async fn redeem_response(&self, params: &str) -> Result<(Session, String), AuthError> {
        let response = callback::parse_response(params)?;
        match response {
            AuthResponse::Error {
                error,
                description,
                state,
                iss,
            } => {
                // An error response is checked like a code: one whose state this tab did not
                // issue is not the provider speaking about a sign-in started here, so none of
                // its text is shown.
                self.take_login(state.as_deref())?;
                check_issuer(iss.as_deref(), &self.metadata().await?)?;
                Err(AuthError::Redirect { error, description })
            }
            AuthResponse::Code { code, state, iss } => {
                let login = self.take_login(Some(&state))?;
                let metadata = self.metadata().await?;
                check_issuer(iss.as_deref(), &metadata)?;
                let body = token::code_request_body(
                    &code,
                    &login.redirect_uri,
                    &self.0.config.client_id,
                    login.verifier.secret(),
                );
                let url = &metadata.token_endpoint;
                let reply = http::post_form(url, body)
                    .await
                    .map_err(|e| network("redeeming the authorization code", url, e))?;
                let tokens = token::parse_response(reply.ok, &reply.body, true)?;
                let id_token = tokens
                    .id_token
                    .as_deref()
                    .ok_or(TokenError::MissingIdToken)?;
                self.verify_id_token(id_token, Some(&login.nonce)).await?;
                let handover_key = clock::random_bytes().map_err(AuthError::Browser)?;
                let now = clock::now_ms();
                let session = match &login.resource {
                    None => Session::from_tokens(tokens, &handover_key, now),
                    // A sign-in to consent to another API: the code brought that API's token;
                    // the session's own comes from the new refresh token.
                    Some(resource) => {
                        let own = self.redeem_session_scope(&tokens, &metadata).await?;
                        // The code's refresh token is spent: the grant above rotated it.
                        let spent = TokenSet {
                            refresh_token: None,
                            ..tokens
                        };
                        Session::from_tokens(own, &handover_key, now)
                            .with_resource_token(resource, spent, now)
                    }
                };
                Ok((session, login.return_to))
            }
        }
    }

    /// The first check of every authorization response, error or code (RFC 6749 §4.1.2 and
    /// §4.1.2.1): its `state` is one this tab issued and has not used or let expire. The
    /// pending sign-in is consumed here, before anything else, so a replay always fails.
    fn take_login(&self, state: Option<&str>) -> Result<PendingLogin, CallbackError> {
        let now = clock::now_ms();
        state
            .and_then(|state| self.0.store.take_pending_login(state))
            .filter(|login| !login.is_expired(now))
            .ok_or(CallbackError::UnknownState)
    }

    /// Redeems `refresh_token` for `scope` at the token endpoint (RFC 6749 §6); `during` names
    /// the step for a network error.
    async fn refresh_grant(
        &self,
        token_endpoint: &str,
        refresh_token: &str,
        scope: &str,
        during: &'static str,
    ) -> Result<Reply, AuthError> {
        let body = token::refresh_request_body(refresh_token, &self.0.config.client_id, scope);
        http::post_form(token_endpoint, body)
            .await
            .map_err(|e| network(during, token_endpoint, e))
    }

    /// After a sign-in for another API's scopes: the session's own tokens, from the refresh
    /// token that sign-in brought.
    async fn redeem_session_scope(
        &self,
        tokens: &TokenSet,
        metadata: &ProviderMetadata,
    ) -> Result<TokenSet, AuthError> {
        let refresh_token =
            tokens
                .refresh_token
                .as_deref()
                .ok_or_else(|| AuthError::SessionEnded {
                    detail: "the provider issued no refresh token".into(),
                })?;
        let during = "redeeming the authorization code";
        let scope = self.0.config.scope();
        let reply =
            (self.refresh_grant(&metadata.token_endpoint, refresh_token, &scope, during)).await?;
        let own = token::parse_response(reply.ok, &reply.body, false)?;
        // Keep the newest refresh token: the grant above rotated it.
        Ok(TokenSet {
            refresh_token: own.refresh_token.clone().or(tokens.refresh_token.clone()),
            id_token: tokens.id_token.clone(),
            ..own
        })
    }

    /// Exchanges the refresh token for an access token for the resource `id` (one of
    /// `OidcConfig::resources`): the session with that token and the rotated refresh token.
    pub async fn redeem_for(&self, session: &Session, id: &str) -> Result<Session, ResourceError> {
        let failed = |failure, error| ResourceError { failure, error };
        let Some(resource) = self.0.config.resource(id) else {
            let error = AuthError::Browser(format!("no API named {id} is configured"));
            return Err(failed(ResourceFailure::Refused, error));
        };
        let Some(refresh_token) = session.refresh_token.as_deref() else {
            let error = AuthError::SessionEnded {
                detail: "the provider issued no refresh token".into(),
            };
            return Err(failed(ResourceFailure::SessionEnded, error));
        };
        let metadata = (self.metadata().await).map_err(|e| failed(ResourceFailure::Retry, e))?;
        let during = "getting a token for another API";
        let reply = (self.refresh_grant(
            &metadata.token_endpoint,
            refresh_token,
            &resource.scope(),
            during,
        ))
        .await
        .map_err(|e| failed(ResourceFailure::Retry, e))?;
        match token::parse_response(reply.ok, &reply.body, false) {
            Ok(tokens) => Ok(session.with_resource_token(id, tokens, clock::now_ms())),
            Err(e) => {
                let failure = if reply.status >= 500 {
                    ResourceFailure::Retry
                } else {
                    refresh::classify_resource(e.oauth_error(), e.oauth_description())
                };
                let error = match failure {
                    ResourceFailure::ConsentRequired => AuthError::ConsentRequired {
                        api: resource.name.clone(),
                        detail: e.to_string(),
                    },
                    _ => e.into(),
                };
                Err(failed(failure, error))
            }
        }
    }

    /// Exchanges the refresh token for new tokens, checking a new ID token against the old one.
    pub async fn refresh(&self, session: &Session) -> Result<Session, RefreshError> {
        let ended = |detail: String| RefreshError {
            failure: RefreshFailure::SessionEnded,
            error: AuthError::SessionEnded { detail },
        };
        let Some(refresh_token) = session.refresh_token.as_deref() else {
            return Err(ended("the provider issued no refresh token".into()));
        };
        let retry = |error: AuthError| RefreshError {
            failure: RefreshFailure::Retry,
            error,
        };
        let metadata = self.metadata().await.map_err(retry)?;
        let scope = self.0.config.scope();
        let during = "refreshing the session";
        let reply = (self.refresh_grant(&metadata.token_endpoint, refresh_token, &scope, during))
            .await
            .map_err(retry)?;
        let tokens = match token::parse_response(reply.ok, &reply.body, false) {
            Ok(t) => t,
            Err(e) => {
                let failure = if reply.status >= 500 {
                    RefreshFailure::Retry
                } else {
                    refresh::classify(e.oauth_error())
                };
                return Err(match failure {
                    RefreshFailure::SessionEnded => ended(e.to_string()),
                    RefreshFailure::Retry => retry(e.into()),
                });
            }
        };
        if let Some(new_id) = &tokens.id_token {
            let new_jwt = self
                .verify_id_token(new_id, None)
                .await
                .map_err(|e| ended(e.to_string()))?;
            if let Some(old_jwt) = session
                .id_token
                .as_deref()
                .and_then(|t| Jwt::decode(t).ok())
            {
                id_token::check_same_subject(&old_jwt, &new_jwt)
                    .map_err(|e| ended(e.to_string()))?;
            }
        }
        Ok(session.refreshed(tokens, clock::now_ms()))
    }

    /// Where to send the browser to end the provider session, if the provider supports it.
    pub async fn end_session_url(&self, session: Option<&Session>) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let profile = session.map(|s| s.profile(&self.0.config));
        let hint = match (
            profile.as_ref().and_then(|p| p.login_hint_claim.as_deref()),
            session.and_then(|s| s.id_token.as_deref()),
        ) {
            (Some(login_hint), _) => LogoutHint::LoginHint(login_hint),
            (None, Some(id_token)) => LogoutHint::IdToken(id_token),
            (None, None) => LogoutHint::None,
        };
        logout::end_session_url(
            metadata.end_session_endpoint.as_deref(),
            &self.0.config.client_id,
            &format!("{}/", location::origin()),
            hint,
        )
    }
}
