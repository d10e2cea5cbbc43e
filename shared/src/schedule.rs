//! The owner's publishing schedule, as pure computation: her time zone, the weekdays and
//! times of her posting slots, and how many posts a day at most. Approved posts go out one
//! per slot instead of all at once, so her network does not see a flood and LinkedIn's
//! spam checks do not see a bot. Slots are local times: 9:00 in Paris is 8:00 UTC in
//! winter and 7:00 UTC in summer, and the tz database (`chrono-tz`) says which.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// LinkedIn's own limit per member and day: no schedule may ask for more.
pub const LINKEDIN_DAILY_CAP: u16 = 100;
/// How far ahead a free slot is looked for: a schedule full for a year is a mistake.
const HORIZON_DAYS: i64 = 366;

/// The schedule as the owner sets it and the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleSpec {
    /// IANA time zone name, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// ISO weekdays: 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Local times of day, `HH:MM` (24 h).
    pub times: Vec<String>,
    /// At most this many posts a day (1–100; LinkedIn allows 100 a day per member).
    pub per_day: u16,
    /// Publish each post as soon as it is approved, without slots.
    #[serde(default)]
    pub immediate: bool,
}

/// A checked schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub time_zone: Tz,
    /// ISO weekday numbers, sorted, distinct.
    pub days: Vec<u8>,
    /// Minutes after local midnight, sorted, distinct.
    pub times: Vec<u16>,
    pub per_day: u16,
    pub immediate: bool,
}

impl Default for Schedule {
    /// Tuesday to Thursday at 9:00 and 14:00, Paris time, two a day: when business owners
    /// read LinkedIn, and few enough not to tire their network.
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Europe::Paris,
            days: vec![2, 3, 4],
            times: vec![9 * 60, 14 * 60],
            per_day: 2,
            immediate: false,
        }
    }
}

impl Schedule {
    /// Checks what the owner sent; the message says what is wrong, for a 400.
    pub fn from_spec(spec: &ScheduleSpec) -> Result<Self, Error> {
        let time_zone = parse_time_zone(&spec.time_zone)?;
        if spec.days.is_empty() {
            return Err(Error::Invalid(
                "days: choose at least one day of the week".into(),
            ));
        }
        if let Some(d) = spec.days.iter().find(|d| !(1..=7).contains(*d)) {
            return Err(Error::Invalid(format!(
                "days: {d} is not a day of the week (1 = Monday … 7 = Sunday)"
            )));
        }
        if spec.times.is_empty() {
            return Err(Error::Invalid("times: choose at least one time".into()));
        }
        if spec.times.len() > 24 {
            return Err(Error::Invalid("times: at most 24 times a day".into()));
        }
        let mut times = spec
            .times
            .iter()
            .map(|t| parse_time(t))
            .collect::<Result<Vec<_>, _>>()?;
        times.sort_unstable();
        times.dedup();
        if spec.per_day == 0 || spec.per_day > LINKEDIN_DAILY_CAP {
            return Err(Error::Invalid(format!(
                "per_day: {} is out of range: between 1 and {LINKEDIN_DAILY_CAP} posts a day \
                 (LinkedIn's limit per member)",
                spec.per_day
            )));
        }
        let mut days = spec.days.clone();
        days.sort_unstable();
        days.dedup();
        Ok(Self {
            time_zone,
            days,
            times,
            per_day: spec.per_day,
            immediate: spec.immediate,
        })
    }

    pub fn spec(&self) -> ScheduleSpec {
        ScheduleSpec {
            time_zone: self.time_zone.name().to_owned(),
            days: self.days.clone(),
            times: self.times.iter().map(|m| format_time(*m)).collect(),
            per_day: self.per_day,
            immediate: self.immediate,
        }
    }

    /// The local date of an instant in the owner's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The slot instants of a local date, in order (none on a day without slots).
    pub fn slots_on(&self, date: NaiveDate) -> Vec<DateTime<Utc>> {
        let weekday = date.weekday().number_from_monday() as u8;
        if !self.days.contains(&weekday) {
            return Vec::new();
        }
        // A time skipped at the end of a day (a zone that changes at midnight) moves into
        // the next day, which has its own slots: it is not one of this day's.
        let mut out: Vec<DateTime<Utc>> = self
            .times
            .iter()
            .filter_map(|m| self.instant(date, *m))
            .filter(|t| self.local_date(*t) == date)
            .collect();
        // A time inside a spring-forward gap moves an hour on (2:30 → 3:30), past the times
        // after it in the gap's hour (3:00) and onto another slot's instant (3:30): sorted,
        // then each instant once, the slots come strictly in order.
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The instant of a local date and time. A time the clocks skip (the spring change)
    /// is taken an hour later, as a wall clock would show it; a time that happens twice
    /// (the autumn change) is its first occurrence.
    fn instant(&self, date: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
        let time = NaiveTime::from_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)?;
        let local = date.and_time(time);
        let resolved = match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t),
            LocalResult::Ambiguous(first, _) => Some(first),
            LocalResult::None => self
                .time_zone
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest(),
        };
        resolved.map(|t| t.with_timezone(&Utc))
    }

    /// Slot instants strictly after `after`, in order, up to a year ahead.
    pub fn slots_after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let first = self.local_date(after);
        (0..HORIZON_DAYS)
            .filter_map(move |n| first.checked_add_signed(Duration::days(n)))
            .flat_map(move |date| self.slots_on(date))
            .filter(move |t| *t > after)
    }

    /// Whether `at` is one of the schedule's slots.
    pub fn is_slot(&self, at: DateTime<Utc>) -> bool {
        self.slots_on(self.local_date(at)).contains(&at)
    }

    /// The first slot after `after` that `taken` leaves free: no other post in it, and
    /// fewer than `per_day` posts on its local day.
    pub fn next_free(&self, after: DateTime<Utc>, taken: &Taken) -> Option<DateTime<Utc>> {
        self.slots_after(after).find(|t| taken.is_free(self, *t))
    }
}

/// The posts already placed: their instants, and how many fall on each local day.
#[derive(Debug, Clone, Default)]
pub struct Taken {
    at: HashSet<DateTime<Utc>>,
    per_day: HashMap<NaiveDate, u16>,
}

impl Taken {
    pub fn new(schedule: &Schedule, instants: impl IntoIterator<Item = DateTime<Utc>>) -> Self {
        let mut taken = Self::default();
        for t in instants {
            taken.add(schedule, t);
        }
        taken
    }

    pub fn add(&mut self, schedule: &Schedule, at: DateTime<Utc>) {
        self.at.insert(at);
        *self.per_day.entry(schedule.local_date(at)).or_default() += 1;
    }

    pub fn is_free(&self, schedule: &Schedule, at: DateTime<Utc>) -> bool {
        !self.at.contains(&at)
            && self
                .per_day
                .get(&schedule.local_date(at))
                .copied()
                .unwrap_or(0)
                < schedule.per_day
    }
}

pub fn parse_time_zone(name: &str) -> Result<Tz, Error> {
    name.trim().parse::<Tz>().map_err(|_| {
        Error::Invalid(format!(
            "time_zone: {name:?} is not an IANA time zone name (like Europe/Paris)"
        ))
    })
}

/// `HH:MM` (or `H:MM`) to minutes after midnight.
pub fn parse_time(text: &str) -> Result<u16, Error> {
    let bad = || Error::Invalid(format!("times: {text:?} is not a time of day like 09:00"));
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

pub fn format_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::Offset;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule(tz: &str, days: &[u8], times: &[&str], per_day: u16) -> Schedule {
        Schedule::from_spec(&ScheduleSpec {
            time_zone: tz.into(),
            days: days.to_vec(),
            times: times.iter().map(|t| (*t).to_owned()).collect(),
            per_day,
            immediate: false,
        })
        .unwrap()
    }

    #[test]
    fn paris_nine_o_clock_follows_both_changes() {
        // Daily 9:00 around the 2026 changes: 29 March (UTC+1 → +2), 25 October (+2 → +1).
        let s = schedule("Europe/Paris", &[1, 2, 3, 4, 5, 6, 7], &["09:00"], 1);
        let march: Vec<_> = s.slots_after(utc("2026-03-28T00:00:00Z")).take(2).collect();
        assert_eq!(
            march,
            [utc("2026-03-28T08:00:00Z"), utc("2026-03-29T07:00:00Z")]
        );
        let october: Vec<_> = s.slots_after(utc("2026-10-24T00:00:00Z")).take(2).collect();
        assert_eq!(
            october,
            [utc("2026-10-24T07:00:00Z"), utc("2026-10-25T08:00:00Z")]
        );
    }

    #[test]
    fn montreal_follows_its_own_changes() {
        // 8 March 2026 (UTC-5 → -4) and 1 November 2026 (-4 → -5).
        let s = schedule("America/Montreal", &[7], &["14:00"], 1);
        let march: Vec<_> = s.slots_after(utc("2026-03-01T00:00:00Z")).take(2).collect();
        assert_eq!(
            march,
            [utc("2026-03-01T19:00:00Z"), utc("2026-03-08T18:00:00Z")]
        );
        let autumn: Vec<_> = s.slots_after(utc("2026-10-25T00:00:00Z")).take(2).collect();
        assert_eq!(
            autumn,
            [utc("2026-10-25T18:00:00Z"), utc("2026-11-01T19:00:00Z")]
        );
    }

    #[test]
    fn a_skipped_time_moves_an_hour_and_a_repeated_one_is_the_first() {
        let s = schedule("Europe/Paris", &[7], &["02:30"], 1);
        // 29 March 2026: 2:30 does not exist in Paris; 3:30 CEST = 01:30 UTC.
        assert_eq!(
            s.slots_after(utc("2026-03-29T00:00:00Z")).next(),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        // 25 October 2026: 2:30 happens twice; the first is 2:30 CEST = 00:30 UTC.
        assert_eq!(
            s.slots_after(utc("2026-10-25T00:00:00Z")).next(),
            Some(utc("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn slots_in_a_spring_gap_come_once_and_in_order() {
        // 29 March 2026 in Paris: 2:30 does not exist and becomes 3:30, the time of
        // another slot; 3:00 (01:00 UTC) comes before it.
        let s = schedule("Europe/Paris", &[7], &["02:30", "03:00", "03:30"], 3);
        let date = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(
            s.slots_on(date),
            [utc("2026-03-29T01:00:00Z"), utc("2026-03-29T01:30:00Z")]
        );
    }

    /// Every quarter hour of the days around every change of 2026, in every zone the tz
    /// database knows: the slots come strictly in order, each once, and each on its own
    /// local day (what a move checks, `is_slot`). Away from a change, a day's slots are its
    /// times at one offset, in order by construction. A quarter-hour grid holds every
    /// change of 2026 (they fall on the hour, the half hour, or 2:45 in Chatham) and any
    /// schedule's slots are a part of it, so a schedule with fewer times keeps the order.
    #[test]
    fn slots_are_strictly_increasing_in_every_zone_over_a_year() {
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut changes = 0;
        for tz in chrono_tz::TZ_VARIANTS {
            // More times than an owner may set (24): built, not checked.
            let s = Schedule {
                time_zone: tz,
                days: vec![1, 2, 3, 4, 5, 6, 7],
                times: (0..96).map(|q| q * 15).collect(),
                per_day: 100,
                immediate: false,
            };
            let offset = |d: NaiveDate| {
                tz.offset_from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                    .fix()
            };
            for date in first.iter_days().take(365) {
                let next = date.succ_opt().unwrap();
                if offset(date) == offset(next) {
                    continue;
                }
                changes += 1;
                // The local days the change can fall on, whatever the zone's offset.
                let mut last: Option<DateTime<Utc>> = None;
                for day in (date - Duration::days(2)).iter_days().take(5) {
                    for t in s.slots_on(day) {
                        if let Some(before) = last {
                            assert!(before < t, "{}: {before} then {t}", tz.name());
                        }
                        assert_eq!(s.local_date(t), day, "{}: {t}", tz.name());
                        last = Some(t);
                    }
                }
            }
        }
        assert!(changes > 100, "{changes} changes: the walk found too few");
    }

    proptest::proptest! {
        /// Any schedule (any minutes, any days) in any zone, from any instant of 2026.
        #[test]
        fn any_schedule_gives_distinct_slots_in_order(
            zone in 0..chrono_tz::TZ_VARIANTS.len(),
            times in proptest::collection::vec(0u16..1440, 1..24),
            days in proptest::collection::vec(1u8..=7, 1..7),
            from in 0i64..365 * 86_400,
        ) {
            let times: Vec<String> = times.into_iter().map(format_time).collect();
            let times: Vec<&str> = times.iter().map(String::as_str).collect();
            let tz = chrono_tz::TZ_VARIANTS[zone];
            let s = schedule(tz.name(), &days, &times, 100);
            let after = utc("2026-01-01T00:00:00Z") + Duration::seconds(from);
            let slots: Vec<_> = s.slots_after(after).take(200).collect();
            for pair in slots.windows(2) {
                proptest::prop_assert!(pair[0] < pair[1], "{}: {:?}", tz.name(), pair);
            }
            for t in &slots {
                proptest::prop_assert!(*t > after && s.is_slot(*t), "{}: {t}", tz.name());
            }
        }
    }

    #[test]
    fn a_full_day_rolls_to_the_next_slot_day() {
        // Tuesday 1 December 2026, 08:00 Paris; slots Tue and Thu 9:00, 11:00, 14:00; 2 a day.
        let s = schedule("Europe/Paris", &[2, 4], &["14:00", "09:00", "11:00"], 2);
        let now = utc("2026-12-01T07:00:00Z");
        let mut taken = Taken::default();
        let mut got = Vec::new();
        for _ in 0..3 {
            let t = s.next_free(now, &taken).unwrap();
            taken.add(&s, t);
            got.push(t);
        }
        assert_eq!(
            got,
            [
                utc("2026-12-01T08:00:00Z"),
                utc("2026-12-01T10:00:00Z"),
                utc("2026-12-03T08:00:00Z"),
            ]
        );
    }

    #[test]
    fn bad_input_is_named() {
        let base = Schedule::default().spec();
        let bad = |f: &dyn Fn(&mut ScheduleSpec)| {
            let mut s = base.clone();
            f(&mut s);
            Schedule::from_spec(&s).unwrap_err().to_string()
        };
        assert!(bad(&|s| s.time_zone = "Mars/Olympus".into()).contains("time_zone"));
        assert!(bad(&|s| s.days = vec![]).contains("days"));
        assert!(bad(&|s| s.days = vec![8]).contains("days"));
        assert!(bad(&|s| s.times = vec!["25:00".into()]).contains("times"));
        assert!(bad(&|s| s.times = vec!["9h".into()]).contains("times"));
        assert!(bad(&|s| s.per_day = 101).contains("per_day"));
        assert!(bad(&|s| s.per_day = 0).contains("per_day"));
        assert_eq!(Schedule::from_spec(&base).unwrap(), Schedule::default());
    }
}
