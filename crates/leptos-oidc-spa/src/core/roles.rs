//! Roles: reading them out of a token's claims and deciding whether a set of roles grants another.
//!
//! The claim is found by a dotted path (`roles`, `realm_access.roles`) and may be a JSON array of
//! strings or one space-separated string. Roles match exactly unless the app asks for an
//! implication (`RoleImplication`): StudyBuilder's APIs let `<Resource>.Write` imply
//! `<Resource>.Read`, which is that API's policy, not a rule of the protocol.

use serde_json::{Map, Value};

/// The roles at `path` in `claims`; an absent claim means no roles (Entra omits it then).
pub fn roles_at(claims: &Map<String, Value>, path: &[String]) -> Vec<String> {
    let mut current: Option<&Value> = None;
    for (i, segment) in path.iter().enumerate() {
        current = if i == 0 {
            claims.get(segment)
        } else {
            current.and_then(|v| v.get(segment))
        };
    }
    let mut roles: Vec<String> = match current {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// Whether holding one role grants another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoleImplication {
    /// A role grants only itself (the default).
    #[default]
    Exact,
    /// `<Resource>.Write` also grants `<Resource>.Read`, as StudyBuilder's clinical-mdr-api
    /// decides (`Study.Write` grants `Study.Read`, not `Library.Read`).
    WriteImpliesRead,
}

impl RoleImplication {
    /// Whether `held` grants `required` under this rule.
    pub fn grants(self, held: &[String], required: &str) -> bool {
        held.iter().any(|role| {
            role == required
                || (self == RoleImplication::WriteImpliesRead
                    && required
                        .strip_suffix(".Read")
                        .is_some_and(|resource| role.strip_suffix(".Write") == Some(resource)))
        })
    }

    /// Whether `held` grants at least one of `any` (an empty requirement is always met).
    pub fn grants_any(self, held: &[String], any: &[String]) -> bool {
        any.is_empty() || any.iter().any(|r| self.grants(held, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn reads_array_string_nested_and_absent_claims() {
        let c = claims(json!({
            "roles": ["Study.Read", "Library.Read", "Study.Read", 7],
            "realm_access": {"roles": ["admin"]},
            "groups": "a b"
        }));
        assert_eq!(
            roles_at(&c, &path("roles")),
            vec!["Library.Read", "Study.Read"]
        );
        assert_eq!(roles_at(&c, &path("realm_access.roles")), vec!["admin"]);
        assert_eq!(roles_at(&c, &path("groups")), vec!["a", "b"]);
        assert!(roles_at(&c, &path("missing")).is_empty());
        assert!(roles_at(&c, &path("roles.deeper")).is_empty());
    }

    #[test]
    fn roles_match_exactly_by_default() {
        let exact = RoleImplication::default();
        let held = vec!["Foo.Write".to_string()];
        assert!(exact.grants(&held, "Foo.Write"));
        assert!(
            !exact.grants(&held, "Foo.Read"),
            "no implication unless asked"
        );
        assert!(exact.grants_any(&held, &[]));
        assert!(!exact.grants_any(&held, &["Foo.Read".into()]));
    }

    #[test]
    fn write_implies_read_of_the_same_resource_only() {
        let rule = RoleImplication::WriteImpliesRead;
        let held = vec!["Study.Write".to_string()];
        assert!(rule.grants(&held, "Study.Write"));
        assert!(rule.grants(&held, "Study.Read"));
        assert!(!rule.grants(&held, "Library.Read"));
        assert!(!rule.grants(&["Library.Read".to_string()], "Library.Write"));
        assert!(!rule.grants(&["Study.Read".to_string()], "Study.Write"));
        assert!(rule.grants_any(&held, &["Library.Read".into(), "Study.Read".into()]));
    }
}
