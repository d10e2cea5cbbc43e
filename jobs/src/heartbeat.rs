//! The live-workers registry: each worker process writes a heartbeat every few seconds.

use std::time::Duration;

use crate::connection::Conn;
use serde::{Deserialize, Serialize};

use crate::connection::now_ms;
use crate::error::Error;
use crate::scripts::SCRIPTS;
use std::sync::Arc;

use tokio::sync::watch;

use crate::epoch::{EpochWatch, Look};
use crate::keys::{GlobalKeys, QueueName};
use crate::lease::Lease;
use crate::queue_state::QueueState;
use crate::stream;

pub use crate::lease::MISSED_BEATS;

/// What ops see of one worker process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// `queue=concurrency` pairs.
    pub queues: Vec<(String, usize)>,
    pub started_at: u64,
    pub last_beat: u64,
    /// Jobs running now, per queue.
    pub busy: Vec<(String, usize)>,
    /// The running jobs themselves, longest running first, at most [`JOBS_LISTED`] per
    /// queue so a beat stays small. Absent in beats of older workers.
    #[serde(default)]
    pub jobs: Vec<BusyJob>,
    /// Running jobs per owner, the busiest [`OWNERS_LISTED`] owners per queue, so the admin
    /// UI can show who holds the slots. Absent in beats of older workers.
    #[serde(default)]
    pub owners: Vec<OwnerRunning>,
}

/// Running jobs a heartbeat lists per queue.
pub const JOBS_LISTED: usize = 20;

/// Owners a heartbeat lists per queue.
pub const OWNERS_LISTED: usize = 20;

/// How many jobs of one owner a worker is running in one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRunning {
    pub queue: String,
    pub user_id: i64,
    pub running: usize,
}

/// One running job in a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusyJob {
    pub queue: String,
    pub id: String,
    pub kind: String,
    /// When its handler started, ms.
    pub started_at: u64,
}

/// Writes this worker's record and refreshes its score in the registry zset. The record
/// expires on its own if the worker dies, so a dead worker vanishes without cleanup.
///
/// The score is Redis's clock, not this host's (`beat.lua`): every worker judges the others
/// by the beats' scores, so one host whose clock runs ahead must not make the others'
/// fresh beats look old, nor its own look fresh after it died. Entries of workers gone for
/// good are dropped by the same script, so the registry stays bounded even when nobody
/// reads it.
pub async fn beat(
    conn: &mut Conn,
    keys: &GlobalKeys,
    info: &WorkerInfo,
    interval: Duration,
) -> Result<(), Error> {
    let json = serde_json::to_string(info).map_err(|e| Error::Encode {
        kind: "worker".into(),
        source: e,
    })?;
    let ttl = (interval * MISSED_BEATS).as_secs().max(1);
    let _: u64 = SCRIPTS
        .beat
        .key(&keys.workers)
        .key(keys.worker(&info.id))
        .arg(&info.id)
        .arg(json)
        .arg(ttl)
        .arg(lapse_ms(interval))
        .invoke_async(conn)
        .await?;
    Ok(())
}

/// How old (ms) a beat is when its worker counts as gone.
fn lapse_ms(interval: Duration) -> u64 {
    u64::try_from((interval * MISSED_BEATS).as_millis()).unwrap_or(u64::MAX)
}

pub async fn deregister(conn: &mut Conn, keys: &GlobalKeys, id: &str) -> Result<(), Error> {
    let () = redis::pipe()
        .cmd("ZREM")
        .arg(&keys.workers)
        .arg(id)
        .ignore()
        .cmd("DEL")
        .arg(keys.worker(id))
        .ignore()
        .query_async(conn)
        .await?;
    Ok(())
}

/// Live workers, newest beat first; drops registry entries of workers long gone (by
/// Redis's clock, as beats are scored).
pub async fn live_workers(
    conn: &mut Conn,
    keys: &GlobalKeys,
    interval: Duration,
) -> Result<Vec<WorkerInfo>, Error> {
    let ids: Vec<String> = SCRIPTS
        .live
        .key(&keys.workers)
        .arg(lapse_ms(interval))
        .arg(1_000)
        .invoke_async(conn)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut mget = redis::cmd("MGET");
    for id in &ids {
        mget.arg(keys.worker(id));
    }
    let records: Vec<Option<String>> = mget.query_async(conn).await?;
    Ok(records
        .into_iter()
        .flatten()
        .filter_map(|r| serde_json::from_str(&r).ok())
        .collect())
}

/// Lists a queue in the registry the admin UI and `workers status` read.
pub(crate) async fn register_queue(
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
pub(crate) struct Beat {
    pub(crate) conn: Conn,
    pub(crate) keys: GlobalKeys,
    pub(crate) info: WorkerInfo,
    pub(crate) states: Vec<Arc<QueueState>>,
    pub(crate) interval: Duration,
    /// Looked at every beat, so a Redis that lost its data is noticed within one.
    pub(crate) epoch: EpochWatch,
    pub(crate) losses: watch::Sender<Option<String>>,
    /// Renewed by each beat that reaches Redis.
    pub(crate) lease: Arc<Lease>,
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
                    .running_jobs(JOBS_LISTED)
                    .into_iter()
                    .map(|j| BusyJob {
                        queue: s.keys.queue.to_string(),
                        id: j.job_id,
                        kind: j.kind,
                        started_at: j.started_at,
                    })
            })
            .collect();
        info.owners =
            self.states
                .iter()
                .flat_map(|s| {
                    s.holdings.running_by_owner(OWNERS_LISTED).into_iter().map(
                        |(user_id, running)| OwnerRunning {
                            queue: s.keys.queue.to_string(),
                            user_id,
                            running,
                        },
                    )
                })
                .collect();
        match beat(&mut self.conn, &self.keys, info, self.interval).await {
            Ok(()) => self.lease.renewed(sent),
            Err(e) => tracing::debug!(error = %crate::error::Chain(&e), "heartbeat failed"),
        }
    }
}

/// Beats until the task is aborted (by `Running::shutdown`, which then deregisters the
/// worker).
pub(crate) async fn beat_loop(mut beat: Beat) {
    loop {
        beat.once().await;
        tokio::time::sleep(beat.interval).await;
    }
}
