//! Running workers: one apalis worker per queue, plus the background tasks around it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::connection::Conn;
use apalis_core::worker::builder::WorkerBuilder;
use apalis_core::worker::context::WorkerContext;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::ack;
use crate::backend::StreamsBackend;
use crate::connection::{Settings, connect, now_ms};
use crate::epoch::{EpochWatch, Losses};
use crate::error::Error;
use crate::fetch;
use crate::heartbeat::{self, WorkerInfo};
use crate::holdings::Holdings;
use crate::keys::{GlobalKeys, QueueKeys, QueueName};
use crate::lease::Lease;
use crate::maintenance;
use crate::queue_state::QueueState;
use crate::registry::{Registry, Router};
use crate::scheduler;
use crate::shutdown::{self, ShutdownReport};
use crate::stream;

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
    /// The one stop signal: cancelled, every queue stops taking work (each queue's fetch
    /// and backend hold a child of it). What runs on through the drain (keepalive, crash
    /// recovery, the mover, the acker, the heartbeat) is ended by `shutdown` itself once
    /// the drain is over, so it needs no signal of its own.
    stop: CancellationToken,
    heartbeat: JoinHandle<()>,
    conn: Conn,
    settings: Arc<Settings>,
    failed: mpsc::UnboundedReceiver<String>,
    losses: Losses,
}

struct QueueRun {
    state: Arc<QueueState>,
    ctx: WorkerContext,
    worker: JoinHandle<()>,
    /// Maintenance and the scheduled-jobs mover.
    background: Vec<JoinHandle<()>>,
    acker: JoinHandle<()>,
}

/// Starts one apalis worker per queue on `url`. Returns once every queue's consumer
/// group exists or Redis could not be reached at all.
pub async fn start(
    url: &str,
    settings: Settings,
    registry: Registry,
    queues: Vec<QueueSpec>,
) -> Result<Running, Error> {
    if let Some(spec) = queues
        .iter()
        .find(|q| !registry.handles_queue(q.queue.as_str()))
    {
        let mut kinds: Vec<&str> = registry.kinds().collect();
        kinds.sort_unstable();
        return Err(Error::Config(format!(
            "no job kind of this worker ({}) belongs to queue {}: it would only defer what it \
             reads; leave the queue to a worker that has its handlers, or ask for it explicitly \
             (workers --serve-any-queue)",
            kinds.join(", "),
            spec.queue
        )));
    }
    let settings = Arc::new(settings);
    let registry = Arc::new(registry);
    let id = worker_id();
    let ops = connect(url, Duration::from_secs(10)).await?;
    let globals = GlobalKeys::new(&settings.prefix);
    let (failed_tx, failed) = mpsc::unbounded_channel();
    let lease = Arc::new(Lease::new(settings.heartbeat_interval));
    let stop = CancellationToken::new();
    let mut runs = Vec::with_capacity(queues.len());
    for spec in &queues {
        let keys = Arc::new(QueueKeys::new(&settings.prefix, &spec.queue));
        let mut conn = ops.clone();
        stream::ensure_group(&mut conn, &keys).await?;
        heartbeat::register_queue(&mut conn, &globals, &spec.queue).await?;
        let fetch_conn = connect(url, settings.block + Duration::from_secs(10)).await?;
        let holdings = Arc::new(Holdings::default());
        let (acker, acker_task) = ack::spawn(
            ops.clone(),
            keys.clone(),
            settings.clone(),
            holdings.clone(),
        );
        let state = Arc::new(
            QueueState::new(
                keys.clone(),
                settings.clone(),
                id.clone(),
                acker,
                holdings,
                registry.clone(),
                ops.clone(),
            )
            .with_lease(lease.clone()),
        );
        state.metrics.set_slots(spec.concurrency);
        // Know the pause flag before the first read, so a paused queue fetches nothing.
        state.refresh_paused().await?;
        // Fetch budget: the running jobs plus the read-ahead. The run limit itself is
        // enforced by the outcome layer.
        let read_ahead = settings.read_ahead_for(spec.concurrency);
        let budget = spec.concurrency + read_ahead;
        let (tx, rx) = mpsc::channel(budget);
        let queue_stop = stop.child_token();
        let budget = Arc::new(Semaphore::new(budget));
        let mut background = Vec::new();
        background.push(tokio::spawn(fetch::run(
            state.clone(),
            fetch_conn,
            budget,
            (spec.concurrency, read_ahead),
            tx,
            queue_stop.clone(),
        )));
        {
            let (conn, keys, settings) = (ops.clone(), keys.clone(), settings.clone());
            background.push(tokio::spawn(async move {
                scheduler::run(conn, &keys, &settings).await;
            }));
        }
        background.push(tokio::spawn(maintenance::run(state.clone())));

        let backend = StreamsBackend::new(state.clone(), rx, queue_stop, spec.concurrency);
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
        jobs: Vec::new(),
        owners: Vec::new(),
    };
    let states: Vec<_> = runs.iter().map(|r| r.state.clone()).collect();
    // The first look writes the marker if this Redis has none yet, so a later loss of
    // everything shows as a changed marker.
    let mut epoch =
        EpochWatch::for_queues(&globals, states.iter().map(|s| &*s.keys), ops.is_cluster());
    epoch.look(&mut ops.clone()).await?;
    let (losses_tx, losses) = Losses::channel();
    let heartbeat = tokio::spawn(heartbeat::beat_loop(heartbeat::Beat {
        conn: ops.clone(),
        keys: globals,
        info,
        states,
        interval: settings.heartbeat_interval,
        epoch,
        losses: losses_tx,
        lease,
    }));
    tracing::info!(worker = %id, queues = ?queues, "worker started");
    Ok(Running {
        id,
        queues: runs,
        stop,
        heartbeat,
        conn: ops,
        settings,
        failed,
        losses,
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

    /// Reports each time this process notices that Redis lost its data (within one
    /// heartbeat), after its queues and consumer groups were registered again: the
    /// periodic schedule enqueues its after-loss jobs on it.
    pub fn redis_losses(&self) -> Losses {
        self.losses.clone()
    }
}

impl Running {
    /// Stops fetching at once, lets running jobs finish until `deadline`, acks them, and
    /// hands back what was fetched but not started. Jobs still running at the deadline
    /// stay pending and another worker reclaims them after the visibility timeout.
    pub async fn shutdown(self, deadline: Duration) -> ShutdownReport {
        let mut report = ShutdownReport::default();
        self.stop.cancel();
        let until = tokio::time::Instant::now() + deadline;
        // apalis's worker loop ends on its own context's stop, once its backend closed.
        for run in &self.queues {
            stop_loop(&run.ctx, until).await;
        }
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
                if let Err(e) = shutdown::close(&run.state).await {
                    tracing::warn!(error = %crate::error::Chain(&e), "could not hand back unstarted jobs; they will be reclaimed");
                }
            }
            if !run.state.acker.flush_within(shutdown::LAST_ACKS_WAIT).await {
                tracing::warn!(queue = %run.state.keys.queue, "could not write the last acks; those jobs will run again");
            }
            for task in run.background {
                task.abort();
            }
            run.acker.abort();
        }
        self.heartbeat.abort();
        let _ = self.heartbeat.await;
        let mut conn = self.conn.clone();
        let globals = GlobalKeys::new(&self.settings.prefix);
        if let Err(e) = heartbeat::deregister(&mut conn, &globals, &self.id).await {
            tracing::warn!(error = %crate::error::Chain(&e), "could not remove the worker from the registry");
        }
        report
    }
}

/// Asks apalis's worker loop to stop. apalis refuses a stop sent before its loop first ran
/// (the context is still pending), and that loop, once started, would run until a stop that
/// never comes: a shutdown right after start would wait out its whole deadline. So the
/// stop is sent again until the loop has taken it, or the deadline passed.
async fn stop_loop(ctx: &WorkerContext, until: tokio::time::Instant) {
    while ctx.stop().is_err() && ctx.is_pending() && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
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

    /// A shutdown right after start can reach a loop apalis has not polled yet: the stop
    /// must still be taken once the loop starts, or the loop waits for one until the
    /// shutdown deadline.
    #[tokio::test]
    async fn a_stop_sent_before_the_loop_started_is_taken_once_it_starts() {
        let ctx = WorkerContext::new("stop-early");
        let mut engine_side = ctx.clone();
        let until = tokio::time::Instant::now() + Duration::from_secs(10);
        let stopping = tokio::spawn(async move { stop_loop(&ctx, until).await });
        // The stop is sent (and refused) before the loop starts.
        tokio::task::yield_now().await;
        assert!(engine_side.is_pending());
        engine_side.start().unwrap();
        tokio::time::timeout(Duration::from_secs(5), stopping)
            .await
            .expect("the stop ends once the loop started")
            .unwrap();
        assert!(
            engine_side.is_shutting_down(),
            "the loop started after the stop and was never asked to stop"
        );
    }
}
