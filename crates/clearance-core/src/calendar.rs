//! The SLA clock, counted in business days (weekends and holidays excluded).

use jiff::Timestamp;
use jiff::civil::Date;

/// Which days count: Monday to Friday, except the listed holidays (UTC dates).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessCalendar {
    /// Sorted, without duplicates.
    holidays: Vec<Date>,
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
        BusinessCalendar { holidays }
    }

    /// The holidays, sorted.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// Whether `date` is a business day.
    pub fn is_business_day(&self, date: Date) -> bool {
        let _ = date;
        todo!("helper implements")
    }

    /// Business days strictly after `from`'s date up to and including `to`'s date (UTC).
    pub fn business_days_between(&self, from: Timestamp, to: Timestamp) -> u32 {
        let _ = (from, to);
        todo!("helper implements")
    }

    /// The date `days` business days after `from`'s date (UTC).
    pub fn add_business_days(&self, from: Timestamp, days: u32) -> Date {
        let _ = (from, days);
        todo!("helper implements")
    }

    /// The SLA of a round submitted at `submitted` and allowed `sla_days`, at `now`.
    pub fn sla(&self, submitted: Timestamp, sla_days: u32, now: Timestamp) -> SlaStatus {
        let _ = (submitted, sla_days, now);
        todo!("helper implements")
    }
}
