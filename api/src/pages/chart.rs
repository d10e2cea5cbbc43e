//! The pages' bar charts (the home page's days, the admin overview's minutes), drawn on the
//! server as inline SVG. No script and no chart library: they show without JavaScript,
//! weigh a few hundred bytes, and the strict CSP has nothing to allow. The geometry is
//! computed here ([`scale`], in the SVG's own units, `0 0 300 100`, stretched to the card's
//! width), the templates only print it.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use shared::db::metrics::DayCounts;

use super::i18n::Lang;

/// The SVG's coordinate space; the template's `viewBox` uses the same numbers.
pub const WIDTH: f64 = 300.0;
pub const HEIGHT: f64 = 100.0;
/// The days the home page charts.
pub const DAYS: i32 = 30;
/// A day with something is never thinner than this, so one lead on a busy month still shows.
const MIN_BAR: f64 = 3.0;
/// Room above the tallest bar.
const HEADROOM: f64 = 4.0;
/// The part of each day's slot the bar fills; the rest is the gap between bars.
const FILL: f64 = 0.7;

/// The series the home page draws, in order; `chart-<name>-title` names each.
pub const SERIES: [&str; 3] = ["leads", "contents", "published"];

/// A date as the templates print it: `t(k="date-day-month", day=.., month=..)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Day {
    pub day: u32,
    pub month: u32,
}

impl From<NaiveDate> for Day {
    fn from(d: NaiveDate) -> Self {
        Self {
            day: d.day(),
            month: d.month(),
        }
    }
}

/// One bar's rectangle in the SVG's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// One rectangle per value, side by side across [`WIDTH`], scaled so the largest value
/// reaches the top (less [`HEADROOM`]); a value above zero is never thinner than
/// [`MIN_BAR`], so one job in a busy hour still shows. Zero and below: height 0.
pub fn scale(values: &[i64]) -> Vec<Rect> {
    let max = values.iter().copied().max().unwrap_or(0).max(0);
    let slot = WIDTH / values.len().max(1) as f64;
    let width = round(slot * FILL);
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let height = match value {
                v if v <= 0 || max == 0 => 0.0,
                v => ((HEIGHT - HEADROOM) * v as f64 / max as f64).max(MIN_BAR),
            };
            Rect {
                x: round(i as f64 * slot + (slot - width) / 2.0),
                y: round(HEIGHT - height),
                width,
                height: round(height),
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    #[serde(flatten)]
    pub rect: Rect,
    pub value: i64,
    pub date: Day,
}

/// The busiest day of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Best {
    pub date: Day,
    pub value: i64,
}

/// One series over the days, ready to print.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub name: &'static str,
    pub total: i64,
    /// `total` written the reader's way (`1 234` / `1,234`).
    pub total_text: String,
    pub bars: Vec<Bar>,
    /// The day with the most (the latest of equals), for the text alternative; `None` when
    /// every day is zero.
    pub best: Option<Best>,
    pub first: Option<Day>,
    pub last: Option<Day>,
}

/// The three series of `days`, in [`SERIES`] order.
pub fn charts(days: &[DayCounts], lang: Lang) -> Vec<Chart> {
    SERIES
        .iter()
        .map(|&name| {
            let values: Vec<(NaiveDate, i64)> = days
                .iter()
                .map(|d| {
                    let value = match name {
                        "leads" => d.leads,
                        "contents" => d.contents,
                        _ => d.published,
                    };
                    (d.day, value)
                })
                .collect();
            let mut chart = chart(name, &values);
            chart.total_text = lang.integer(chart.total);
            chart
        })
        .collect()
}

/// Bars scaled so the busiest day reaches the top (less [`HEADROOM`]).
pub fn chart(name: &'static str, values: &[(NaiveDate, i64)]) -> Chart {
    let rects = scale(&values.iter().map(|(_, v)| *v).collect::<Vec<_>>());
    let bars = values
        .iter()
        .zip(rects)
        .map(|(&(date, value), rect)| Bar {
            rect,
            value,
            date: date.into(),
        })
        .collect();
    let best = values
        .iter()
        .filter(|(_, v)| *v > 0)
        .max_by_key(|(d, v)| (*v, *d))
        .map(|&(d, v)| Best {
            date: d.into(),
            value: v,
        });
    let total = values.iter().map(|(_, v)| *v).sum();
    Chart {
        name,
        total,
        total_text: total.to_string(),
        bars,
        best,
        first: values.first().map(|(d, _)| Day::from(*d)),
        last: values.last().map(|(d, _)| Day::from(*d)),
    }
}

/// One decimal: enough for a 300-unit drawing, and short in the page.
fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    #[test]
    fn the_busiest_day_reaches_the_top_and_small_days_still_show() {
        let values: Vec<_> = (1..=30)
            .map(|d| (day(d), if d == 10 { 100 } else { i64::from(d == 20) }))
            .collect();
        let c = chart("leads", &values);
        assert_eq!(c.bars.len(), 30);
        assert_eq!(c.total, 101);
        let top = &c.bars[9];
        assert_eq!((top.rect.y, top.rect.height), (HEADROOM, HEIGHT - HEADROOM));
        // One among a hundred is still visible.
        assert_eq!(c.bars[19].rect.height, MIN_BAR);
        assert_eq!(c.bars[0].rect.height, 0.0);
        assert_eq!(c.bars[0].rect.y, HEIGHT);
        // Bars stay inside the drawing, left to right.
        assert!(
            c.bars
                .iter()
                .all(|b| b.rect.x >= 0.0 && b.rect.x + b.rect.width <= WIDTH)
        );
        assert!(c.bars.windows(2).all(|w| w[0].rect.x < w[1].rect.x));
        assert_eq!(
            c.best,
            Some(Best {
                date: Day { day: 10, month: 11 },
                value: 100
            })
        );
        assert_eq!(c.first, Some(Day { day: 1, month: 11 }));
        assert_eq!(c.last, Some(Day { day: 30, month: 11 }));
    }

    #[test]
    fn an_empty_month_draws_no_bar_and_has_no_best_day() {
        let values: Vec<_> = (1..=30).map(|d| (day(d), 0)).collect();
        let c = chart("published", &values);
        assert_eq!(c.total, 0);
        assert_eq!(c.best, None);
        assert!(c.bars.iter().all(|b| b.rect.height == 0.0));
        let none = chart("leads", &[]);
        assert!(none.bars.is_empty() && none.first.is_none());
    }

    #[test]
    fn equal_days_name_the_latest() {
        let c = chart("contents", &[(day(1), 2), (day(2), 2), (day(3), 1)]);
        assert_eq!(
            c.best,
            Some(Best {
                date: Day { day: 2, month: 11 },
                value: 2
            })
        );
    }
}
