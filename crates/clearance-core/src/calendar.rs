//! The SLA clock, counted in business days (weekends and holidays excluded).
//!
//! # Convention
//!
//! Dates are UTC calendar dates of the timestamps given. A business day is a
//! Monday to Friday that is not a listed holiday.
//!
//! - The day of submission never counts. The first business day *after* it is
//!   business day 1: a round submitted on a Thursday has Friday as day 1 and
//!   the following Monday as day 2.
//! - A business day counts as elapsed as soon as it begins (UTC midnight), so
//!   "elapsed at `now`" counts the business days strictly after the submission
//!   date up to and including `now`'s date.
//! - A round with an SLA of `n` business days is **due** on the `n`th business
//!   day after submission, and **overdue** once more than `n` business days have
//!   elapsed, that is from the start of the first business day after the due
//!   date. On the due date itself it is not overdue.
//!
//! Example: submitted Thursday 2026-11-12 with an SLA of 5: due Thursday
//! 2026-11-19; on 2026-11-19 elapsed is 5 (not overdue); on Friday 2026-11-20
//! elapsed is 6 (overdue).
//!
//! ```
//! use clearance_core::calendar::BusinessCalendar;
//! use jiff::civil::date;
//!
//! let calendar = BusinessCalendar::new([]);
//! let submitted = "2026-11-12T09:00:00Z".parse().unwrap();
//! let sla = calendar.sla(submitted, 5, "2026-11-20T08:00:00Z".parse().unwrap());
//! assert_eq!(sla.due, date(2026, 11, 19));
//! assert_eq!(sla.elapsed, 6);
//! assert!(sla.overdue);
//! ```
//!
//! Counting is arithmetic over whole weeks plus a binary search of the sorted
//! holidays, so it costs the same for a span of a day or of a century.

use jiff::Timestamp;
use jiff::civil::Date;

/// Which days count: Monday to Friday, except the listed holidays (UTC dates).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessCalendar {
    /// Sorted, without duplicates.
    holidays: Vec<Date>,
    /// The holidays that fall on a weekday (the only ones that change a count),
    /// as day numbers (see [`day_number`]), sorted, without duplicates.
    weekday_holidays: Vec<i64>,
}

/// Where an SLA stands at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlaStatus {
    /// Business days elapsed since submission (the submission day does not count).
    pub elapsed: u32,
    /// The date by which it is due (the SLA's last business day).
    pub due: Date,
    /// More business days have elapsed than the SLA allows.
    pub overdue: bool,
}

impl BusinessCalendar {
    /// A calendar with these holidays (any order, duplicates allowed).
    pub fn new(holidays: impl IntoIterator<Item = Date>) -> Self {
        let mut holidays: Vec<Date> = holidays.into_iter().collect();
        holidays.sort();
        holidays.dedup();
        // `holidays` is sorted and day numbers are monotonic in the date, so
        // this list is sorted too.
        let weekday_holidays = holidays
            .iter()
            .map(|&d| day_number(d))
            .filter(|&n| is_weekday(n))
            .collect();
        BusinessCalendar {
            holidays,
            weekday_holidays,
        }
    }

    /// The holidays, sorted.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// Whether `date` is a business day.
    pub fn is_business_day(&self, date: Date) -> bool {
        let n = day_number(date);
        is_weekday(n) && self.weekday_holidays.binary_search(&n).is_err()
    }

    /// Business days strictly after `from`'s date up to and including `to`'s date (UTC).
    ///
    /// Zero when `to`'s date is not after `from`'s.
    pub fn business_days_between(&self, from: Timestamp, to: Timestamp) -> u32 {
        let (a, b) = (timestamp_day(from), timestamp_day(to));
        if b <= a {
            return 0;
        }
        let count = weekdays_before(b + 1) - weekdays_before(a + 1) - self.holidays_in(a, b);
        // A span of 2^32 business days is far past jiff's year 9999.
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The date `days` business days after `from`'s date (UTC): the `days`th
    /// business day strictly after it. With `days == 0`, `from`'s own date.
    ///
    /// Saturates at the last date jiff can represent.
    pub fn add_business_days(&self, from: Timestamp, days: u32) -> Date {
        let mut current = timestamp_day(from);
        let mut remaining = i64::from(days);
        // Jump over `remaining` weekdays; every weekday holiday jumped over is
        // owed again after the landing day. Each round moves past at least one
        // holiday, so this ends after at most (holidays in the span + 1) rounds.
        while remaining > 0 {
            let landing = nth_weekday_after(current, remaining);
            remaining = self.holidays_in(current, landing);
            current = landing;
        }
        date_from_day_number(current)
    }

    /// The latest moment a whole number of days before `now` (same time of
    /// day) that lies `days` business days before it: how journeys and the
    /// demo place "8 business days ago". Always at least one day before `now`.
    pub fn business_days_before(&self, now: Timestamp, days: u32) -> Timestamp {
        let mut back = 0i64;
        loop {
            back += 1;
            let at = now - jiff::SignedDuration::from_hours(24 * back);
            if self.business_days_between(at, now) >= days {
                return at;
            }
        }
    }

    /// The SLA of a round submitted at `submitted` and allowed `sla_days`, at `now`.
    pub fn sla(&self, submitted: Timestamp, sla_days: u32, now: Timestamp) -> SlaStatus {
        let elapsed = self.business_days_between(submitted, now);
        SlaStatus {
            elapsed,
            due: self.add_business_days(submitted, sla_days),
            overdue: elapsed > sla_days,
        }
    }

    /// Weekday holidays with a day number in `(after, upto]`.
    fn holidays_in(&self, after: i64, upto: i64) -> i64 {
        let hi = self.weekday_holidays.partition_point(|&h| h <= upto);
        let lo = self.weekday_holidays.partition_point(|&h| h <= after);
        // Both are indices into a Vec, far below i64::MAX.
        (hi - lo) as i64
    }
}

/// Days since Monday 1969-12-29 (the Monday before the Unix epoch), so that
/// `n.rem_euclid(7)` is 0 on Mondays and 5, 6 on weekends.
fn day_number(date: Date) -> i64 {
    // Howard Hinnant's days_from_civil, shifted from 1970-01-01 (a Thursday).
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + 3
}

/// The inverse of [`day_number`], saturating at jiff's date range.
fn date_from_day_number(n: i64) -> Date {
    let z = n - 3 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if y > i64::from(Date::MAX.year()) {
        return Date::MAX;
    }
    if y < i64::from(Date::MIN.year()) {
        return Date::MIN;
    }
    // y is inside jiff's range (checked above) and m, d come from a valid
    // civil date, so the narrowing and the constructor cannot fail.
    Date::new(y as i16, m as i8, d as i8).expect("a civil date inside jiff's range")
}

/// The UTC date of a timestamp, as a day number.
fn timestamp_day(at: Timestamp) -> i64 {
    at.as_second().div_euclid(86_400) + 3
}

/// Monday to Friday.
fn is_weekday(n: i64) -> bool {
    n.rem_euclid(7) < 5
}

/// Weekdays among the days numbered `0..x` (negative when `x < 0`, so that
/// differences count any span).
fn weekdays_before(x: i64) -> i64 {
    5 * x.div_euclid(7) + x.rem_euclid(7).min(5)
}

/// The `k`th weekday (k ≥ 1) strictly after day `n`.
fn nth_weekday_after(n: i64, k: i64) -> i64 {
    // The smallest x with weekdays_before(x) >= target is x = 7q + r with
    // q, r from target - 1 = 5q + (r - 1); that weekday is x - 1.
    let target = weekdays_before(n + 1) + k - 1;
    7 * target.div_euclid(5) + target.rem_euclid(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;
    use jiff::civil::{Weekday, date};
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("test timestamp")
    }

    fn noon(d: Date) -> Timestamp {
        jiff::tz::Offset::UTC
            .to_timestamp(d.at(12, 0, 0, 0))
            .expect("in range")
    }

    /// The obviously-correct day-by-day versions the fast ones must match.
    fn naive_between(calendar: &BusinessCalendar, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.tomorrow().expect("in range");
            if naive_is_business_day(calendar, day) {
                count += 1;
            }
        }
        count
    }

    fn naive_add(calendar: &BusinessCalendar, from: Date, days: u32) -> Date {
        let mut day = from;
        let mut left = days;
        while left > 0 {
            day = day.tomorrow().expect("in range");
            if naive_is_business_day(calendar, day) {
                left -= 1;
            }
        }
        day
    }

    fn naive_is_business_day(calendar: &BusinessCalendar, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !calendar.holidays().contains(&day)
    }

    #[test]
    fn day_numbers_start_on_a_monday_and_round_trip() {
        assert_eq!(day_number(date(1969, 12, 29)), 0);
        assert_eq!(day_number(date(1970, 1, 1)), 3);
        assert_eq!(timestamp_day(at("1970-01-01T23:59:59Z")), 3);
        assert_eq!(timestamp_day(at("1969-12-31T23:59:59Z")), 2);
        for d in [date(2000, 2, 29), date(2026, 11, 12), date(1900, 3, 1)] {
            assert_eq!(date_from_day_number(day_number(d)), d);
        }
    }

    #[test]
    fn thursday_submission_has_friday_as_day_one() {
        let calendar = BusinessCalendar::new([]);
        let thursday = at("2026-11-12T09:00:00Z");
        assert_eq!(calendar.add_business_days(thursday, 1), date(2026, 11, 13));
        assert_eq!(calendar.add_business_days(thursday, 2), date(2026, 11, 16));
        assert_eq!(calendar.add_business_days(thursday, 5), date(2026, 11, 19));
        assert_eq!(calendar.add_business_days(thursday, 0), date(2026, 11, 12));
    }

    #[test]
    fn the_submission_day_and_the_weekend_do_not_count() {
        let calendar = BusinessCalendar::new([]);
        let thursday = at("2026-11-12T09:00:00Z");
        assert_eq!(
            calendar.business_days_between(thursday, at("2026-11-12T23:00:00Z")),
            0
        );
        assert_eq!(
            calendar.business_days_between(thursday, at("2026-11-13T00:00:00Z")),
            1
        );
        // Saturday and Sunday add nothing.
        assert_eq!(
            calendar.business_days_between(thursday, at("2026-11-15T18:00:00Z")),
            1
        );
        assert_eq!(
            calendar.business_days_between(thursday, at("2026-11-16T00:00:00Z")),
            2
        );
    }

    #[test]
    fn a_backwards_span_counts_zero() {
        let calendar = BusinessCalendar::new([]);
        assert_eq!(
            calendar.business_days_between(at("2026-11-20T00:00:00Z"), at("2026-11-10T00:00:00Z")),
            0
        );
    }

    #[test]
    fn weekend_submission_starts_counting_on_monday() {
        let calendar = BusinessCalendar::new([]);
        let saturday = at("2026-11-14T10:00:00Z");
        assert_eq!(calendar.add_business_days(saturday, 1), date(2026, 11, 16));
        assert_eq!(calendar.add_business_days(saturday, 5), date(2026, 11, 20));
    }

    #[test]
    fn holidays_do_not_count_and_push_the_due_date() {
        // Thanksgiving 2026 is Thursday 26 November; the Friday after too.
        let calendar = BusinessCalendar::new([date(2026, 11, 27), date(2026, 11, 26)]);
        let monday = at("2026-11-23T09:00:00Z");
        // Tue 24, Wed 25, (Thu, Fri holidays), Mon 30, Tue 1, Wed 2.
        assert_eq!(calendar.add_business_days(monday, 5), date(2026, 12, 2));
        assert_eq!(
            calendar.business_days_between(monday, at("2026-11-30T09:00:00Z")),
            3
        );
        assert!(!calendar.is_business_day(date(2026, 11, 26)));
        assert!(calendar.is_business_day(date(2026, 11, 25)));
    }

    #[test]
    fn a_holiday_on_a_weekend_changes_nothing() {
        let with = BusinessCalendar::new([date(2026, 11, 14)]);
        let without = BusinessCalendar::new([]);
        let from = at("2026-11-12T09:00:00Z");
        let to = at("2026-11-30T09:00:00Z");
        assert_eq!(
            with.business_days_between(from, to),
            without.business_days_between(from, to)
        );
        assert_eq!(with.holidays(), &[date(2026, 11, 14)]);
    }

    #[test]
    fn a_holiday_on_the_landing_day_moves_it_to_the_next_business_day() {
        // Friday 2026-11-20 is day 6 for a Thursday submission; make Monday a holiday.
        let calendar = BusinessCalendar::new([date(2026, 11, 16)]);
        let thursday = at("2026-11-12T09:00:00Z");
        assert_eq!(calendar.add_business_days(thursday, 2), date(2026, 11, 17));
    }

    #[test]
    fn the_year_end_is_counted_across() {
        // Christmas (Fri 25 Dec 2026) and New Year's Day (Fri 1 Jan 2027).
        let calendar = BusinessCalendar::new([date(2026, 12, 25), date(2027, 1, 1)]);
        let submitted = at("2026-12-23T16:00:00Z"); // Wednesday
        // Thu 24, Mon 28, Tue 29, Wed 30, Thu 31.
        assert_eq!(calendar.add_business_days(submitted, 5), date(2026, 12, 31));
        // ... Mon 4 Jan is day 6.
        assert_eq!(calendar.add_business_days(submitted, 6), date(2027, 1, 4));
        assert_eq!(
            calendar.business_days_between(submitted, at("2027-01-04T00:00:00Z")),
            6
        );
    }

    #[test]
    fn sla_is_not_overdue_on_its_due_date_and_overdue_the_next_business_day() {
        let calendar = BusinessCalendar::new([]);
        let submitted = at("2026-11-12T09:00:00Z");
        let on_due = calendar.sla(submitted, 5, at("2026-11-19T23:59:59Z"));
        assert_eq!(
            on_due,
            SlaStatus {
                elapsed: 5,
                due: date(2026, 11, 19),
                overdue: false
            }
        );
        let next = calendar.sla(submitted, 5, at("2026-11-20T00:00:00Z"));
        assert_eq!(next.elapsed, 6);
        assert!(next.overdue);
    }

    #[test]
    fn the_seeds_case_is_overdue() {
        // The issue's scenario: submitted 2026-11-12, checked 2026-11-24.
        let calendar = BusinessCalendar::new([]);
        let sla = calendar.sla(at("2026-11-12T09:00:00Z"), 5, at("2026-11-24T10:00:00Z"));
        assert_eq!(sla.elapsed, 8);
        assert_eq!(sla.due, date(2026, 11, 19));
        assert!(sla.overdue);
    }

    #[test]
    fn a_due_date_on_a_friday_is_not_overdue_over_the_weekend() {
        let calendar = BusinessCalendar::new([]);
        // Friday submission: due the next Friday; Saturday after is still day 5.
        let sla = calendar.sla(at("2026-11-13T09:00:00Z"), 5, at("2026-11-21T09:00:00Z"));
        assert_eq!(sla.due, date(2026, 11, 20));
        assert_eq!(sla.elapsed, 5);
        assert!(!sla.overdue);
    }

    #[test]
    fn huge_spans_saturate_instead_of_overflowing() {
        let calendar = BusinessCalendar::new([]);
        assert_eq!(
            calendar.add_business_days(at("2026-01-01T00:00:00Z"), u32::MAX),
            Date::MAX
        );
    }

    fn arb_date() -> impl Strategy<Value = Date> {
        // 2020-01-01 plus up to ~8 years.
        (0i64..2_900).prop_map(|offset| date(2020, 1, 1).checked_add(offset.days()).unwrap())
    }

    fn arb_calendar() -> impl Strategy<Value = BusinessCalendar> {
        prop::collection::vec(arb_date(), 0..60).prop_map(BusinessCalendar::new)
    }

    proptest! {
        #[test]
        fn day_numbers_agree_with_jiff(d in arb_date(), offset in -100_000i64..100_000) {
            let other = d.checked_add(offset.days()).unwrap();
            prop_assert_eq!(day_number(other) - day_number(d), offset);
            prop_assert_eq!(date_from_day_number(day_number(other)), other);
            prop_assert_eq!(is_weekday(day_number(other)),
                !matches!(other.weekday(), Weekday::Saturday | Weekday::Sunday));
        }

        #[test]
        fn business_days_between_matches_a_day_by_day_count(
            calendar in arb_calendar(),
            from in arb_date(),
            to in arb_date(),
        ) {
            prop_assert_eq!(
                calendar.business_days_between(noon(from), noon(to)),
                naive_between(&calendar, from, to)
            );
        }

        #[test]
        fn add_business_days_matches_a_day_by_day_walk(
            calendar in arb_calendar(),
            from in arb_date(),
            days in 0u32..600,
        ) {
            let fast = calendar.add_business_days(noon(from), days);
            prop_assert_eq!(fast, naive_add(&calendar, from, days));
            // And the two functions agree with each other.
            prop_assert_eq!(calendar.business_days_between(noon(from), noon(fast)), days);
        }

        #[test]
        fn clustered_holidays_are_jumped_over_like_a_day_by_day_walk(
            from in arb_date(),
            offsets in prop::collection::vec(0i64..90, 0..60),
            days in 0u32..40,
        ) {
            // Dense runs of holidays right after the start exercise the
            // repeated jumps of `add_business_days`.
            let calendar = BusinessCalendar::new(
                offsets.iter().map(|&o| from.checked_add(o.days()).unwrap()),
            );
            let fast = calendar.add_business_days(noon(from), days);
            prop_assert_eq!(fast, naive_add(&calendar, from, days));
            prop_assert_eq!(
                calendar.business_days_between(noon(from), noon(fast)),
                naive_between(&calendar, from, fast)
            );
        }

        #[test]
        fn is_business_day_matches_the_naive_rule(calendar in arb_calendar(), day in arb_date()) {
            prop_assert_eq!(calendar.is_business_day(day), naive_is_business_day(&calendar, day));
        }

        #[test]
        fn overdue_exactly_when_now_is_past_the_due_date_on_a_business_day(
            calendar in arb_calendar(),
            from in arb_date(),
            to in arb_date(),
            sla_days in 0u32..20,
        ) {
            let sla = calendar.sla(noon(from), sla_days, noon(to));
            prop_assert_eq!(sla.elapsed, naive_between(&calendar, from, to));
            prop_assert_eq!(sla.overdue, sla.elapsed > sla_days);
            // Overdue means a business day after the due date has begun.
            prop_assert_eq!(sla.overdue, to > sla.due && naive_between(&calendar, sla.due, to) > 0);
        }
    }
}
