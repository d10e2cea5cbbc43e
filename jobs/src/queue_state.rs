//! What the parts of one queue's worker share: its keys, its consumer name, the jobs it
//! is running, and the handles that write outcomes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::connection::Conn;
use tokio::sync::Notify;

use crate::ack::AckHandle;
use crate::connection::Settings;
use crate::holdings::{Holdings, RunningJob};
use crate::keys::QueueKeys;
use crate::lease::Lease;
use crate::metrics::QueueMetrics;
use crate::registry::Registry;
use crate::settle::Settler;

pub(crate) struct QueueState {
    pub keys: Arc<QueueKeys>,
    pub settings: Arc<Settings>,
    /// This process's consumer name in the group (also its worker id).
    pub consumer: String,
    pub settler: Settler,
    pub acker: AckHandle,
    pub registry: Arc<Registry>,
    /// Connection for maintenance and outcomes; never blocked by a read.
    pub conn: Conn,
    /// What this worker holds in the group's pending list; shared with the acker.
    pub holdings: Arc<Holdings>,
    /// Set by the fetch task when it exits, so closing can wait for its last read.
    fetch_exited: AtomicBool,
    fetch_exit: Notify,
    /// Mirrors the queue's `paused` key, refreshed by maintenance.
    paused: AtomicBool,
    /// This queue's counters in this process, made at start.
    pub metrics: QueueMetrics,
    /// The process's lease, renewed by its heartbeat: no job starts while it has lapsed.
    pub lease: Arc<Lease>,
    /// How long this queue's handlers run, µs, a moving average (0: none ran yet). While
    /// owners take turns it sizes the read-ahead ([`Self::turn_read_ahead`]).
    run_us: AtomicU64,
}

/// The work a worker may read ahead while owners wait for their turn, in µs of its slots'
/// time: an owner whose turn comes waits behind at most about this much read ahead.
const TURN_READ_AHEAD_US: u64 = 1_000;

impl QueueState {
    pub fn new(
        keys: Arc<QueueKeys>,
        settings: Arc<Settings>,
        consumer: String,
        acker: AckHandle,
        holdings: Arc<Holdings>,
        registry: Arc<Registry>,
        conn: Conn,
    ) -> Self {
        let metrics =
            QueueMetrics::new(keys.queue.as_str(), registry.kinds_of(keys.queue.as_str()));
        let settler = Settler::new(conn.clone(), keys.clone(), settings.clone());
        let lease = Arc::new(Lease::new(settings.heartbeat_interval));
        Self {
            keys,
            settings,
            consumer,
            settler,
            acker,
            registry,
            conn,
            holdings,
            fetch_exited: AtomicBool::new(false),
            fetch_exit: Notify::new(),
            paused: AtomicBool::new(false),
            metrics,
            lease,
            run_us: AtomicU64::new(0),
        }
    }

    /// Folds one handler's run time into the moving average (weight 1/8).
    pub fn note_run(&self, took: std::time::Duration) {
        let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let old = self.run_us.load(Ordering::Relaxed);
        let new = if old == 0 {
            sample
        } else {
            old - old / 8 + sample / 8
        };
        self.run_us.store(new, Ordering::Relaxed);
    }

    /// The read-ahead a worker of `concurrency` slots keeps while owners wait for turns:
    /// jobs read ahead sit in its buffer in the order they were let in, in front of an
    /// owner whose turn comes next, so it keeps only about [`TURN_READ_AHEAD_US`] of work
    /// (none for jobs of 50 ms, all of `read_ahead` for no-op jobs, whose next read would
    /// otherwise cost each slot a round trip). None before any job ran.
    pub fn turn_read_ahead(&self, concurrency: usize, read_ahead: usize) -> usize {
        let run_us = self.run_us.load(Ordering::Relaxed);
        if run_us == 0 {
            return 0;
        }
        let slots = u64::try_from(concurrency).unwrap_or(u64::MAX);
        let kept = slots.saturating_mul(TURN_READ_AHEAD_US) / run_us;
        usize::try_from(kept).unwrap_or(usize::MAX).min(read_ahead)
    }

    /// Shares the process's lease (one heartbeat for all queues) instead of its own.
    pub fn with_lease(mut self, lease: Arc<Lease>) -> Self {
        self.lease = lease;
        self
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Reads the queue's `paused` key into the mirror the fetch loop checks.
    pub async fn refresh_paused(&self) -> Result<(), crate::error::Error> {
        let paused: bool = redis::cmd("EXISTS")
            .arg(&self.keys.paused)
            .query_async(&mut self.conn.clone())
            .await?;
        if paused != self.paused.swap(paused, Ordering::Relaxed) {
            tracing::info!(queue = %self.keys.queue, paused, "queue pause changed");
        }
        Ok(())
    }

    pub fn hold(&self, entry: &Arc<str>) {
        self.holdings.hold(entry);
    }

    pub fn start(&self, entry: &Arc<str>, job: RunningJob) {
        self.holdings.start(entry, job);
    }

    /// The job's fate is written (retried, deferred, buried): nothing is held any more.
    pub fn finish(&self, entry: &str) {
        self.holdings.finish(entry);
    }

    pub fn running(&self) -> Vec<Arc<str>> {
        self.holdings.running()
    }

    pub fn busy(&self) -> usize {
        self.holdings.busy()
    }

    /// Forgets everything held but not running or awaiting its ack (handed back at
    /// shutdown).
    pub fn release_held(&self) {
        self.holdings.release_unstarted();
    }

    pub fn fetch_exited(&self) {
        self.fetch_exited.store(true, Ordering::SeqCst);
        self.fetch_exit.notify_one();
    }

    /// Waits (at most `limit`) for the fetch task's last read to come back, so entries it
    /// delivers are handed back too rather than left for crash recovery.
    pub async fn wait_fetch_exit(&self, limit: std::time::Duration) {
        if self.fetch_exited.load(Ordering::SeqCst) {
            return;
        }
        let _ = tokio::time::timeout(limit, self.fetch_exit.notified()).await;
    }
}
