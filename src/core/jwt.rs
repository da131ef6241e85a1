//! Decoding of compact JWS tokens (RFC 7515 §7.1): header and claims as JSON, the signing input and
//! signature kept for verification. Decoding is not validation: see `id_token.rs` for the checks
//! and the browser's WebCrypto for the signature.

use super::base64url;
use super::json::{self, Map, Value};
use std::fmt;

/// A decoded (not yet trusted) JWT.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwt {
    pub header: Map,
    pub claims: Map,
    /// `base64url(header) || '.' || base64url(payload)`: the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Why a token could not even be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwtError {
    NotThreeParts,
    BadBase64(&'static str),
    NotJsonObject(&'static str),
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtError::NotThreeParts => {
                f.write_str("the token is not a JWT (expected three dot-separated parts)")
            }
            JwtError::BadBase64(part) => write!(f, "the token's {part} is not valid base64url"),
            JwtError::NotJsonObject(part) => write!(f, "the token's {part} is not a JSON object"),
        }
    }
}

impl std::error::Error for JwtError {}

fn json_part(part: &str, name: &'static str) -> Result<Map, JwtError> {
    let bytes = base64url::decode(part.trim_end_matches('=')).ok_or(JwtError::BadBase64(name))?;
    match json::parse_bytes(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::NotJsonObject(name)),
    }
}

impl Jwt {
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
            signature: base64url::decode(s).ok_or(JwtError::BadBase64("signature"))?,
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

    /// A numeric-date claim (seconds since the epoch), accepting integers and floats.
    pub fn time_claim(&self, name: &str) -> Option<f64> {
        self.claims.get(name).and_then(Value::as_f64)
    }
}

/// Builds an unsigned-looking token from JSON, for tests across the crate.
#[cfg(test)]
pub fn test_token(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        base64url::encode(header.to_string()),
        base64url::encode(claims.to_string()),
        base64url::encode(b"signature")
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
        // "W10" is base64url for "[]": valid JSON but not an object.
        assert_eq!(
            Jwt::decode("e30.W10.c2ln"),
            Err(JwtError::NotJsonObject("payload"))
        );
    }
}
