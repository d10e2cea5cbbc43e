//! The benchmark's jobs (W1–W5, `bin/bench_run/`): registered only by `workers bench`.

use serde::{Deserialize, Serialize};

use jobs::Job;

/// `INCR bench:done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noop;

impl Job for Noop {
    const KIND: &'static str = "noop";
    const QUEUE: &'static str = "bench";
}

/// Sleeps 20 ms, then `INCR bench:done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sleep;

impl Job for Sleep {
    const KIND: &'static str = "sleep";
    const QUEUE: &'static str = "bench";
}

/// `RPUSH bench:lat <now_ms − enqueued_at_ms>`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lat {
    pub enqueued_at_ms: f64,
}

impl Job for Lat {
    const KIND: &'static str = "lat";
    const QUEUE: &'static str = "bench";
}

/// Records its start and its end in `bench:{traced}` with the pid of the worker process that
/// ran it, so a test can tell which process ran which job and when: the partition test
/// (workers/tests/partition.rs) counts per-host throughput and finds every job that ran
/// twice with it. Sleeps `sleep_ms` between the two records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traced {
    pub seq: u64,
    pub sleep_ms: u64,
}

impl Job for Traced {
    const KIND: &'static str = "traced";
    const QUEUE: &'static str = "bench";
}
