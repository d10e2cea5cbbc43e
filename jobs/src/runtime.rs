//! Running workers: one apalis worker per queue, plus the background tasks around it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use apalis_core::worker::builder::WorkerBuilder;
use apalis_core::worker::context::WorkerContext;
use redis::aio::ConnectionManager;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::ack;
use crate::backend::{self, StreamsBackend};
use crate::connection::{Settings, connect, now_ms};
use crate::error::Error;
use crate::fetch;
use crate::heartbeat::{self, WorkerInfo};
use crate::keys::{GlobalKeys, QueueKeys, QueueName};
use crate::queue_state::{Holdings, QueueState};
use crate::reclaim;
use crate::registry::{Registry, Router};
use crate::scheduler;

/// Highest concurrency one queue may ask for in one process: past this a process only
/// adds memory and Redis load; run more processes instead.
pub const MAX_CONCURRENCY: usize = 10_000;

/// One queue a worker consumes and how many of its jobs run at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub queue: QueueName,
    pub concurrency: usize,
}

/// Parses `scrape,enrich=8,publish=2`; a queue without `=N` gets `default_concurrency`.
pub fn parse_queues(spec: &str, default_concurrency: usize) -> Result<Vec<QueueSpec>, Error> {
    check_concurrency(default_concurrency)?;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, concurrency) = match part.split_once('=') {
            Some((name, n)) => {
                let n: usize = n.trim().parse().map_err(|_| {
                    Error::Config(format!(
                        "concurrency of queue {name:?} must be a whole number, got {n:?}"
                    ))
                })?;
                (name.trim(), n)
            }
            None => (part, default_concurrency),
        };
        check_concurrency(concurrency)?;
        let queue = QueueName::new(name)?;
        if !seen.insert(queue.clone()) {
            return Err(Error::Config(format!("queue {queue} is listed twice")));
        }
        out.push(QueueSpec { queue, concurrency });
    }
    if out.is_empty() {
        return Err(Error::Config(
            "no queue given (e.g. --queues scrape,enrich=8)".into(),
        ));
    }
    Ok(out)
}

fn check_concurrency(n: usize) -> Result<(), Error> {
    if n == 0 || n > MAX_CONCURRENCY {
        return Err(Error::Config(format!(
            "concurrency must be between 1 and {MAX_CONCURRENCY}, got {n}"
        )));
    }
    Ok(())
}

/// A running worker process's queues. Dropping it does not stop them: call `shutdown`.
pub struct Running {
    id: String,
    queues: Vec<QueueRun>,
    heartbeat: JoinHandle<()>,
    heartbeat_stop: watch::Sender<bool>,
    conn: ConnectionManager,
    settings: Arc<Settings>,
    failed: mpsc::UnboundedReceiver<String>,
}

struct QueueRun {
    state: Arc<QueueState>,
    ctx: WorkerContext,
    worker: JoinHandle<()>,
    fetch_stop: Arc<watch::Sender<bool>>,
    maintenance_stop: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
    acker: JoinHandle<()>,
}

/// What a shutdown did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs still running at the deadline, left pending for crash recovery.
    pub abandoned: usize,
}

/// Starts one apalis worker per queue on `url`. Returns once every queue's consumer
/// group exists or Redis could not be reached at all.
pub async fn start(
    url: &str,
    settings: Settings,
    registry: Registry,
    queues: Vec<QueueSpec>,
) -> Result<Running, Error> {
    let settings = Arc::new(settings);
    let registry = Arc::new(registry);
    let id = worker_id();
    let ops = connect(url, Duration::from_secs(10)).await?;
    let globals = GlobalKeys::new(&settings.prefix);
    let (failed_tx, failed) = mpsc::unbounded_channel();
    let mut runs = Vec::with_capacity(queues.len());
    for spec in &queues {
        let keys = Arc::new(QueueKeys::new(&settings.prefix, &spec.queue));
        let mut conn = ops.clone();
        fetch::ensure_group(&mut conn, &keys).await?;
        let () = redis::cmd("SADD")
            .arg(&globals.queues)
            .arg(spec.queue.as_str())
            .query_async(&mut conn)
            .await?;
        let fetch_conn = connect(url, settings.block + Duration::from_secs(10)).await?;
        let holdings = Arc::new(Holdings::default());
        let (acker, acker_task) = ack::spawn(
            ops.clone(),
            keys.clone(),
            settings.clone(),
            holdings.clone(),
        );
        let state = Arc::new(QueueState::new(
            keys.clone(),
            settings.clone(),
            id.clone(),
            acker,
            holdings,
            registry.clone(),
            ops.clone(),
        ));
        // Know the pause flag before the first read, so a paused queue fetches nothing.
        state.refresh_paused().await?;
        // Fetch budget: the running jobs plus the read-ahead. The run limit itself is
        // enforced by the outcome layer.
        let budget = spec.concurrency + settings.read_ahead_for(spec.concurrency);
        let (tx, rx) = mpsc::channel(budget);
        let (fetch_stop, fetch_stop_rx) = watch::channel(false);
        let fetch_stop = Arc::new(fetch_stop);
        let (maintenance_stop, maintenance_stop_rx) = watch::channel(false);
        let budget = Arc::new(Semaphore::new(budget));
        let mut background = Vec::new();
        background.push(tokio::spawn(fetch::run(
            state.clone(),
            fetch_conn,
            budget,
            tx,
            fetch_stop_rx,
        )));
        {
            let (conn, keys, settings, stop) = (
                ops.clone(),
                keys.clone(),
                settings.clone(),
                maintenance_stop_rx.clone(),
            );
            background.push(tokio::spawn(async move {
                scheduler::run(conn, &keys, &settings, stop).await;
            }));
        }
        background.push(tokio::spawn(maintain(state.clone(), maintenance_stop_rx)));

        let backend = StreamsBackend::new(state.clone(), rx, fetch_stop.clone(), spec.concurrency);
        let ctx = WorkerContext::new(&format!("{id}/{}", spec.queue));
        let worker = WorkerBuilder::new(ctx.clone())
            .backend(backend)
            .build(Router::new(registry.clone(), settings.unknown_kind_wait));
        let failed_tx = failed_tx.clone();
        let queue_name = spec.queue.to_string();
        let worker = tokio::spawn(async move {
            if let Err(e) = worker.run().await {
                tracing::error!(queue = %queue_name, error = %crate::error::Chain(&e), "worker stopped with an error");
                let _ = failed_tx.send(format!("queue {queue_name}: {e}"));
            }
        });
        runs.push(QueueRun {
            state,
            ctx,
            worker,
            fetch_stop,
            maintenance_stop,
            background,
            acker: acker_task,
        });
    }
    let info = WorkerInfo {
        id: id.clone(),
        host: hostname(),
        pid: std::process::id(),
        queues: queues
            .iter()
            .map(|q| (q.queue.to_string(), q.concurrency))
            .collect(),
        started_at: now_ms(),
        last_beat: now_ms(),
        busy: Vec::new(),
    };
    let (heartbeat_stop, heartbeat_stop_rx) = watch::channel(false);
    let states: Vec<_> = runs.iter().map(|r| r.state.clone()).collect();
    let heartbeat = tokio::spawn(beat_loop(
        ops.clone(),
        globals,
        info,
        states,
        settings.heartbeat_interval,
        heartbeat_stop_rx,
    ));
    tracing::info!(worker = %id, queues = ?queues, "worker started");
    Ok(Running {
        id,
        queues: runs,
        heartbeat,
        heartbeat_stop,
        conn: ops,
        settings,
        failed,
    })
}

impl Running {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Resolves if a queue's worker stopped on its own (it should not): the process
    /// should then exit and be restarted by its supervisor.
    pub async fn failed(&mut self) -> String {
        self.failed
            .recv()
            .await
            .unwrap_or_else(|| "all workers ended".to_owned())
    }

    /// Stops fetching at once, lets running jobs finish until `deadline`, acks them, and
    /// hands back what was fetched but not started. Jobs still running at the deadline
    /// stay pending and another worker reclaims them after the visibility timeout.
    pub async fn shutdown(self, deadline: Duration) -> ShutdownReport {
        let mut report = ShutdownReport::default();
        for run in &self.queues {
            let _ = run.fetch_stop.send(true);
            let _ = run.ctx.stop();
        }
        let until = tokio::time::Instant::now() + deadline;
        for run in self.queues {
            let mut worker = run.worker;
            let finished = tokio::time::timeout_at(until, &mut worker).await.is_ok();
            if !finished {
                worker.abort();
                let _ = worker.await;
                let running = run.state.running().len();
                report.abandoned += running;
                tracing::warn!(queue = %run.state.keys.queue, running,
                    "shutdown deadline passed; unfinished jobs are left for crash recovery");
                if let Err(e) = backend::close(&run.state).await {
                    tracing::warn!(error = %crate::error::Chain(&e), "could not hand back unstarted jobs; they will be reclaimed");
                }
            }
            if !run.state.acker.flush_within(backend::LAST_ACKS_WAIT).await {
                tracing::warn!(queue = %run.state.keys.queue, "could not write the last acks; those jobs will run again");
            }
            let _ = run.maintenance_stop.send(true);
            for task in run.background {
                task.abort();
            }
            run.acker.abort();
        }
        let _ = self.heartbeat_stop.send(true);
        let _ = self.heartbeat.await;
        let mut conn = self.conn.clone();
        let globals = GlobalKeys::new(&self.settings.prefix);
        if let Err(e) = heartbeat::deregister(&mut conn, &globals, &self.id).await {
            tracing::warn!(error = %crate::error::Chain(&e), "could not remove the worker from the registry");
        }
        report
    }
}

/// Pause flag, keepalive of running jobs, crash recovery, consumer pruning.
async fn maintain(state: Arc<QueueState>, mut stop: watch::Receiver<bool>) {
    let vis = state.settings.visibility_timeout;
    let keepalive_every = (vis / 3).max(Duration::from_millis(100));
    let reclaim_every = (vis / 2).max(Duration::from_millis(100));
    let prune_every = Duration::from_secs(600);
    let mut rng = fastrand::Rng::new();
    let start = tokio::time::Instant::now();
    let mut next_pause_check = start;
    let mut next_keepalive = start + keepalive_every;
    // First reclaim soon after start: a restarted worker should not wait to take back
    // what its previous incarnation left.
    let mut next_reclaim = start + Duration::from_millis(rng.u64(100..1_000));
    let mut next_prune = start + prune_every;
    let mut conn = state.conn.clone();
    let beat = state.settings.heartbeat_interval;
    let heartbeat_lapse = beat * heartbeat::MISSED_BEATS;
    // Heartbeats are judged only after this worker has reached Redis without trouble for
    // a whole lapse (plus one beat): after a stall or an outage every heartbeat looks
    // old, though the workers behind them are alive and running their jobs.
    let mut judge_after = start;
    let troubled = |took: Duration, failed: bool, judge_after: &mut tokio::time::Instant| {
        if failed || took > beat {
            *judge_after = tokio::time::Instant::now() + heartbeat_lapse + beat;
        }
    };
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_pause_check {
            let res = state.refresh_paused().await;
            troubled(now.elapsed(), res.is_err(), &mut judge_after);
            if let Err(e) = res {
                tracing::debug!(error = %crate::error::Chain(&e), "pause check failed");
            }
            next_pause_check = now + Duration::from_secs(1);
        }
        if now >= next_keepalive {
            let (started, waiting) = state.holdings.started_and_waiting();
            let began = tokio::time::Instant::now();
            let res =
                reclaim::keepalive(&mut conn, &state.keys, &state.consumer, &started, &waiting)
                    .await;
            troubled(began.elapsed(), res.is_err(), &mut judge_after);
            if let Err(e) = res {
                tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "keepalive failed");
            }
            next_keepalive = now + keepalive_every;
        }
        if now >= next_reclaim {
            let policy = reclaim::ReclaimPolicy {
                min_idle: vis,
                heartbeat_lapse,
                judge_heartbeats: tokio::time::Instant::now() >= judge_after,
                judge_within: beat,
            };
            match reclaim::reclaim(&mut conn, &state.settler, &state.consumer, policy).await {
                Ok(r) if r != reclaim::Reclaimed::default() => {
                    tracing::warn!(queue = %state.keys.queue, requeued = r.requeued, buried = r.buried,
                        dropped = r.dropped, returned = r.returned, "reclaimed jobs of a dead worker");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "reclaim failed")
                }
            }
            let jitter = Duration::from_millis(
                rng.u64(0..=u64::try_from(reclaim_every.as_millis() / 5).unwrap_or(0)),
            );
            next_reclaim = now + reclaim_every + jitter;
        }
        if now >= next_prune {
            if let Err(e) =
                reclaim::prune_consumers(&mut conn, &state.keys, Duration::from_secs(3600)).await
            {
                tracing::debug!(error = %crate::error::Chain(&e), "consumer pruning failed");
            }
            next_prune = now + prune_every;
        }
        let wake = next_pause_check
            .min(next_keepalive)
            .min(next_reclaim)
            .min(next_prune);
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn beat_loop(
    mut conn: ConnectionManager,
    keys: GlobalKeys,
    mut info: WorkerInfo,
    states: Vec<Arc<QueueState>>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        info.last_beat = now_ms();
        info.busy = states
            .iter()
            .map(|s| (s.keys.queue.to_string(), s.busy()))
            .collect();
        if let Err(e) = heartbeat::beat(&mut conn, &keys, &info, interval).await {
            tracing::debug!(error = %crate::error::Chain(&e), "heartbeat failed");
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

fn worker_id() -> String {
    format!(
        "{}:{}:{:04x}",
        hostname(),
        std::process::id(),
        fastrand::u16(..)
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queue_specs() {
        let q = parse_queues("scrape, enrich=8,publish=2", 4).unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].concurrency, 4);
        assert_eq!(q[1].concurrency, 8);
        assert!(parse_queues("", 4).is_err());
        assert!(parse_queues("a,a", 4).is_err());
        assert!(parse_queues("bad name", 4).is_err());
        assert!(parse_queues("a=0", 4).is_err());
        assert!(parse_queues("a=x", 4).is_err());
        assert!(parse_queues("a", 0).is_err());
        assert!(parse_queues("a=99999999", 4).is_err());
    }
}
