//! Decoding of compact JWS tokens (RFC 7515 §7.1): header and claims as JSON, the signing input and
//! signature kept for verification. Decoding is not validation: see `id_token.rs` for the checks
//! and the browser's WebCrypto for the signature.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use thiserror::Error;

/// A decoded (not yet trusted) JWT.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwt {
    /// The JOSE header (RFC 7515 §4): `alg`, `kid`, `typ`, ….
    pub header: Map<String, Value>,
    /// The payload's claims (RFC 7519 §4): `iss`, `sub`, `aud`, `exp`, ….
    pub claims: Map<String, Value>,
    /// `base64url(header) || '.' || base64url(payload)`: the bytes the signature covers.
    pub signing_input: String,
    /// The decoded signature (third part), to verify over `signing_input`.
    pub signature: Vec<u8>,
}

/// Why a token could not even be decoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum JwtError {
    /// The token is not three `.`-separated parts (a JWE, for one, has five).
    #[error("the token is not a JWT (expected three dot-separated parts)")]
    NotThreeParts,
    /// The part named (`header`, `payload` or `signature`) is not strict unpadded base64url.
    #[error("the token's {0} is not valid base64url")]
    BadBase64(&'static str),
    /// The part named (`header` or `payload`) is not a UTF-8 JSON object.
    #[error("the token's {0} is not a JSON object")]
    NotJsonObject(&'static str),
}

/// Strict base64url as JWS requires (RFC 7515 §2): no padding, no non-canonical trailing bits.
fn base64url(part: &str, name: &'static str) -> Result<Vec<u8>, JwtError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::BadBase64(name))
}

/// A header or payload: a JSON object as UTF-8 text (RFC 7515 §2, RFC 7519 §7.2).
fn json_part(part: &str, name: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = base64url(part, name)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| JwtError::NotJsonObject(name))?;
    serde_json::from_str(text).map_err(|_| JwtError::NotJsonObject(name))
}

impl Jwt {
    /// Splits and decodes a compact JWS (RFC 7515 §7.1). Verifies nothing.
    pub fn decode(token: &str) -> Result<Jwt, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::NotThreeParts);
        };
        Ok(Jwt {
            header: json_part(h, "header")?,
            claims: json_part(p, "payload")?,
            signing_input: format!("{h}.{p}"),
            signature: base64url(s, "signature")?,
        })
    }

    /// The `alg` header, if a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The `kid` header, if a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// A string claim.
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim (RFC 7519 §2): whole seconds since the epoch, from 0 to the end of
    /// year 9999. Fractions, negative numbers and anything else read as absent, so a crafted
    /// value can never become an infinite or a far-past time.
    pub fn time_claim(&self, name: &str) -> Option<f64> {
        const LAST_SECOND_OF_9999: u64 = 253_402_300_799;
        let seconds = self.claims.get(name)?.as_u64()?;
        (seconds <= LAST_SECOND_OF_9999).then_some(seconds as f64)
    }
}

/// Builds an unsigned-looking token from JSON, for tests across the crate.
#[cfg(test)]
pub fn test_token(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"signature")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_header_claims_and_signing_input() {
        let token = test_token(
            &json!({"alg":"RS256","kid":"k1"}),
            &json!({"sub":"s","exp":5}),
        );
        let jwt = Jwt::decode(&token).unwrap();
        assert_eq!(jwt.alg(), Some("RS256"));
        assert_eq!(jwt.kid(), Some("k1"));
        assert_eq!(jwt.str_claim("sub"), Some("s"));
        assert_eq!(jwt.time_claim("exp"), Some(5.0));
        assert_eq!(jwt.signature, b"signature");
        assert_eq!(token.rsplit_once('.').unwrap().0, jwt.signing_input);
    }

    #[test]
    fn rejects_malformed_tokens_with_a_reason() {
        assert_eq!(Jwt::decode("abc"), Err(JwtError::NotThreeParts));
        assert_eq!(Jwt::decode("a.b.c.d"), Err(JwtError::NotThreeParts));
        assert_eq!(
            Jwt::decode("!!.e30.sig"),
            Err(JwtError::BadBase64("header"))
        );
        // JWS allows no padding and no stray bits: "e30" is "{}", "e30=" and "e31" are not it.
        assert_eq!(
            Jwt::decode("e30=.e30.c2ln"),
            Err(JwtError::BadBase64("header"))
        );
        assert_eq!(
            Jwt::decode("e30.e31.c2ln"),
            Err(JwtError::BadBase64("payload"))
        );
        assert!(Jwt::decode("e30.e30.c2ln").is_ok());
        // "W10" is base64url for "[]": valid JSON but not an object.
        assert_eq!(
            Jwt::decode("e30.W10.c2ln"),
            Err(JwtError::NotJsonObject("payload"))
        );
    }
}
