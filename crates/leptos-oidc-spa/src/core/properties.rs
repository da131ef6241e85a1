//! Property tests of every parser and check that takes outside input: whatever the input, no
//! panic, and what is accepted is safe (it stays on the origin, names a secure endpoint, carries
//! finite times). The generators build near-valid inputs, one mistake away from what a real
//! provider sends, so that both the accepting and the refusing paths are reached; each property
//! counts what it accepted and fails if either path went unvisited.

use super::callback::{parse_response, AuthResponse};
use super::challenge::{self, StepUp};
use super::discovery;
use super::id_token::{self, Expectations};
use super::jwt::Jwt;
use super::safe_url::{is_secure_endpoint, safe_return_path};
use super::token;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::cell::Cell;

const CASES: u32 = 2_000;

/// Runs `property` on `CASES` inputs from `strategy`. The property returns whether the code
/// under test accepted its input; at least `min_share` of the inputs must be accepted and at
/// least one refused, or the generator does not test what the property claims. The inputs are
/// random on every run, so each `min_share` is about half the share its generator reaches on
/// average: many standard deviations below it, never failed by an unlucky draw, and still far
/// above zero when a change to the generator stops it reaching the accepting path.
fn check<S: Strategy>(
    name: &str,
    strategy: S,
    min_share: f64,
    property: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) {
    let accepted = Cell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |input| {
        if property(input)? {
            accepted.set(accepted.get() + 1);
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{name}: {failure}");
    }
    let accepted = accepted.get();
    eprintln!("property {name}: {accepted} of {CASES} inputs accepted");
    assert!(
        f64::from(accepted) >= min_share * f64::from(CASES),
        "{name}: only {accepted} of {CASES} inputs were accepted"
    );
    assert!(accepted < CASES, "{name}: every input was accepted");
}

/// Hosts a URL may name: real ones, loopback ones, and the tricks that imitate them.
fn host() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "idp.example",
        "login.microsoftonline.com",
        "127.0.0.1",
        "127.0.0.1:8090",
        "localhost:8090",
        "[::1]:8090",
        "127.0.0.1.evil.example",
        "localhost.evil.example",
        "user@idp.example",
        "idp.example\\evil",
        "",
    ])
}

/// URLs one mistake away from a provider endpoint: a scheme (or none), a host, a path with
/// the characters that matter (`\`, `%`, `@`, whitespace, control characters).
fn endpoint() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec![
        "https://",
        "https://",
        "http://",
        "//",
        "javascript:",
        "",
        "HTTPS://",
    ]);
    let path = prop::collection::vec(
        prop::sample::select(vec![
            "t", "v2.0", "token", "%2e", "a b", "\t", "\n", "@", "?x=1", "#f",
        ]),
        0..4,
    );
    (scheme, host(), path)
        .prop_map(|(scheme, host, path)| format!("{scheme}{host}/{}", path.join("/")))
}

/// Return routes one mistake away from a path on this site.
fn route() -> impl Strategy<Value = String> {
    let start = prop::sample::select(vec!["/", "/", "//", "", "https://evil.example/", "/\\"]);
    let segments = prop::collection::vec(
        prop::sample::select(vec![
            "views",
            "a",
            "..",
            ".",
            "%2e%2E",
            ".%2e",
            "",
            "oauth-callback",
            "evil.example",
            "\\",
            "\n",
        ]),
        0..5,
    );
    let rest = prop::sample::select(vec!["", "?tab=1", "?x=/../y", "#top", "?code=x"]);
    (start, segments, rest)
        .prop_map(|(start, segments, rest)| format!("{start}{}{rest}", segments.join("/")))
}

/// Authorization responses one mistake away from a real one: a code response's parameters in
/// any order, each kept, dropped, emptied or repeated, with an error or noise sometimes added.
fn callback() -> impl Strategy<Value = String> {
    let fate = || {
        prop::sample::select(vec![
            "keep", "keep", "keep", "keep", "drop", "empty", "twice",
        ])
    };
    let extra = prop::sample::select(vec![
        "",
        "",
        "iss=https%3A%2F%2Fidp.example",
        "session_state=x",
        "error=access_denied",
        "error_description=AADSTS65001%3A+no",
        "%zz=1",
        "code",
    ]);
    (fate(), fate(), extra, any::<bool>()).prop_map(|(code, state, extra, reversed)| {
        let mut pairs = Vec::new();
        for (name, value, fate) in [("code", "abc", code), ("state", "s1", state)] {
            match fate {
                "keep" => pairs.push(format!("{name}={value}")),
                "empty" => pairs.push(format!("{name}=")),
                "twice" => pairs.extend([format!("{name}={value}"), format!("{name}={value}")]),
                _ => {}
            }
        }
        pairs.push(extra.to_string());
        if reversed {
            pairs.reverse();
        }
        pairs.join("&")
    })
}

/// Claims of an ID token one mistake away from valid, at `now` = 1,000,000 s.
fn id_token_claims() -> impl Strategy<Value = Value> {
    let time = prop_oneof![
        12 => (999_000i64..1_001_000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => Just(json!("1000600")),
        1 => Just(Value::Null),
    ];
    let aud = prop::sample::select(vec![
        json!("ui"),
        json!("ui"),
        json!(["ui"]),
        json!(["ui", "x"]),
        json!("other"),
        Value::Null,
    ]);
    let azp = prop::sample::select(vec![
        Value::Null,
        Value::Null,
        Value::Null,
        json!("ui"),
        json!("other"),
    ]);
    let iss = prop::sample::select(vec![
        "https://idp/v2.0",
        "https://idp/v2.0",
        "https://idp/v2.0",
        "https://evil/v2.0",
    ]);
    (time.clone(), time, aud, azp, iss).prop_map(|(exp, iat, aud, azp, iss)| {
        let mut claims = json!({"iss": iss, "aud": aud, "sub": "s", "exp": exp, "iat": iat});
        if !azp.is_null() {
            claims["azp"] = azp;
        }
        claims
    })
}

/// Token endpoint responses one mistake away from a real one.
fn token_response() -> impl Strategy<Value = (bool, String)> {
    let value = |options: Vec<Value>| prop::sample::select(options);
    (
        prop::bool::weighted(0.8),
        value(vec![
            json!("eyJ.a.b"),
            json!("eyJ.a.b"),
            json!(""),
            Value::Null,
        ]),
        value(vec![
            json!("Bearer"),
            json!("bearer"),
            json!("Bearer"),
            json!("mac"),
            Value::Null,
        ]),
        value(vec![
            json!(3600),
            json!("3600"),
            json!(3599),
            Value::Null,
            json!(0),
            json!(-5),
            json!(1.5),
            json!("1e400"),
            json!(" 300"),
            json!(40_000_000),
        ]),
        value(vec![json!("r"), Value::Null, json!("")]),
        value(vec![
            Value::Null,
            Value::Null,
            Value::Null,
            json!("invalid_grant"),
        ]),
    )
        .prop_map(|(ok, access, kind, expires, refresh, error)| {
            let body = json!({
                "access_token": access, "token_type": kind, "expires_in": expires,
                "refresh_token": refresh, "error": error,
            });
            (ok, body.to_string())
        })
}

fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn callback_parameters_never_panic_and_a_code_needs_a_code_and_a_state() {
    check("callback", callback(), 0.05, |params| {
        let parsed = parse_response(&params);
        if let Ok(AuthResponse::Code { code, state, .. }) = &parsed {
            prop_assert_eq!(code.as_str(), "abc", "{}", params);
            prop_assert_eq!(state.as_str(), "s1", "{}", params);
            prop_assert_eq!(params.matches("code=").count(), 1, "{}", params);
        }
        Ok(matches!(parsed, Ok(AuthResponse::Code { .. })))
    });
}

#[test]
fn return_routes_never_leave_the_origin() {
    check("return route", route(), 0.1, |candidate| {
        let route = safe_return_path(&candidate, "/oauth-callback");
        prop_assert!(route.starts_with('/'), "{route}");
        prop_assert!(!route.starts_with("//"), "{route}");
        prop_assert!(
            !route.contains('\\') && !route.chars().any(char::is_control),
            "{route}"
        );
        let path = route.split(['?', '#']).next().unwrap_or_default();
        prop_assert!(path != "/oauth-callback", "{route}");
        prop_assert!(
            path.split('/').all(|s| s != "." && s != ".."),
            "dot segments are resolved: {route}"
        );
        Ok(route != "/")
    });
}

#[test]
fn accepted_endpoints_are_https_or_loopback() {
    check("endpoint", endpoint(), 0.1, |url| {
        let secure = is_secure_endpoint(&url);
        if secure {
            let loopback = ["http://127.", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| url.to_ascii_lowercase().starts_with(p));
            prop_assert!(url.starts_with("https://") || loopback, "{url}");
            let rest = url
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            prop_assert!(
                !authority.is_empty() && !authority.contains(['@', '\\']),
                "{url}"
            );
            if url.starts_with("http://") {
                prop_assert!(
                    !authority.contains(".evil."),
                    "plain http to another host: {url}"
                );
            }
            prop_assert!(
                !url.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{url}"
            );
        }
        Ok(secure)
    });
}

#[test]
fn accepted_discovery_documents_name_only_secure_endpoints() {
    // Each endpoint is mostly the provider's own, sometimes one mistake away.
    let field = |good: &'static str| prop_oneof![3 => Just(good.to_string()), 1 => endpoint()];
    let fields = (
        field("https://idp.example/t/authorize"),
        field("https://idp.example/t/token"),
        field("https://idp.example/t/keys"),
    );
    check("discovery", fields, 0.2, |(auth, tok, keys)| {
        let doc = json!({
            "issuer": "https://idp.example/t/v2.0",
            "authorization_endpoint": auth,
            "token_endpoint": tok,
            "jwks_uri": keys,
        });
        let url = "https://idp.example/t/v2.0/.well-known/openid-configuration";
        let parsed = discovery::parse(url, &doc.to_string());
        if let Ok(m) = &parsed {
            for endpoint in [&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri] {
                prop_assert!(is_secure_endpoint(endpoint), "{endpoint}");
            }
        }
        Ok(parsed.is_ok())
    });
}

#[test]
fn accepted_id_tokens_carry_finite_whole_second_times_within_the_tolerance() {
    check("id token claims", id_token_claims(), 0.03, |claims| {
        let token = format!(
            "{}.{}.c2ln",
            encode(br#"{"alg":"RS256"}"#),
            encode(claims.to_string().as_bytes())
        );
        let jwt = id_token::decode(&token).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let now_s = 1_000_000.0;
        let expect = Expectations {
            issuer: "https://idp/v2.0",
            client_id: "ui",
            nonce: None,
            now_s,
        };
        let valid = id_token::validate_claims(&jwt, &expect).is_ok();
        if valid {
            let exp = jwt.time_claim("exp").unwrap_or(f64::NAN);
            let iat = jwt.time_claim("iat").unwrap_or(f64::NAN);
            prop_assert!(
                exp.is_finite() && exp.fract() == 0.0 && exp >= now_s - 300.0,
                "{claims}"
            );
            prop_assert!(iat.is_finite() && iat <= now_s + 300.0, "{claims}");
            prop_assert!(jwt.str_claim("iss") == Some("https://idp/v2.0"), "{claims}");
        }
        Ok(valid)
    });
}

#[test]
fn accepted_token_responses_have_a_token_and_a_finite_positive_lifetime() {
    check("token response", token_response(), 0.03, |(ok, body)| {
        let parsed = token::parse_response(ok, &body, false, false);
        if let Ok(tokens) = &parsed {
            prop_assert!(ok, "{body}");
            prop_assert!(!tokens.access_token.is_empty(), "{body}");
            prop_assert!(
                tokens.expires_in_s.is_finite() && tokens.expires_in_s >= 1.0,
                "{body}"
            );
            prop_assert!(tokens.expires_in_s.fract() == 0.0, "{body}");
            prop_assert!(tokens.expires_in_s <= 366.0 * 24.0 * 3600.0, "{body}");
        }
        Ok(parsed.is_ok())
    });
}

#[test]
fn compact_jwts_decode_only_from_three_base64url_json_parts() {
    // Each part is mostly what a provider sends, sometimes padded, not JSON or not base64url;
    // sometimes a part is missing or one too many.
    let part = |good: String| {
        prop_oneof![
            6 => Just(good),
            1 => Just(encode(b"[1]")),
            1 => Just(encode(b"not json")),
            1 => Just("e30=".to_string()),
            1 => Just("!!".to_string()),
        ]
    };
    let header = part(encode(br#"{"alg":"RS256"}"#));
    let payload = part(encode(br#"{"sub":"s"}"#));
    let signature = prop_oneof![4 => Just(encode(b"sig")), 1 => Just("a+b".to_string()), 1 => Just(String::new())];
    let count = prop::sample::select(vec![3usize, 3, 3, 3, 2, 4, 5]);
    let parts = (header, payload, signature, count).prop_map(|(h, p, s, count)| {
        let mut parts = vec![h, p, s, "e30".to_string(), "e30".to_string()];
        parts.truncate(count);
        parts
    });
    check("jwt", parts, 0.05, |parts| {
        let text = parts.join(".");
        let decoded = Jwt::decode(&text);
        if decoded.is_ok() {
            prop_assert_eq!(parts.len(), 3, "{}", text);
        }
        Ok(decoded.is_ok())
    });
}

/// One parameter of a challenge: mostly what APIs send (Entra's claims challenge, RFC 9470
/// step-up, quoted strings with escapes), sometimes something one character off.
fn challenge_param() -> impl Strategy<Value = String> {
    let claims = STANDARD.encode(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#);
    prop_oneof![
        6 => Just(r#"error="insufficient_claims""#.to_string()),
        6 => Just(format!(r#"claims="{claims}""#)),
        4 => Just(r#"error="insufficient_user_authentication""#.to_string()),
        4 => Just(r#"acr_values="urn:gatehouse:mfa c2""#.to_string()),
        4 => Just("max_age=300".to_string()),
        4 => Just(r#"realm="""#.to_string()),
        3 => Just(r#"title="a \"quoted\" \\ word""#.to_string()),
        3 => Just("algs = ES256".to_string()),
        1 => Just("=".to_string()),
        1 => Just("a=\"open".to_string()),
        1 => Just("a=\"\u{0}\"".to_string()),
        1 => Just("a=\"\n\"".to_string()),
        1 => Just("é=1".to_string()),
        1 => "[ -~]{0,6}",
    ]
}

#[test]
fn challenge_headers_never_panic_and_what_is_accepted_is_well_formed() {
    // Challenges as a real header has them: a scheme, then parameters joined by commas.
    let scheme = prop::sample::select(vec!["Bearer", "Bearer", "DPoP", "Basic", "Negotiate abc=="]);
    let one =
        (scheme, prop::collection::vec(challenge_param(), 0..5)).prop_map(|(scheme, params)| {
            if params.is_empty() {
                scheme.to_string()
            } else {
                format!("{scheme} {}", params.join(", "))
            }
        });
    let header = prop::collection::vec(one, 1..4).prop_map(|challenges| challenges.join(", "));
    let step_ups = Cell::new(0u32);
    check("www-authenticate", header, 0.2, |text| {
        let parsed = challenge::parse(&text);
        if let Ok(challenges) = &parsed {
            for c in challenges {
                prop_assert!(!c.scheme.is_empty(), "{}", text);
                prop_assert!(c.scheme.bytes().all(|b| b.is_ascii_graphic()), "{}", text);
                for (name, value) in &c.params {
                    prop_assert_eq!(name.to_ascii_lowercase(), name.clone());
                    prop_assert!(!value.contains('\0'), "{}", text);
                }
            }
        }
        if let Some(step_up) = StepUp::from_header(&text) {
            step_ups.set(step_ups.get() + 1);
            prop_assert!(parsed.is_ok());
            if let StepUp::Claims { claims } = &step_up {
                prop_assert!(serde_json::from_str::<Value>(claims).is_ok_and(|v| v.is_object()));
            }
        }
        Ok(parsed.is_ok())
    });
    eprintln!(
        "property www-authenticate: {} step-ups recognised",
        step_ups.get()
    );
    assert!(
        step_ups.get() > 0,
        "no generated header asked for a step-up"
    );
}

#[test]
fn a_header_of_the_largest_size_is_parsed_or_refused_at_once() {
    let started = std::time::Instant::now();
    for header in [
        format!(
            "Bearer {}",
            "a=b, ".repeat(challenge::MAX_HEADER_LEN / 5 - 2)
        ),
        format!(
            "Bearer realm=\"{}\"",
            "\\\"".repeat(challenge::MAX_HEADER_LEN / 2 - 10)
        ),
        ", ".repeat(challenge::MAX_HEADER_LEN / 2),
        format!("Bearer {}", "=".repeat(challenge::MAX_HEADER_LEN - 7)),
        "x".repeat(challenge::MAX_HEADER_LEN * 64),
    ] {
        let _ = challenge::parse(&header);
        let _ = StepUp::from_header(&header);
    }
    assert!(
        started.elapsed().as_millis() < 500,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn any_text_at_all_is_refused_without_a_panic() {
    check("arbitrary text", any::<String>(), 0.0, |text| {
        let _ = Jwt::decode(&text);
        let _ = token::parse_response(true, &text, true, false);
        let _ = discovery::parse(
            "https://idp.example/.well-known/openid-configuration",
            &text,
        );
        let _ = safe_return_path(&text, "/oauth-callback");
        let _ = StepUp::from_header(&text);
        Ok(parse_response(&text).is_ok())
    });
}
