//! The workers' resident memory during the W4 drain, read from `/proc`: W4's claim is that
//! a worker's memory stays flat however deep the backlog.

use crate::report::fmt_rss;
use crate::report::fmt_rss_list;
use crate::{RSS_EVERY, RSS_FLAT_FACTOR, RSS_SLACK_KIB};

/// Samples the workers' VmRSS every 100 ms during the W4 drain.
pub(crate) struct RssTracker {
    pub(crate) pids: Vec<u32>,
    /// Peak RSS per worker, KiB.
    pub(crate) peak: Vec<u64>,
    pub(crate) quarter: u64,
    pub(crate) expected: u64,
    pub(crate) at_25: Option<Vec<Option<u64>>>,
    pub(crate) last_sample_t: Option<f64>,
    pub(crate) next_decile: u64,
}

impl RssTracker {
    pub(crate) fn new(pids: Vec<u32>, expected: u64) -> Self {
        let peak = vec![0; pids.len()];
        Self {
            pids,
            peak,
            quarter: expected.div_ceil(4),
            expected,
            at_25: None,
            last_sample_t: None,
            next_decile: 1,
        }
    }

    pub(crate) fn sample(&mut self) -> Vec<Option<u64>> {
        let now: Vec<Option<u64>> = self.pids.iter().map(|&pid| read_rss_kib(pid)).collect();
        for (peak, v) in self.peak.iter_mut().zip(&now) {
            if let Some(v) = v {
                *peak = (*peak).max(*v);
            }
        }
        now
    }

    pub(crate) fn on_poll(&mut self, t: f64, count: u64) {
        let due = self
            .last_sample_t
            .is_none_or(|last| t - last >= RSS_EVERY.as_secs_f64());
        if !due {
            return;
        }
        self.last_sample_t = Some(t);
        let now = self.sample();
        if self.at_25.is_none() && count >= self.quarter {
            self.at_25 = Some(now.clone());
        }
        if self.next_decile < 10 && count * 10 >= self.expected * self.next_decile {
            while self.next_decile < 10 && count * 10 >= self.expected * self.next_decile {
                self.next_decile += 1;
            }
            eprintln!(
                "  W4 {:>3}% done ({count}) at {t:.1} s, RSS MiB {}",
                count * 100 / self.expected.max(1),
                fmt_rss_list(&now)
            );
        }
    }

    pub(crate) fn is_flat(&self, at_end: &[Option<u64>]) -> Option<bool> {
        let at_25 = self.at_25.as_ref()?;
        let mut flat = true;
        for (a, b) in at_25.iter().zip(at_end) {
            let (a, b) = ((*a)?, (*b)?);
            flat &= b as f64 <= a as f64 * RSS_FLAT_FACTOR + RSS_SLACK_KIB as f64;
        }
        Some(flat)
    }

    pub(crate) fn describe_25_100(&self, at_end: &[Option<u64>]) -> String {
        let none = vec![None; self.pids.len()];
        let at_25 = self.at_25.as_deref().unwrap_or(&none);
        at_25
            .iter()
            .zip(at_end)
            .map(|(a, b)| format!("{}->{}", fmt_rss(*a), fmt_rss(*b)))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// VmRSS of a process in KiB, `None` if it is gone.
pub(crate) fn read_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
