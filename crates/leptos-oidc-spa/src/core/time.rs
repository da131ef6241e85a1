//! Times in stored records: milliseconds since the epoch, written as whole numbers (records from
//! builds that wrote fractions still read, as every `f64` field accepts both).

use serde::Serializer;

/// Writes a time in whole milliseconds.
pub fn whole_ms<S: Serializer>(ms: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(*ms as i64)
}

/// Writes an optional time in whole milliseconds, or `null`.
pub fn whole_ms_or_null<S: Serializer>(ms: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => whole_ms(ms, serializer),
        None => serializer.serialize_none(),
    }
}
