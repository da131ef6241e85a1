//! Proof Key for Code Exchange (RFC 7636) with the `S256` method, plus the other single-use random
//! values of an authorization request (`state`, `nonce`).
//!
//! Randomness is passed in as bytes so every function here is deterministic and testable; the
//! browser layer draws the bytes from `crypto.getRandomValues` (getrandom).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Number of random bytes behind a verifier: 32 bytes give the 43-character verifier RFC 7636 §4.1
/// recommends (256 bits of entropy).
pub const VERIFIER_BYTES: usize = 32;

/// The secret half of PKCE. Kept in this tab's sessionStorage until the code is redeemed; never
/// printed (its `Debug` is redacted) and never compared for equality. Stored as its text; a
/// stored value that is not a valid verifier does not deserialise.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct CodeVerifier(String);

impl From<CodeVerifier> for String {
    fn from(verifier: CodeVerifier) -> String {
        verifier.0
    }
}

impl TryFrom<String> for CodeVerifier {
    type Error = &'static str;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        CodeVerifier::parse(&value).ok_or("not a PKCE code verifier (RFC 7636 §4.1)")
    }
}

impl CodeVerifier {
    /// Builds a verifier from random bytes: base64url without padding (RFC 7636 §4.1, appendix B).
    pub fn from_random_bytes(bytes: &[u8; VERIFIER_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts an existing verifier if it has the length and alphabet RFC 7636 §4.1 requires.
    pub fn parse(value: &str) -> Option<Self> {
        let valid_len = (43..=128).contains(&value.len());
        let valid_chars = value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        (valid_len && valid_chars).then(|| Self(value.to_string()))
    }

    /// The `code_challenge` for method `S256`: base64url(SHA-256(ascii(verifier))).
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The verifier itself, for the token request body only.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// An opaque single-use random string (for `state` and `nonce`): 16 random bytes, base64url.
pub fn random_token(bytes: &[u8; 16]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B: the octets, the verifier they encode to, and its S256 challenge.
    #[test]
    fn rfc7636_appendix_b_vector() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = CodeVerifier::from_random_bytes(&octets);
        assert_eq!(
            verifier.secret(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifier_from_32_bytes_is_43_unreserved_chars() {
        let verifier = CodeVerifier::from_random_bytes(&[0xff; 32]);
        assert_eq!(verifier.secret().len(), 43);
        assert!(CodeVerifier::parse(verifier.secret()).is_some());
    }

    #[test]
    fn parse_enforces_length_and_alphabet() {
        assert!(CodeVerifier::parse(&"a".repeat(42)).is_none());
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_some());
        assert!(CodeVerifier::parse(&"a".repeat(128)).is_some());
        assert!(CodeVerifier::parse(&"a".repeat(129)).is_none());
        assert!(CodeVerifier::parse(&format!("{}+", "a".repeat(43))).is_none());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let verifier = CodeVerifier::from_random_bytes(&[7; 32]);
        assert_eq!(format!("{verifier:?}"), "CodeVerifier([redacted])");
    }

    #[test]
    fn random_tokens_are_url_safe_and_distinct_per_input() {
        assert_eq!(random_token(&[0; 16]).len(), 22);
        assert_ne!(random_token(&[0; 16]), random_token(&[1; 16]));
    }
}
