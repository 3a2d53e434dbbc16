//! Durations as Mesos writes them in the executor environment (spec §3.3), e.g.
//! `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD=5secs`, `MESOS_RECOVERY_TIMEOUT=15mins`,
//! `MESOS_SUBSCRIPTION_BACKOFF_MAX=2secs`: a decimal number immediately followed by one of
//! `ns, us, ms, secs, mins, hrs, days, weeks`. [`parse`] is for the executor that reads them,
//! [`format()`] for the agent that writes them, printing as Mesos's stout library does: in the
//! unit of the value's magnitude, or the next smaller unit when that gives a whole number
//! (120 s → `2mins`, 90 s → `90secs`, 1500 ms → `1500ms`).

use std::time::Duration;

const UNITS: [(&str, u128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("secs", 1_000_000_000),
    ("mins", 60_000_000_000),
    ("hrs", 3_600_000_000_000),
    ("days", 86_400_000_000_000),
    ("weeks", 604_800_000_000_000),
];

/// Why a duration text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text (given) has no leading number.
    #[error("duration {0:?} does not start with a non-negative decimal number")]
    Number(String),
    /// The number is followed by no unit Stout knows (the text is given).
    #[error("duration {0:?} has no known unit (ns, us, ms, secs, mins, hrs, days, weeks)")]
    Unit(String),
    /// The value overflows a `Duration` in nanoseconds (the text is given).
    #[error("duration {0:?} is too large")]
    TooLarge(String),
}

/// Parses `5secs`, `1.5secs`, `15mins`, `250ms`, ... (no sign, no space, no exponent).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0 && !number.is_empty())
        .ok_or_else(|| DurationError::Number(text.to_owned()))?;
    let (_, factor) = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .ok_or_else(|| DurationError::Unit(text.to_owned()))?;
    let nanos = value * *factor as f64;
    if nanos >= u64::MAX as f64 {
        return Err(DurationError::TooLarge(text.to_owned()));
    }
    // Truncated to whole nanoseconds, as stout converts the double.
    Ok(Duration::from_nanos(nanos as u64))
}

/// The text a Mesos agent would write for `duration`.
pub fn format(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    // The bucket: the largest unit not above the value (nanoseconds below 1 us).
    let bucket = UNITS
        .iter()
        .rposition(|(_, factor)| nanos >= *factor)
        .unwrap_or(0);
    let (mut name, mut factor) = UNITS[bucket];
    if bucket > 0 {
        let (lower_name, lower) = UNITS[bucket - 1];
        if !nanos.is_multiple_of(factor) && nanos.is_multiple_of(lower) {
            (name, factor) = (lower_name, lower);
        }
    }
    let text = if nanos.is_multiple_of(factor) {
        (nanos / factor).to_string()
    } else {
        significant_15(nanos as f64 / factor as f64)
    };
    format!("{text}{name}")
}

/// A positive double with 15 significant digits and no trailing zeros (C++ stream output
/// at `digits10` precision), in fixed notation for the magnitudes durations have.
fn significant_15(value: f64) -> String {
    let exponent = value.abs().log10().floor() as i32;
    let decimals = usize::try_from(14 - exponent).unwrap_or(0);
    let fixed = format!("{value:.decimals$}");
    if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_a_mesos_agent() {
        let cases = [
            (Duration::from_secs(5), "5secs"),
            (Duration::from_secs(2), "2secs"),
            (Duration::from_secs(15 * 60), "15mins"),
            (Duration::from_secs(120), "2mins"),
            (Duration::from_secs(90), "90secs"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(10 * 86_400), "10days"),
            (Duration::from_secs(3 * 604_800), "3weeks"),
            // Only one unit down is tried, so odd values keep a fraction (as stout prints).
            (Duration::from_secs(3600 + 1), "1.00027777777778hrs"),
            (Duration::from_secs(3600 + 60), "61mins"),
            (Duration::from_nanos(1_000_000_100), "1.0000001secs"),
            (Duration::from_nanos(1_500), "1500ns"),
            (Duration::ZERO, "0ns"),
        ];
        for (duration, want) in cases {
            assert_eq!(format(duration), want, "{duration:?}");
        }
    }

    #[test]
    fn parses_what_agents_write_and_fractions() {
        let cases = [
            ("5secs", Duration::from_secs(5)),
            ("15mins", Duration::from_secs(900)),
            ("2secs", Duration::from_secs(2)),
            ("1.5secs", Duration::from_millis(1500)),
            ("250ms", Duration::from_millis(250)),
            ("3weeks", Duration::from_secs(3 * 604_800)),
            ("0ns", Duration::ZERO),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_malformed_durations() {
        for bad in [
            "",
            "5",
            "secs",
            "5sec",
            "5 secs",
            "-1secs",
            "+1secs",
            "1.2.3secs",
            "1e3secs",
            ".secs",
            "NaNsecs",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse("99999999999999weeks"),
            Err(DurationError::TooLarge("99999999999999weeks".into()))
        );
    }

    #[test]
    fn format_then_parse_gives_the_value_back() {
        for secs in [
            1u64, 59, 60, 61, 3599, 3600, 3601, 86_399, 86_400, 604_800, 1_000_000,
        ] {
            let d = Duration::from_secs(secs);
            let back = parse(&format(d)).unwrap();
            // 15 significant digits: exact for whole units, within a microsecond otherwise.
            assert!(
                back.abs_diff(d) < Duration::from_micros(1),
                "{secs}: {}",
                format(d)
            );
        }
    }
}
