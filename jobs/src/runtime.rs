//! Running workers: one apalis worker per queue, plus the background tasks around it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::connection::Conn;
use apalis_core::worker::builder::WorkerBuilder;
use apalis_core::worker::context::WorkerContext;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::ack;
use crate::backend::StreamsBackend;
use crate::connection::{Settings, connect, now_ms};
use crate::epoch::{EpochWatch, Look, Losses};
use crate::error::Error;
use crate::fetch;
use crate::heartbeat::{self, WorkerInfo};
use crate::keys::{GlobalKeys, QueueKeys, QueueName};
use crate::lease::Lease;
use crate::maintenance;
use crate::queue_state::{Holdings, QueueState};
use crate::registry::{Registry, Router};
use crate::scheduler;
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
    pub(crate) id: String,
    pub(crate) queues: Vec<QueueRun>,
    pub(crate) heartbeat: JoinHandle<()>,
    pub(crate) heartbeat_stop: watch::Sender<bool>,
    pub(crate) conn: Conn,
    pub(crate) settings: Arc<Settings>,
    failed: mpsc::UnboundedReceiver<String>,
    losses: Losses,
}

pub(crate) struct QueueRun {
    pub(crate) state: Arc<QueueState>,
    pub(crate) ctx: WorkerContext,
    pub(crate) worker: JoinHandle<()>,
    pub(crate) fetch_stop: Arc<watch::Sender<bool>>,
    pub(crate) maintenance_stop: watch::Sender<bool>,
    pub(crate) background: Vec<JoinHandle<()>>,
    pub(crate) acker: JoinHandle<()>,
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
    let mut runs = Vec::with_capacity(queues.len());
    for spec in &queues {
        let keys = Arc::new(QueueKeys::new(&settings.prefix, &spec.queue));
        let mut conn = ops.clone();
        stream::ensure_group(&mut conn, &keys).await?;
        register_queue(&mut conn, &globals, &spec.queue).await?;
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
        let (fetch_stop, fetch_stop_rx) = watch::channel(false);
        let fetch_stop = Arc::new(fetch_stop);
        let (maintenance_stop, maintenance_stop_rx) = watch::channel(false);
        let budget = Arc::new(Semaphore::new(budget));
        let mut background = Vec::new();
        background.push(tokio::spawn(fetch::run(
            state.clone(),
            fetch_conn,
            budget,
            (spec.concurrency, read_ahead),
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
        background.push(tokio::spawn(maintenance::run(
            state.clone(),
            maintenance_stop_rx,
        )));

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
        jobs: Vec::new(),
        owners: Vec::new(),
    };
    let (heartbeat_stop, heartbeat_stop_rx) = watch::channel(false);
    let states: Vec<_> = runs.iter().map(|r| r.state.clone()).collect();
    // The first look writes the marker if this Redis has none yet, so a later loss of
    // everything shows as a changed marker.
    let mut epoch = EpochWatch::new(&globals);
    epoch.look(&mut ops.clone()).await?;
    let (losses_tx, losses) = Losses::channel();
    let heartbeat = tokio::spawn(beat_loop(
        Beat {
            conn: ops.clone(),
            keys: globals,
            info,
            states,
            interval: settings.heartbeat_interval,
            epoch,
            losses: losses_tx,
            lease,
        },
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

/// Lists a queue in the registry the admin UI and `workers status` read.
async fn register_queue(
    conn: &mut Conn,
    globals: &GlobalKeys,
    queue: &QueueName,
) -> Result<(), Error> {
    let () = redis::cmd("SADD")
        .arg(&globals.queues)
        .arg(queue.as_str())
        .query_async(conn)
        .await?;
    Ok(())
}

/// What the heartbeat task owns.
struct Beat {
    conn: Conn,
    keys: GlobalKeys,
    info: WorkerInfo,
    states: Vec<Arc<QueueState>>,
    interval: Duration,
    /// Looked at every beat, so a Redis that lost its data is noticed within one.
    epoch: EpochWatch,
    losses: watch::Sender<Option<String>>,
    /// Renewed by each beat that reaches Redis.
    lease: Arc<Lease>,
}

impl Beat {
    /// After a loss: the registry set and the consumer groups are written again (the
    /// fetch loops recreate their groups too when a read says NOGROUP, but a paused or
    /// idle queue would not read), then the process's listeners hear of it.
    async fn heal(&mut self, epoch: String, won: bool) {
        tracing::warn!(%epoch, won, "redis lost its data: registering this worker's queues again");
        for state in &self.states {
            let queue = &state.keys.queue;
            if let Err(e) = register_queue(&mut self.conn, &self.keys, queue).await {
                tracing::warn!(%queue, error = %crate::error::Chain(&e), "could not register the queue again");
            }
            if let Err(e) = stream::ensure_group(&mut self.conn, &state.keys).await {
                tracing::warn!(%queue, error = %crate::error::Chain(&e), "could not create the consumer group again");
            }
        }
        let _ = self.losses.send(Some(epoch));
    }

    /// Marker first, so a loss is healed before this beat re-registers the worker.
    async fn once(&mut self) {
        match self.epoch.look(&mut self.conn).await {
            Ok(Look::Lost { epoch, won }) => self.heal(epoch, won).await,
            Ok(Look::First { .. } | Look::Unchanged) => {}
            Err(e) => tracing::debug!(error = %crate::error::Chain(&e), "epoch look failed"),
        }
        let info = &mut self.info;
        let sent = std::time::Instant::now();
        info.last_beat = now_ms();
        info.busy = self
            .states
            .iter()
            .map(|s| (s.keys.queue.to_string(), s.busy()))
            .collect();
        info.jobs = self
            .states
            .iter()
            .flat_map(|s| {
                s.holdings
                    .running_jobs(heartbeat::JOBS_LISTED)
                    .into_iter()
                    .map(|j| heartbeat::BusyJob {
                        queue: s.keys.queue.to_string(),
                        id: j.job_id,
                        kind: j.kind,
                        started_at: j.started_at,
                    })
            })
            .collect();
        info.owners = self
            .states
            .iter()
            .flat_map(|s| {
                s.holdings
                    .running_by_owner(heartbeat::OWNERS_LISTED)
                    .into_iter()
                    .map(|(user_id, running)| heartbeat::OwnerRunning {
                        queue: s.keys.queue.to_string(),
                        user_id,
                        running,
                    })
            })
            .collect();
        match heartbeat::beat(&mut self.conn, &self.keys, info, self.interval).await {
            Ok(()) => self.lease.renewed(sent),
            Err(e) => tracing::debug!(error = %crate::error::Chain(&e), "heartbeat failed"),
        }
    }
}

async fn beat_loop(mut beat: Beat, mut stop: watch::Receiver<bool>) {
    loop {
        beat.once().await;
        tokio::select! {
            () = tokio::time::sleep(beat.interval) => {}
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
