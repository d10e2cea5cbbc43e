//! A diagnostic job every worker runs on every queue it consumes: ops enqueue one to
//! check a queue end to end, and tests use it to drive every lifecycle path.

use serde::{Deserialize, Serialize};

use crate::Job;

/// Records each run in Redis (`RPUSH <prefix>probe:runs:<tag> <attempt>`), optionally
/// sleeping, failing the first attempts, deferring, or panicking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// Names the run log; tests use one tag per job.
    pub tag: String,
    #[serde(default)]
    pub sleep_ms: u64,
    /// Fail (retryably) while the attempt number is at most this.
    #[serde(default)]
    pub fail_attempts: u32,
    /// Fail permanently: straight to the dead set.
    #[serde(default)]
    pub permanent: bool,
    /// Panic instead of failing.
    #[serde(default)]
    pub panic: bool,
    /// Defer this many ms on the first run (no attempt used).
    #[serde(default)]
    pub defer_ms: u64,
    /// Unique key, to test unique enqueues.
    #[serde(default)]
    pub unique: Option<String>,
}

impl Job for Probe {
    const KIND: &'static str = "probe";
    const QUEUE: &'static str = "probe";
    const BACKOFF: crate::retry::Backoff = crate::retry::Backoff {
        base: std::time::Duration::from_millis(10),
        cap: std::time::Duration::from_millis(200),
    };

    fn unique_key(&self) -> Option<String> {
        self.unique.clone()
    }
}
