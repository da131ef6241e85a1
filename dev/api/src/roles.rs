//! Application roles and the rule for when a caller's roles satisfy a requirement.
//!
//! Roles are the Entra app-role values carried in the access token's `roles`
//! claim. Like clinical-mdr-api, a *write* grant on a resource implies *read*
//! of the same resource: `Study.Write` satisfies `Study.Read`, and
//! `Library.Write` satisfies `Library.Read`.
//!
//! The Azure TRE-like endpoints use TRE's roles: `TREAdmin` / `TREUser` on the
//! TRE API's own registration, `WorkspaceOwner` / `WorkspaceResearcher` on each
//! workspace's registration (so they arrive in tokens for that workspace).

use std::fmt;

/// An app role this API checks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    StudyRead,
    StudyWrite,
    LibraryRead,
    LibraryWrite,
    TreAdmin,
    TreUser,
    WorkspaceOwner,
    WorkspaceResearcher,
}

impl Role {
    /// The StudyBuilder roles: what `GET /me` reports for the anonymous
    /// superuser (auth disabled), as clinical-mdr-api does. The anonymous
    /// superuser passes every role check, TRE ones included.
    pub const STUDYBUILDER: [Role; 4] = [
        Role::StudyRead,
        Role::StudyWrite,
        Role::LibraryRead,
        Role::LibraryWrite,
    ];

    /// The role's value as it appears in the token's `roles` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::StudyRead => "Study.Read",
            Role::StudyWrite => "Study.Write",
            Role::LibraryRead => "Library.Read",
            Role::LibraryWrite => "Library.Write",
            Role::TreAdmin => "TREAdmin",
            Role::TreUser => "TREUser",
            Role::WorkspaceOwner => "WorkspaceOwner",
            Role::WorkspaceResearcher => "WorkspaceResearcher",
        }
    }

    /// The role that implies this one as well, if any (write implies read).
    fn implied_by(self) -> Option<Role> {
        match self {
            Role::StudyRead => Some(Role::StudyWrite),
            Role::LibraryRead => Some(Role::LibraryWrite),
            _ => None,
        }
    }

    /// Whether a caller holding `granted` (raw `roles` claim values) may act
    /// with this role.
    pub fn is_satisfied_by<S: AsRef<str>>(self, granted: &[S]) -> bool {
        let holds = |role: Role| granted.iter().any(|g| g.as_ref() == role.as_str());
        holds(self) || self.implied_by().is_some_and(holds)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a caller holding `granted` satisfies at least one of `any_of`.
pub fn satisfies_any<S: AsRef<str>>(any_of: &[Role], granted: &[S]) -> bool {
    any_of.iter().any(|role| role.is_satisfied_by(granted))
}

/// The roles that give access to a TRE workspace (on the workspace's own registration).
pub const WORKSPACE_ROLES: &[Role] = &[Role::WorkspaceOwner, Role::WorkspaceResearcher];

/// A compile-time role requirement, used as the type parameter of
/// [`crate::auth::Authorized`] so each handler states the roles it accepts
/// in its signature. Holding any one of them is enough.
pub trait RequiredRole: Send + Sync + 'static {
    const ANY_OF: &'static [Role];
}

/// Requires `Study.Read` (or `Study.Write`).
pub struct StudyRead;
/// Requires `Study.Write`.
pub struct StudyWrite;
/// Requires `Library.Read` (or `Library.Write`).
pub struct LibraryRead;
/// Requires `Library.Write`.
pub struct LibraryWrite;
/// Requires `TREUser` or `TREAdmin` (on the TRE API).
pub struct TreMember;
/// Requires `TREAdmin` (on the TRE API).
pub struct TreAdmin;

impl RequiredRole for StudyRead {
    const ANY_OF: &'static [Role] = &[Role::StudyRead];
}
impl RequiredRole for StudyWrite {
    const ANY_OF: &'static [Role] = &[Role::StudyWrite];
}
impl RequiredRole for LibraryRead {
    const ANY_OF: &'static [Role] = &[Role::LibraryRead];
}
impl RequiredRole for LibraryWrite {
    const ANY_OF: &'static [Role] = &[Role::LibraryWrite];
}
impl RequiredRole for TreMember {
    const ANY_OF: &'static [Role] = &[Role::TreUser, Role::TreAdmin];
}
impl RequiredRole for TreAdmin {
    const ANY_OF: &'static [Role] = &[Role::TreAdmin];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_role_satisfies() {
        assert!(Role::StudyRead.is_satisfied_by(&["Study.Read"]));
        assert!(Role::LibraryWrite.is_satisfied_by(&["Library.Write"]));
    }

    #[test]
    fn write_implies_read_of_the_same_resource_only() {
        assert!(Role::StudyRead.is_satisfied_by(&["Study.Write"]));
        assert!(Role::LibraryRead.is_satisfied_by(&["Library.Write"]));
        assert!(!Role::LibraryRead.is_satisfied_by(&["Study.Write"]));
        assert!(!Role::StudyRead.is_satisfied_by(&["Library.Write"]));
    }

    #[test]
    fn any_of_needs_one_and_tre_roles_imply_nothing() {
        assert!(satisfies_any(WORKSPACE_ROLES, &["WorkspaceResearcher"]));
        assert!(satisfies_any(
            WORKSPACE_ROLES,
            &["TREUser", "WorkspaceOwner"]
        ));
        assert!(!satisfies_any(WORKSPACE_ROLES, &["TREAdmin"]));
        assert!(!satisfies_any::<&str>(&[], &["TREAdmin"]));
        assert!(!Role::TreAdmin.is_satisfied_by(&["TREUser"]));
        assert!(!Role::TreUser.is_satisfied_by(&["TREAdmin"]));
    }

    #[test]
    fn read_does_not_imply_write_and_matching_is_exact() {
        assert!(!Role::StudyWrite.is_satisfied_by(&["Study.Read"]));
        assert!(!Role::StudyRead.is_satisfied_by(&["study.read"]));
        assert!(!Role::StudyRead.is_satisfied_by::<&str>(&[]));
    }
}
