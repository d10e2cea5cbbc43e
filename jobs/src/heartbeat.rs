//! The live-workers registry: each worker process writes a heartbeat every few seconds.

use std::time::Duration;

use crate::connection::Conn;
use serde::{Deserialize, Serialize};

use crate::connection::now_ms;
use crate::error::Error;
use crate::keys::GlobalKeys;

/// A worker that missed this many heartbeats is no longer listed as live.
pub const MISSED_BEATS: u32 = 3;

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
    let () = redis::pipe()
        // Entries of workers gone for good are dropped by every beat, so the registry
        // stays bounded even when nobody reads it.
        .cmd("ZREMRANGEBYSCORE")
        .arg(&keys.workers)
        .arg("-inf")
        .arg(format!("({}", lapse_cutoff(info.last_beat, interval)))
        .ignore()
        .cmd("ZADD")
        .arg(&keys.workers)
        .arg(info.last_beat)
        .arg(&info.id)
        .ignore()
        .cmd("SET")
        .arg(keys.worker(&info.id))
        .arg(json)
        .arg("EX")
        .arg(ttl)
        .ignore()
        .query_async(conn)
        .await?;
    Ok(())
}

/// Beats older than this (ms) belong to workers that are gone.
pub fn lapse_cutoff(now_ms: u64, interval: Duration) -> u64 {
    now_ms.saturating_sub(u64::try_from((interval * MISSED_BEATS).as_millis()).unwrap_or(0))
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

/// Live workers, newest beat first; drops registry entries of workers long gone.
pub async fn live_workers(
    conn: &mut Conn,
    keys: &GlobalKeys,
    interval: Duration,
) -> Result<Vec<WorkerInfo>, Error> {
    let cutoff = lapse_cutoff(now_ms(), interval);
    let () = redis::cmd("ZREMRANGEBYSCORE")
        .arg(&keys.workers)
        .arg("-inf")
        .arg(format!("({cutoff}"))
        .query_async(conn)
        .await?;
    let ids: Vec<String> = redis::cmd("ZREVRANGE")
        .arg(&keys.workers)
        .arg(0)
        .arg(999)
        .query_async(conn)
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
