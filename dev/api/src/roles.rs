//! Application roles and the rule for when a caller's roles satisfy a requirement.
//!
//! Roles are the Entra app-role values carried in the access token's `roles`
//! claim. Like clinical-mdr-api, a *write* grant on a resource implies *read*
//! of the same resource: `Study.Write` satisfies `Study.Read`, and
//! `Library.Write` satisfies `Library.Read`.

use std::fmt;

/// An app role this API checks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    StudyRead,
    StudyWrite,
    LibraryRead,
    LibraryWrite,
}

impl Role {
    /// Every role; an anonymous superuser (auth disabled) holds all of them.
    pub const ALL: [Role; 4] = [
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
        }
    }

    /// The role that implies this one as well, if any (write implies read).
    fn implied_by(self) -> Option<Role> {
        match self {
            Role::StudyRead => Some(Role::StudyWrite),
            Role::LibraryRead => Some(Role::LibraryWrite),
            Role::StudyWrite | Role::LibraryWrite => None,
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

/// A compile-time role requirement, used as the type parameter of
/// [`crate::auth::Authorized`] so each handler states the role it needs in
/// its signature.
pub trait RequiredRole: Send + Sync + 'static {
    const ROLE: Role;
}

/// Requires `Study.Read` (or `Study.Write`).
pub struct StudyRead;
/// Requires `Study.Write`.
pub struct StudyWrite;
/// Requires `Library.Read` (or `Library.Write`).
pub struct LibraryRead;
/// Requires `Library.Write`.
pub struct LibraryWrite;

impl RequiredRole for StudyRead {
    const ROLE: Role = Role::StudyRead;
}
impl RequiredRole for StudyWrite {
    const ROLE: Role = Role::StudyWrite;
}
impl RequiredRole for LibraryRead {
    const ROLE: Role = Role::LibraryRead;
}
impl RequiredRole for LibraryWrite {
    const ROLE: Role = Role::LibraryWrite;
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
    fn read_does_not_imply_write_and_matching_is_exact() {
        assert!(!Role::StudyWrite.is_satisfied_by(&["Study.Read"]));
        assert!(!Role::StudyRead.is_satisfied_by(&["study.read"]));
        assert!(!Role::StudyRead.is_satisfied_by::<&str>(&[]));
    }
}
