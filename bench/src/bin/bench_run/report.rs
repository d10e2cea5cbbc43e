//! Medians, rates and number formats, and the table of results printed on stdout.

use std::fmt;

use bench::report::table;

pub(crate) fn rate(amount: f64, seconds: f64) -> Option<f64> {
    (seconds > 0.0 && seconds.is_finite()).then(|| amount / seconds)
}

/// Median of the finite values; `None` if there are none.
pub(crate) fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return None;
    }
    let hi = v.get(n / 2).copied()?;
    if n % 2 == 1 {
        Some(hi)
    } else {
        let lo = v.get(n / 2 - 1).copied()?;
        Some((lo + hi) / 2.0)
    }
}

pub(crate) fn fmt_opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "n/a".to_owned(), f)
}

/// 163201.4 -> "163,201"
pub(crate) fn fmt_count(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let r = v.round();
    let digits = format!("{:.0}", r.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if r < 0.0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

pub(crate) fn fmt_pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

pub(crate) fn fmt_ms(v: f64) -> String {
    format!("{v:.2}")
}

pub(crate) fn fmt_ratio(v: f64) -> String {
    format!("{v:.2}x")
}

pub(crate) fn fmt_mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

pub(crate) fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), fmt_mib)
}

pub(crate) fn fmt_rss_list(v: &[Option<u64>]) -> String {
    v.iter()
        .map(|k| fmt_rss(*k))
        .collect::<Vec<_>>()
        .join(" / ")
}

// ---------------------------------------------------------------------------------------------
// The table

#[derive(Clone, Copy)]
pub(crate) enum Verdict {
    Pass,
    Miss,
    Fail,
    Info,
}

impl Verdict {
    pub(crate) fn at_least(v: Option<f64>, min: f64) -> Self {
        match v {
            Some(v) if v >= min => Verdict::Pass,
            Some(_) => Verdict::Miss,
            None => Verdict::Info,
        }
    }

    pub(crate) fn at_most(v: Option<f64>, max: f64) -> Self {
        match v {
            Some(v) if v <= max => Verdict::Pass,
            Some(_) => Verdict::Miss,
            None => Verdict::Info,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "ok",
            Verdict::Miss => "MISS",
            Verdict::Fail => "FAIL",
            Verdict::Info => "",
        })
    }
}

pub(crate) struct Row {
    pub(crate) workload: String,
    pub(crate) metric: String,
    pub(crate) value: String,
    pub(crate) target: String,
    pub(crate) verdict: Verdict,
}

#[derive(Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    pub(crate) failures: usize,
}

impl Report {
    pub(crate) fn row(
        &mut self,
        workload: &str,
        metric: &str,
        value: String,
        target: String,
        verdict: Verdict,
    ) {
        self.rows.push(Row {
            workload: workload.to_owned(),
            metric: metric.to_owned(),
            value,
            target,
            verdict,
        });
    }

    pub(crate) fn error(&mut self, workload: &str, err: &anyhow::Error) {
        self.failures += 1;
        let msg = format!("{err:#}");
        let mut short: String = msg.chars().take(70).collect();
        if short.len() < msg.len() {
            short.push_str("...");
        }
        self.row(workload, "error", short, "-".into(), Verdict::Fail);
    }

    pub(crate) fn print(&self, header: &str) {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.workload.clone(),
                    r.metric.clone(),
                    r.value.clone(),
                    r.target.clone(),
                    r.verdict.to_string(),
                ]
            })
            .collect();
        println!();
        println!("{header}");
        println!(
            "{}",
            table(
                &["workload", "metric", "value", "target", "result"],
                &[],
                &cells
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_count(163_201.4), "163,201");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_count(1_000.0), "1,000");
        assert_eq!(fmt_pct(0.981), "98.1%");
    }
}
