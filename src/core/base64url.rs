//! base64url without padding (RFC 4648 §5), the encoding of JWT segments (RFC 7515 §2) and of
//! PKCE verifiers and challenges (RFC 7636 §4). Hand-written because the two functions are
//! forty lines; the `base64` crate's generic engine cost 2 KB gzip of wasm for them.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes `bytes` as base64url without `=` padding.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // One output character per 6 bits of input: 2, 3 or 4 for 1, 2 or 3 bytes.
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes base64url without padding. Strict, as JWS requires: `None` for padding, characters
/// outside the URL-safe alphabet (`+`, `/`, whitespace), an impossible length, or non-zero
/// unused bits in the last character (which would let two texts decode to the same bytes).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        let used = chunk.len() - 1;
        if n & (0xff_ffff >> (8 * used)) != 0 {
            return None;
        }
        out.extend_from_slice(&bytes[1..=used]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors (these need no characters that differ between base64 and
    /// base64url), without padding.
    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn url_safe_alphabet() {
        assert_eq!(encode([0xfb, 0xff, 0xbf]), "-_-_");
        assert_eq!(decode("-_-_").unwrap(), [0xfb, 0xff, 0xbf]);
    }

    #[test]
    fn rejects_what_jws_forbids() {
        for bad in ["Zg==", "Zm9v=", "+/+/", "Zm 9v", "Z", "Zm9vY", "Zh", "Zm9"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
        // "Zh" and "Zm9" carry non-zero unused bits; their canonical forms decode.
        assert_eq!(decode("Zg").unwrap(), b"f");
        assert_eq!(decode("Zm8").unwrap(), b"fo");
    }

    #[test]
    fn agrees_with_the_base64_crate_on_every_length_and_byte() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        for len in 0..70usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len * 11) as u8).collect();
            let ours = encode(&bytes);
            assert_eq!(ours, URL_SAFE_NO_PAD.encode(&bytes), "encode {len}");
            assert_eq!(decode(&ours).unwrap(), bytes, "decode {len}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(encode(&all), URL_SAFE_NO_PAD.encode(&all));
    }
}
