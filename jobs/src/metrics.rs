//! Prometheus metrics of the engine (docs/operations.md, "Metrics and alerts").
//!
//! Two halves, exported by different processes so that a sum over processes never counts
//! a thing twice:
//!
//! - [`register`]: what one worker process did, counted as it happens: each job's run time
//!   and fate per queue and kind, crash recovery, and the process's busy and total slots.
//!   Every worker process exports its own; Prometheus sums them.
//! - [`QueueGauges`]: what a queue holds (ready, running, scheduled, ... and its lag) and
//!   which workers are alive, read from Redis when scraped. That is one truth for the whole
//!   system, so only one process exports it (the api), or N workers would make it N times.
//!
//! The hot path takes no lock and allocates nothing for the metrics: each queue's kinds have
//! their counters and histograms made at start ([`QueueMetrics`]), a job finds its kind's
//! in a map nobody writes to after start, and counting is a few atomic adds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};

use crate::admin::{Admin, QueueSizes};
use crate::connection::now_ms;
use crate::error::Error;

/// Every metric's name starts with this (`astrogrowth_`, added by the registry).
pub const PREFIX: &str = "astrogrowth";

/// Job run times, seconds: from a probe's milliseconds to an image generation's minute.
pub const JOB_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// A Prometheus histogram whose `observe` is three atomic adds and no lock
/// (prometheus-client's own `Histogram` takes a mutex per observation). Buckets are fixed
/// at construction; cloning shares the counts.
#[derive(Clone, Debug)]
pub struct Histogram {
    inner: Arc<HistogramInner>,
}

#[derive(Debug)]
struct HistogramInner {
    bounds: &'static [f64],
    /// One per bound, then the overflow (+Inf) bucket; not cumulative.
    buckets: Box<[AtomicU64]>,
    /// The sum of observations, as `f64` bits.
    sum: AtomicU64,
}

impl Histogram {
    /// `bounds` are the buckets' upper bounds, ascending; +Inf is implied.
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            inner: Arc::new(HistogramInner {
                bounds,
                buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
                sum: AtomicU64::new(0f64.to_bits()),
            }),
        }
    }

    pub fn observe(&self, v: f64) {
        let i = self.inner.bounds.partition_point(|b| *b < v);
        if let Some(bucket) = self.inner.buckets.get(i) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        // A compare-and-swap loop, lock-free; contended only by jobs of the same kind
        // finishing at the same instant.
        let _ = self
            .inner
            .sum
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    /// Observations so far (the sum of the buckets).
    pub fn count(&self) -> u64 {
        self.inner
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum()
    }

    pub fn sum(&self) -> f64 {
        f64::from_bits(self.inner.sum.load(Ordering::Relaxed))
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let bounds = self.inner.bounds.iter().copied().chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> = bounds
            .zip(self.inner.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
            .collect();
        // The count is the buckets' total, so the two always agree in one scrape.
        let count = buckets.iter().map(|(_, n)| n).sum();
        encoder.encode_histogram::<NoLabelSet>(self.sum(), count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// A family of histograms with fixed buckets.
pub type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn job_histogram() -> Histogram {
    Histogram::new(JOB_SECONDS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub queue: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub queue: String,
    pub kind: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeferLabels {
    pub queue: String,
    pub kind: String,
    pub reason: &'static str,
}

/// The kind label of a job whose kind this worker has no handler for: the envelope's kind
/// could be anything a producer wrote, and a label must not take unbounded values.
pub const UNREGISTERED_KIND: &str = "unregistered";

/// What one run of a job came to, as the duration histogram's `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Completed,
    Retried,
    Deferred,
    Dead,
}

impl RunOutcome {
    const ALL: [Self; 4] = [Self::Completed, Self::Retried, Self::Deferred, Self::Dead];

    pub fn label(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Retried => "retried",
            Self::Deferred => "deferred",
            Self::Dead => "dead",
        }
    }
}

/// Why a job was deferred (no attempt used), in a few words that are safe as a label. The
/// handler's own reason text (which names users, limits, delays) is in the job's envelope
/// and the logs, never in a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeferReason {
    /// A provider asked us to wait (`JobError::RetryAfter`: a 429, a quota, a LinkedIn
    /// grant to reconnect), or apalis's `RetryAfterError`.
    ProviderWait,
    /// The handler chose to wait (`JobError::Defer`: our own rate or daily limits, a
    /// resource another run holds), or apalis's `DeferredError`.
    HandlerWait,
    /// No handler for the job's kind in this worker (a rolling deploy).
    UnknownKind,
}

impl DeferReason {
    const ALL: [Self; 3] = [Self::ProviderWait, Self::HandlerWait, Self::UnknownKind];

    pub fn label(self) -> &'static str {
        match self {
            Self::ProviderWait => "provider_wait",
            Self::HandlerWait => "handler_wait",
            Self::UnknownKind => "unknown_kind",
        }
    }
}

/// The engine's process-wide families. One set per process, so the metrics of every
/// queue this process runs land in the same families (label `queue`).
struct Engine {
    duration: HistogramFamily<OutcomeLabels>,
    completed: Family<KindLabels, Counter>,
    retried: Family<KindLabels, Counter>,
    dead: Family<KindLabels, Counter>,
    deferred: Family<DeferLabels, Counter>,
    stale: Family<QueueLabel, Counter>,
    recovered: Family<RecoveredLabels, Counter>,
    slots_busy: Family<QueueLabel, Gauge>,
    slots_total: Family<QueueLabel, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecoveredLabels {
    pub queue: String,
    pub outcome: &'static str,
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| Engine {
    duration: Family::new_with_constructor(job_histogram),
    completed: Family::default(),
    retried: Family::default(),
    dead: Family::default(),
    deferred: Family::default(),
    stale: Family::default(),
    recovered: Family::default(),
    slots_busy: Family::default(),
    slots_total: Family::default(),
});

/// Adds this process's engine metrics to `registry` (the worker's `/metrics`).
pub fn register(registry: &mut Registry) {
    let e = &*ENGINE;
    registry.register_with_unit(
        "job_duration",
        "Run time of one job's handler, by the fate the run came to (completed, retried, \
         deferred, dead)",
        Unit::Seconds,
        e.duration.clone(),
    );
    registry.register(
        "jobs_completed",
        "Jobs whose handler succeeded (acked)",
        e.completed.clone(),
    );
    registry.register(
        "jobs_retried",
        "Failed runs with attempts left, back in the schedule after the kind's backoff",
        e.retried.clone(),
    );
    registry.register(
        "jobs_deferred",
        "Runs that ended in a wait that uses no attempt, by reason (provider_wait, \
         handler_wait, unknown_kind)",
        e.deferred.clone(),
    );
    registry.register(
        "jobs_dead",
        "Jobs this process moved to the dead set (permanent failure or last attempt)",
        e.dead.clone(),
    );
    registry.register(
        "jobs_stale",
        "Runs whose fate was dropped because another worker had reclaimed the job meanwhile",
        e.stale.clone(),
    );
    registry.register(
        "jobs_recovered",
        "Jobs of dead workers this process took back: requeued (an attempt used), dead \
         (that was the last attempt), returned (never started, no attempt used)",
        e.recovered.clone(),
    );
    registry.register(
        "worker_slots_busy",
        "Jobs this process is running now, per queue",
        e.slots_busy.clone(),
    );
    registry.register(
        "worker_slots",
        "Jobs this process may run at once, per queue (its concurrency)",
        e.slots_total.clone(),
    );
}

/// One kind's counters on one queue, made once at start.
#[derive(Debug)]
pub(crate) struct KindMetrics {
    duration: [Histogram; 4],
    completed: Counter,
    retried: Counter,
    dead: Counter,
    deferred: [Counter; 3],
}

impl KindMetrics {
    fn new(queue: &str, kind: &str) -> Self {
        let e = &*ENGINE;
        let kl = KindLabels {
            queue: queue.to_owned(),
            kind: kind.to_owned(),
        };
        Self {
            duration: RunOutcome::ALL.map(|o| {
                e.duration.get_or_create_owned(&OutcomeLabels {
                    queue: queue.to_owned(),
                    kind: kind.to_owned(),
                    outcome: o.label(),
                })
            }),
            completed: e.completed.get_or_create_owned(&kl),
            retried: e.retried.get_or_create_owned(&kl),
            dead: e.dead.get_or_create_owned(&kl),
            deferred: DeferReason::ALL.map(|r| {
                e.deferred.get_or_create_owned(&DeferLabels {
                    queue: queue.to_owned(),
                    kind: kind.to_owned(),
                    reason: r.label(),
                })
            }),
        }
    }

    /// One run: its time, and the count of its fate.
    pub(crate) fn ran(&self, seconds: f64, outcome: RunOutcome, reason: Option<DeferReason>) {
        let i = RunOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        if let Some(h) = self.duration.get(i) {
            h.observe(seconds);
        }
        match outcome {
            RunOutcome::Completed => self.completed.inc(),
            RunOutcome::Retried => self.retried.inc(),
            RunOutcome::Dead => self.dead.inc(),
            RunOutcome::Deferred => {
                let r = reason.unwrap_or(DeferReason::HandlerWait);
                let j = DeferReason::ALL.iter().position(|x| *x == r).unwrap_or(0);
                self.deferred.get(j).map_or(0, Counter::inc)
            }
        };
    }
}

/// One queue's metrics in one process: its kinds' counters, made at start, and its slots.
pub(crate) struct QueueMetrics {
    queue: String,
    kinds: HashMap<&'static str, Arc<KindMetrics>>,
    unregistered: Arc<KindMetrics>,
    pub(crate) busy: Gauge,
    slots: Gauge,
    stale: Counter,
    requeued: Counter,
    buried: Counter,
    returned: Counter,
}

impl QueueMetrics {
    /// `kinds`: the registered kinds whose own queue is this one. A registered kind sent to
    /// another queue (a probe sent anywhere) gets its counters at its first run.
    pub(crate) fn new(queue: &str, kinds: impl Iterator<Item = &'static str>) -> Self {
        let e = &*ENGINE;
        let ql = QueueLabel {
            queue: queue.to_owned(),
        };
        let recovered = |outcome: &'static str| {
            e.recovered.get_or_create_owned(&RecoveredLabels {
                queue: queue.to_owned(),
                outcome,
            })
        };
        Self {
            queue: queue.to_owned(),
            kinds: kinds
                .map(|k| (k, Arc::new(KindMetrics::new(queue, k))))
                .collect(),
            unregistered: Arc::new(KindMetrics::new(queue, UNREGISTERED_KIND)),
            busy: e.slots_busy.get_or_create_owned(&ql),
            slots: e.slots_total.get_or_create_owned(&ql),
            stale: e.stale.get_or_create_owned(&ql),
            requeued: recovered("requeued"),
            buried: recovered("dead"),
            returned: recovered("returned"),
        }
    }

    /// This process's concurrency for the queue.
    pub(crate) fn set_slots(&self, concurrency: usize) {
        self.slots
            .set(i64::try_from(concurrency).unwrap_or(i64::MAX));
    }

    /// The counters of a job of `kind`; `known`: this worker has a handler for it.
    pub(crate) fn kind(&self, kind: &str, known: bool) -> Arc<KindMetrics> {
        match self.kinds.get(kind) {
            Some(m) => m.clone(),
            // Rare (a registered kind on a foreign queue): the family's lookup, whose
            // label set is made once and then found.
            None if known => Arc::new(KindMetrics::new(&self.queue, kind)),
            None => self.unregistered.clone(),
        }
    }

    pub(crate) fn stale(&self) {
        self.stale.inc();
    }

    pub(crate) fn recovered(&self, r: &crate::reclaim::Reclaimed) {
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        self.requeued.inc_by(n(r.requeued));
        self.buried.inc_by(n(r.buried));
        self.returned.inc_by(n(r.returned));
    }
}

/// A slot held by a running job: the busy gauge counts it until dropped (the job's fate
/// written, or its future dropped).
pub(crate) struct BusySlot(Gauge);

impl BusySlot {
    pub(crate) fn take(busy: &Gauge) -> Self {
        busy.inc();
        Self(busy.clone())
    }
}

impl Drop for BusySlot {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The queues' contents and the live workers, read from Redis when scraped: the same O(1)
/// commands as the admin overview ([`Admin::sizes`]: three round trips per queue) and one
/// read of the heartbeat registry. Export them from one process only (the api).
#[derive(Clone)]
pub struct QueueGauges {
    ready: Family<QueueLabel, Gauge>,
    waiting_turn: Family<QueueLabel, Gauge>,
    running: Family<QueueLabel, Gauge>,
    scheduled: Family<QueueLabel, Gauge>,
    retrying: Family<QueueLabel, Gauge>,
    deferred: Family<QueueLabel, Gauge>,
    dead: Family<QueueLabel, Gauge>,
    dead_dropped: Family<QueueLabel, Gauge>,
    paused: Family<QueueLabel, Gauge>,
    lag: Family<QueueLabel, Gauge<f64, AtomicU64>>,
    live_workers: Family<QueueLabel, Gauge>,
    live_slots: Family<QueueLabel, Gauge>,
    live_busy: Family<QueueLabel, Gauge>,
    workers: Gauge,
    scrape_errors: Counter,
}

impl QueueGauges {
    /// Registers the gauges in `registry`; [`Self::refresh`] fills them.
    pub fn new(registry: &mut Registry) -> Self {
        let g = Self {
            ready: Family::default(),
            waiting_turn: Family::default(),
            running: Family::default(),
            scheduled: Family::default(),
            retrying: Family::default(),
            deferred: Family::default(),
            dead: Family::default(),
            dead_dropped: Family::default(),
            paused: Family::default(),
            lag: Family::default(),
            live_workers: Family::default(),
            live_slots: Family::default(),
            live_busy: Family::default(),
            workers: Gauge::default(),
            scrape_errors: Counter::default(),
        };
        let jobs = [
            (
                "queue_ready_jobs",
                "Jobs waiting to run: in the stream not yet delivered to a worker, or waiting \
                 for their owner's turn to enter it",
                &g.ready,
            ),
            (
                "queue_waiting_turn_jobs",
                "Of the ready jobs, those waiting for their owner's turn (owners take turns)",
                &g.waiting_turn,
            ),
            (
                "queue_running_jobs",
                "Jobs delivered and not yet acked: running, or read ahead, or held by a dead \
                 worker until crash recovery",
                &g.running,
            ),
            (
                "queue_scheduled_jobs",
                "Jobs in the scheduled set: delayed, retrying and deferred together",
                &g.scheduled,
            ),
            (
                "queue_retrying_jobs",
                "Of the scheduled jobs, the retries waiting out their backoff",
                &g.retrying,
            ),
            (
                "queue_deferred_jobs",
                "Of the scheduled jobs, the deferred ones (waiting without using an attempt)",
                &g.deferred,
            ),
            ("queue_dead_jobs", "Jobs in the dead set", &g.dead),
            (
                "queue_dead_dropped_jobs",
                "Dead jobs the dead-set cap (queue.dead_max) dropped since the queue began",
                &g.dead_dropped,
            ),
            ("queue_paused", "1 while the queue is paused", &g.paused),
            (
                "queue_live_workers",
                "Live worker processes (fresh heartbeat) consuming the queue",
                &g.live_workers,
            ),
            (
                "queue_live_worker_slots",
                "Concurrency of the live workers consuming the queue, summed",
                &g.live_slots,
            ),
            (
                "queue_live_worker_slots_busy",
                "Jobs the live workers say they are running, summed (as of their last heartbeat)",
                &g.live_busy,
            ),
        ];
        for (name, help, family) in jobs {
            registry.register(name, help, family.clone());
        }
        registry.register_with_unit(
            "queue_lag",
            "Age of the oldest ready job (how long it has waited for a worker); 0 when none waits",
            Unit::Seconds,
            g.lag.clone(),
        );
        registry.register(
            "live_workers",
            "Worker processes with a fresh heartbeat",
            g.workers.clone(),
        );
        registry.register(
            "queue_scrape_errors",
            "Scrapes whose read of the queues in Redis failed (the queue gauges then keep \
             their previous values)",
            g.scrape_errors.clone(),
        );
        g
    }

    /// Reads every known queue's sizes and the heartbeat registry into the gauges. On a
    /// Redis error the gauges keep their last values and the error counter goes up.
    pub async fn refresh(&self, admin: &Admin) -> Result<(), Error> {
        let result = self.read(admin).await;
        if result.is_err() {
            self.scrape_errors.inc();
        }
        result
    }

    async fn read(&self, admin: &Admin) -> Result<(), Error> {
        let queues = admin.queues().await?;
        let mut sizes = Vec::with_capacity(queues.len());
        for q in &queues {
            sizes.push(admin.sizes(q).await?);
        }
        let workers = admin.live_workers().await?;
        let now = now_ms();
        // Queues come and go only through a Redis loss; clearing first drops the ones
        // that went, so no stale series lingers.
        for f in [
            &self.ready,
            &self.waiting_turn,
            &self.running,
            &self.scheduled,
            &self.retrying,
            &self.deferred,
            &self.dead,
            &self.dead_dropped,
            &self.paused,
            &self.live_workers,
            &self.live_slots,
            &self.live_busy,
        ] {
            f.clear();
        }
        self.lag.clear();
        for s in &sizes {
            self.set_sizes(s, now);
        }
        let as_i64 = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        self.workers.set(as_i64(workers.len()));
        for w in &workers {
            for (queue, slots) in &w.queues {
                let l = QueueLabel {
                    queue: queue.clone(),
                };
                self.live_workers.get_or_create(&l).inc();
                self.live_slots.get_or_create(&l).inc_by(as_i64(*slots));
            }
            for (queue, busy) in &w.busy {
                let l = QueueLabel {
                    queue: queue.clone(),
                };
                self.live_busy.get_or_create(&l).inc_by(as_i64(*busy));
            }
        }
        Ok(())
    }

    fn set_sizes(&self, s: &QueueSizes, now: u64) {
        let l = QueueLabel {
            queue: s.queue.clone(),
        };
        let v = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.ready.get_or_create(&l).set(v(s.ready));
        self.waiting_turn.get_or_create(&l).set(v(s.waiting_turn));
        self.running.get_or_create(&l).set(v(s.in_flight));
        self.scheduled.get_or_create(&l).set(v(s.scheduled));
        self.retrying.get_or_create(&l).set(v(s.retrying));
        self.deferred.get_or_create(&l).set(v(s.deferred));
        self.dead.get_or_create(&l).set(v(s.dead));
        self.dead_dropped.get_or_create(&l).set(v(s.dead_dropped));
        self.paused.get_or_create(&l).set(i64::from(s.paused));
        // Every known queue has a worker count, 0 included: "no live worker" is a series.
        self.live_workers.get_or_create(&l).set(0);
        self.live_slots.get_or_create(&l).set(0);
        self.live_busy.get_or_create(&l).set(0);
        #[allow(
            clippy::cast_precision_loss,
            reason = "an age in ms fits an f64 exactly"
        )]
        let lag = s
            .oldest_ready_at
            .map_or(0.0, |at| now.saturating_sub(at) as f64 / 1000.0);
        self.lag.get_or_create(&l).set(lag);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_counts_into_its_buckets_and_encodes_cumulatively() {
        static B: &[f64] = &[0.1, 1.0];
        let h = Histogram::new(B);
        for v in [0.05, 0.1, 0.5, 3.0] {
            h.observe(v);
        }
        assert_eq!(h.count(), 4);
        assert!((h.sum() - 3.65).abs() < 1e-9);
        let mut r = Registry::with_prefix(PREFIX);
        r.register_with_unit("t", "test", Unit::Seconds, h);
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &r).unwrap();
        for line in [
            "astrogrowth_t_seconds_bucket{le=\"0.1\"} 2",
            "astrogrowth_t_seconds_bucket{le=\"1\"} 3",
            "astrogrowth_t_seconds_bucket{le=\"+Inf\"} 4",
            "astrogrowth_t_seconds_count 4",
        ] {
            assert!(out.contains(line), "{line} missing from\n{out}");
        }
    }
}
