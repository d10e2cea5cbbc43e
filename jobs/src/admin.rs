//! What the admin queue UI and ops scripts do to queues: sizes, listing jobs per state,
//! job detail, retrying and discarding dead jobs, pausing.

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

    /// The busiest owners of a queue: jobs running now (summed over the heartbeats of
    /// `workers`, the live ones) and jobs waiting for the owner's turn, busiest first, at
    /// most `limit`. Shows whether one owner holds the slots and who waits behind.
    pub async fn owners(
        &self,
        queue: &QueueName,
        workers: &[crate::heartbeat::WorkerInfo],
        limit: usize,
    ) -> Result<Vec<OwnerLoad>, Error> {
        let keys = self.keys(queue);
        let mut loads: std::collections::BTreeMap<i64, OwnerLoad> = Default::default();
        for owner in workers
            .iter()
            .flat_map(|w| &w.owners)
            .filter(|o| o.queue == queue.as_str())
        {
            loads
                .entry(owner.user_id)
                .or_insert_with(|| OwnerLoad::new(owner.user_id))
                .running += u64::try_from(owner.running).unwrap_or(u64::MAX);
        }
        let mut conn = self.conn.clone();
        let waiting: Vec<String> = redis::cmd("ZRANGE")
            .arg(&keys.fair_owners)
            .arg(0)
            .arg(OWNERS_READ - 1)
            .query_async(&mut conn)
            .await?;
        for owner in waiting.iter().filter_map(|o| o.parse::<i64>().ok()) {
            loads.entry(owner).or_insert_with(|| OwnerLoad::new(owner));
        }
        if !loads.is_empty() {
            let mut pipe = redis::pipe();
            for owner in loads.keys() {
                pipe.cmd("LLEN").arg(keys.fair_held(*owner));
            }
            let lens: Vec<u64> = pipe.query_async(&mut conn).await?;
            for (load, len) in loads.values_mut().zip(lens) {
                load.waiting_turn = len;
            }
        }
        let mut out: Vec<OwnerLoad> = loads.into_values().collect();
        out.sort_by(|a, b| {
            (b.running, b.waiting_turn, a.user_id).cmp(&(a.running, a.waiting_turn, b.user_id))
        });
        out.truncate(limit);
        Ok(out)
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

    /// A queue's counts in three round trips of O(1) commands (ZCARD, XLEN, GET, EXISTS,
    /// the group's summary, one stream entry): the same cost with a million jobs queued.
    pub async fn sizes(&self, queue: &QueueName) -> Result<QueueSizes, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        type Counts = (u64, u64, Option<u64>, bool, u64, u64, u64);
        let (scheduled, dead, dead_dropped, paused, retrying, deferred, waiting_turn): Counts =
            redis::pipe()
                .cmd("ZCARD")
                .arg(&keys.scheduled)
                .cmd("ZCARD")
                .arg(&keys.dead)
                .cmd("GET")
                .arg(&keys.dead_dropped)
                .cmd("EXISTS")
                .arg(&keys.paused)
                .cmd("ZCARD")
                .arg(&keys.retrying)
                .cmd("ZCARD")
                .arg(&keys.deferred)
                .cmd("LLEN")
                .arg(&keys.fair_waiting)
                .query_async(&mut conn)
                .await?;
        let (ready, in_flight) = group_counts(&mut conn, &keys).await?;
        let oldest_in_stream = if ready == 0 {
            None
        } else {
            let last = last_delivered(&mut conn, &keys).await?;
            let reply: Value = redis::cmd("XRANGE")
                .arg(&keys.stream)
                .arg(format!("({last}"))
                .arg("+")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await?;
            match reply {
                Value::Array(entries) => entries
                    .into_iter()
                    .filter_map(parse_entry)
                    .next()
                    .and_then(|e| stream_id_ms(&e.id)),
                _ => None,
            }
        };
        let oldest_waiting_turn = if waiting_turn == 0 {
            None
        } else {
            oldest_waiting_turn(&mut conn, &keys).await?
        };
        let oldest_ready_at = match (oldest_in_stream, oldest_waiting_turn) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(QueueSizes {
            queue: queue.to_string(),
            ready: ready + waiting_turn,
            waiting_turn,
            in_flight,
            scheduled,
            retrying: retrying.min(scheduled),
            deferred: deferred.min(scheduled.saturating_sub(retrying)),
            dead,
            dead_dropped: dead_dropped.unwrap_or(0),
            paused,
            oldest_ready_at,
        })
    }

    pub async fn pause(&self, queue: &QueueName) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("SET")
            .arg(self.keys(queue).paused)
            .arg(now_ms())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn resume(&self, queue: &QueueName) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("DEL")
            .arg(self.keys(queue).paused)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// One page of jobs in a state, `offset` jobs in. Ready and in-flight jobs are listed
    /// oldest first, scheduled by run time, dead newest first.
    pub async fn list(
        &self,
        queue: &QueueName,
        state: JobState,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<JobView>, Error> {
        let limit = limit.clamp(1, MAX_PAGE);
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        match state {
            JobState::Scheduled => {
                let rows: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(&keys.scheduled)
                    .arg(offset)
                    .arg(offset + limit - 1)
                    .arg("WITHSCORES")
                    .query_async(&mut conn)
                    .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(m, score)| {
                        Envelope::decode(m.as_bytes()).ok().map(|envelope| JobView {
                            state,
                            position: format!("{score:.0}"),
                            envelope,
                            consumer: None,
                            idle_ms: None,
                        })
                    })
                    .collect())
            }
            JobState::Dead => {
                let ids: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
                    .arg(&keys.dead)
                    .arg(offset)
                    .arg(offset + limit - 1)
                    .arg("WITHSCORES")
                    .query_async(&mut conn)
                    .await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut hmget = redis::cmd("HMGET");
                hmget.arg(&keys.dead_jobs);
                for (id, _) in &ids {
                    hmget.arg(id);
                }
                let bodies: Vec<Option<String>> = hmget.query_async(&mut conn).await?;
                Ok(ids
                    .into_iter()
                    .zip(bodies)
                    .filter_map(|((_, score), body)| {
                        let envelope = Envelope::decode(body?.as_bytes()).ok()?;
                        Some(JobView {
                            state,
                            position: format!("{score:.0}"),
                            envelope,
                            consumer: None,
                            idle_ms: None,
                        })
                    })
                    .collect())
            }
            JobState::InFlight => {
                let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
                    .arg(&keys.stream)
                    .arg(GROUP)
                    .arg("-")
                    .arg("+")
                    .arg(offset + limit)
                    .query_async(&mut conn)
                    .await?;
                let mut out = Vec::new();
                for (id, consumer, idle, _count) in pending.into_iter().skip(offset) {
                    if let Some(envelope) = entry(&mut conn, &keys, &id).await? {
                        out.push(JobView {
                            state,
                            position: id,
                            envelope,
                            consumer: Some(consumer),
                            idle_ms: Some(idle),
                        });
                    }
                }
                Ok(out)
            }
            JobState::Ready => {
                let last = last_delivered(&mut conn, &keys).await?;
                let reply: Value = redis::cmd("XRANGE")
                    .arg(&keys.stream)
                    .arg(format!("({last}"))
                    .arg("+")
                    .arg("COUNT")
                    .arg(offset + limit)
                    .query_async(&mut conn)
                    .await?;
                let Value::Array(entries) = reply else {
                    return Ok(Vec::new());
                };
                Ok(entries
                    .into_iter()
                    .filter_map(parse_entry)
                    .skip(offset)
                    .filter_map(|e| {
                        decode(&e).ok().map(|envelope| JobView {
                            state,
                            position: e.id,
                            envelope,
                            consumer: None,
                            idle_ms: None,
                        })
                    })
                    .collect())
            }
        }
    }

    /// Finds a job by id: dead first (the common case in the UI), then scheduled, then
    /// the stream (scanning at most `scan_limit` entries).
    pub async fn find(&self, queue: &QueueName, id: &str) -> Result<Option<JobView>, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let (body, died): (Option<String>, Option<f64>) = redis::pipe()
            .cmd("HGET")
            .arg(&keys.dead_jobs)
            .arg(id)
            .cmd("ZSCORE")
            .arg(&keys.dead)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        if let Some(body) = body {
            let envelope = Envelope::decode(body.as_bytes())?;
            return Ok(Some(JobView {
                state: JobState::Dead,
                position: format!("{:.0}", died.unwrap_or(0.0)),
                envelope,
                consumer: None,
                idle_ms: None,
            }));
        }
        if let Some((member, score)) = scheduled_member(&mut conn, &keys, id).await? {
            return Ok(Some(JobView {
                state: JobState::Scheduled,
                position: format!("{score:.0}"),
                envelope: Envelope::decode(member.as_bytes())?,
                consumer: None,
                idle_ms: None,
            }));
        }
        let last = last_delivered(&mut conn, &keys).await?;
        let mut cursor = "-".to_owned();
        for _ in 0..100 {
            let reply: Value = redis::cmd("XRANGE")
                .arg(&keys.stream)
                .arg(&cursor)
                .arg("+")
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await?;
            let Value::Array(entries) = reply else { break };
            if entries.is_empty() {
                break;
            }
            let mut last_id = None;
            for e in entries.into_iter().filter_map(parse_entry) {
                if let Ok(envelope) = decode(&e)
                    && envelope.id == id
                {
                    let state = if stream_id_le(&e.id, &last) {
                        JobState::InFlight
                    } else {
                        JobState::Ready
                    };
                    return Ok(Some(JobView {
                        state,
                        position: e.id,
                        envelope,
                        consumer: None,
                        idle_ms: None,
                    }));
                }
                last_id = Some(e.id);
            }
            match last_id {
                Some(l) => cursor = format!("({l}"),
                None => break,
            }
        }
        Ok(None)
    }

    /// Moves a dead job back to the stream with its attempts reset (errors kept for the
    /// record). `false` if it is no longer dead.
    pub async fn retry_dead(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let body: Option<String> = redis::cmd("HGET")
            .arg(&keys.dead_jobs)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        let Some(body) = body else { return Ok(false) };
        let mut unique_key = None;
        let mut unique_for = DEFAULT_UNIQUE_FOR_MS;
        let mut indexes = (None, None);
        let revived = match Envelope::decode(body.as_bytes()) {
            Ok(mut env) => {
                indexes = (
                    Some(keys.dead_kind(&env.kind)),
                    env.user_id.map(|u| keys.dead_user(u)),
                );
                env.attempt = 0;
                env.died_at = None;
                env.run_at = None;
                env.deferred = None;
                unique_key = env.unique_key.clone();
                unique_for = env.unique_for.unwrap_or(DEFAULT_UNIQUE_FOR_MS);
                env.encode()?
            }
            // Not a job envelope: put it back verbatim; it lands here again, visibly.
            Err(_) => body,
        };
        let unique = unique_key.as_deref().map(|k| keys.unique(k));
        let done: i64 = SCRIPTS
            .revive
            .key(&keys.dead)
            .key(&keys.dead_jobs)
            .key(&keys.stream)
            .key(unique.as_deref().unwrap_or(&keys.stream))
            .key(indexes.0.as_deref().unwrap_or(&keys.dead))
            .key(indexes.1.as_deref().unwrap_or(&keys.dead))
            .arg(id)
            .arg(revived)
            .arg(if unique.is_some() { "1" } else { "0" })
            .arg(unique_for.max(1))
            .invoke_async(&mut conn)
            .await?;
        if done == -1 {
            let holder: Option<String> = match &unique {
                Some(k) => redis::cmd("GET").arg(k).query_async(&mut conn).await?,
                None => None,
            };
            return Err(Error::UniqueHeld {
                id: id.to_owned(),
                key: unique_key.unwrap_or_default(),
                holder: holder.unwrap_or_default(),
            });
        }
        Ok(done == 1)
    }

    /// Retries every job that was dead when called, in pages; returns how many. Jobs
    /// that die again meanwhile are not retried twice: only deaths up to the call count.
    pub async fn retry_all_dead(&self, queue: &QueueName) -> Result<usize, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let cutoff = now_ms();
        let mut budget: usize = redis::cmd("ZCARD")
            .arg(&keys.dead)
            .query_async(&mut conn)
            .await?;
        let mut total = 0;
        while budget > 0 {
            let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&keys.dead)
                .arg("-inf")
                .arg(cutoff)
                .arg("LIMIT")
                .arg(0)
                .arg(budget.min(500))
                .query_async(&mut conn)
                .await?;
            if ids.is_empty() {
                break;
            }
            budget = budget.saturating_sub(ids.len());
            for id in &ids {
                let revived = match self.retry_dead(queue, id).await {
                    // Another job holds its unique key: it stays dead, the rest go on.
                    Err(Error::UniqueHeld { .. }) => continue,
                    other => other?,
                };
                if revived {
                    total += 1;
                } else {
                    // A zset member without a body: drop it so it is not met again.
                    let () = redis::cmd("ZREM")
                        .arg(&keys.dead)
                        .arg(id)
                        .query_async(&mut conn)
                        .await?;
                }
            }
        }
        Ok(total)
    }

    /// Deletes a dead job for good, with its index entries. `false` if there was none.
    pub async fn discard_dead(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let body: Option<String> = redis::cmd("HGET")
            .arg(&keys.dead_jobs)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        let envelope = body.and_then(|b| Envelope::decode(b.as_bytes()).ok());
        let removed = discard_dead_ids(&mut conn, &keys, &[(id.to_owned(), envelope)]).await?;
        Ok(removed == 1)
    }

    /// Empties the dead set and its indexes; returns how many jobs it held.
    pub async fn discard_all_dead(&self, queue: &QueueName) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let n: u64 = SCRIPTS
            .discard_all_dead
            .key(&keys.dead)
            .key(&keys.dead_jobs)
            .key(&keys.dead_indexes)
            .invoke_async(&mut conn)
            .await?;
        Ok(n)
    }

    /// One page of jobs in `state` matching `filter`, from `cursor` (what the previous
    /// page returned as `next`; `None` for the first page). Newest first for dead jobs,
    /// oldest first for ready and in-flight ones, soonest first for scheduled ones.
    ///
    /// Never a full scan: dead jobs filtered by kind or user are read from that kind's or
    /// user's index (a page costs one ZREVRANGE and one HMGET); any other filter (argument
    /// text, or a filter on another state) reads at most [`SCAN_BUDGET`] jobs and then
    /// stops with a cursor to continue from, saying how many it read.
    pub async fn page(
        &self,
        queue: &QueueName,
        state: JobState,
        filter: &JobFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page, Error> {
        let limit = limit.clamp(1, MAX_PAGE);
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let mut out = Page::default();
        // Whole-index reads need no predicate: a page is exactly `limit` entries.
        let needs_check = state != JobState::Dead || filter.needs_check_beyond_index();
        let chunk = if needs_check { SCAN_CHUNK } else { limit };
        match state {
            JobState::Dead | JobState::Scheduled => {
                let mut offset: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
                let source = if state == JobState::Dead {
                    filter.dead_source(&keys)
                } else {
                    keys.scheduled.clone()
                };
                loop {
                    let rows = if state == JobState::Dead {
                        dead_rows(&mut conn, &keys, &source, offset, chunk).await?
                    } else {
                        scheduled_rows(&mut conn, &keys, offset, chunk).await?
                    };
                    let fetched = rows.len();
                    for (i, view) in rows.into_iter().enumerate() {
                        out.scanned += 1;
                        if let Some(view) = view
                            && filter.matches(&view.envelope)
                        {
                            out.jobs.push(view);
                            if out.jobs.len() == limit {
                                let next = offset + i + 1;
                                out.next = Some(next.to_string());
                                return Ok(out);
                            }
                        }
                    }
                    offset += fetched;
                    if out.ends_scan(fetched, chunk, || offset.to_string()) {
                        return Ok(out);
                    }
                }
            }
            JobState::Ready => {
                let mut from = match cursor {
                    Some(c) if valid_stream_id(c) => format!("({c}"),
                    _ => format!("({}", last_delivered(&mut conn, &keys).await?),
                };
                loop {
                    let reply: Value = redis::cmd("XRANGE")
                        .arg(&keys.stream)
                        .arg(&from)
                        .arg("+")
                        .arg("COUNT")
                        .arg(chunk)
                        .query_async(&mut conn)
                        .await?;
                    let entries: Vec<_> = match reply {
                        Value::Array(entries) => {
                            entries.into_iter().filter_map(parse_entry).collect()
                        }
                        _ => Vec::new(),
                    };
                    let fetched = entries.len();
                    let mut last = None;
                    for e in entries {
                        out.scanned += 1;
                        last = Some(e.id.clone());
                        if let Ok(envelope) = decode(&e)
                            && filter.matches(&envelope)
                        {
                            out.jobs.push(JobView {
                                state,
                                position: e.id.clone(),
                                envelope,
                                consumer: None,
                                idle_ms: None,
                            });
                            if out.jobs.len() == limit {
                                out.next = Some(e.id);
                                return Ok(out);
                            }
                        }
                    }
                    let Some(last) = last else { return Ok(out) };
                    if out.ends_scan(fetched, chunk, || last.clone()) {
                        return Ok(out);
                    }
                    from = format!("({last}");
                }
            }
            JobState::InFlight => {
                let mut from = match cursor {
                    Some(c) if valid_stream_id(c) => format!("({c}"),
                    _ => "-".to_owned(),
                };
                loop {
                    let pending: Result<Vec<(String, String, u64, u64)>, redis::RedisError> =
                        redis::cmd("XPENDING")
                            .arg(&keys.stream)
                            .arg(GROUP)
                            .arg(&from)
                            .arg("+")
                            .arg(chunk)
                            .query_async(&mut conn)
                            .await;
                    let pending = match pending {
                        Ok(p) => p,
                        Err(e) if e.code() == Some("NOGROUP") => return Ok(out),
                        Err(e) => return Err(e.into()),
                    };
                    let fetched = pending.len();
                    let mut pipe = redis::pipe();
                    for (id, _, _, _) in &pending {
                        pipe.cmd("XRANGE").arg(&keys.stream).arg(id).arg(id);
                    }
                    let bodies: Vec<Value> = if pending.is_empty() {
                        Vec::new()
                    } else {
                        pipe.query_async(&mut conn).await?
                    };
                    let mut last = None;
                    for ((id, consumer, idle, _), body) in pending.into_iter().zip(bodies) {
                        out.scanned += 1;
                        last = Some(id.clone());
                        let envelope = match body {
                            Value::Array(entries) => entries
                                .into_iter()
                                .filter_map(parse_entry)
                                .next()
                                .and_then(|e| decode(&e).ok()),
                            _ => None,
                        };
                        if let Some(envelope) = envelope
                            && filter.matches(&envelope)
                        {
                            out.jobs.push(JobView {
                                state,
                                position: id.clone(),
                                envelope,
                                consumer: Some(consumer),
                                idle_ms: Some(idle),
                            });
                            if out.jobs.len() == limit {
                                out.next = Some(id);
                                return Ok(out);
                            }
                        }
                    }
                    let Some(last) = last else { return Ok(out) };
                    if out.ends_scan(fetched, chunk, || last.clone()) {
                        return Ok(out);
                    }
                    from = format!("({last}");
                }
            }
        }
    }

    /// How many dead jobs match `filter`. O(1) for no filter or one of kind and user (a
    /// ZCARD), a ZINTERCARD for both; with argument text it reads every candidate (the
    /// dead set is capped at `dead_max`), which only the bulk confirmation does.
    pub async fn count_dead(&self, queue: &QueueName, filter: &JobFilter) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        if filter.text().is_none() {
            return Ok(match (&filter.kind, filter.user_id) {
                (Some(kind), Some(user)) => {
                    redis::cmd("ZINTERCARD")
                        .arg(2)
                        .arg(keys.dead_user(user))
                        .arg(keys.dead_kind(kind))
                        .query_async(&mut conn)
                        .await?
                }
                _ => {
                    redis::cmd("ZCARD")
                        .arg(filter.dead_source(&keys))
                        .query_async(&mut conn)
                        .await?
                }
            });
        }
        Ok(self.matching_dead(queue, filter, u64::MAX).await?.len() as u64)
    }

    /// Every dead job matching `filter` that died at or before `cutoff_ms`, with its
    /// envelope (for the index entries a discard removes).
    async fn matching_dead(
        &self,
        queue: &QueueName,
        filter: &JobFilter,
        cutoff_ms: u64,
    ) -> Result<Vec<(String, Option<Envelope>)>, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let source = filter.dead_source(&keys);
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let ids: Vec<String> = redis::cmd("ZREVRANGEBYSCORE")
                .arg(&source)
                .arg(cutoff_ms)
                .arg("-inf")
                .arg("LIMIT")
                .arg(offset)
                .arg(SCAN_CHUNK)
                .query_async(&mut conn)
                .await?;
            if ids.is_empty() {
                return Ok(out);
            }
            let fetched = ids.len();
            let mut hmget = redis::cmd("HMGET");
            hmget.arg(&keys.dead_jobs);
            for id in &ids {
                hmget.arg(id);
            }
            let bodies: Vec<Option<String>> = hmget.query_async(&mut conn).await?;
            for (id, body) in ids.into_iter().zip(bodies) {
                let envelope = body.and_then(|b| Envelope::decode(b.as_bytes()).ok());
                let keep = match &envelope {
                    Some(e) => filter.matches(e),
                    // Not a job envelope (or gone): only an unfiltered action takes it.
                    None => filter.is_empty(),
                };
                if keep {
                    out.push((id, envelope));
                }
            }
            offset += fetched;
            if fetched < SCAN_CHUNK {
                return Ok(out);
            }
        }
    }

    /// Retries every dead job matching `filter` that died at or before `cutoff_ms` (when
    /// the admin saw the count: jobs that die later are not swept up). Returns how many
    /// went back to the stream; a job whose unique key another job holds stays dead.
    pub async fn retry_dead_matching(
        &self,
        queue: &QueueName,
        filter: &JobFilter,
        cutoff_ms: u64,
    ) -> Result<u64, Error> {
        let targets = self.matching_dead(queue, filter, cutoff_ms).await?;
        let results: Vec<Result<bool, Error>> = futures::stream::iter(targets)
            .map(|(id, _)| async move {
                match self.retry_dead(queue, &id).await {
                    Err(Error::UniqueHeld { .. }) => Ok(false),
                    other => other,
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        let mut n = 0;
        for r in results {
            n += u64::from(r?);
        }
        Ok(n)
    }

    /// Discards every dead job matching `filter` that died at or before `cutoff_ms`, in
    /// atomic batches; returns how many were removed.
    pub async fn discard_dead_matching(
        &self,
        queue: &QueueName,
        filter: &JobFilter,
        cutoff_ms: u64,
    ) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let targets = self.matching_dead(queue, filter, cutoff_ms).await?;
        let mut n = 0;
        for batch in targets.chunks(SCAN_CHUNK) {
            n += discard_dead_ids(&mut conn, &keys, batch).await?;
        }
        Ok(n)
    }

    /// Makes a waiting scheduled job (a retry, a deferral) due now; false if it is not
    /// scheduled (running, done, or never existed). The job's handler checks again whatever
    /// made it wait: running it early is safe, only sooner.
    pub async fn run_scheduled_now(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let Some((member, _)) = scheduled_member(&mut conn, &keys, id).await? else {
            return Ok(false);
        };
        let changed: i64 = redis::cmd("ZADD")
            .arg(&keys.scheduled)
            .arg("XX")
            .arg("CH")
            .arg(crate::now_ms())
            .arg(&member)
            .query_async(&mut conn)
            .await?;
        Ok(changed == 1)
    }

    /// Removes a waiting scheduled job (a retry or a deferral an admin gives up on).
    pub async fn discard_scheduled(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let Some((member, _)) = scheduled_member(&mut conn, &keys, id).await? else {
            return Ok(false);
        };
        let envelope = Envelope::decode(member.as_bytes()).ok();
        let unique = envelope
            .as_ref()
            .and_then(|e| e.unique_key.as_deref())
            .map(|k| keys.unique(k));
        let n: i64 = SCRIPTS
            .discard_scheduled
            .key(&keys.scheduled)
            .key(unique.as_deref().unwrap_or(&keys.scheduled))
            .key(&keys.retrying)
            .key(&keys.deferred)
            .arg(&member)
            .arg(id)
            .arg(if unique.is_some() { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await?;
        Ok(n == 1)
    }
}

/// Most owners whose lists the overview and the owners' table read: bounds one call's
/// work whatever the number of owners waiting.
pub const OWNERS_READ: usize = 1_000;

/// When the oldest job waiting for its owner's turn was enqueued: the head of each waiting
/// owner's list (its oldest), for at most [`OWNERS_READ`] owners, lowest turn first.
async fn oldest_waiting_turn(conn: &mut Conn, keys: &QueueKeys) -> Result<Option<u64>, Error> {
    let owners: Vec<String> = redis::cmd("ZRANGE")
        .arg(&keys.fair_owners)
        .arg(0)
        .arg(OWNERS_READ - 1)
        .query_async(conn)
        .await?;
    if owners.is_empty() {
        return Ok(None);
    }
    let mut pipe = redis::pipe();
    for owner in &owners {
        pipe.cmd("LINDEX")
            .arg(format!("{}{owner}", keys.fair_held_prefix))
            .arg(0);
    }
    let heads: Vec<Option<Vec<u8>>> = pipe.query_async(conn).await?;
    Ok(heads
        .into_iter()
        .flatten()
        .filter_map(|h| Envelope::decode(&h).ok())
        // A retry or deferral that came due waits since it came due.
        .map(|e| e.run_at.unwrap_or(0).max(e.enqueued_at))
        .min())
}

/// (undelivered, pending) of the group; both 0 for a queue no worker consumed yet.
async fn group_counts(conn: &mut Conn, keys: &QueueKeys) -> Result<(u64, u64), Error> {
    let len: u64 = redis::cmd("XLEN")
        .arg(&keys.stream)
        .query_async(conn)
        .await?;
    let pending: Result<Value, redis::RedisError> = redis::cmd("XPENDING")
        .arg(&keys.stream)
        .arg(GROUP)
        .query_async(conn)
        .await;
    let pending = match pending {
        Ok(Value::Array(v)) => match v.first() {
            Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        },
        Ok(_) => 0,
        Err(e) if e.code() == Some("NOGROUP") => 0,
        Err(e) => return Err(e.into()),
    };
    Ok((len.saturating_sub(pending), pending))
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

async fn entry(conn: &mut Conn, keys: &QueueKeys, id: &str) -> Result<Option<Envelope>, Error> {
    let reply: Value = redis::cmd("XRANGE")
        .arg(&keys.stream)
        .arg(id)
        .arg(id)
        .query_async(conn)
        .await?;
    let Value::Array(entries) = reply else {
        return Ok(None);
    };
    Ok(entries
        .into_iter()
        .filter_map(parse_entry)
        .next()
        .and_then(|e| decode(&e).ok()))
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

/// Removes dead jobs with their index entries, atomically per batch; returns how many
/// bodies were removed. The kind and user of each come from its envelope (`None`: not a
/// job envelope, in no index).
async fn discard_dead_ids(
    conn: &mut Conn,
    keys: &QueueKeys,
    batch: &[(String, Option<Envelope>)],
) -> Result<u64, Error> {
    if batch.is_empty() {
        return Ok(0);
    }
    let mut pipe = redis::pipe();
    pipe.atomic();
    for (id, envelope) in batch {
        pipe.cmd("HDEL").arg(&keys.dead_jobs).arg(id);
        pipe.cmd("ZREM").arg(&keys.dead).arg(id).ignore();
        if let Some(e) = envelope {
            pipe.cmd("ZREM")
                .arg(keys.dead_kind(&e.kind))
                .arg(id)
                .ignore();
            if let Some(user) = e.user_id {
                pipe.cmd("ZREM").arg(keys.dead_user(user)).arg(id).ignore();
            }
        }
    }
    let removed: Vec<u64> = pipe.query_async(conn).await?;
    Ok(removed.iter().sum())
}

/// Dead jobs from `source` (the dead set or one of its indexes), newest first, `offset`
/// in; `None` for an id whose body is gone or unreadable.
async fn dead_rows(
    conn: &mut Conn,
    keys: &QueueKeys,
    source: &str,
    offset: usize,
    count: usize,
) -> Result<Vec<Option<JobView>>, Error> {
    let ids: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
        .arg(source)
        .arg(offset)
        .arg(offset + count - 1)
        .arg("WITHSCORES")
        .query_async(conn)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut hmget = redis::cmd("HMGET");
    hmget.arg(&keys.dead_jobs);
    for (id, _) in &ids {
        hmget.arg(id);
    }
    let bodies: Vec<Option<String>> = hmget.query_async(conn).await?;
    Ok(ids
        .into_iter()
        .zip(bodies)
        .map(|((_, score), body)| {
            let envelope = Envelope::decode(body?.as_bytes()).ok()?;
            Some(JobView {
                state: JobState::Dead,
                position: format!("{score:.0}"),
                envelope,
                consumer: None,
                idle_ms: None,
            })
        })
        .collect())
}

/// Scheduled jobs soonest first, `offset` in.
async fn scheduled_rows(
    conn: &mut Conn,
    keys: &QueueKeys,
    offset: usize,
    count: usize,
) -> Result<Vec<Option<JobView>>, Error> {
    let rows: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(&keys.scheduled)
        .arg(offset)
        .arg(offset + count - 1)
        .arg("WITHSCORES")
        .query_async(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(m, score)| {
            Envelope::decode(m.as_bytes()).ok().map(|envelope| JobView {
                state: JobState::Scheduled,
                position: format!("{score:.0}"),
                envelope,
                consumer: None,
                idle_ms: None,
            })
        })
        .collect())
}

/// `ms-seq`, digits only: what a stream cursor from a client may be.
fn valid_stream_id(s: &str) -> bool {
    let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
    !ms.is_empty()
        && !seq.is_empty()
        && ms.bytes().all(|b| b.is_ascii_digit())
        && seq.bytes().all(|b| b.is_ascii_digit())
}

/// The time part of a stream entry id (when it was added), ms.
fn stream_id_ms(id: &str) -> Option<u64> {
    id.split_once('-').map_or(id, |(ms, _)| ms).parse().ok()
}

/// Stream ids compare as (ms, seq).
fn stream_id_le(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        (
            ms.parse::<u64>().unwrap_or(0),
            seq.parse::<u64>().unwrap_or(0),
        )
    };
    parse(a) <= parse(b)
}
