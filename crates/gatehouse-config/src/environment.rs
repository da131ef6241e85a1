//! The process environment as the tool reads it: a value is trimmed, and an empty or blank one
//! counts as unset (as in StudyBuilder's containers and in the app's `config.json`).

use crate::refusal::Refusal;
use std::collections::BTreeMap;
use std::ffi::OsString;

/// The variables the tool was started with.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Each variable with a UTF-8 name; `None` for a value that is not UTF-8.
    vars: BTreeMap<String, Option<String>>,
}

impl Environment {
    /// The process's own environment.
    pub fn from_process() -> Environment {
        Environment::from_os(std::env::vars_os())
    }

    /// An environment from name and value pairs (names that are not UTF-8 are left out: no
    /// setting has one).
    pub fn from_os(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Environment {
        let vars = vars
            .into_iter()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok())))
            .collect();
        Environment { vars }
    }

    /// The trimmed value of `name`; `None` when unset, empty or blank.
    pub fn get(&self, name: &str) -> Result<Option<String>, Refusal> {
        match self.vars.get(name) {
            None => Ok(None),
            Some(None) => Err(Refusal::new(name, "is not valid UTF-8 text")),
            Some(Some(value)) => {
                let value = value.trim();
                Ok((!value.is_empty()).then(|| value.to_string()))
            }
        }
    }

    /// `name`'s value, or `default` when unset.
    pub fn get_or(&self, name: &str, default: &str) -> Result<String, Refusal> {
        Ok(self.get(name)?.unwrap_or_else(|| default.to_string()))
    }

    /// The names of every variable that is set.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }
}

#[cfg(test)]
impl Environment {
    /// An environment of exactly these variables.
    pub fn of(vars: &[(&str, &str)]) -> Environment {
        Environment::from_os(vars.iter().map(|(name, value)| (name.into(), value.into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_counts_as_unset_and_values_are_trimmed() {
        let env = Environment::of(&[("A", "  x \n"), ("B", " \t"), ("C", "")]);
        assert_eq!(env.get("A"), Ok(Some("x".into())));
        assert_eq!(env.get("B"), Ok(None));
        assert_eq!(env.get("C"), Ok(None));
        assert_eq!(env.get("D"), Ok(None));
        assert_eq!(env.get_or("C", "d"), Ok("d".into()));
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_refused_by_name() {
        use std::os::unix::ffi::OsStringExt;
        let env = Environment::from_os([("API_NAME".into(), OsString::from_vec(vec![0xff]))]);
        assert_eq!(env.get("API_NAME").unwrap_err().subject, "API_NAME");
    }
}
