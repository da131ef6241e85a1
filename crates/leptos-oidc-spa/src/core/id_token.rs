//! ID token validation (OpenID Connect Core §3.1.3.7): the claims, the refresh rule of §12.2 (a
//! refreshed ID token names the same issuer and subject), and the key plan for the signature
//! (which hash its algorithm needs, which key its `kid` names, and one refetch of the key set
//! when the key is unknown, as after a rollover). The signature itself is checked by the
//! browser's WebCrypto.

use super::issuer;
use super::jwks::{self, RsaKey};
use super::jwt::Jwt;
use serde_json::Value;
use thiserror::Error;

/// Allowed clock difference between this machine and the provider, in seconds.
pub const CLOCK_TOLERANCE_S: f64 = 300.0;

/// Signature algorithms accepted; `none` and the symmetric HS* family never are (a public client
/// has no shared secret, so an HS-signed token can only be a forgery).
pub const ACCEPTED_ALGS: [&str; 3] = ["RS256", "RS384", "RS512"];

/// What the ID token must match.
#[derive(Clone, Debug)]
pub struct Expectations<'a> {
    /// The issuer from discovery (may contain Entra's `{tenantid}`).
    pub issuer: &'a str,
    /// This app's client ID: `aud` must contain it, and `azp`, when present, must equal it.
    pub client_id: &'a str,
    /// The nonce sent in the authorization request; `None` on refresh (§12.2).
    pub nonce: Option<&'a str>,
    /// The current time in **seconds** since the epoch, compared with `exp` and `iat` allowing
    /// [`CLOCK_TOLERANCE_S`].
    pub now_s: f64,
}

/// Which check an ID token failed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token is not a decodable compact JWS (RFC 7515 §7.1); holds the reason.
    #[error("The ID token is malformed: {0}.")]
    Malformed(String),
    /// The `alg` header is not RS256, RS384 or RS512; holds it (`missing` when absent).
    #[error("The ID token is signed with {0:?}, which is not accepted (RS256/RS384/RS512 only).")]
    Algorithm(String),
    /// §3.1.3.7: `iss` is not the provider's issuer.
    #[error("The ID token's issuer (iss) is {found:?}, not the configured provider {expected:?}.")]
    Issuer {
        /// The issuer required (Entra's `{tenantid}` filled in from the token's `tid`).
        expected: String,
        /// The token's `iss` (empty when absent).
        found: String,
    },
    /// §3.1.3.7: `aud` does not contain this app's client ID.
    #[error(
        "The ID token is not meant for this application (aud does not contain its client id)."
    )]
    Audience,
    /// §3.1.3.7: `azp` is present but is not this app's client ID.
    #[error("The ID token was issued to another application (azp).")]
    AuthorizedParty,
    /// §3.1.3.7: `exp` lies more than the clock tolerance (five minutes) in the past.
    #[error("The ID token has expired (check this computer's clock).")]
    Expired,
    /// §3.1.3.7: `iat` lies more than the clock tolerance (five minutes) in the future.
    #[error("The ID token is dated in the future (check this computer's clock).")]
    IssuedInFuture,
    /// `nbf` is later than now plus the clock tolerance.
    #[error("The ID token is not valid yet (nbf; check this computer's clock).")]
    NotYetValid,
    /// The `exp` or `iat` claim (the one named) is absent or not a number.
    #[error("The ID token has no usable {0} claim.")]
    MissingTime(&'static str),
    /// §3.1.3.7: `nonce` is not the one sent with the authorization request (sign-in only).
    #[error("The ID token does not carry the nonce of this sign-in (possible replay).")]
    Nonce,
    /// `sub`, required by §2, is absent or empty.
    #[error("The ID token has no subject (sub).")]
    MissingSubject,
    /// §12.2: a refreshed ID token has another `iss` or `sub` than the one it replaces.
    #[error("The ID token after refresh names a different user or issuer than before.")]
    SubjectChanged,
    /// WebCrypto found the RSASSA-PKCS1-v1_5 signature invalid for the selected key.
    #[error("The ID token has an invalid signature.")]
    BadSignature,
    /// No key of the provider's JWKS matches the token's `kid`, even after refetching the set;
    /// holds the `kid` (`(none)` when absent).
    #[error("The ID token is signed with key {0:?}, which the provider does not publish.")]
    UnknownKey(String),
}

/// Decodes the token and checks the algorithm header (before any key is fetched).
pub fn decode(token: &str) -> Result<Jwt, IdTokenError> {
    let jwt = Jwt::decode(token).map_err(|e| IdTokenError::Malformed(e.to_string()))?;
    match jwt.alg() {
        Some(alg) if ACCEPTED_ALGS.contains(&alg) => Ok(jwt),
        Some(alg) => Err(IdTokenError::Algorithm(alg.to_string())),
        None => Err(IdTokenError::Algorithm("missing".into())),
    }
}

/// Checks the claims of a decoded ID token.
pub fn validate_claims(jwt: &Jwt, expect: &Expectations<'_>) -> Result<(), IdTokenError> {
    let issuer = issuer::for_token(expect.issuer, jwt.str_claim("tid"));
    match jwt.str_claim("iss") {
        Some(iss) if iss == issuer => {}
        found => {
            return Err(IdTokenError::Issuer {
                expected: issuer,
                found: found.unwrap_or("").to_string(),
            })
        }
    }
    let aud_ok = match jwt.claims.get("aud") {
        Some(Value::String(aud)) => aud == expect.client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expect.client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(IdTokenError::Audience);
    }
    // §3.1.3.7 items 4-5: with several audiences, `azp` must be present and name this client.
    let several_audiences = jwt
        .claims
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|auds| auds.len() > 1);
    match jwt.claims.get("azp") {
        Some(azp) if azp.as_str() != Some(expect.client_id) => {
            return Err(IdTokenError::AuthorizedParty)
        }
        None if several_audiences => return Err(IdTokenError::AuthorizedParty),
        _ => {}
    }
    let exp = jwt
        .time_claim("exp")
        .ok_or(IdTokenError::MissingTime("exp"))?;
    if expect.now_s > exp + CLOCK_TOLERANCE_S {
        return Err(IdTokenError::Expired);
    }
    let iat = jwt
        .time_claim("iat")
        .ok_or(IdTokenError::MissingTime("iat"))?;
    if iat > expect.now_s + CLOCK_TOLERANCE_S {
        return Err(IdTokenError::IssuedInFuture);
    }
    if jwt.claims.contains_key("nbf") {
        let nbf = jwt
            .time_claim("nbf")
            .ok_or(IdTokenError::MissingTime("nbf"))?;
        if nbf > expect.now_s + CLOCK_TOLERANCE_S {
            return Err(IdTokenError::NotYetValid);
        }
    }
    if let Some(nonce) = expect.nonce {
        if jwt.str_claim("nonce") != Some(nonce) {
            return Err(IdTokenError::Nonce);
        }
    }
    if jwt.str_claim("sub").is_none_or(str::is_empty) {
        return Err(IdTokenError::MissingSubject);
    }
    Ok(())
}

/// How to verify a token's signature with the key set at hand.
#[derive(Debug, PartialEq)]
pub enum KeyChoice<'a> {
    /// Verify with `key`, hashing with `hash` (the WebCrypto name, `SHA-256`…).
    Verify {
        /// The key the token's `kid` names (or the set's only key, without a `kid`).
        key: &'a RsaKey,
        /// The WebCrypto hash of the token's algorithm.
        hash: &'static str,
    },
    /// The set lacks the key: fetch the key set again (once) and choose again.
    Refetch,
}

/// The key plan: the hash for the token's algorithm and the key its `kid` names in `keys`. A
/// key set without it is fetched again once (`refetched` says whether it already was); a key
/// still unknown then is an error.
pub fn choose_key<'a>(
    jwt: &Jwt,
    keys: &'a [RsaKey],
    refetched: bool,
) -> Result<KeyChoice<'a>, IdTokenError> {
    let alg = jwt.alg().unwrap_or_default();
    let hash = jwks::hash_for(alg).ok_or_else(|| IdTokenError::Algorithm(alg.to_string()))?;
    match jwks::select(keys, jwt.kid()) {
        Some(key) => Ok(KeyChoice::Verify { key, hash }),
        None if !refetched => Ok(KeyChoice::Refetch),
        None => Err(IdTokenError::UnknownKey(
            jwt.kid().unwrap_or("(none)").to_string(),
        )),
    }
}

/// §12.2: a refreshed ID token must have the same `iss` and `sub` as the one it replaces.
pub fn check_same_subject(old: &Jwt, new: &Jwt) -> Result<(), IdTokenError> {
    if old.str_claim("iss") == new.str_claim("iss") && old.str_claim("sub") == new.str_claim("sub")
    {
        Ok(())
    } else {
        Err(IdTokenError::SubjectChanged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::jwt::test_token;
    use serde_json::json;

    const ISS: &str = "http://127.0.0.1:8090/t/v2.0";

    fn expect(nonce: Option<&str>) -> Expectations<'_> {
        Expectations {
            issuer: ISS,
            client_id: "ui",
            nonce,
            now_s: 1_000_000.0,
        }
    }

    fn token(overrides: serde_json::Value) -> Jwt {
        let mut claims = json!({"iss": ISS, "aud": "ui", "exp": 1_000_600, "iat": 1_000_000, "nonce": "n", "sub": "s"});
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        decode(&test_token(&json!({"alg": "RS256", "kid": "k"}), &claims)).unwrap()
    }

    #[test]
    fn a_good_token_passes() {
        assert_eq!(
            validate_claims(&token(json!({})), &expect(Some("n"))),
            Ok(())
        );
        assert_eq!(
            validate_claims(
                &token(json!({"aud": ["x", "ui"], "azp": "ui"})),
                &expect(Some("n"))
            ),
            Ok(())
        );
    }

    #[test]
    fn each_rule_has_its_own_failure() {
        let cases = [
            (json!({"iss": "https://evil/v2.0"}), "issuer"),
            (json!({"aud": "other"}), "aud"),
            (json!({"aud": ["other"]}), "aud"),
            (json!({"azp": "other"}), "azp"),
            (json!({"exp": 1_000_000 - 301}), "expired"),
            (json!({"exp": null}), "exp"),
            (json!({"iat": 1_000_000 + 301}), "future"),
            (json!({"iat": null}), "iat"),
            (json!({"nonce": "other"}), "nonce"),
            (json!({"nonce": null}), "nonce"),
            (json!({"sub": null}), "subject"),
            (json!({"aud": ["x", "ui"]}), "azp"),
            (json!({"nbf": 1_000_000 + 301}), "not valid yet"),
            (json!({"nbf": "soon"}), "nbf"),
            (json!({"exp": 1_000_600.5}), "exp"),
            (json!({"exp": -1}), "exp"),
            (json!({"exp": 253_402_300_800_u64}), "exp"),
            (json!({"iat": 1e10}), "iat"),
            (json!({"exp": "1000600"}), "exp"),
        ];
        for (overrides, word) in cases {
            let err = validate_claims(&token(overrides.clone()), &expect(Some("n"))).unwrap_err();
            assert!(err.to_string().contains(word), "{overrides} -> {err}");
        }
    }

    #[test]
    fn clock_tolerance_is_five_minutes() {
        assert!(
            validate_claims(&token(json!({"exp": 1_000_000 - 299})), &expect(Some("n"))).is_ok()
        );
        assert!(
            validate_claims(&token(json!({"iat": 1_000_000 + 299})), &expect(Some("n"))).is_ok()
        );
    }

    #[test]
    fn nonce_is_not_checked_on_refresh() {
        assert!(validate_claims(&token(json!({"nonce": null})), &expect(None)).is_ok());
    }

    #[test]
    fn entra_multi_tenant_issuer_uses_the_tokens_tid() {
        let multi = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let e = Expectations {
            issuer: multi,
            ..expect(Some("n"))
        };
        let good =
            token(json!({"iss": "https://login.microsoftonline.com/abc/v2.0", "tid": "abc"}));
        assert!(validate_claims(&good, &e).is_ok());
        let bad = token(json!({"iss": "https://login.microsoftonline.com/abc/v2.0", "tid": "def"}));
        assert!(matches!(
            validate_claims(&bad, &e),
            Err(IdTokenError::Issuer { .. })
        ));
    }

    #[test]
    fn a_single_tenant_authority_refuses_other_tenants() {
        // Discovery pins Entra's template to the tenant in OAUTH_METADATA_URL.
        let pinned = "https://login.microsoftonline.com/abc/v2.0";
        let e = Expectations {
            issuer: pinned,
            ..expect(Some("n"))
        };
        let own = token(json!({"iss": pinned, "tid": "abc"}));
        assert!(validate_claims(&own, &e).is_ok());
        let other =
            token(json!({"iss": "https://login.microsoftonline.com/def/v2.0", "tid": "def"}));
        assert!(matches!(
            validate_claims(&other, &e),
            Err(IdTokenError::Issuer { .. })
        ));
    }

    #[test]
    fn none_and_symmetric_algorithms_are_refused() {
        for alg in ["none", "HS256", "ES256"] {
            let t = test_token(&json!({"alg": alg}), &json!({"sub": "s"}));
            assert_eq!(decode(&t).unwrap_err(), IdTokenError::Algorithm(alg.into()));
        }
        let t = test_token(&json!({}), &json!({}));
        assert_eq!(
            decode(&t).unwrap_err(),
            IdTokenError::Algorithm("missing".into())
        );
        assert!(matches!(
            decode("not-a-jwt"),
            Err(IdTokenError::Malformed(_))
        ));
    }

    #[test]
    fn refresh_must_keep_issuer_and_subject() {
        let old = token(json!({}));
        assert!(check_same_subject(&old, &token(json!({"nonce": null}))).is_ok());
        assert_eq!(
            check_same_subject(&old, &token(json!({"sub": "other"}))),
            Err(IdTokenError::SubjectChanged)
        );
    }

    #[test]
    fn the_key_plan_refetches_an_unknown_key_once() {
        let keys = vec![RsaKey {
            kid: Some("k".into()),
            n: "n".into(),
            e: "AQAB".into(),
        }];
        let known = token(json!({}));
        assert_eq!(
            choose_key(&known, &keys, false),
            Ok(KeyChoice::Verify {
                key: &keys[0],
                hash: "SHA-256"
            })
        );
        let rolled = decode(&test_token(
            &json!({"alg": "RS512", "kid": "new"}),
            &json!({}),
        ))
        .unwrap();
        assert_eq!(choose_key(&rolled, &keys, false), Ok(KeyChoice::Refetch));
        assert_eq!(
            choose_key(&rolled, &keys, true),
            Err(IdTokenError::UnknownKey("new".into()))
        );
        let no_kid = decode(&test_token(&json!({"alg": "RS384"}), &json!({}))).unwrap();
        assert_eq!(
            choose_key(&no_kid, &keys, false),
            Ok(KeyChoice::Verify {
                key: &keys[0],
                hash: "SHA-384"
            }),
            "a set of one key serves a token without kid"
        );
    }
}
