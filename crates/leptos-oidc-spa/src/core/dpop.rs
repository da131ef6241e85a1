//! DPoP, Demonstrating Proof of Possession (RFC 9449): the rules for binding a session's tokens
//! to a key pair the browser holds and no script can read. This module decides whether a session
//! uses DPoP, and writes what a proof says — its header with the public key, its claims, the
//! text the browser signs — and reads what a server answers about nonces. Making the key and
//! signing are the browser's (WebCrypto, ECDSA P-256, non-extractable).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The one signing algorithm Gatehouse proves with: ECDSA on P-256 with SHA-256, which every
/// browser's WebCrypto has and every DPoP server accepts.
pub const ALGORITHM: &str = "ES256";

/// Whether sessions use DPoP (`OAUTH_DPOP`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// When the provider's discovery document lists ES256 among its
    /// `dpop_signing_alg_values_supported`; Bearer otherwise.
    #[default]
    Auto,
    /// Never: Bearer tokens, as before DPoP.
    Off,
    /// Always: a provider that cannot bind tokens with ES256 is an error.
    Required,
}

/// DPoP was required and the provider cannot do it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("DPoP is required (OAUTH_DPOP=required), but the provider's discovery document does not list {ALGORITHM} in dpop_signing_alg_values_supported")]
pub struct DpopUnavailable;

/// Whether a session with this provider uses DPoP: `algs` is its discovery document's
/// `dpop_signing_alg_values_supported` (RFC 9449 §5.1), if it has one.
pub fn decide(mode: DpopMode, algs: Option<&[String]>) -> Result<bool, DpopUnavailable> {
    let supported = algs.is_some_and(|algs| algs.iter().any(|a| a == ALGORITHM));
    match mode {
        DpopMode::Off => Ok(false),
        DpopMode::Auto => Ok(supported),
        DpopMode::Required if supported => Ok(true),
        DpopMode::Required => Err(DpopUnavailable),
    }
}

/// A P-256 public key as a JWK (RFC 7518 §6.2.1): its coordinates, base64url as WebCrypto
/// exports them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    pub crv: String,
    pub kty: String,
    pub x: String,
    pub y: String,
}

impl PublicJwk {
    /// A P-256 key from its base64url coordinates.
    pub fn p256(x: impl Into<String>, y: impl Into<String>) -> PublicJwk {
        PublicJwk {
            crv: "P-256".into(),
            kty: "EC".into(),
            x: x.into(),
            y: y.into(),
        }
    }

    /// The key's JWK thumbprint (RFC 7638), the `jkt` a bound token's `cnf` names and the
    /// authorization request's `dpop_jkt` carries: its fields are the required members, already
    /// in lexicographic order.
    pub fn thumbprint(&self) -> String {
        thumbprint(self)
    }
}

/// A session's DPoP key as its records name it: its id in the browser's key store, where the
/// private half stays (non-extractable), and its public half. Stored as one string,
/// `<id>.<x>.<y>` (base64url has no dot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct DpopKeyRef {
    pub id: String,
    pub public: PublicJwk,
}

impl From<DpopKeyRef> for String {
    fn from(key: DpopKeyRef) -> String {
        format!("{}.{}.{}", key.id, key.public.x, key.public.y)
    }
}

impl TryFrom<String> for DpopKeyRef {
    type Error = &'static str;

    fn try_from(text: String) -> Result<DpopKeyRef, &'static str> {
        let mut parts = text.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(id), Some(x), Some(y), None) => Ok(DpopKeyRef {
                id: id.to_string(),
                public: PublicJwk::p256(x, y),
            }),
            _ => Err("a DPoP key reference is <id>.<x>.<y>"),
        }
    }
}

/// RFC 7638 §3: the SHA-256 of the key's required members (`members` serializes them in
/// lexicographic order), without whitespace, base64url.
fn thumbprint(members: &impl Serialize) -> String {
    // A struct of strings always serializes.
    let json = serde_json::to_string(members).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(Sha256::digest(json.as_bytes()))
}

/// The server a URL names (`scheme://authority`), whose nonce a proof to it carries.
pub fn server_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
}

/// `htu` (RFC 9449 §4.2): the request's URL without its query and fragment.
pub fn htu(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// `ath` (RFC 9449 §4.2): the base64url SHA-256 of the access token a resource request carries.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// What one proof says (RFC 9449 §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProofClaims {
    /// A fresh random identifier: a server refuses a proof it has seen.
    pub jti: String,
    /// The request's method.
    pub htm: String,
    /// The request's URL without query and fragment.
    pub htu: String,
    /// When it was made, in seconds since the epoch.
    pub iat: u64,
    /// The server's last `DPoP-Nonce`, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// With an access token: its hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

impl ProofClaims {
    /// The claims of a proof for `method` `url` at `now_ms`, identified by `jti`.
    pub fn new(method: &str, url: &str, now_ms: f64, jti: String) -> ProofClaims {
        ProofClaims {
            jti,
            htm: method.to_string(),
            htu: htu(url).to_string(),
            iat: (now_ms / 1000.0) as u64,
            nonce: None,
            ath: None,
        }
    }

    /// With the server's nonce.
    pub fn with_nonce(mut self, nonce: Option<&str>) -> ProofClaims {
        self.nonce = nonce.map(str::to_string);
        self
    }

    /// For a resource request carrying `access_token`.
    pub fn for_token(mut self, access_token: &str) -> ProofClaims {
        self.ath = Some(ath(access_token));
        self
    }
}

/// The JWS signing input of a proof (RFC 7515 §5.1): header and claims, each base64url JSON,
/// joined by a dot. The browser signs it with the private key; [`proof`] appends the signature.
pub fn signing_input(key: &PublicJwk, claims: &ProofClaims) -> String {
    #[derive(Serialize)]
    struct Header<'a> {
        typ: &'static str,
        alg: &'static str,
        jwk: &'a PublicJwk,
    }
    let header = Header {
        typ: "dpop+jwt",
        alg: ALGORITHM,
        jwk: key,
    };
    // Structs of strings and numbers always serialize.
    let part = |json: String| URL_SAFE_NO_PAD.encode(json);
    format!(
        "{}.{}",
        part(serde_json::to_string(&header).unwrap_or_default()),
        part(serde_json::to_string(claims).unwrap_or_default())
    )
}

/// The proof: the signing input and its ES256 signature (the 64 bytes `r || s`, as WebCrypto's
/// ECDSA gives them and JWS wants them, RFC 7518 §3.4).
pub fn proof(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// The nonce a server demands (RFC 9449 §8 and §9): a token endpoint's 400 with
/// `error: use_dpop_nonce`, or a resource's 401 whose `WWW-Authenticate` says so, each with the
/// nonce in its `DPoP-Nonce` header. `None` for any other answer.
pub fn demanded_nonce(
    status: u16,
    dpop_nonce: Option<&str>,
    body: &str,
    www_authenticate: Option<&str>,
) -> Option<String> {
    let nonce = dpop_nonce.filter(|n| is_nonce(n))?;
    let demanded = match status {
        400 => serde_json::from_str::<Value>(body)
            .ok()
            .is_some_and(|v| v["error"] == "use_dpop_nonce"),
        401 => www_authenticate.is_some_and(|h| {
            super::challenge::parse(h).is_ok_and(|challenges| {
                challenges.iter().any(|c| {
                    c.scheme.eq_ignore_ascii_case("DPoP")
                        && c.params
                            .iter()
                            .any(|(name, value)| name == "error" && value == "use_dpop_nonce")
                })
            })
        }),
        _ => false,
    };
    demanded.then(|| nonce.to_string())
}

/// RFC 9449 §8.1: a nonce is `1*NQCHAR` (printable ASCII but `"` and `\`); bounded here.
fn is_nonce(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 1024
        && text
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9449 §4.1's example key.
    fn example_key() -> PublicJwk {
        PublicJwk::p256(
            "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
        )
    }

    #[test]
    fn rfc_7638s_example_thumbprint() {
        // RFC 7638 §3.1: the RSA key's required members and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        #[derive(Serialize)]
        struct Rsa<'a> {
            e: &'a str,
            kty: &'a str,
            n: &'a str,
        }
        let key = Rsa {
            e: "AQAB",
            kty: "RSA",
            n,
        };
        assert_eq!(
            thumbprint(&key),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rfc_9449s_example_key_and_its_jkt() {
        // RFC 9449 §6.1: the jkt of the §4.1 example proof's key.
        assert_eq!(
            example_key().thumbprint(),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }

    #[test]
    fn a_key_reference_is_stored_as_one_string() {
        let key = DpopKeyRef {
            id: "k1".into(),
            public: example_key(),
        };
        let text = serde_json::to_string(&key).unwrap();
        assert_eq!(
            text,
            r#""k1.l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs.9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA""#
        );
        assert_eq!(serde_json::from_str::<DpopKeyRef>(&text).unwrap(), key);
        assert!(serde_json::from_str::<DpopKeyRef>(r#""k1.x""#).is_err());
        assert!(serde_json::from_str::<DpopKeyRef>(r#""k1.x.y.z""#).is_err());
    }

    #[test]
    fn rfc_9449s_example_ath() {
        // RFC 9449 §7.1: the access token and the ath of the proof that carries it.
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn a_proof_says_what_rfc_9449_asks() {
        let claims = ProofClaims::new(
            "POST",
            "https://server.example.com/token?x=1#f",
            1_562_262_616_999.0,
            "e1j3V_bKic8-LAEB".into(),
        )
        .with_nonce(Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
        let input = signing_input(&example_key(), &claims);
        let (header, payload) = input.split_once('.').unwrap();
        let decode = |part: &str| -> Value {
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        assert_eq!(
            decode(header),
            serde_json::json!({
                "typ": "dpop+jwt", "alg": "ES256",
                "jwk": {"crv": "P-256", "kty": "EC",
                        "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                        "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}
            })
        );
        assert_eq!(
            decode(payload),
            serde_json::json!({
                "jti": "e1j3V_bKic8-LAEB", "htm": "POST", "htu": "https://server.example.com/token",
                "iat": 1_562_262_616, "nonce": "eyJ7S_zG.eyJH0-Z.HX4w-7v"
            })
        );
        let resource = ProofClaims::new("GET", "https://api.example/x", 0.0, "j".into())
            .for_token("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
        assert_eq!(
            resource.ath.as_deref(),
            Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
        );
        assert_eq!(
            proof("a.b", &[0xff; 64]).split('.').nth(2).map(str::len),
            Some(86),
            "64 bytes of r || s"
        );
    }

    #[test]
    fn the_mode_decides_with_the_providers_algorithms() {
        let es256 = vec!["RS256".to_string(), "ES256".to_string()];
        let other = vec!["RS256".to_string()];
        assert_eq!(decide(DpopMode::Auto, Some(&es256)), Ok(true));
        assert_eq!(decide(DpopMode::Auto, Some(&other)), Ok(false));
        assert_eq!(decide(DpopMode::Auto, None), Ok(false));
        assert_eq!(decide(DpopMode::Off, Some(&es256)), Ok(false));
        assert_eq!(decide(DpopMode::Required, Some(&es256)), Ok(true));
        assert_eq!(decide(DpopMode::Required, None), Err(DpopUnavailable));
        let refused = decide(DpopMode::Required, Some(&other))
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("does not list ES256 in dpop_signing_alg_values_supported"),
            "{refused}"
        );
    }

    #[test]
    fn a_nonce_is_taken_only_when_the_server_demands_one() {
        let nonce = Some("eyJ7S_zG.eyJH0-Z.HX4w-7v");
        let token_error = r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#;
        assert_eq!(
            demanded_nonce(400, nonce, token_error, None).as_deref(),
            nonce
        );
        let api = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
        assert_eq!(demanded_nonce(401, nonce, "", Some(api)).as_deref(), nonce);
        // Another error, no nonce, a nonce with a quote, or a Bearer challenge: no.
        assert_eq!(
            demanded_nonce(400, nonce, r#"{"error":"invalid_grant"}"#, None),
            None
        );
        assert_eq!(demanded_nonce(400, None, token_error, None), None);
        assert_eq!(demanded_nonce(400, Some("a\"b"), token_error, None), None);
        let bearer = r#"Bearer error="use_dpop_nonce""#;
        assert_eq!(demanded_nonce(401, nonce, "", Some(bearer)), None);
        assert_eq!(demanded_nonce(200, nonce, token_error, None), None);
    }

    #[test]
    fn a_nonce_belongs_to_the_server_a_url_names() {
        assert_eq!(
            server_of("https://idp.example:8443/t/token?x"),
            "https://idp.example:8443"
        );
        assert_eq!(server_of("http://127.0.0.1:8091"), "http://127.0.0.1:8091");
        assert_eq!(server_of("https://api.example#f"), "https://api.example");
    }

    #[test]
    fn htu_drops_query_and_fragment() {
        assert_eq!(htu("https://a.example/p?q=1#f"), "https://a.example/p");
        assert_eq!(htu("https://a.example/p#f?x"), "https://a.example/p");
        assert_eq!(htu("https://a.example/p"), "https://a.example/p");
    }
}
