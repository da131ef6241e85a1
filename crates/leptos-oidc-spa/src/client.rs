//! The client's flows in the browser: starting a sign-in, completing the callback, refreshing,
//! redeeming a token for another API, and the sign-out URL. Each flow calls the pure checks in
//! `core` and only moves data between them and the browser; the session's state machine decides
//! when each runs.

use crate::browser::session_store::SessionStore;
use crate::browser::{clock, http, location, signature};
use crate::core::authorize::{self, PendingLogin, RequestExtras};
use crate::core::callback::{self, AuthResponse, CallbackError};
use crate::core::challenge::{self, StepUp};
use crate::core::config::OidcConfig;
use crate::core::discovery::ProviderMetadata;
use crate::core::dpop::{self, DpopKeyRef};
use crate::core::error::AuthError;
use crate::core::id_token::{self, Expectations, IdTokenError, KeyChoice};
use crate::core::issuer;
use crate::core::jwt::Jwt;
use crate::core::logout::{self, LogoutHint, PendingSignOut};
use crate::core::machine::GrantError;
use crate::core::pkce::{self, CodeVerifier};
use crate::core::profile::UserProfile;
use crate::core::refresh::{self, GrantFailure};
use crate::core::safe_url::safe_return_path;
use crate::core::session::Session;
use crate::core::token::{self, TokenError, TokenSet};
use crate::dpop_prover::Prover;
use crate::exchange::HttpRequest;
use crate::provider_docs::ProviderDocs;
use std::rc::Rc;

/// The client's browser steps for one configuration.
pub(crate) struct OidcClient {
    config: OidcConfig,
    store: SessionStore,
    docs: ProviderDocs,
    /// The session's DPoP key and the servers' nonces, when tokens are bound.
    prover: Rc<Prover>,
}

/// A token endpoint's answer: the HTTP status and the checked token response, or why it is
/// unusable.
struct TokenAnswer {
    status: u16,
    tokens: Result<TokenSet, TokenError>,
}

impl OidcClient {
    /// A client for `config`, nothing fetched yet.
    pub fn new(config: OidcConfig) -> OidcClient {
        let store = SessionStore::new(&config);
        OidcClient {
            docs: ProviderDocs::new(&config.metadata_url, store.clone()),
            prover: Rc::new(Prover::new(&config)),
            store,
            config,
        }
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Where this client keeps the session and pending sign-ins.
    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// The session's DPoP proofs.
    pub fn prover(&self) -> &Rc<Prover> {
        &self.prover
    }

    /// Fetches the provider's documents ahead of need (see `ProviderDocs::prefetch`).
    pub async fn prefetch(&self) {
        self.docs.prefetch().await
    }

    /// The absolute redirect URI: this page's origin followed by the redirect path.
    fn redirect_uri(&self) -> String {
        format!("{}{}", location::origin(), self.config.redirect_path)
    }

    /// Checks an ID token completely: algorithm and claims, then the signature with WebCrypto
    /// following the key plan (one refetch of the key set for an unknown `kid`).
    async fn verify_id_token(&self, token: &str, nonce: Option<&str>) -> Result<Jwt, AuthError> {
        let jwt = id_token::decode(token)?;
        let metadata = self.docs.metadata().await?;
        let expected = Expectations {
            issuer: &metadata.issuer,
            client_id: &self.config.client_id,
            nonce,
            now_s: clock::now_ms() / 1000.0,
        };
        id_token::validate_claims(&jwt, &expected)?;
        let mut keys = self.docs.signing_keys(false).await?;
        if id_token::choose_key(&jwt, &keys, false)? == KeyChoice::Refetch {
            keys = self.docs.signing_keys(true).await?;
        }
        let KeyChoice::Verify { key, hash } = id_token::choose_key(&jwt, &keys, true)? else {
            unreachable!("a refetched key set is chosen from or refused")
        };
        let data = jwt.signing_input.as_bytes();
        if !signature::verify(key, hash, data, &jwt.signature).await? {
            return Err(IdTokenError::BadSignature.into());
        }
        Ok(jwt)
    }

    /// Records a new single-use login state and sends the browser to the provider; with a
    /// `resource`, for that API's scopes (to consent to it).
    pub async fn begin_sign_in(
        &self,
        return_to: &str,
        login_hint: Option<String>,
        resource: Option<&str>,
        step_up: Option<StepUp>,
        silent: bool,
    ) -> Result<(), AuthError> {
        let scope = match resource {
            None => None,
            Some(id) => Some(
                self.config
                    .resource(id)
                    .ok_or_else(|| AuthError::UnknownApi(id.to_string()))?
                    .scope(),
            ),
        };
        let metadata = self.docs.metadata().await?;
        // Kept for the tab before leaving, so the callback page needs only the token endpoint.
        self.docs.prefetch().await;
        let silent = silent && metadata.allows_silent_sign_in();
        let algs = metadata.dpop_signing_alg_values_supported.as_deref();
        // The key the new session is bound to, whose thumbprint the authorization request
        // carries: a new one, or the session's own for a sign-in from a session (a step-up, a
        // consent), so that a duplicated tab still holding that session keeps a working key.
        let dpop = match dpop::decide(self.config.dpop, algs)? {
            true => match self.store.load_session().and_then(|s| s.dpop) {
                Some(key) => Some(key),
                None => Some(self.prover.new_key().await?),
            },
            false => None,
        };
        let now = clock::now_ms();
        self.clear_expired_logins(now).await;
        let login = PendingLogin {
            state: pkce::random_token(&clock::random_bytes()?),
            nonce: pkce::random_token(&clock::random_bytes()?),
            verifier: CodeVerifier::from_random_bytes(&clock::random_bytes()?),
            redirect_uri: self.redirect_uri(),
            return_to: safe_return_path(return_to, &self.config.redirect_path),
            created_at_ms: now,
            resource: resource.map(str::to_string),
            answers: step_up.as_ref().map(StepUp::key),
            silent,
            login_hint: login_hint.clone(),
            dpop,
        };
        self.store.save_pending_login(&login)?;
        let extras = RequestExtras {
            login_hint,
            scope,
            step_up,
            prompt: silent.then(|| "none".to_string()),
        };
        let url = authorize::authorization_url(
            &metadata.authorization_endpoint,
            &self.config,
            &login,
            &extras,
        );
        Ok(location::go_to(&url)?)
    }

    /// Completes the sign-in from the callback's parameters: the new session and the route to
    /// return to. The login state is consumed first, so a replay always fails. A failure
    /// forgets the provider's documents, so the next attempt fetches them afresh.
    pub async fn complete_sign_in(&self, params: &str) -> Result<(Session, String), AuthError> {
        let result = self.redeem_response(params).await;
        if result.is_err() {
            self.docs.forget();
        }
        result
    }

    async fn redeem_response(&self, params: &str) -> Result<(Session, String), AuthError> {
        match callback::parse_response(params)? {
            AuthResponse::Error {
                error,
                description,
                state,
                iss,
            } => {
                // An error response is checked like a code: one whose state this tab did not
                // issue is not the provider speaking about a sign-in started here, so none of
                // its text is shown.
                let login = self.take_login(state.as_deref())?;
                self.forget_key_of(&login).await;
                self.check_response_issuer(iss.as_deref(), &self.docs.metadata().await?)?;
                if login.silent && callback::needs_the_person(&error) {
                    return Err(AuthError::SilentSignInDeclined {
                        return_to: login.return_to,
                        login_hint: login.login_hint,
                    });
                }
                Err(AuthError::Redirect { error, description })
            }
            AuthResponse::Code { code, state, iss } => {
                let login = self.take_login(Some(&state))?;
                let redeemed = self.redeem_code(&code, iss.as_deref(), &login).await;
                if redeemed.is_err() {
                    self.forget_key_of(&login).await;
                }
                redeemed
            }
        }
    }

    /// Redeems the code of `login`'s response for the new session and the route to return to.
    async fn redeem_code(
        &self,
        code: &str,
        iss: Option<&str>,
        login: &PendingLogin,
    ) -> Result<(Session, String), AuthError> {
        let metadata = self.docs.metadata().await?;
        self.check_response_issuer(iss, &metadata)?;
        let body = token::code_request_body(
            code,
            &login.redirect_uri,
            &self.config.client_id,
            login.verifier.secret(),
        );
        let during = "redeeming the authorization code";
        let key = login.dpop.as_ref();
        let tokens = self
            .token_request(&metadata, body, during, true, key)
            .await?
            .tokens?;
        let id_token = tokens
            .id_token
            .as_deref()
            .ok_or(TokenError::MissingIdToken)?;
        self.verify_id_token(id_token, Some(&login.nonce)).await?;
        let handover_key = clock::random_bytes()?;
        let now = clock::now_ms();
        let session = match &login.resource {
            None => Session::from_tokens(tokens, &handover_key, now),
            // A sign-in to consent to another API: the code brought that API's token;
            // the session's own comes from the new refresh token.
            Some(resource) => {
                let own = self.redeem_session_scope(&tokens, &metadata, key).await?;
                // The code's refresh token is spent: the grant above rotated it.
                let spent = TokenSet {
                    refresh_token: None,
                    ..tokens
                };
                Session::from_tokens(own, &handover_key, now)
                    .with_resource_token(resource, spent, now)
            }
        };
        if let Some(key) = &login.answers {
            // For the loop guard, on the page the sign-in returns to.
            self.store
                .save_answered_step_up(login.resource.as_deref(), key);
        }
        // The session this one replaces was bound to its own key, now of no use.
        let replaced = self.store.load_session().and_then(|s| s.dpop);
        if let Some(old) = replaced.filter(|old| Some(old) != login.dpop.as_ref()) {
            self.prover.forget(&old).await;
        }
        Ok((
            session.with_dpop_key(login.dpop.clone()),
            login.return_to.clone(),
        ))
    }

    /// Deletes the key made for `login`, a sign-in that will not make a session (unless the
    /// tab's session uses it: a sign-in from a session keeps the session's key).
    async fn forget_key_of(&self, login: &PendingLogin) {
        let in_use = self.store.load_session().and_then(|s| s.dpop);
        if let Some(key) = login
            .dpop
            .as_ref()
            .filter(|key| Some(*key) != in_use.as_ref())
        {
            self.prover.forget(key).await;
        }
    }

    /// Deletes this tab's expired pending sign-ins, with their keys, when a new one starts.
    async fn clear_expired_logins(&self, now: f64) {
        for login in self.store.clear_pending_logins(|p| !p.is_expired(now)) {
            self.forget_key_of(&login).await;
        }
    }

    /// RFC 9207 for this provider.
    fn check_response_issuer(
        &self,
        iss: Option<&str>,
        metadata: &ProviderMetadata,
    ) -> Result<(), CallbackError> {
        let advertised = metadata.authorization_response_iss_parameter_supported;
        Ok(issuer::check_response(iss, &metadata.issuer, advertised)?)
    }

    /// The first check of every authorization response, error or code (RFC 6749 §4.1.2 and
    /// §4.1.2.1): its `state` is one this tab issued and has not used or let expire. The
    /// pending sign-in is consumed here, before anything else, so a replay always fails.
    fn take_login(&self, state: Option<&str>) -> Result<PendingLogin, CallbackError> {
        let now = clock::now_ms();
        state
            .and_then(|state| self.store.take_pending_login(state))
            .filter(|login| !login.is_expired(now))
            .ok_or(CallbackError::UnknownState)
    }

    /// POSTs a grant to the token endpoint, with a proof of `dpop`'s key when the tokens are
    /// bound to one (and once more with the nonce the endpoint demands, RFC 9449 §8); `during`
    /// names the step for a network error.
    async fn token_request(
        &self,
        metadata: &ProviderMetadata,
        body: String,
        during: &'static str,
        id_token_required: bool,
        dpop: Option<&DpopKeyRef>,
    ) -> Result<TokenAnswer, AuthError> {
        let url = &metadata.token_endpoint;
        let mut nonce_given = false;
        let response = loop {
            let mut request = HttpRequest::post_form(url, body.clone());
            if let Some(key) = dpop {
                let proof = self.prover.proof(key, "POST", url, None).await?;
                request.headers.set("DPoP", proof);
            }
            let response = http::fetch(request)
                .await
                .map_err(|e| AuthError::network(during, url, e))?;
            let Some(nonce) = (dpop.is_some())
                .then(|| response.headers.get("dpop-nonce"))
                .flatten()
            else {
                break response;
            };
            self.prover.note_nonce(url, nonce);
            let demanded =
                dpop::demanded_nonce(response.status, Some(nonce), &response.text(), None);
            if nonce_given || demanded.is_none() {
                break response;
            }
            nonce_given = true;
        };
        let tokens = if response.too_large_for_a_provider() {
            let size = "larger than a megabyte, which no token answer is";
            Err(TokenError::Malformed(size.into()))
        } else {
            let proved = dpop.is_some();
            token::parse_response(response.ok(), &response.text(), id_token_required, proved)
        };
        Ok(TokenAnswer {
            status: response.status,
            tokens,
        })
    }

    /// A refresh grant (RFC 6749 §6) for `scope`, with the claims an API asked for, if any (and
    /// the client capabilities, if configured).
    async fn refresh_grant(
        &self,
        metadata: &ProviderMetadata,
        refresh_token: &str,
        scope: &str,
        claims: Option<&str>,
        during: &'static str,
        dpop: Option<&DpopKeyRef>,
    ) -> Result<TokenAnswer, AuthError> {
        let claims = challenge::claims_request(claims, &self.config.client_capabilities);
        let client_id = &self.config.client_id;
        let body = token::refresh_request_body(refresh_token, client_id, scope, claims.as_deref());
        self.token_request(metadata, body, during, false, dpop)
            .await
    }

    /// After a sign-in for another API's scopes: the session's own tokens, from the refresh
    /// token that sign-in brought.
    async fn redeem_session_scope(
        &self,
        tokens: &TokenSet,
        metadata: &ProviderMetadata,
        dpop: Option<&DpopKeyRef>,
    ) -> Result<TokenSet, AuthError> {
        let Some(refresh_token) = tokens.refresh_token.as_deref() else {
            let detail = NO_REFRESH_TOKEN.into();
            return Err(AuthError::SessionEnded { detail });
        };
        let during = "redeeming the authorization code";
        let scope = self.config.scope();
        let own = (self.refresh_grant(metadata, refresh_token, &scope, None, during, dpop))
            .await?
            .tokens?;
        // Keep the newest refresh token: the grant above rotated it.
        Ok(TokenSet {
            refresh_token: own.refresh_token.clone().or(tokens.refresh_token.clone()),
            id_token: tokens.id_token.clone(),
            ..own
        })
    }

    /// A refresh grant for `scope` with `session`'s refresh token: the token endpoint's answer,
    /// or why none came (no refresh token ends the session; the provider's documents or the
    /// network failing may pass).
    async fn session_grant(
        &self,
        session: &Session,
        scope: &str,
        claims: Option<&str>,
        during: &'static str,
    ) -> Result<TokenAnswer, GrantError> {
        let refresh_token = (session.refresh_token.as_deref())
            .ok_or_else(|| GrantError::session_ended(NO_REFRESH_TOKEN))?;
        let metadata = self.docs.metadata().await.map_err(GrantError::retry)?;
        let dpop = session.dpop.as_ref();
        (self.refresh_grant(&metadata, refresh_token, scope, claims, during, dpop))
            .await
            .map_err(GrantError::retry)
    }

    /// Exchanges the refresh token for an access token for the resource `id` (one of
    /// `OidcConfig::resources`), with the claims its API asked for, if any: the session with
    /// that token and the rotated refresh token.
    pub async fn redeem_for(
        &self,
        session: &Session,
        id: &str,
        claims: Option<&str>,
    ) -> Result<Session, GrantError> {
        let Some(resource) = self.config.resource(id) else {
            return Err(GrantError {
                failure: GrantFailure::Refused,
                error: AuthError::UnknownApi(id.to_string()),
            });
        };
        let during = "getting a token for another API";
        let answer = self
            .session_grant(session, &resource.scope(), claims, during)
            .await?;
        match answer.tokens {
            Ok(tokens) => Ok(session.with_resource_token(id, tokens, clock::now_ms())),
            Err(e) => {
                let failure = refresh::classify(answer.status, &e);
                let error = match failure {
                    GrantFailure::ConsentRequired if claims.is_none() => {
                        AuthError::ConsentRequired {
                            api: resource.name.clone(),
                            detail: e.to_string(),
                        }
                    }
                    _ => e.into(),
                };
                Err(GrantError { failure, error })
            }
        }
    }

    /// Exchanges the refresh token for new tokens, with the claims the session's API asked for,
    /// if any, checking a new ID token against the old one.
    pub async fn refresh(
        &self,
        session: &Session,
        claims: Option<&str>,
    ) -> Result<Session, GrantError> {
        let during = "refreshing the session";
        let scope = self.config.scope();
        let answer = (self.session_grant(session, &scope, claims, during)).await?;
        let tokens = match answer.tokens {
            Ok(tokens) => tokens,
            Err(e) => match refresh::classify(answer.status, &e) {
                GrantFailure::Retry => return Err(GrantError::retry(e.into())),
                // A refusal of the claims an API asked for leaves the session as it was.
                failure if claims.is_some() && failure != GrantFailure::SessionEnded => {
                    return Err(GrantError {
                        failure,
                        error: e.into(),
                    })
                }
                // For the session's own refresh, a refusal of any kind ends the session.
                _ => return Err(GrantError::session_ended(e.to_string())),
            },
        };
        if let Some(new_id) = &tokens.id_token {
            let ended = |e: AuthError| GrantError::session_ended(e.to_string());
            let new_jwt = self.verify_id_token(new_id, None).await.map_err(ended)?;
            let old_jwt = session
                .id_token
                .as_deref()
                .and_then(|t| Jwt::decode(t).ok());
            if let Some(old_jwt) = old_jwt {
                id_token::check_same_subject(&old_jwt, &new_jwt).map_err(|e| ended(e.into()))?;
            }
        }
        Ok(session.refreshed(tokens, clock::now_ms()))
    }

    /// Where to send the browser to end the provider session, if the provider supports it; the
    /// request's `state` is kept for the tab, so the page the provider returns to can tell.
    pub async fn end_session_url(&self, session: Option<&Session>) -> Option<String> {
        let metadata = self.docs.metadata().await.ok()?;
        let endpoint = metadata.end_session_endpoint.as_deref()?;
        let profile = session.map(|s| UserProfile::of(s, &self.config));
        let hint = LogoutHint::choose(
            profile.as_ref().and_then(|p| p.login_hint_claim.as_deref()),
            session.and_then(|s| s.id_token.as_deref()),
        );
        let pending = PendingSignOut {
            state: pkce::random_token(&clock::random_bytes().ok()?),
            created_at_ms: clock::now_ms(),
        };
        // Without the record the return could not be recognised; the sign-out still goes ahead.
        let _ = self.store.save_pending_sign_out(&pending);
        logout::end_session_url(
            Some(endpoint),
            &self.config.client_id,
            &format!("{}/", location::origin()),
            hint,
            &pending.state,
        )
    }
}

/// Why a session without a refresh token cannot be renewed.
const NO_REFRESH_TOKEN: &str = "the provider issued no refresh token";
