//! Calendar dates, as groups write them.
//!
//! Stored and printed as ISO `YYYY-MM-DD`. Parsing also accepts the British
//! spreadsheet form `DD/MM/YYYY` (and `D/M/YYYY`), since that is what a UK
//! Excel or LibreOffice export writes. The crate has no clock: callers pass
//! "today" in.

use std::fmt;
use std::str::FromStr;

/// A date in the proleptic Gregorian calendar.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why text is not a date: the text (cut to 20 characters), and the date
/// it would be if it was written month first, as a US spreadsheet does.
#[derive(Debug, PartialEq, Eq)]
pub struct DateError(pub String, pub Option<Date>);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
            self.0
        )?;
        if let Some(d) = self.1 {
            write!(
                f,
                "; did you mean {:02}/{:02}/{:04}?",
                d.day, d.month, d.year
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for DateError {}

/// The earliest year a recorded date (joining, training, consent) may fall
/// in: a year such as 0001 is a typing slip, not a member's history.
pub const EARLIEST_YEAR: i32 = 1900;

/// Why a date cannot be the day something already happened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PastDateError {
    /// After tomorrow (a day's grace, for a clock behind the user's time zone).
    #[error("{0} is in the future (today is {1})")]
    Future(Date, Date),
    /// Before [`EARLIEST_YEAR`].
    #[error("{0} is before {EARLIEST_YEAR}")]
    TooEarly(Date),
}

impl Date {
    /// Whether this can be the date of something that has happened, as a
    /// device whose clock says `today` judges it. Applied where a user
    /// enters a date; a peer's dates are not judged by this device's clock.
    pub fn check_past(self, today: Date) -> Result<(), PastDateError> {
        if self.year < EARLIEST_YEAR {
            Err(PastDateError::TooEarly(self))
        } else if self > today.add_days(1) {
            Err(PastDateError::Future(self, today))
        } else {
            Ok(())
        }
    }
}

impl Date {
    /// A date, if it exists in the calendar.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        (day <= days_in_month(year, month)).then_some(Self { year, month, day })
    }

    /// The date `days` days after 1970-01-01 (negative for before).
    pub fn from_unix_days(days: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// Days since 1970-01-01.
    pub fn unix_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `n` days later (earlier if negative).
    pub fn add_days(self, n: i64) -> Self {
        Self::from_unix_days(self.unix_days() + n)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The calendar month this date falls in.
    pub fn month_of(self) -> Month {
        Month {
            year: self.year,
            month: self.month,
        }
    }
}

/// A calendar month, as `YYYY-MM`.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u8,
}

impl Month {
    /// The month `n` months later (earlier if negative).
    pub fn add_months(self, n: i64) -> Month {
        let index = i64::from(self.year) * 12 + i64::from(self.month - 1) + n;
        Month {
            year: index.div_euclid(12) as i32,
            month: (index.rem_euclid(12) + 1) as u8,
        }
    }

    /// Months from `self` to `later` (negative if `later` is earlier).
    pub fn months_until(self, later: Month) -> i64 {
        (i64::from(later.year) * 12 + i64::from(later.month))
            - (i64::from(self.year) * 12 + i64::from(self.month))
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Month {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DateError(s.chars().take(20).collect(), None);
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        Date::new(year, month, 1)
            .map(Date::month_of)
            .ok_or_else(bad)
    }
}

impl TryFrom<String> for Month {
    type Error = DateError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let cut: String = s.chars().take(20).collect();
        let err = || DateError(cut.clone(), None);
        let num = |p: &str, max_len: usize| -> Result<u32, DateError> {
            if p.is_empty() || p.len() > max_len || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            p.parse().map_err(|_| err())
        };
        let (y, m, d) = if let [y, m, d] = t.split('-').collect::<Vec<_>>()[..] {
            if y.len() != 4 {
                return Err(err());
            }
            (num(y, 4)?, num(m, 2)?, num(d, 2)?)
        } else if let [d, m, y] = t.split('/').collect::<Vec<_>>()[..] {
            if y.len() != 4 {
                return Err(err());
            }
            let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
            if m > 12 && d <= 12 {
                // 12/31/2020: month first, as a US spreadsheet writes it.
                let swapped = i32::try_from(y)
                    .ok()
                    .zip(u8::try_from(d).ok())
                    .zip(u8::try_from(m).ok())
                    .and_then(|((y, d), m)| Date::new(y, d, m));
                return Err(DateError(cut.clone(), swapped));
            }
            (y, m, d)
        } else {
            return Err(err());
        };
        let (Ok(y), Ok(m), Ok(d)) = (i32::try_from(y), u8::try_from(m), u8::try_from(d)) else {
            return Err(err());
        };
        Date::new(y, m, d).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl TryFrom<String> for Date {
    type Error = DateError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_iso_and_british_forms() {
        let d = Date::new(2019, 3, 7).expect("valid");
        assert_eq!("2019-03-07".parse(), Ok(d));
        assert_eq!("07/03/2019".parse(), Ok(d));
        assert_eq!("7/3/2019".parse(), Ok(d));
        assert_eq!(" 2019-03-07 ".parse(), Ok(d));
        assert_eq!(d.to_string(), "2019-03-07");
    }

    #[test]
    fn rejects_impossible_and_malformed_dates() {
        for bad in [
            "2019-02-29",
            "2019-13-01",
            "2019-00-10",
            "31/04/2020",
            "2019/03/07",
            "19-03-07",
            "next tuesday",
            "",
            "2019-3",
            "+201-03-07",
            "2019-03-07-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad} parsed");
        }
        assert!("2020-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn a_us_style_date_suggests_the_british_form() {
        let e = "12/31/2020".parse::<Date>().expect_err("month 31");
        assert_eq!(e.1, Date::new(2020, 12, 31));
        assert!(e.to_string().ends_with("did you mean 31/12/2020?"), "{e}");
        // No suggestion when swapping does not make a date either.
        let e = "02/30/2020".parse::<Date>().expect_err("month 30");
        assert_eq!(e.1, None, "{e}");
        assert!(!e.to_string().contains("did you mean"), "{e}");
        // Nor when the date is only impossible, not month first.
        assert_eq!("31/02/2020".parse::<Date>().map_err(|e| e.1), Err(None));
        // A long input is cut in the message.
        let long = format!("{}/01/2020", "9".repeat(40));
        let e = long.parse::<Date>().expect_err("long");
        assert!(e.to_string().len() < 90, "{e}");
    }

    #[test]
    fn a_past_date_is_not_after_tomorrow_nor_before_1900() {
        let today = Date::new(2026, 12, 3).expect("valid");
        assert_eq!(today.check_past(today), Ok(()));
        assert_eq!(today.add_days(1).check_past(today), Ok(()));
        assert_eq!(
            today.add_days(2).check_past(today),
            Err(PastDateError::Future(today.add_days(2), today))
        );
        let first = Date::new(1, 1, 1).expect("valid");
        assert_eq!(first.check_past(today), Err(PastDateError::TooEarly(first)));
        assert!(
            first
                .check_past(today)
                .expect_err("early")
                .to_string()
                .contains("before 1900")
        );
        assert_eq!(
            Date::new(1900, 1, 1).expect("valid").check_past(today),
            Ok(())
        );
        assert!(
            Date::new(1899, 12, 31)
                .expect("valid")
                .check_past(today)
                .is_err()
        );
    }

    #[test]
    fn unix_days_known_values() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::new(2000, 3, 1).map(Date::unix_days), Some(11_017));
    }

    proptest! {
        #[test]
        fn unix_days_round_trip(days in -700_000i64..2_900_000) {
            let d = Date::from_unix_days(days);
            prop_assert_eq!(d.unix_days(), days);
            prop_assert_eq!(d.to_string().parse::<Date>(), Ok(d));
        }
    }
}
