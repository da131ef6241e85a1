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

/// Whether a photo answer is an image to show.
pub fn is_photo(status: u16, content_type: Option<&str>, bytes: &[u8]) -> bool {
    status == 200
        && !bytes.is_empty()
        && content_type.is_some_and(|t| t.trim_start().starts_with("image/"))
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

    #[test]
    fn a_photo_is_an_image_with_bytes() {
        assert!(is_photo(200, Some("image/png"), &[1, 2]));
        assert!(!is_photo(404, Some("application/json"), b"{}"));
        assert!(!is_photo(200, Some("text/html"), b"<html>"));
        assert!(!is_photo(200, Some("image/jpeg"), &[]));
        assert!(!is_photo(200, None, &[1]));
    }
}
