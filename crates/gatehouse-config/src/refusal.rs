//! Why the tool stops: what is at fault (a variable, a file) and what is wrong with it.

use std::fmt::Display;
use std::path::Path;
use thiserror::Error;

/// A refusal names its subject (an environment variable such as `PORT`, or a file) first, so an
/// operator reading the container's log knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{subject}: {message}")]
pub struct Refusal {
    /// The variable or file at fault.
    pub subject: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl Refusal {
    /// A refusal of `subject`.
    pub fn new(subject: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal {
            subject: subject.into(),
            message: message.into(),
        }
    }

    /// A file operation on `path`, named after the variable that chose the path, failed.
    pub fn io(variable: &str, doing: &str, path: &Path, error: impl Display) -> Refusal {
        Refusal::new(
            variable,
            format!("cannot {doing} {}: {error}", path.display()),
        )
    }
}
