//! `config.json` as written: one [`Setting`] per key of [`KEYS`], read by serde, and what to say
//! when serde refuses the file ([`locate`]). Checking the values is `rules`' and `from_settings`'.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;

/// Every key `config.json` may hold, in the order the README lists them.
pub const KEYS: [&str; 22] = [
    "OAUTH_ENABLED",
    "OAUTH_METADATA_URL",
    "OAUTH_UI_APP_ID",
    "OAUTH_API_APP_ID",
    "OAUTH_API_APP_ID_URI",
    "OAUTH_SCOPES",
    "OAUTH_REDIRECT_PATH",
    "OAUTH_RESPONSE_MODE",
    "OAUTH_ROLES_CLAIM",
    "OAUTH_ROLES_TOKEN",
    "OAUTH_PROMPT",
    "OAUTH_DOMAIN_HINT",
    "OAUTH_RESOURCE",
    "OAUTH_CLIENT_CAPABILITIES",
    "OAUTH_REFRESH_LIFETIME_HOURS",
    "SESSION_NOTICE_MINUTES",
    "API_BASE_URL",
    "API_NAME",
    "VIEWS",
    "RESOURCES",
    "GRAPH_PROFILE",
    "GRAPH_BASE_URL",
];

/// One setting as text. Absent, null and empty count as unset, like clinical-mdr-api's
/// environment variables; strings are trimmed; numbers and booleans count as their text.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Setting(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for Setting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SettingVisitor)
    }
}

struct SettingVisitor;

impl Visitor<'_> for SettingVisitor {
    type Value = Setting;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Setting, E> {
        let text = text.trim();
        Ok(Setting((!text.is_empty()).then(|| text.to_string())))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Setting, E> {
        Ok(Setting(Some(flag.to_string())))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Setting, E> {
        Ok(Setting(Some(n.to_string())))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Setting, E> {
        Ok(Setting(Some(n.to_string())))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Setting, E> {
        // As JSON writes it (serde_json's formatter; no second float formatter in the wasm).
        Ok(Setting(
            serde_json::Number::from_f64(n).map(|n| n.to_string()),
        ))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Setting, E> {
        Ok(Setting(None))
    }
}

/// `config.json` as written: one field per key of `KEYS`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) struct Settings {
    pub(crate) oauth_enabled: Setting,
    pub(crate) oauth_metadata_url: Setting,
    pub(crate) oauth_ui_app_id: Setting,
    pub(crate) oauth_api_app_id: Setting,
    pub(crate) oauth_api_app_id_uri: Setting,
    pub(crate) oauth_scopes: Setting,
    pub(crate) oauth_redirect_path: Setting,
    pub(crate) oauth_response_mode: Setting,
    pub(crate) oauth_roles_claim: Setting,
    pub(crate) oauth_roles_token: Setting,
    pub(crate) oauth_prompt: Setting,
    pub(crate) oauth_domain_hint: Setting,
    pub(crate) oauth_resource: Setting,
    pub(crate) oauth_client_capabilities: Setting,
    pub(crate) oauth_refresh_lifetime_hours: Setting,
    pub(crate) session_notice_minutes: Setting,
    pub(crate) api_base_url: Setting,
    pub(crate) api_name: Setting,
    /// A list of views, or the same list as JSON text (an environment variable copied verbatim);
    /// read by `views::parse`.
    pub(crate) views: Option<Box<RawValue>>,
    /// Likewise a list or its JSON text; read by `resources::parse`.
    pub(crate) resources: Option<Box<RawValue>>,
    pub(crate) graph_profile: Setting,
    pub(crate) graph_base_url: Setting,
}

/// What serde's refusal of `config.json` was about, as far as the file tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Misread {
    /// The file is not a JSON object; says what serde found.
    NotAnObject(String),
    /// A key Gatehouse does not know.
    Unknown(String),
    /// A key holds a list or an object where text belongs; says what serde found.
    WrongType { key: String, why: String },
}

/// serde's error says what is wrong but not always which key: find the key at fault (one Gatehouse
/// does not know, or a list or object where text belongs).
pub(crate) fn locate(text: &str, error: &serde_json::Error) -> Misread {
    let why = without_position(error);
    let Ok(Value::Object(settings)) = serde_json::from_str::<Value>(text) else {
        return Misread::NotAnObject(why);
    };
    if let Some(key) = settings.keys().find(|key| !KEYS.contains(&key.as_str())) {
        return Misread::Unknown(key.clone());
    }
    let mistyped = settings
        .iter()
        .find(|(key, value)| *key != "VIEWS" && (value.is_array() || value.is_object()));
    match mistyped {
        Some((key, _)) => Misread::WrongType {
            key: key.clone(),
            why,
        },
        None => Misread::NotAnObject(why),
    }
}

/// serde_json's message without its "at line 1 column 5" suffix, which means nothing to an
/// operator who set an environment variable.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) if error.line() > 0 => text[..at].to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::Error;
    use std::collections::BTreeSet;

    /// A deserializer that answers nothing: it only writes down the field names serde passes
    /// to `deserialize_struct`, which are the keys a struct reads (after `rename_all`).
    struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(de::Error::custom(
                "only a struct's field names are written down",
            ))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Error> {
            *self.0 = Some(fields);
            Err(de::Error::custom("field names written down"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    #[test]
    fn keys_are_exactly_the_keys_settings_reads() {
        let mut fields = None;
        let _ = Settings::deserialize(FieldNames(&mut fields));
        let fields = fields.expect("Settings is read as a struct");
        let keys: BTreeSet<&str> = KEYS.into_iter().collect();
        assert_eq!(keys.len(), KEYS.len(), "a key is listed twice in KEYS");
        let read: BTreeSet<&str> = fields.iter().copied().collect();
        assert_eq!(read, keys, "Settings reads (left) what KEYS lists (right)");
        assert_eq!(fields.len(), KEYS.len());
    }
}
