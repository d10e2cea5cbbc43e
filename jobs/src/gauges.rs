//! The queues' gauges for Prometheus, read from Redis when scraped (the engine's other
//! metrics, counted as jobs run, are in [`crate::metrics`]). Apart from those because they
//! read through the admin operations, which the running engine never needs.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::admin::{Admin, QueueSizes};
use crate::connection::now_ms;
use crate::error::Error;
use crate::metrics::QueueLabel;

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
