//! How the pages write a time: 24-hour in both languages ("9:00", "17:48"), as French
//! readers expect and as the schedule always showed, and, where the owner plans, with the
//! time zone it is in ("9:00 (Paris time)"), so a time set for one city is not read as
//! another's. `static/app.js` writes the times it localises the same way.

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use fluent_bundle::FluentArgs;

use super::i18n::{Catalog, Lang};
use super::schedule::slot_label;

/// "9:00", "17:48": the hour without a leading zero, as the schedule's slots are typed.
pub fn clock(at: &impl Timelike) -> String {
    format!("{}:{:02}", at.hour(), at.minute())
}

/// The city of an IANA zone, for "(Paris time)": its last part with spaces
/// (`America/New_York` → "New York"); none for zones that are not a place (`UTC`,
/// `Etc/GMT+3`), which are written by name instead.
pub fn zone_city(tz: Tz) -> Option<String> {
    let name = tz.name();
    let (area, city) = name.rsplit_once('/')?;
    if area == "Etc" || city.is_empty() {
        return None;
    }
    Some(city.replace('_', " "))
}

/// "9:00 (Paris time)" / "9:00 (heure de Paris)": `at` on the clock of `tz`.
pub fn in_zone(at: DateTime<Utc>, tz: Tz, catalog: &Catalog) -> String {
    labelled(clock(&at.with_timezone(&tz)), tz, catalog)
}

/// "Tue 9 Dec, 9:00 (Paris time)": a slot as the owner plans it.
pub fn slot_in_zone(at: DateTime<Utc>, tz: Tz, lang: Lang, catalog: &Catalog) -> String {
    labelled(slot_label(at, tz, lang), tz, catalog)
}

/// `time` (a time, or several: "9:00, 14:00") followed by the zone they are in.
pub fn labelled(time: String, tz: Tz, catalog: &Catalog) -> String {
    let mut args = FluentArgs::new();
    let key = match zone_city(tz) {
        Some(city) => {
            args.set("city", city);
            "time-in-zone"
        }
        None => {
            args.set("zone", tz.name().to_owned());
            "time-in-zone-name"
        }
    };
    args.set("time", time.clone());
    catalog.text(key, Some(&args)).unwrap_or(time)
}

/// Every IANA zone the server accepts, for the time zone field's list: what the browser
/// offers is exactly what saving takes.
pub fn zone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_reads_on_the_zones_clock_with_its_city() {
        let at: DateTime<Utc> = "2026-12-08T08:00:00Z".parse().unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let en = Catalog::load(Lang::En).unwrap();
        let fr = Catalog::load(Lang::Fr).unwrap();
        assert_eq!(in_zone(at, paris, &en), "9:00 (Paris time)");
        assert_eq!(in_zone(at, paris, &fr), "9:00 (heure de Paris)");
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(in_zone(at, ny, &en), "3:00 (New York time)");
        assert_eq!(in_zone(at, chrono_tz::UTC, &en), "8:00 (UTC)");
        let afternoon: DateTime<Utc> = "2026-12-08T16:48:00Z".parse().unwrap();
        assert_eq!(in_zone(afternoon, paris, &en), "17:48 (Paris time)");
        assert_eq!(
            slot_in_zone(at, paris, Lang::Fr, &fr),
            "mar. 8 déc., 9:00 (heure de Paris)"
        );
    }

    #[test]
    fn the_zone_list_holds_the_zones_saving_accepts() {
        let names: Vec<_> = zone_names().collect();
        assert!(names.contains(&"Europe/Paris"));
        assert!(names.contains(&"America/Argentina/Buenos_Aires"));
        for n in names {
            assert!(shared::schedule::parse_time_zone(n).is_ok(), "{n}");
        }
    }
}
