//! `WWW-Authenticate` (RFC 9110 §11.6.1) and what an API's Bearer challenge asks for: more claims
//! in the access token (`insufficient_claims`: Entra's claims challenges, from Continuous Access
//! Evaluation and Conditional Access authentication contexts), or a stronger or more recent
//! sign-in (`insufficient_user_authentication`, RFC 9470 step-up). Also the `claims` request
//! parameter (OIDC Core §5.5) that answers a challenge, with the client's capabilities (`cp1`)
//! merged in, as Entra expects.
//!
//! The header comes from an API, so it is parsed as hostile input: bounded in length, in one pass,
//! and anything that does not follow the grammar is refused (the call then counts as an ordinary
//! 401) rather than guessed at.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{Map, Value};
use thiserror::Error;

/// The longest header read; a longer one is refused unread.
pub const MAX_HEADER_LEN: usize = 16 * 1024;
/// The longest decoded `claims` taken from a challenge.
pub const MAX_CLAIMS_LEN: usize = 8 * 1024;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme as sent (`Bearer`, `DPoP`, …); compare it case-insensitively.
    pub scheme: String,
    /// The token68 form of the challenge's data, if it has that form instead of parameters.
    pub token68: Option<String>,
    /// The parameters, names in lower case (they are case-insensitive), values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Whether this is a challenge of `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The value of the parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        (self.params.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a `WWW-Authenticate` header was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SyntaxError {
    /// Longer than [`MAX_HEADER_LEN`].
    #[error("the header is {0} bytes long, more than {MAX_HEADER_LEN}")]
    TooLong(usize),
    /// Something else than the grammar allows, at a byte offset.
    #[error("expected {expected} at byte {at}")]
    Expected {
        /// What the grammar wanted there.
        expected: &'static str,
        /// The byte offset.
        at: usize,
    },
    /// A parameter named twice in one challenge (RFC 9110 §11.2: at most once).
    #[error("the parameter {0} appears twice in one challenge")]
    Repeated(String),
}

/// Parses a `WWW-Authenticate` header value into its challenges, in order. Empty list elements
/// (`, ,`) are allowed, as the list syntax says; an empty header has no challenges.
pub fn parse(header: &str) -> Result<Vec<Challenge>, SyntaxError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(SyntaxError::TooLong(header.len()));
    }
    let mut p = Parser {
        s: header.as_bytes(),
        at: 0,
    };
    let mut challenges = Vec::new();
    loop {
        p.skip_list_separators();
        if p.done() {
            return Ok(challenges);
        }
        let scheme = p.token().ok_or(p.expected("an auth-scheme"))?;
        let mut challenge = Challenge {
            scheme,
            token68: None,
            params: Vec::new(),
        };
        let spaced = p.skip_spaces();
        if p.done() || p.peek() == Some(b',') {
            challenges.push(challenge);
            continue;
        }
        if !spaced {
            return Err(p.expected("a space after the auth-scheme"));
        }
        if p.at_param() {
            // Parameters until the list moves on to the next challenge.
            loop {
                let (name, value) = p.param()?;
                if challenge.param(&name).is_some() {
                    return Err(SyntaxError::Repeated(name));
                }
                challenge.params.push((name, value));
                p.skip_ows();
                if p.done() {
                    break;
                }
                if p.peek() != Some(b',') {
                    return Err(p.expected("a comma"));
                }
                p.skip_list_separators();
                if p.done() || !p.at_param() {
                    break;
                }
            }
        } else {
            challenge.token68 = Some(p.token68().ok_or(p.expected("token68 or parameters"))?);
            p.skip_ows();
            if !p.done() && p.peek() != Some(b',') {
                return Err(p.expected("a comma"));
            }
        }
        challenges.push(challenge);
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.at >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn expected(&self, expected: &'static str) -> SyntaxError {
        SyntaxError::Expected {
            expected,
            at: self.at,
        }
    }

    /// Skips spaces and tabs; says whether there were any.
    fn skip_spaces(&mut self) -> bool {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
        self.at > start
    }

    fn skip_ows(&mut self) {
        self.skip_spaces();
    }

    /// Skips whitespace and the commas of empty list elements.
    fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    fn token68(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_token68_char) {
            self.at += 1;
        }
        if self.at == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.at += 1;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    /// Whether an auth-param starts here: a token, optional whitespace, then `=`, then anything
    /// but another `=` (which would make it token68 padding).
    fn at_param(&self) -> bool {
        let mut i = self.at;
        let start = i;
        while self.s.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        if i == start {
            return false;
        }
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if self.s.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        matches!(self.s.get(i), Some(&b) if b == b'"' || is_tchar(b))
    }

    fn param(&mut self) -> Result<(String, String), SyntaxError> {
        let name = self.token().ok_or(self.expected("a parameter name"))?;
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(self.expected("="));
        }
        self.at += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()?
        } else {
            self.token()
                .ok_or(self.expected("a token or a quoted string"))?
        };
        Ok((name.to_ascii_lowercase(), value))
    }

    /// RFC 9110 §5.6.4: `"` (qdtext / quoted-pair)* `"`, returned unescaped.
    fn quoted_string(&mut self) -> Result<String, SyntaxError> {
        self.at += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.expected("a closing quote")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => value.push(b),
                        _ => return Err(self.expected("a character after the backslash")),
                    }
                }
                Some(b) if b == b'\t' || b >= 0x20 && b != 0x7f => value.push(b),
                Some(_) => return Err(self.expected("no control character in a quoted string")),
            }
            self.at += 1;
        }
    }
}

/// What an API's Bearer challenge asks for before it will answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepUp {
    /// `error="insufficient_claims"`: a token carrying these claims, the decoded `claims`
    /// parameter (a JSON object, as text), to be sent as the `claims` request parameter.
    Claims {
        /// The claims request, a JSON object as text.
        claims: String,
    },
    /// `error="insufficient_user_authentication"` (RFC 9470): a sign-in meeting `acr_values`
    /// and/or no older than `max_age` seconds.
    UserAuthentication {
        /// Space-separated authentication context class references, in order of preference.
        acr_values: Option<String>,
        /// The largest age of the authentication the API accepts, in seconds.
        max_age: Option<u64>,
    },
}

impl StepUp {
    /// The step-up the first Bearer or DPoP challenge with an error asks for (an API answers a
    /// DPoP-bound token in the DPoP scheme, RFC 9449 §7.1), if one does and it is well formed.
    /// A header that cannot be parsed asks for nothing.
    pub fn from_header(header: &str) -> Option<StepUp> {
        let challenges = parse(header).ok()?;
        let bearer = (challenges.iter())
            .find(|c| (c.is("Bearer") || c.is("DPoP")) && c.param("error").is_some())?;
        match bearer.param("error")? {
            "insufficient_claims" => Some(StepUp::Claims {
                claims: decode_claims(bearer.param("claims")?)?,
            }),
            "insufficient_user_authentication" => {
                let acr_values = match bearer.param("acr_values") {
                    None => None,
                    Some(v) => Some(acr_values(v)?),
                };
                let max_age = match bearer.param("max_age") {
                    None => None,
                    Some(v) => Some(v.parse::<u32>().ok()?.into()),
                };
                (acr_values.is_some() || max_age.is_some()).then_some(StepUp::UserAuthentication {
                    acr_values,
                    max_age,
                })
            }
            _ => None,
        }
    }

    /// What identifies this demand, for the loop guard's memory across a sign-in: equal keys,
    /// equal demands.
    pub fn key(&self) -> String {
        match self {
            StepUp::Claims { claims } => format!("claims {claims}"),
            StepUp::UserAuthentication {
                acr_values,
                max_age,
            } => format!(
                "user {} {}",
                acr_values.as_deref().unwrap_or("-"),
                max_age.map_or_else(|| "-".to_string(), |a| a.to_string())
            ),
        }
    }

    /// How the page names what the API asked for.
    pub fn describe(&self) -> String {
        match self {
            StepUp::Claims { claims } => {
                let contexts = serde_json::from_str::<Value>(claims)
                    .ok()
                    .and_then(|v| authentication_contexts(&v));
                match contexts {
                    Some(contexts) => format!("authentication context {contexts}"),
                    None => "a fresh sign-in (its sign-in policy changed)".to_string(),
                }
            }
            StepUp::UserAuthentication {
                acr_values,
                max_age,
            } => {
                let mut asks = Vec::new();
                if let Some(acr) = acr_values {
                    asks.push(format!("a stronger sign-in ({acr})"));
                }
                if let Some(age) = max_age {
                    asks.push(format!("a sign-in within the last {age} s"));
                }
                asks.join(" and ")
            }
        }
    }
}

/// The authentication context classes (`acrs`) a claims request asks the access token for,
/// space-separated (Entra's Conditional Access authentication contexts).
fn authentication_contexts(claims: &Value) -> Option<String> {
    let acrs = claims.get("access_token")?.get("acrs")?;
    let values: Vec<&str> = match (acrs.get("value"), acrs.get("values")) {
        (Some(Value::String(v)), _) => vec![v.as_str()],
        (_, Some(Value::Array(vs))) => vs.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    (!values.is_empty()).then(|| values.join(" "))
}

/// The `claims` parameter's value: base64 (Entra sends it padded; either alphabet, padded or not
/// is taken) of a JSON object.
fn decode_claims(encoded: &str) -> Option<String> {
    if encoded.len() > MAX_CLAIMS_LEN * 4 / 3 + 4 {
        return None;
    }
    let engines = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD];
    let bytes = engines.iter().find_map(|e| e.decode(encoded).ok())?;
    let text = String::from_utf8(bytes).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value.is_object().then(|| value.to_string())
}

/// `acr_values`: space-separated values of visible ASCII.
fn acr_values(text: &str) -> Option<String> {
    let values: Vec<&str> = text.split(' ').filter(|v| !v.is_empty()).collect();
    let visible = |v: &&str| v.bytes().all(|b| b.is_ascii_graphic());
    (!values.is_empty() && values.iter().all(visible)).then(|| values.join(" "))
}

/// The `claims` request parameter (OIDC Core §5.5) for a sign-in or a token request: the
/// challenge's claims, if any, with the client capabilities (`cp1`, …) added under
/// `access_token.xms_cc`, which tells Entra the client can handle claims challenges. `None` when
/// there is nothing to ask.
pub fn claims_request(challenge: Option<&str>, capabilities: &[String]) -> Option<String> {
    let mut request: Map<String, Value> = match challenge {
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        },
        None => Map::new(),
    };
    if !capabilities.is_empty() {
        if !request.get("access_token").is_some_and(Value::is_object) {
            request.insert("access_token".into(), Value::Object(Map::new()));
        }
        if let Some(Value::Object(access_token)) = request.get_mut("access_token") {
            let values = capabilities.iter().cloned().map(Value::String).collect();
            let mut xms_cc = Map::new();
            xms_cc.insert("values".into(), Value::Array(values));
            access_token.insert("xms_cc".into(), Value::Object(xms_cc));
        }
    }
    (!request.is_empty()).then(|| Value::Object(request).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(header: &str) -> Challenge {
        let mut all = parse(header).unwrap();
        assert_eq!(all.len(), 1, "{header}");
        all.remove(0)
    }

    #[test]
    fn rfc_9110_examples() {
        // §11.6.1: two challenges in one header, the second with a quoted value.
        let all = parse(
            r#"Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"""#,
        )
        .unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].is("basic"));
        assert_eq!(all[0].param("realm"), Some("simple"));
        assert!(all[1].is("Newauth"));
        assert_eq!(all[1].param("REALM"), Some("apps"));
        assert_eq!(all[1].param("type"), Some("1"));
        assert_eq!(all[1].param("title"), Some(r#"Login to "apps""#));
        // §11.2: token68.
        let c = one("Negotiate YIIBDQYGKwYBBQUCoIIBATCB/qAwMC4=");
        assert_eq!(
            c.token68.as_deref(),
            Some("YIIBDQYGKwYBBQUCoIIBATCB/qAwMC4=")
        );
        assert!(c.params.is_empty());
    }

    #[test]
    fn rfc_6750_and_9470_examples() {
        let c = one(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(c.param("error"), Some("invalid_token"));
        assert_eq!(
            c.param("error_description"),
            Some("The access token expired")
        );
        assert_eq!(one("Bearer").params, vec![]);
        let h = r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR""#;
        assert_eq!(
            StepUp::from_header(h),
            Some(StepUp::UserAuthentication {
                acr_values: Some("myACR".into()),
                max_age: None
            })
        );
        let h = r#"Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5""#;
        assert_eq!(
            StepUp::from_header(h),
            Some(StepUp::UserAuthentication {
                acr_values: None,
                max_age: Some(5)
            })
        );
    }

    #[test]
    fn entras_claims_challenge() {
        // The shape Microsoft documents for CAE and authentication contexts (claims padded).
        let claims = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        let h = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="{}""#,
            STANDARD.encode(claims)
        );
        assert_eq!(
            StepUp::from_header(&h),
            Some(StepUp::Claims {
                claims: claims.into()
            })
        );
        // Another Bearer error, a claims challenge without claims, or claims that are no JSON
        // object ask for nothing.
        for h in [
            r#"Bearer error="invalid_token""#.to_string(),
            r#"Bearer error="insufficient_claims""#.to_string(),
            format!(
                r#"Bearer error="insufficient_claims", claims="{}""#,
                STANDARD.encode("[1]")
            ),
            r#"Bearer error="insufficient_claims", claims="%%%""#.to_string(),
            r#"Bearer error="insufficient_user_authentication""#.to_string(),
            r#"Bearer error="insufficient_user_authentication", max_age="-1""#.to_string(),
            r#"Basic realm="x", error="insufficient_claims""#.to_string(),
        ] {
            assert_eq!(StepUp::from_header(&h), None, "{h}");
        }
    }

    #[test]
    fn a_dpop_apis_challenge_asks_the_same_as_a_bearer_one() {
        let h = r#"DPoP error="insufficient_user_authentication", max_age="5", algs="ES256""#;
        assert_eq!(
            StepUp::from_header(h),
            Some(StepUp::UserAuthentication {
                acr_values: None,
                max_age: Some(5)
            })
        );
        // The nonce demand is not a step-up (the call meets it itself, `core::dpop`).
        assert_eq!(StepUp::from_header(r#"DPoP error="use_dpop_nonce""#), None);
    }

    #[test]
    fn the_bearer_challenge_is_found_among_others() {
        let h =
            r#"DPoP algs="ES256", Bearer error="insufficient_user_authentication", max_age=300"#;
        let all = parse(h).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].param("algs"), Some("ES256"));
        assert!(matches!(
            StepUp::from_header(h),
            Some(StepUp::UserAuthentication {
                max_age: Some(300),
                ..
            })
        ));
    }

    #[test]
    fn list_syntax_details() {
        let all = parse(" , Basic ,, Bearer  realm = \"r\" ,error=x, , Other").unwrap();
        let schemes: Vec<&str> = all.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Bearer", "Other"]);
        assert_eq!(all[1].param("realm"), Some("r"));
        assert_eq!(all[1].param("error"), Some("x"));
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(one(r#"X a="\\\"""#).param("a"), Some(r#"\""#));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "=",
            "Bearer realm=\"unterminated",
            "Bearer realm=\"a\" error=\"b\"",
            "Bearer realm=\"a\nb\"",
            "Bearer realm=\"a\u{7f}\"",
            "Bearer realm=\"a\\",
            "Bearer a=1, a=2",
            "Bearer,realm=x,",
            "Bear\u{e9}r x",
            "Bearer abc def",
        ] {
            assert!(
                parse(bad).is_err(),
                "{bad:?} was accepted: {:?}",
                parse(bad)
            );
        }
        assert_eq!(
            parse(&"a".repeat(MAX_HEADER_LEN + 1)),
            Err(SyntaxError::TooLong(MAX_HEADER_LEN + 1))
        );
    }

    #[test]
    fn the_claims_request_merges_the_client_capabilities() {
        let cp1 = ["cp1".to_string()];
        assert_eq!(claims_request(None, &[]), None);
        assert_eq!(
            claims_request(None, &cp1).as_deref(),
            Some(r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#)
        );
        let challenge = r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#;
        assert_eq!(
            claims_request(Some(challenge), &[]).as_deref(),
            Some(challenge)
        );
        let merged: Value =
            serde_json::from_str(&claims_request(Some(challenge), &cp1).unwrap()).unwrap();
        assert_eq!(
            merged,
            serde_json::json!({"access_token": {
                "acrs": {"essential": true, "value": "c1"},
                "xms_cc": {"values": ["cp1"]}
            }})
        );
        // A challenge whose access_token member is not an object gets one.
        let odd = claims_request(Some(r#"{"access_token":1,"id_token":{}}"#), &cp1).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&odd).unwrap(),
            serde_json::json!({"access_token": {"xms_cc": {"values": ["cp1"]}}, "id_token": {}})
        );
    }

    #[test]
    fn equal_demands_have_equal_keys() {
        let mfa = |age| StepUp::UserAuthentication {
            acr_values: Some("urn:gatehouse:mfa".into()),
            max_age: age,
        };
        assert_eq!(mfa(None).key(), mfa(None).key());
        assert_ne!(mfa(None).key(), mfa(Some(60)).key());
        let claims = StepUp::Claims {
            claims: "{}".into(),
        };
        assert_ne!(claims.key(), mfa(None).key());
        assert!(!claims.key().contains('\n'), "one line");
    }

    #[test]
    fn the_step_up_is_described_for_the_page() {
        let c1 = StepUp::Claims {
            claims: r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#.into(),
        };
        assert_eq!(c1.describe(), "authentication context c1");
        let cae = StepUp::Claims {
            claims: r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#.into(),
        };
        assert_eq!(
            cae.describe(),
            "a fresh sign-in (its sign-in policy changed)"
        );
        let s = StepUp::UserAuthentication {
            acr_values: Some("c1 c2".into()),
            max_age: Some(60),
        };
        assert_eq!(
            s.describe(),
            "a stronger sign-in (c1 c2) and a sign-in within the last 60 s"
        );
    }
}
