//! Human-readable durations for the profile panel's countdown ("4 min 05 s").

/// Formats a non-negative duration in milliseconds; negative means already past.
pub fn countdown(ms: f64) -> String {
    if ms <= 0.0 {
        return "expired".to_string();
    }
    let total = (ms / 1000.0).ceil() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s:02} s"),
        _ => format!("{h} h {m:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds_minutes_hours() {
        assert_eq!(countdown(-1.0), "expired");
        assert_eq!(countdown(1.0), "1 s");
        assert_eq!(countdown(65_000.0), "1 min 05 s");
        assert_eq!(countdown(3_600_000.0 + 61_000.0), "1 h 01 min");
    }
}
