//! What one queue's worker holds in the group's pending list, from the read until the
//! entry's fate is in Redis: read ahead, running, or completed with its ack not yet written.
//! The fetch task, the outcome layer, the acker, the keepalive and shutdown share it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Entry ids a worker holds in the group's pending list, from the read until the entry's
/// fate is in Redis. The keepalive keeps every held entry's claim fresh, so none of them
/// is taken for a dead worker's: read-ahead entries waiting for a slot, running jobs,
/// and completed jobs whose batched ack is not written yet (letting go
/// of those before the ack is written let a Redis stall hand them to another worker).
#[derive(Default)]
pub(crate) struct Holdings {
    held: Mutex<HashSet<Arc<str>>>,
    /// Handler started: never handed back at shutdown. With what the live-workers view
    /// shows of each.
    running: Mutex<HashMap<Arc<str>, RunningJob>>,
    /// Completed, ack queued but not yet written: never handed back at shutdown either,
    /// or a completed job would run again.
    acking: Mutex<HashSet<Arc<str>>>,
}

/// A running job as the heartbeat reports it.
#[derive(Debug, Clone)]
pub(crate) struct RunningJob {
    pub job_id: String,
    pub kind: String,
    pub started_at: u64,
    pub user_id: Option<i64>,
}

fn with<S, T>(set: &Mutex<S>, f: impl FnOnce(&mut S) -> T) -> T {
    // A panic while the lock was held cannot leave a HashSet half-updated in a way that
    // matters here: keep using it.
    let mut guard = set
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(&mut guard)
}

impl Holdings {
    pub fn hold(&self, entry: &Arc<str>) {
        with(&self.held, |s| s.insert(entry.clone()));
    }

    pub fn start(&self, entry: &Arc<str>, job: RunningJob) {
        with(&self.running, |s| s.insert(entry.clone(), job));
    }

    /// The handler succeeded; the entry stays held until the acker writes its ack.
    pub fn completed(&self, entry: &Arc<str>) {
        with(&self.acking, |s| s.insert(entry.clone()));
        with(&self.running, |s| s.remove(entry));
    }

    /// The acker wrote these acks.
    pub fn acked<'a>(&self, entries: impl Iterator<Item = &'a Arc<str>> + Clone) {
        with(&self.acking, |s| {
            for e in entries.clone() {
                s.remove(e);
            }
        });
        with(&self.held, |s| {
            for e in entries {
                s.remove(e);
            }
        });
    }

    pub fn finish(&self, entry: &str) {
        with(&self.running, |s| s.remove(entry));
        with(&self.held, |s| s.remove(entry));
    }

    pub fn held(&self) -> Vec<Arc<str>> {
        with(&self.held, |s| s.iter().cloned().collect())
    }

    pub fn running(&self) -> Vec<Arc<str>> {
        with(&self.running, |s| s.keys().cloned().collect())
    }

    /// At most `max` running jobs, longest running first, for the heartbeat.
    pub fn running_jobs(&self, max: usize) -> Vec<RunningJob> {
        let mut jobs: Vec<RunningJob> = with(&self.running, |s| s.values().cloned().collect());
        jobs.sort_by_key(|j| j.started_at);
        jobs.truncate(max);
        jobs
    }

    /// Running jobs per owner, busiest first, at most `max` owners, for the heartbeat.
    pub fn running_by_owner(&self, max: usize) -> Vec<(i64, usize)> {
        let mut counts: HashMap<i64, usize> = HashMap::new();
        with(&self.running, |s| {
            for job in s.values() {
                if let Some(owner) = job.user_id {
                    *counts.entry(owner).or_default() += 1;
                }
            }
        });
        let mut owners: Vec<(i64, usize)> = counts.into_iter().collect();
        owners.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        owners.truncate(max);
        owners
    }

    /// Entries a shutdown must not hand back: running, or completed and awaiting the ack.
    pub fn not_to_release(&self) -> Vec<Arc<str>> {
        let mut out = self.running();
        out.extend(with(&self.acking, |s| {
            s.iter().cloned().collect::<Vec<_>>()
        }));
        out
    }

    pub fn busy(&self) -> usize {
        with(&self.running, |s| s.len())
    }

    /// Held entries split in those that started (running, or awaiting their ack) and
    /// those that did not (read-ahead), for the keepalive.
    pub fn started_and_waiting(&self) -> (Vec<Arc<str>>, Vec<Arc<str>>) {
        let started = self.not_to_release();
        let set: HashSet<&Arc<str>> = started.iter().collect();
        let waiting = self
            .held()
            .into_iter()
            .filter(|e| !set.contains(e))
            .collect();
        (started, waiting)
    }

    pub(crate) fn release_unstarted(&self) {
        let keep: HashSet<Arc<str>> = self.not_to_release().into_iter().collect();
        with(&self.held, |s| s.retain(|e| keep.contains(e)));
    }
}
