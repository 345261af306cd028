//! UTC calendar arithmetic for the few dates the bridge, its CLI and the sandbox print and read
//! (Howard Hinnant's `civil_from_days` / `days_from_civil`, proleptic Gregorian): no date-time
//! crate is linked into the functions for it.

/// A UTC date and time to the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcDateTime {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl UtcDateTime {
    pub fn from_epoch(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Self {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day: doy - (153 * mp + 2) / 5 + 1,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
        }
    }

    /// Unix seconds; `None` unless it is a real date (month lengths, leap years) and time (a
    /// leap second's 60 allowed).
    pub fn to_epoch(&self) -> Option<i64> {
        let Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = *self;
        let valid = (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && (0..24).contains(&hour)
            && (0..60).contains(&minute)
            && (0..=60).contains(&second);
        if !valid {
            return None;
        }
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + hour * 3600 + minute * 60 + second)
    }

    /// `2026-12-03 20:57`
    pub fn to_minute(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_and_dates_round_trip() {
        let t = UtcDateTime::from_epoch(1_717_245_059);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.second),
            (2024, 6, 1, 12, 30, 59)
        );
        assert_eq!(t.to_minute(), "2024-06-01 12:30");
        for secs in [0, 951_782_400, 1_709_251_199, 4_102_444_800, -86_400] {
            assert_eq!(
                UtcDateTime::from_epoch(secs).to_epoch(),
                Some(secs),
                "{secs}"
            );
        }
        let date = |year, month, day| UtcDateTime {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert!(date(2024, 2, 29).to_epoch().is_some());
        assert!(date(2000, 2, 29).to_epoch().is_some());
        for (y, m, d) in [
            (2023, 2, 29),
            (1900, 2, 29),
            (2024, 13, 1),
            (2024, 4, 31),
            (2024, 1, 0),
        ] {
            assert_eq!(date(y, m, d).to_epoch(), None, "{y}-{m}-{d}");
        }
    }
}
