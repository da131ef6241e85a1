//! Microsoft Graph for the profile (`GRAPH_PROFILE`): where the person's details and photo are,
//! and what of `/me` the panel shows. Anything Graph does not give (no consent, no photo, an
//! error) leaves the panel as it is without Graph: initials and no job title.

use serde::Deserialize;

/// `/me`, with only what the panel shows.
pub fn me_url(base: &str) -> String {
    format!("{}/me?$select=jobTitle", base.trim_end_matches('/'))
}

/// The signed-in person's photo, as bytes.
pub fn photo_url(base: &str) -> String {
    format!("{}/me/photo/$value", base.trim_end_matches('/'))
}

#[derive(Deserialize)]
struct Me {
    #[serde(rename = "jobTitle")]
    job_title: Option<String>,
}

/// The job title from a `/me` answer, if it has a non-blank one.
pub fn job_title(status: u16, body: &str) -> Option<String> {
    if !(200..300).contains(&status) {
        return None;
    }
    let me: Me = serde_json::from_str(body).ok()?;
    me.job_title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The raster image types a photo may be, each with the bytes its files start with. SVG is not
/// one: it is a document that can carry script and links, and an object URL keeps its type.
const RASTERS: [(&str, &[u8]); 5] = [
    ("image/png", b"\x89PNG\r\n\x1a\n"),
    ("image/jpeg", b"\xff\xd8\xff"),
    ("image/gif", b"GIF87a"),
    ("image/gif", b"GIF89a"),
    ("image/webp", b"RIFF"),
];

/// The type of a photo answer to show, when it is one: a 200 whose `Content-Type` is PNG, JPEG,
/// GIF or WebP and whose bytes start as a file of that type does (WebP: `RIFF`, then `WEBP` at
/// byte 8). The image is then made with this type, not the server's words.
pub fn photo_type(status: u16, content_type: Option<&str>, bytes: &[u8]) -> Option<&'static str> {
    if status != 200 {
        return None;
    }
    let essence = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    let webp_marker = bytes.get(8..12) == Some(b"WEBP".as_slice());
    RASTERS
        .iter()
        .find(|(kind, magic)| {
            *kind == essence && bytes.starts_with(magic) && (*kind != "image/webp" || webp_marker)
        })
        .map(|(kind, _)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_under_the_configured_base() {
        let base = "https://graph.microsoft.com/v1.0/";
        assert_eq!(
            me_url(base),
            "https://graph.microsoft.com/v1.0/me?$select=jobTitle"
        );
        assert_eq!(
            photo_url(base),
            "https://graph.microsoft.com/v1.0/me/photo/$value"
        );
    }

    #[test]
    fn the_job_title_only_from_a_good_answer() {
        let me = r#"{"@odata.context":"x","jobTitle":"Research Engineer","id":"1"}"#;
        assert_eq!(job_title(200, me), Some("Research Engineer".into()));
        assert_eq!(job_title(200, r#"{"jobTitle":null}"#), None);
        assert_eq!(job_title(200, r#"{"jobTitle":"  "}"#), None);
        assert_eq!(job_title(401, me), None);
        assert_eq!(job_title(200, "<html>"), None);
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";
    const SVG: &[u8] = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";

    #[test]
    fn a_photo_is_a_raster_image_whose_bytes_match_its_type() {
        assert_eq!(photo_type(200, Some("image/png"), PNG), Some("image/png"));
        assert_eq!(
            photo_type(200, Some("Image/JPEG; charset=x"), JPEG),
            Some("image/jpeg")
        );
        assert_eq!(
            photo_type(200, Some("image/gif"), b"GIF89a\x01\0"),
            Some("image/gif")
        );
        assert_eq!(
            photo_type(200, Some("image/webp"), WEBP),
            Some("image/webp")
        );
    }

    #[test]
    fn anything_else_is_no_photo() {
        for (status, content_type, bytes) in [
            (200, Some("image/svg+xml"), SVG),
            (200, Some("image/png"), SVG),
            (200, Some("image/jpeg"), PNG),
            (
                200,
                Some("image/webp"),
                b"RIFF\x24\0\0\0WAVEfmt ".as_slice(),
            ),
            (200, Some("text/html"), b"<html>".as_slice()),
            (200, Some("image/png"), &[]),
            (200, None, PNG),
            (404, Some("image/png"), PNG),
        ] {
            assert_eq!(
                photo_type(status, content_type, bytes),
                None,
                "{content_type:?}"
            );
        }
    }
}
