//! Whether the person may use something, from what their roles answer, and how a refusal is
//! worded. The gates themselves are the library's; the API enforces.

use crate::config::views::{missing_role_reason, ApiView};

/// The roles of which one opens `view`: its own while role gating is on, none while it is off
/// (`OAUTH_RBAC_ENABLED=false`, as StudyBuilder's API then checks no roles): the view is then
/// open to everyone signed in.
pub fn gating_roles(view: &ApiView, role_gating: bool) -> &[String] {
    if role_gating {
        &view.roles
    } else {
        &[]
    }
}

/// Whether any one of several roles is held, from each role's answer (`None`: not known yet,
/// as for an API no token has been obtained for): `Some(true)` once one is held, `Some(false)`
/// when every answer is no, else `None`.
pub fn any_held(answers: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for answer in answers {
        match answer {
            Some(true) => return Some(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(false)
}

/// What "This … ." on the not-permitted page says: the roles of which one would allow it, or that
/// the account may not do it at all.
pub fn refusal(any: &[String]) -> String {
    if any.is_empty() {
        "action is not allowed for your account".to_string()
    } else {
        missing_role_reason(any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos_oidc_spa::RoleImplication;

    #[test]
    fn role_gating_off_opens_a_view_to_anyone_signed_in() {
        let config = crate::config::parse(
            r#"{"OAUTH_ENABLED": false, "VIEWS": [{"id": "w", "title": "W", "path": "/w", "roles": ["Study.Write"]}]}"#,
        )
        .unwrap();
        let view = &config.views[0];
        let no_roles: &[String] = &[];
        let reader = &["Study.Read".to_string()];
        let opens = |held: &[String], role_gating| {
            RoleImplication::WriteImpliesRead.grants_any(held, gating_roles(view, role_gating))
        };
        assert!(!opens(no_roles, true) && !opens(reader, true), "gated");
        assert!(opens(no_roles, false) && opens(reader, false), "open");
    }

    #[test]
    fn one_role_held_is_enough_and_unknown_roles_leave_it_open() {
        assert_eq!(any_held([Some(false), Some(true)]), Some(true));
        assert_eq!(any_held([None, Some(true)]), Some(true));
        assert_eq!(any_held([Some(false), Some(false)]), Some(false));
        assert_eq!(any_held([Some(false), None]), None);
        assert_eq!(any_held([None]), None);
    }

    #[test]
    fn a_refusal_names_the_roles_that_would_allow_it() {
        assert_eq!(refusal(&[]), "action is not allowed for your account");
        assert_eq!(refusal(&["Study.Write".into()]), "requires Study.Write");
        assert_eq!(
            refusal(&["TREAdmin".into(), "TREUser".into()]),
            "requires one of TREAdmin, TREUser"
        );
    }
}
