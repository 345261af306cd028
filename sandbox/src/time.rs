//! Dates, ISO 8601 durations and ids, without a date-time crate: the sandbox needs only UTC
//! timestamps in Twilio's `2015-12-16T22:18:37Z` form, X's millisecond epochs and Discord's
//! `2015-12-16T22:18:37.042000+00:00`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

pub fn now_secs() -> u64 {
    now_millis() / 1000
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time in seconds.
pub fn iso8601(epoch_secs: u64) -> String {
    let t = flex_bridge::calendar::UtcDateTime::from_epoch(epoch_secs as i64);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

pub fn now_iso() -> String {
    iso8601(now_secs())
}

/// Whether `s` is an RFC 3339 date-time (`format: date-time` in the OpenAPI specs):
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
pub fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Seconds in an ISO 8601 duration such as `PT24H` or `P1DT30M` (Twilio's `Timers.*`).
/// Years and months count as 365 and 30 days: timers only need an approximate date.
pub fn parse_duration(s: &str) -> Option<u64> {
    let body = s.strip_prefix('P')?;
    if body.is_empty() {
        return None;
    }
    let (date, time) = match body.split_once('T') {
        Some((_, "")) => return None,
        Some((date, time)) => (date, time),
        None => (body, ""),
    };
    let units = |part: &str, table: &[(char, u64)]| -> Option<u64> {
        let mut total = 0u64;
        let mut number = String::new();
        let mut allowed = table.iter();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            // Units must come in order and each at most once.
            let (_, secs) = allowed.by_ref().find(|(unit, _)| *unit == c)?;
            let n: u64 = number.parse().ok()?;
            total = total.checked_add(n.checked_mul(*secs)?)?;
            number.clear();
        }
        number.is_empty().then_some(total)
    };
    let day = 86_400;
    let date_secs = units(
        date,
        &[
            ('Y', 365 * day),
            ('M', 30 * day),
            ('W', 7 * day),
            ('D', day),
        ],
    )?;
    let time_secs = units(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    Some(date_secs + time_secs)
}

/// A Twilio SID: two-letter prefix and 32 lowercase hex digits.
pub fn sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A fresh X-style numeric id: a snowflake (milliseconds since X's epoch, shifted) plus a
/// process-wide sequence, so ids are unique, increasing and the usual 19 digits.
pub fn snowflake() -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    const X_EPOCH_MS: u64 = 1_288_834_974_657;
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0x3F_FFFF;
    (((now_millis().saturating_sub(X_EPOCH_MS)) << 22) | seq).to_string()
}

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds, from the Discord docs
/// ("Snowflakes", reference.mdx).
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A fresh Discord snowflake: milliseconds since Discord's epoch shifted by 22 bits, plus a
/// process-wide sequence, so ids are unique, increasing and 18 to 19 digits like real ones.
pub fn discord_snowflake() -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0x3F_FFFF;
    (((now_millis().saturating_sub(DISCORD_EPOCH_MS)) << 22) | seq).to_string()
}

/// Discord's timestamp form, `2026-08-06T10:15:02.113000+00:00`, for a Unix time in ms.
pub fn discord_timestamp(epoch_millis: u64) -> String {
    let iso = iso8601(epoch_millis / 1000);
    format!(
        "{}.{:03}000+00:00",
        iso.trim_end_matches('Z'),
        epoch_millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_450_304_317), "2015-12-16T22:18:37Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn checks_datetimes() {
        assert!(is_datetime("2015-12-16T22:18:37Z"));
        assert!(is_datetime("2015-12-16T22:18:37.123+01:00"));
        assert!(!is_datetime("2015-12-16 22:18:37"));
        assert!(!is_datetime("yesterday"));
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("PT24H"), Some(86_400));
        assert_eq!(parse_duration("P1DT30M"), Some(88_200));
        assert_eq!(parse_duration("PT10M"), Some(600));
        assert_eq!(parse_duration("P2W"), Some(1_209_600));
        for bad in ["", "P", "PT", "24H", "PT1H2H", "PTH", "P1H", "PT5"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn ids_look_like_the_real_ones() {
        let a = snowflake();
        let b = snowflake();
        assert!(a.len() >= 18 && a.bytes().all(|c| c.is_ascii_digit()));
        assert!(b.parse::<u64>().unwrap() > a.parse::<u64>().unwrap());
        let d = discord_snowflake();
        assert!((18..=19).contains(&d.len()) && d.bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(
            discord_timestamp(1_450_304_317_042),
            "2015-12-16T22:18:37.042000+00:00"
        );
        assert!(is_datetime(&discord_timestamp(now_millis())));
        let s = sid("CH");
        assert_eq!(s.len(), 34);
        assert!(s[2..].bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
