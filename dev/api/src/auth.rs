//! Bearer-token authentication: validating access tokens and identifying the caller.
//!
//! [`TokenValidator`] checks a JWT the way clinical-mdr-api does against
//! Entra ID: RS256 only, signature by the IdP key named by the token's `kid`,
//! `iss` equal to the discovery document's issuer, `aud` equal to this API's
//! application id (or its `api://` URI), `exp` (and `nbf` when present) with
//! [`TokenValidator::LEEWAY_SECS`] of clock skew.
//!
//! The axum extractors [`Caller`] (any authenticated caller) and
//! [`Authorized<R>`] (a caller holding one of `R`'s roles) apply it to
//! requests, with `Authorization: Bearer <token>`, or `Authorization: DPoP <token>` and a
//! `DPoP` proof (RFC 9449) for a token bound to the proof's key (`cnf.jkt`, see
//! [`crate::dpop`]). A bound token sent as Bearer, and an unbound one sent as DPoP, are
//! refused. Endpoints that take tokens for *another* API (an Azure TRE
//! workspace's registration) name that API's [`Audience`] and use
//! [`Auth::caller`] and [`Auth::permit`] directly. With `OAUTH_ENABLED` off
//! every caller is an anonymous superuser, as in clinical-mdr-api (whose
//! `X-Test-User-Id` header names the fake user).

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderName};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::DEFAULT_PORT;
use crate::dpop::{Dpop, DpopSettings, DPOP};
use crate::error::ApiError;
use crate::jwks::{KeyCache, KeyLookupError};
use crate::roles::{satisfies_any, RequiredRole, Role};
use crate::AppState;

/// The header clinical-mdr-api reads the fake user id from when auth is off.
pub const TEST_USER_HEADER: HeaderName = HeaderName::from_static("x-test-user-id");

/// The validated claims of an access token that this API uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Entra object id of the user (or service principal).
    #[serde(default)]
    pub oid: Option<String>,
    /// Entra tenant id.
    #[serde(default)]
    pub tid: Option<String>,
    /// App roles granted to the caller; absent means none. A list, or one string of roles
    /// separated by commas or spaces (Glewlwyd joins a multi-valued property with commas).
    #[serde(default, deserialize_with = "list_or_joined")]
    pub roles: Vec<String>,
    /// Entra's authentication context classes the token satisfies (Conditional Access
    /// authentication contexts, asked for with a claims challenge).
    #[serde(
        default,
        deserialize_with = "list_or_joined",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub acrs: Vec<String>,
    /// The authentication context class of the sign-in (RFC 9470 step-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// When the person last authenticated, in seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// Delegated scopes, space-separated (absent for app-only tokens).
    #[serde(default)]
    pub scp: Option<String>,
    /// Audience: a string or an array of strings.
    pub aud: Value,
    pub iss: String,
    pub exp: u64,
    #[serde(default)]
    pub sub: Option<String>,
    /// Entra v1 tokens name the user here instead of `preferred_username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// The key the token is bound to (RFC 9449 §6: `cnf.jkt`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// A token's confirmation claim (RFC 7800); only DPoP's `jkt` is looked at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the DPoP key the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
}

impl Claims {
    /// The thumbprint of the DPoP key the token is bound to.
    pub fn bound_key(&self) -> Option<&str> {
        self.cnf.as_ref()?.jkt.as_deref()
    }
}

/// A claim that is a list of strings, or one string of items separated by commas or spaces.
fn list_or_joined<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        List(Vec<String>),
        Joined(String),
    }
    Ok(match Form::deserialize(deserializer)? {
        Form::List(items) => items,
        Form::Joined(text) => text
            .split([',', ' '])
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Who a token must be issued for: an API's application id, accepted as `aud`
/// bare or as its `api://` URI, and how to name that API when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    app_id: String,
    accepted: [String; 2],
    /// `None` for this API itself ("this API" in messages).
    name: Option<String>,
}

impl Audience {
    /// This API's own audience.
    pub fn this_api(app_id: &str) -> Self {
        Self::build(app_id, None)
    }

    /// The audience of another API this one accepts tokens for, e.g. `workspace alpha`.
    pub fn named(app_id: &str, name: impl Into<String>) -> Self {
        Self::build(app_id, Some(name.into()))
    }

    fn build(app_id: &str, name: Option<String>) -> Self {
        let id = app_id.strip_prefix("api://").unwrap_or(app_id).to_owned();
        Self {
            accepted: [id.clone(), format!("api://{id}")],
            app_id: id,
            name,
        }
    }

    /// The application id (GUID), without `api://`.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Why a token with another `aud` is refused.
    fn mismatch(&self) -> String {
        match &self.name {
            None => "token audience is not this API".to_owned(),
            Some(name) => format!(
                "token audience is not {name}: expected aud {id} (a token for a scope of api://{id})",
                id = self.app_id
            ),
        }
    }
}

/// Validates bearer tokens against the IdP's keys and an audience (by
/// default this API's).
pub struct TokenValidator {
    keys: Arc<KeyCache>,
    audience: Audience,
    /// Boxed: its replay cache and nonces would make [`Auth`]'s variants very unequal.
    dpop: Box<Dpop>,
}

/// The JWT header members looked at before verification.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl TokenValidator {
    /// Allowed clock skew for `exp` and `nbf`.
    pub const LEEWAY_SECS: u64 = 30;

    /// A validator accepting tokens for `api_app_id` (or `api://<api_app_id>`), and DPoP
    /// proofs for this API on its default port (see [`TokenValidator::with_dpop`]).
    pub fn new(keys: Arc<KeyCache>, api_app_id: &str) -> Self {
        Self {
            keys,
            audience: Audience::this_api(api_app_id),
            dpop: Box::new(Dpop::new(DpopSettings::local(DEFAULT_PORT))),
        }
    }

    /// The same validator checking DPoP proofs with `dpop`.
    pub fn with_dpop(self, dpop: Dpop) -> Self {
        Self {
            dpop: Box::new(dpop),
            ..self
        }
    }

    /// The DPoP proof checker.
    pub fn dpop(&self) -> &Dpop {
        &self.dpop
    }

    /// The key cache this validator uses.
    pub fn keys(&self) -> &Arc<KeyCache> {
        &self.keys
    }

    /// Validates `token` for this API and returns its claims.
    pub async fn validate(&self, token: &str) -> Result<Claims, ApiError> {
        self.validate_for(token, &self.audience).await
    }

    /// Validates `token` for `audience` (same issuer and keys) and returns its claims.
    pub async fn validate_for(&self, token: &str, audience: &Audience) -> Result<Claims, ApiError> {
        let header = parse_header(token)?;
        if header.alg != "RS256" {
            return Err(invalid(format!(
                "signing algorithm {:?} is not accepted; only RS256 is",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("token header has no kid"))?;
        let key = self.keys.key_for(&kid).await.map_err(|e| match e {
            KeyLookupError::Unavailable(_) => ApiError::KeysUnavailable(e.to_string()),
            KeyLookupError::UnknownKid(_) => invalid(e.to_string()),
        })?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = Self::LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_audience(&audience.accepted);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidAudience => invalid(audience.mismatch()),
                kind => invalid(describe(kind)),
            })?
            .claims;

        if !issuer_matches(&key.issuer, &claims) {
            return Err(invalid(format!(
                "token issuer {:?} is not {:?}",
                claims.iss, &*key.issuer
            )));
        }
        Ok(claims)
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::InvalidToken(detail.into())
}

/// Checks the compact-JWS shape and decodes the header, so that e.g.
/// `alg: none` gets a precise message rather than a parse error.
fn parse_header(token: &str) -> Result<RawHeader, ApiError> {
    let parts: Vec<&str> = token.split('.').collect();
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() != 3
        || parts[0].is_empty()
        || parts[1].is_empty()
        || !parts.iter().all(|p| base64url(p))
    {
        return Err(invalid(
            "token is not a JWT (expected three base64url parts)",
        ));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| invalid("token header is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid("token header is not a JSON JOSE header"))
}

/// `iss` must equal the discovery issuer. Entra's multi-tenant discovery
/// documents publish `.../{tenantid}/v2.0`; there the token's `tid` fills in.
fn issuer_matches(expected: &str, claims: &Claims) -> bool {
    if expected.contains("{tenantid}") {
        match &claims.tid {
            Some(tid) => claims.iss == expected.replace("{tenantid}", tid),
            None => false,
        }
    } else {
        claims.iss == expected
    }
}

/// A human-readable reason for a `jsonwebtoken` failure.
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "token signature is invalid".into(),
        ErrorKind::ExpiredSignature => "token has expired".into(),
        ErrorKind::ImmatureSignature => "token is not valid yet (nbf)".into(),
        ErrorKind::InvalidAudience => "token audience is not this API".into(),
        ErrorKind::InvalidIssuer => "token issuer is not accepted".into(),
        ErrorKind::InvalidAlgorithm => "token algorithm is not accepted".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("token has no {claim} claim"),
        ErrorKind::Json(e) => format!("token claims are malformed: {e}"),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) => "token is not valid base64url JSON".into(),
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            "token signing key is unusable".into()
        }
        other => format!("token rejected: {other:?}"),
    }
}

/// How requests are authenticated.
pub enum Auth {
    /// `OAUTH_ENABLED` off: everyone is an anonymous superuser.
    Disabled,
    /// Bearer tokens are required; roles are checked if `rbac_enabled`.
    Enabled {
        validator: TokenValidator,
        rbac_enabled: bool,
    },
}

impl Auth {
    /// Whether role requirements are enforced.
    pub fn rbac_enabled(&self) -> bool {
        matches!(
            self,
            Auth::Enabled {
                rbac_enabled: true,
                ..
            }
        )
    }

    /// The caller of a request, whose bearer token must be for `audience`
    /// (`None`: this API). Rejects with 401 (or 503 without keys).
    pub async fn caller(
        &self,
        parts: &Parts,
        audience: Option<&Audience>,
    ) -> Result<Caller, ApiError> {
        match self {
            Auth::Disabled => {
                let user_id = parts
                    .headers
                    .get(TEST_USER_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .unwrap_or("anonymous")
                    .to_owned();
                Ok(Caller::Anonymous { user_id })
            }
            Auth::Enabled { validator, .. } => {
                let (scheme, token) = credentials(parts)?;
                let claims = match audience {
                    Some(audience) => validator.validate_for(token, audience).await?,
                    None => validator.validate(token).await?,
                };
                match (scheme, claims.bound_key()) {
                    (Scheme::Bearer, None) => {}
                    (Scheme::Bearer, Some(_)) => {
                        return Err(ApiError::InvalidDpopToken(
                            "token is bound to a DPoP key: send it with Authorization: DPoP and a DPoP proof"
                                .to_owned(),
                        ))
                    }
                    (Scheme::Dpop, None) => {
                        return Err(ApiError::InvalidDpopToken(
                            "token is not bound to a DPoP key (no cnf.jkt): send it as Bearer"
                                .to_owned(),
                        ))
                    }
                    (Scheme::Dpop, Some(bound)) => {
                        let proof = dpop_proof(parts)?;
                        let jkt = validator.dpop().verify(
                            proof,
                            &parts.method,
                            parts.uri.path(),
                            token,
                        )?;
                        if jkt != bound {
                            return Err(ApiError::InvalidDpopToken(
                                "token is bound to another key than the DPoP proof's (cnf.jkt)"
                                    .to_owned(),
                            ));
                        }
                    }
                }
                Ok(Caller::Token(Box::new(claims)))
            }
        }
    }

    /// Checks that `caller` holds one of `any_of` (always true with RBAC
    /// off). Rejects with 403.
    pub fn permit(&self, caller: &Caller, any_of: &'static [Role]) -> Result<(), ApiError> {
        if self.rbac_enabled() && !caller.has_any_role(any_of) {
            return Err(ApiError::Forbidden { required: any_of });
        }
        Ok(())
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    /// Identified by a validated access token.
    Token(Box<Claims>),
    /// Auth is disabled; `user_id` comes from `X-Test-User-Id` if sent.
    Anonymous { user_id: String },
}

impl Caller {
    /// The user name recorded as `created_by`.
    pub fn username(&self) -> String {
        match self {
            Caller::Token(c) => c
                .preferred_username
                .as_ref()
                .or(c.upn.as_ref())
                .or(c.oid.as_ref())
                .or(c.sub.as_ref())
                .cloned()
                .unwrap_or_else(|| "unknown".to_owned()),
            Caller::Anonymous { user_id } => user_id.clone(),
        }
    }

    /// Whether the caller may act with `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.has_any_role(&[role])
    }

    /// Whether the caller may act with at least one of `any_of`.
    pub fn has_any_role(&self, any_of: &[Role]) -> bool {
        match self {
            Caller::Token(c) => satisfies_any(any_of, &c.roles),
            Caller::Anonymous { .. } => true,
        }
    }

    /// The claims as `GET /me` reports them.
    pub fn to_json(&self) -> Value {
        match self {
            Caller::Token(claims) => serde_json::to_value(&**claims).unwrap_or(Value::Null),
            Caller::Anonymous { user_id } => serde_json::json!({
                "name": "Anonymous superuser",
                "preferred_username": user_id,
                "oid": null,
                "tid": null,
                "roles": Role::STUDYBUILDER.map(Role::as_str),
                "scp": null,
                "aud": null,
                "iss": null,
                "exp": null,
                "sub": null,
                "anonymous": true,
            }),
        }
    }
}

/// How the access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    /// RFC 9449: with a `DPoP` proof header.
    Dpop,
}

/// Extracts the token from `Authorization: Bearer <token>` or `Authorization: DPoP <token>`.
fn credentials(parts: &Parts) -> Result<(Scheme, &str), ApiError> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    let value = values
        .next()
        .ok_or_else(|| ApiError::MissingToken("missing Authorization: Bearer header".to_owned()))?;
    if values.next().is_some() {
        return Err(invalid("more than one Authorization header"));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::MissingToken("Authorization header is not valid text".to_owned()))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Err(ApiError::MissingToken(
            "Authorization header must use the Bearer (or DPoP) scheme".to_owned(),
        ));
    };
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(match scheme {
            Scheme::Bearer => invalid("Bearer credentials must be a single token"),
            Scheme::Dpop => {
                ApiError::InvalidDpopToken("DPoP credentials must be a single token".to_owned())
            }
        });
    }
    Ok((scheme, token))
}

/// The one `DPoP` proof header of a request.
fn dpop_proof(parts: &Parts) -> Result<&str, ApiError> {
    let mut values = parts.headers.get_all(DPOP).iter();
    let proof = values
        .next()
        .ok_or_else(|| ApiError::InvalidDpopProof("missing DPoP proof header".to_owned()))?;
    if values.next().is_some() {
        return Err(ApiError::InvalidDpopProof(
            "more than one DPoP proof header".to_owned(),
        ));
    }
    proof
        .to_str()
        .map(str::trim)
        .map_err(|_| ApiError::InvalidDpopProof("DPoP header is not valid text".to_owned()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.auth.caller(parts, None).await
    }
}

/// An authenticated caller (token for this API) that holds one of
/// `R::ANY_OF` (or a write role that implies it). Rejects with 401 or 403.
pub struct Authorized<R> {
    pub caller: Caller,
    role: PhantomData<R>,
}

impl<R: RequiredRole> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        state.auth.permit(&caller, R::ANY_OF)?;
        Ok(Self {
            caller,
            role: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iss: &str, tid: Option<&str>) -> Claims {
        Claims {
            name: None,
            preferred_username: None,
            oid: None,
            tid: tid.map(str::to_owned),
            acrs: Vec::new(),
            acr: None,
            auth_time: None,
            roles: vec![],
            scp: None,
            aud: Value::Null,
            iss: iss.to_owned(),
            exp: 0,
            sub: None,
            upn: None,
            cnf: None,
        }
    }

    #[test]
    fn roles_may_be_a_list_or_one_joined_string() {
        let read = |roles: Value| {
            let claims: Claims = serde_json::from_value(serde_json::json!({
                "aud": "a", "iss": "i", "exp": 1, "roles": roles
            }))
            .unwrap();
            claims.roles
        };
        assert_eq!(read(serde_json::json!(["A", "B"])), ["A", "B"]);
        assert_eq!(read(serde_json::json!("A,B")), ["A", "B"]);
        assert_eq!(read(serde_json::json!("A B")), ["A", "B"]);
        assert_eq!(read(serde_json::json!("")), Vec::<String>::new());
        let number = serde_json::from_value::<Claims>(serde_json::json!({
            "aud": "a", "iss": "i", "exp": 1, "roles": 3
        }));
        assert!(number.is_err());
    }

    #[test]
    fn issuer_is_exact_unless_templated_by_tenant() {
        let exact = "http://idp/tenant/v2.0";
        assert!(issuer_matches(exact, &claims(exact, None)));
        assert!(!issuer_matches(
            exact,
            &claims("http://idp/tenant/v2.0/", None)
        ));
        let templated = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let iss = "https://login.microsoftonline.com/t1/v2.0";
        assert!(issuer_matches(templated, &claims(iss, Some("t1"))));
        assert!(!issuer_matches(templated, &claims(iss, Some("t2"))));
        assert!(!issuer_matches(templated, &claims(iss, None)));
    }

    #[test]
    fn header_shape_is_checked_first() {
        for bad in [
            "", "abc", "a.b", "a.b.c.d", ".b.c", "a..c", "a+b.c.d", "a.b.c=",
        ] {
            assert!(
                matches!(parse_header(bad), Err(ApiError::InvalidToken(_))),
                "{bad:?}"
            );
        }
        let none = format!("{}.e30.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
        assert_eq!(
            parse_header(&none).ok().map(|h| h.alg).as_deref(),
            Some("none")
        );
    }

    #[test]
    fn audience_accepts_the_id_and_its_uri_and_names_itself() {
        let own = Audience::this_api("api://abc");
        assert_eq!(own.app_id(), "abc");
        assert_eq!(own.accepted, ["abc".to_owned(), "api://abc".to_owned()]);
        assert_eq!(own.mismatch(), "token audience is not this API");
        let ws = Audience::named("w-1", "workspace alpha");
        assert_eq!(
            ws.mismatch(),
            "token audience is not workspace alpha: expected aud w-1 (a token for a scope of api://w-1)"
        );
    }

    #[test]
    fn username_falls_back_through_entra_claims() {
        let mut c = claims("i", None);
        assert_eq!(Caller::Token(Box::new(c.clone())).username(), "unknown");
        c.sub = Some("sub-1".into());
        assert_eq!(Caller::Token(Box::new(c.clone())).username(), "sub-1");
        c.upn = Some("upn@x".into());
        assert_eq!(Caller::Token(Box::new(c.clone())).username(), "upn@x");
        c.preferred_username = Some("pref@x".into());
        assert_eq!(Caller::Token(Box::new(c)).username(), "pref@x");
    }
}
