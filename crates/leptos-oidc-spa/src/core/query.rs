//! `application/x-www-form-urlencoded` encoding and decoding (WHATWG URL standard), used for the
//! authorization request, the token request body and the parameters of the authorization response.
//!
//! Hand-written because it is forty lines; the `url` crate would pull IDNA tables into the wasm.

/// Percent-encodes one name or value. Unreserved characters (RFC 3986 §2.3) pass through; space
/// becomes `%20` so the result is valid in a query, a fragment and a form body alike.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(byte >> 4) as usize] as char);
                out.push(HEX[(byte & 0x0f) as usize] as char);
            }
        }
    }
    out
}

/// Joins name/value pairs into `a=1&b=2`, encoding both sides.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `url` with `pairs` added to its query (after `&` if it has one, else after `?`); `url` as
/// it is when there are none.
pub fn append_to<'a>(url: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let query = encode_pairs(pairs);
    if query.is_empty() {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// Decodes one component: `+` is a space, `%XX` a byte; invalid escapes are kept literally and
/// invalid UTF-8 is replaced, so hostile input can never make decoding fail or panic.
pub fn decode(component: &str) -> String {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits `a=1&b=2` (no leading `?`/`#`) into decoded pairs, in order, skipping empty segments.
pub fn parse(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(segment), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_to_a_query_or_starts_one() {
        assert_eq!(
            append_to("https://a/x", [("k", "v w")]),
            "https://a/x?k=v%20w"
        );
        assert_eq!(
            append_to("https://a/x?p=1", [("k", "v")]),
            "https://a/x?p=1&k=v"
        );
        assert_eq!(append_to("/api", []), "/api");
    }

    #[test]
    fn encodes_reserved_characters_and_space() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode("AZaz09-._~"), "AZaz09-._~");
    }

    #[test]
    fn decodes_plus_percent_and_utf8() {
        assert_eq!(decode("a+b%20c%C3%A9"), "a b cé");
    }

    #[test]
    fn keeps_broken_escapes_literally() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn round_trips_pairs() {
        let body = encode_pairs([
            ("scope", "openid api://x/API.call"),
            ("redirect_uri", "http://h/cb?x=1"),
        ]);
        assert_eq!(
            parse(&body),
            vec![
                ("scope".to_string(), "openid api://x/API.call".to_string()),
                ("redirect_uri".to_string(), "http://h/cb?x=1".to_string())
            ]
        );
    }

    #[test]
    fn parses_flags_and_skips_empty_segments() {
        assert_eq!(
            parse("&a&&b=2"),
            vec![("a".into(), "".into()), ("b".into(), "2".into())]
        );
    }
}
