//! What the admin queue UI and ops scripts do to queues, one module per concern: a queue's
//! counts, owners and pause ([`sizes`]), jobs listed per state and found by id
//! ([`listing`]), the dead set's retries and discards ([`dead`]), and a scheduled job's run
//! now or discard ([`scheduled`]). The types both front ends show live here.

mod dead;
mod listing;
mod scheduled;
mod sizes;

pub use sizes::OWNERS_READ;

use crate::connection::Conn;
use futures::StreamExt;
use redis::Value;
use serde::Serialize;

use crate::connection::{Settings, now_ms};
use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys::{GROUP, GlobalKeys, QueueKeys, QueueName};
use crate::scripts::SCRIPTS;
use crate::settle::DEFAULT_UNIQUE_FOR_MS;
use crate::stream::{decode, parse_entry};

/// Most jobs one page lists.
pub const MAX_PAGE: usize = 500;

/// How many jobs a queue holds in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueSizes {
    pub queue: String,
    /// Waiting to run: in the stream, not yet delivered, or in an owner's list waiting
    /// for the owner's turn (`waiting_turn` of them).
    pub ready: u64,
    /// Of `ready`, the jobs in owners' lists, not yet in the stream (owners take turns).
    pub waiting_turn: u64,
    /// Delivered and not yet acked (running, or left by a dead worker).
    pub in_flight: u64,
    /// Everything in the scheduled set: delayed jobs, retries waiting for their backoff
    /// and deferrals.
    pub scheduled: u64,
    /// Of `scheduled`, the retries waiting for their backoff.
    pub retrying: u64,
    /// Of `scheduled`, the deferred jobs (waiting without using an attempt).
    pub deferred: u64,
    pub dead: u64,
    /// Dead jobs the dead-set cap dropped, oldest first, since the queue began.
    pub dead_dropped: u64,
    pub paused: bool,
    /// When the oldest ready job (not yet delivered) became ready, ms; `None` when no job
    /// waits. `now - this` is the queue's lag.
    pub oldest_ready_at: Option<u64>,
}

/// One owner's share of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerLoad {
    pub user_id: i64,
    /// Jobs of this owner running now on live workers.
    pub running: u64,
    /// Jobs of this owner waiting for the owner's turn to enter the stream.
    pub waiting_turn: u64,
}

impl OwnerLoad {
    fn new(user_id: i64) -> Self {
        Self {
            user_id,
            running: 0,
            waiting_turn: 0,
        }
    }
}

/// A job state the UI lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobState {
    Ready,
    InFlight,
    Scheduled,
    Dead,
}

/// A listed job: its envelope and where it is.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub state: JobState,
    /// Stream entry id (ready, in flight), run-at ms (scheduled) or died-at ms (dead).
    pub position: String,
    pub envelope: Envelope,
    /// In flight only: the worker holding it and for how long (ms).
    pub consumer: Option<String>,
    pub idle_ms: Option<u64>,
}

/// Jobs read at most by one filtered page that cannot use an index (argument text, or any
/// filter on ready, in-flight or scheduled jobs); the page then says where to continue.
pub const SCAN_BUDGET: usize = 5_000;
/// Jobs read per round trip while scanning.
const SCAN_CHUNK: usize = 500;

/// Which jobs a list or a bulk action is about. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobFilter {
    pub kind: Option<String>,
    pub user_id: Option<i64>,
    /// Matched case-insensitively in the job's arguments (their JSON text).
    text: Option<String>,
}

impl JobFilter {
    /// Blank strings count as no filter.
    pub fn new(kind: Option<&str>, user_id: Option<i64>, text: Option<&str>) -> Self {
        let clean = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            kind: clean(kind),
            user_id,
            text: clean(text).map(|t| t.to_lowercase()),
        }
    }

    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.user_id.is_none() && self.text.is_none()
    }

    pub fn matches(&self, e: &Envelope) -> bool {
        self.kind.as_ref().is_none_or(|k| *k == e.kind)
            && self.user_id.is_none_or(|u| e.user_id == Some(u))
            && self
                .text
                .as_ref()
                .is_none_or(|t| e.args.get().to_lowercase().contains(t.as_str()))
    }

    /// The dead-set key whose members are the candidates: the user's index, else the
    /// kind's, else the whole dead set.
    fn dead_source(&self, keys: &QueueKeys) -> String {
        match (self.user_id, &self.kind) {
            (Some(user), _) => keys.dead_user(user),
            (None, Some(kind)) => keys.dead_kind(kind),
            (None, None) => keys.dead.clone(),
        }
    }

    /// Whether dead candidates from [`Self::dead_source`] still need checking.
    fn needs_check_beyond_index(&self) -> bool {
        self.text.is_some() || (self.user_id.is_some() && self.kind.is_some())
    }
}

/// One page of a filtered list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Page {
    pub jobs: Vec<JobView>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
    /// Jobs read to make this page.
    pub scanned: usize,
    /// The page stopped at [`SCAN_BUDGET`] jobs read before it was full: `next` continues
    /// the search.
    pub budget_spent: bool,
}

impl Page {
    /// After one chunk of a filtered scan: true when the scan stops here, because the source
    /// ran out (a short chunk) or because [`SCAN_BUDGET`] entries were read; then `next`
    /// resumes after `resume()` and `budget_spent` says the page may not be full.
    fn ends_scan(&mut self, fetched: usize, chunk: usize, resume: impl FnOnce() -> String) -> bool {
        if fetched < chunk {
            return true;
        }
        if self.scanned >= SCAN_BUDGET {
            self.next = Some(resume());
            self.budget_spent = true;
            return true;
        }
        false
    }
}

/// Admin operations on one Redis. Cheap to clone.
#[derive(Clone)]
pub struct Admin {
    conn: Conn,
    prefix: String,
    heartbeat_interval: std::time::Duration,
}

impl Admin {
    pub fn new(conn: Conn, settings: &Settings) -> Self {
        Self {
            conn,
            prefix: settings.prefix.clone(),
            heartbeat_interval: settings.heartbeat_interval,
        }
    }

    fn keys(&self, queue: &QueueName) -> QueueKeys {
        QueueKeys::new(&self.prefix, queue)
    }

    /// Whether any job was ever enqueued to, or any worker consumed, this queue.
    pub async fn is_known(&self, queue: &QueueName) -> Result<bool, Error> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("SISMEMBER")
            .arg(GlobalKeys::new(&self.prefix).queues)
            .arg(queue.as_str())
            .query_async(&mut conn)
            .await?)
    }

    /// Every queue that was ever enqueued to or consumed.
    pub async fn queues(&self) -> Result<Vec<QueueName>, Error> {
        let mut conn = self.conn.clone();
        let mut names: Vec<String> = redis::cmd("SMEMBERS")
            .arg(GlobalKeys::new(&self.prefix).queues)
            .query_async(&mut conn)
            .await?;
        names.sort();
        Ok(names
            .iter()
            .filter_map(|n| QueueName::new(n).ok())
            .collect())
    }

    /// The queue's per-minute counters over the last `minutes` minutes, oldest first.
    pub async fn recent_stats(
        &self,
        queue: &QueueName,
        minutes: u64,
    ) -> Result<Vec<crate::stats::Minute>, Error> {
        let mut conn = self.conn.clone();
        crate::stats::recent(&mut conn, &self.keys(queue), minutes).await
    }

    /// The worker processes whose heartbeat is recent, newest beat first.
    pub async fn live_workers(&self) -> Result<Vec<crate::heartbeat::WorkerInfo>, Error> {
        let mut conn = self.conn.clone();
        crate::heartbeat::live_workers(
            &mut conn,
            &GlobalKeys::new(&self.prefix),
            self.heartbeat_interval,
        )
        .await
    }
}

async fn last_delivered(conn: &mut Conn, keys: &QueueKeys) -> Result<String, Error> {
    let reply: Result<Value, redis::RedisError> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(&keys.stream)
        .query_async(conn)
        .await;
    let groups = match reply {
        Ok(Value::Array(g)) => g,
        Ok(_) => return Ok("0-0".into()),
        Err(e) if e.code() == Some("ERR") || e.code() == Some("NOGROUP") => return Ok("0-0".into()),
        Err(e) => return Err(e.into()),
    };
    for g in groups {
        let fields: Vec<(Value, Value)> = match g {
            Value::Array(f) => f
                .chunks(2)
                .filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone())))
                .collect(),
            Value::Map(m) => m,
            _ => continue,
        };
        let text = |v: &Value| match v {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            Value::SimpleString(s) => s.clone(),
            _ => String::new(),
        };
        let name = fields
            .iter()
            .find(|(k, _)| text(k) == "name")
            .map(|(_, v)| text(v));
        if name.as_deref() == Some(GROUP) {
            return Ok(fields
                .iter()
                .find(|(k, _)| text(k) == "last-delivered-id")
                .map(|(_, v)| text(v))
                .unwrap_or_else(|| "0-0".into()));
        }
    }
    Ok("0-0".into())
}

/// Scheduled members are whole envelopes; find one by job id with ZSCAN (admin only).
async fn scheduled_member(
    conn: &mut Conn,
    keys: &QueueKeys,
    id: &str,
) -> Result<Option<(String, f64)>, Error> {
    if id.contains(['*', '?', '[', '\\', '"']) {
        return Ok(None);
    }
    let pattern = format!("*\"id\":\"{id}\"*");
    let mut cursor: u64 = 0;
    loop {
        let (next, items): (u64, Vec<(String, f64)>) = redis::cmd("ZSCAN")
            .arg(&keys.scheduled)
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1_000)
            .query_async(conn)
            .await?;
        if let Some(found) = items.into_iter().next() {
            return Ok(Some(found));
        }
        if next == 0 {
            return Ok(None);
        }
        cursor = next;
    }
}

/// The time part of a stream entry id (when it was added), ms.
fn stream_id_ms(id: &str) -> Option<u64> {
    id.split_once('-').map_or(id, |(ms, _)| ms).parse().ok()
}
