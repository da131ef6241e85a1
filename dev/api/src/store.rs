//! The in-memory data: StudyBuilder-like studies and library items.
//!
//! Seeded with a few entries at start-up and lost at exit. Holds the item
//! types, the shapes accepted for creating them (with their validation
//! rules) and the store itself.

use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A study, as listed by `GET /studies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Study {
    pub uid: String,
    pub study_number: String,
    pub acronym: String,
    pub title: String,
    pub created_by: String,
}

/// The body of `POST /studies`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStudy {
    pub study_number: String,
    pub acronym: String,
    #[serde(default)]
    pub title: String,
}

/// A library item (e.g. an activity or a CT term), as listed by `GET /library/items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryItem {
    pub uid: String,
    pub name: String,
    pub library: String,
    pub status: String,
}

/// The body of `POST /library/items`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLibraryItem {
    pub name: String,
    pub library: String,
    #[serde(default)]
    pub status: Option<String>,
}

/// Library item statuses, as in StudyBuilder's versioning.
pub const STATUSES: [&str; 3] = ["Draft", "Final", "Retired"];

fn unprocessable(detail: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(detail.into())
}

/// Trims `value` and checks it is between 1 and `max` characters.
fn required_text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(unprocessable(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(unprocessable(format!(
            "{field} must be at most {max} characters"
        )));
    }
    Ok(value.to_owned())
}

impl NewStudy {
    /// Checks and normalises the fields.
    pub fn validated(self) -> Result<Self, ApiError> {
        let study_number = self.study_number.trim().to_owned();
        if study_number.is_empty()
            || study_number.len() > 10
            || !study_number.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(unprocessable("study_number must be 1 to 10 digits"));
        }
        let acronym = required_text("acronym", &self.acronym, 40)?;
        let title = self.title.trim().to_owned();
        if title.chars().count() > 500 {
            return Err(unprocessable("title must be at most 500 characters"));
        }
        Ok(Self {
            study_number,
            acronym,
            title,
        })
    }
}

impl NewLibraryItem {
    /// Checks and normalises the fields; `status` defaults to `Draft`.
    pub fn validated(self) -> Result<Self, ApiError> {
        let name = required_text("name", &self.name, 200)?;
        let library = required_text("library", &self.library, 60)?;
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => "Draft".to_owned(),
            Some(s) if STATUSES.contains(&s) => s.to_owned(),
            Some(s) => {
                return Err(unprocessable(format!(
                    "status {s:?} must be one of {}",
                    STATUSES.join(", ")
                )))
            }
        };
        Ok(Self {
            name,
            library,
            status: Some(status),
        })
    }
}

#[derive(Debug, Default)]
struct Data {
    studies: Vec<Study>,
    library_items: Vec<LibraryItem>,
}

/// The in-memory store. Items are only ever added, so a uid's number is
/// its position + 1.
#[derive(Debug, Default)]
pub struct Store {
    data: RwLock<Data>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store with a few StudyBuilder-like studies and library items.
    pub fn seeded() -> Self {
        let study = |n: usize, number: &str, acronym: &str, title: &str| Study {
            uid: format!("Study_{n:06}"),
            study_number: number.into(),
            acronym: acronym.into(),
            title: title.into(),
            created_by: "seed".into(),
        };
        let item = |n: usize, name: &str, library: &str, status: &str| LibraryItem {
            uid: format!("LibraryItem_{n:06}"),
            name: name.into(),
            library: library.into(),
            status: status.into(),
        };
        Self {
            data: RwLock::new(Data {
                studies: vec![
                    study(
                        1,
                        "1001",
                        "CDISC DEV",
                        "CDISC Pilot - Xanomeline in Alzheimer's disease",
                    ),
                    study(
                        2,
                        "1002",
                        "GH-DEMO",
                        "A Phase 2 Study of Gatehouse Demo Drug in Adults",
                    ),
                    study(
                        3,
                        "1003",
                        "OBS-01",
                        "Observational Study of Blood Pressure Control",
                    ),
                ],
                library_items: vec![
                    item(1, "Systolic Blood Pressure", "CDISC", "Final"),
                    item(2, "Body Weight", "CDISC", "Final"),
                    item(3, "Informed Consent Obtained", "Sponsor", "Final"),
                    item(4, "Fasting Plasma Glucose", "Sponsor", "Draft"),
                ],
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn studies(&self) -> Vec<Study> {
        self.read().studies.clone()
    }

    pub fn study(&self, uid: &str) -> Option<Study> {
        self.read().studies.iter().find(|s| s.uid == uid).cloned()
    }

    /// Adds a validated study; study numbers are unique.
    pub fn add_study(&self, new: NewStudy, created_by: String) -> Result<Study, ApiError> {
        let mut data = self.write();
        if data
            .studies
            .iter()
            .any(|s| s.study_number == new.study_number)
        {
            return Err(ApiError::Conflict(format!(
                "a study with study_number {} already exists",
                new.study_number
            )));
        }
        let study = Study {
            uid: format!("Study_{:06}", data.studies.len() + 1),
            study_number: new.study_number,
            acronym: new.acronym,
            title: new.title,
            created_by,
        };
        data.studies.push(study.clone());
        Ok(study)
    }

    pub fn library_items(&self) -> Vec<LibraryItem> {
        self.read().library_items.clone()
    }

    pub fn library_item(&self, uid: &str) -> Option<LibraryItem> {
        self.read()
            .library_items
            .iter()
            .find(|i| i.uid == uid)
            .cloned()
    }

    /// Adds a validated library item; names are unique within a library.
    pub fn add_library_item(&self, new: NewLibraryItem) -> Result<LibraryItem, ApiError> {
        let mut data = self.write();
        if data
            .library_items
            .iter()
            .any(|i| i.library == new.library && i.name.eq_ignore_ascii_case(&new.name))
        {
            return Err(ApiError::Conflict(format!(
                "library {} already has an item named {}",
                new.library, new.name
            )));
        }
        let item = LibraryItem {
            uid: format!("LibraryItem_{:06}", data.library_items.len() + 1),
            name: new.name,
            library: new.library,
            status: new.status.unwrap_or_else(|| "Draft".to_owned()),
        };
        data.library_items.push(item.clone());
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_study(number: &str, acronym: &str) -> NewStudy {
        NewStudy {
            study_number: number.into(),
            acronym: acronym.into(),
            title: String::new(),
        }
    }

    #[test]
    fn study_validation() {
        assert!(new_study(" 42 ", " X ").validated().is_ok());
        assert!(new_study("", "X").validated().is_err());
        assert!(new_study("12a", "X").validated().is_err());
        assert!(new_study("12345678901", "X").validated().is_err());
        assert!(new_study("1", "   ").validated().is_err());
        assert!(new_study("1", &"A".repeat(41)).validated().is_err());
    }

    #[test]
    fn library_item_validation_and_default_status() {
        let item = |status: Option<&str>| NewLibraryItem {
            name: "N".into(),
            library: "Sponsor".into(),
            status: status.map(str::to_owned),
        };
        assert_eq!(
            item(None).validated().unwrap().status.as_deref(),
            Some("Draft")
        );
        assert_eq!(
            item(Some("Final")).validated().unwrap().status.as_deref(),
            Some("Final")
        );
        assert!(item(Some("final")).validated().is_err());
    }

    #[test]
    fn uids_are_sequential_and_duplicates_conflict() {
        let store = Store::seeded();
        let s = store
            .add_study(new_study("2001", "NEW").validated().unwrap(), "me".into())
            .unwrap();
        assert_eq!(s.uid, "Study_000004");
        assert_eq!(store.study("Study_000004"), Some(s));
        assert!(matches!(
            store.add_study(new_study("2001", "AGAIN"), "me".into()),
            Err(ApiError::Conflict(_))
        ));
        let dup = NewLibraryItem {
            name: "body weight".into(),
            library: "CDISC".into(),
            status: None,
        };
        assert!(matches!(
            store.add_library_item(dup),
            Err(ApiError::Conflict(_))
        ));
    }
}
