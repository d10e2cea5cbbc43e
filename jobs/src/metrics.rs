//! Prometheus metrics of the engine (docs/operations.md, "Metrics and alerts").
//!
//! Two halves, exported by different processes so that a sum over processes never counts
//! a thing twice:
//!
//! - [`register`]: what one worker process did, counted as it happens: each job's run time
//!   and fate per queue and kind, crash recovery, and the process's busy and total slots.
//!   Every worker process exports its own; Prometheus sums them.
//! - [`crate::gauges::QueueGauges`]: what a queue holds (ready, running, scheduled, ... and
//!   its lag) and which workers are alive, read from Redis when scraped. That is one truth
//!   for the whole system, so only one process exports it (the api), or N workers would
//!   make it N times.
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

    /// One crash-recovery pass: jobs put back with an attempt used, buried, and put back
    /// without one (never started).
    pub(crate) fn recovered(&self, requeued: usize, buried: usize, returned: usize) {
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        self.requeued.inc_by(n(requeued));
        self.buried.inc_by(n(buried));
        self.returned.inc_by(n(returned));
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
