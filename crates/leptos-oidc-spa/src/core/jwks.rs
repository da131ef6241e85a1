//! JSON Web Key Sets (RFC 7517): choosing the key that verifies a token. The choice is pure; the
//! signature check itself runs in the browser's WebCrypto (`browser::signature`).

use serde::Deserialize;
use serde_json::value::RawValue;

/// An RSA public key, reduced to what verification needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsaKey {
    /// The key ID (RFC 7517 §4.5), matched against a token's `kid` header.
    pub kid: Option<String>,
    /// The modulus, base64url as in the JWK (RFC 7518 §6.3.1.1).
    pub n: String,
    /// The public exponent, base64url as in the JWK, usually `AQAB` (RFC 7518 §6.3.1.2).
    pub e: String,
}

/// One member of a key set, as much of it as the choice needs (RFC 7517 §4, RFC 7518 §6.3.1).
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(rename = "use")]
    usage: Option<String>,
    kid: Option<String>,
    n: String,
    e: String,
}

/// The key set document; its members are read one by one so that one odd key spoils nothing.
#[derive(Deserialize)]
struct KeySet {
    keys: Vec<Box<RawValue>>,
}

/// Parses a key set, keeping the RSA signing keys; `None` if it is not a JWKS. A malformed
/// key is skipped like a key of another type.
pub fn parse(text: &str) -> Option<Vec<RsaKey>> {
    let set: KeySet = serde_json::from_str(text).ok()?;
    Some(
        set.keys
            .into_iter()
            .filter_map(|key| serde_json::from_str::<Jwk>(key.get()).ok())
            .filter(|jwk| jwk.kty == "RSA" && jwk.usage.as_deref().is_none_or(|u| u == "sig"))
            .map(|jwk| RsaKey {
                kid: jwk.kid,
                n: jwk.n,
                e: jwk.e,
            })
            .collect(),
    )
}

/// The key for a token's `kid`; without a `kid`, the only key of the set (RFC 7515 §4.1.4).
pub fn select<'a>(keys: &'a [RsaKey], kid: Option<&str>) -> Option<&'a RsaKey> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

/// The WebCrypto hash name for an accepted RSASSA-PKCS1-v1_5 algorithm.
pub fn hash_for(alg: &str) -> Option<&'static str> {
    match alg {
        "RS256" => Some("SHA-256"),
        "RS384" => Some("SHA-384"),
        "RS512" => Some("SHA-512"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &str = r#"{"keys":[
        {"kty":"RSA","kid":"a","use":"sig","n":"na","e":"AQAB"},
        {"kty":"RSA","kid":"enc","use":"enc","n":"x","e":"AQAB"},
        {"kty":"EC","kid":"ec","crv":"P-256","x":"x","y":"y"},
        {"kty":"RSA","kid":"b","n":"nb","e":"AQAB"}]}"#;

    #[test]
    fn keeps_rsa_signing_keys_and_selects_by_kid() {
        let keys = parse(SET).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(select(&keys, Some("b")).unwrap().n, "nb");
        assert_eq!(select(&keys, Some("enc")), None);
        assert_eq!(select(&keys, None), None, "ambiguous without kid");
        assert_eq!(select(&keys[..1], None).unwrap().n, "na");
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"keys":{}}"#), None);
        let odd = r#"{"keys":[7,{"kty":"RSA","kid":1,"n":"x","e":"AQAB"},{"kty":"RSA","n":"nc","e":"AQAB"}]}"#;
        assert_eq!(parse(odd).unwrap().len(), 1, "malformed keys are skipped");
    }

    #[test]
    fn maps_algorithms_to_hashes() {
        assert_eq!(hash_for("RS256"), Some("SHA-256"));
        assert_eq!(hash_for("none"), None);
    }
}
