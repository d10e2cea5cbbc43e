//! What the admin queue UI and ops scripts do to queues: sizes, listing jobs per state,
//! job detail, retrying and discarding dead jobs, pausing.

use redis::Value;
use redis::aio::ConnectionManager;
use serde::Serialize;

use crate::connection::{Settings, now_ms};
use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys::{GROUP, GlobalKeys, QueueKeys, QueueName};
use crate::scripts::SCRIPTS;
use crate::stream::{decode, parse_entry};

/// Most jobs one page lists.
pub const MAX_PAGE: usize = 500;

/// How many jobs a queue holds in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueSizes {
    pub queue: String,
    /// In the stream, not yet delivered.
    pub ready: u64,
    /// Delivered and not yet acked (running, or left by a dead worker).
    pub in_flight: u64,
    pub scheduled: u64,
    pub dead: u64,
    /// Dead jobs the dead-set cap dropped, oldest first, since the queue began.
    pub dead_dropped: u64,
    pub paused: bool,
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

/// Admin operations on one Redis. Cheap to clone.
#[derive(Clone)]
pub struct Admin {
    conn: ConnectionManager,
    prefix: String,
}

impl Admin {
    pub fn new(conn: ConnectionManager, settings: &Settings) -> Self {
        Self {
            conn,
            prefix: settings.prefix.clone(),
        }
    }

    fn keys(&self, queue: &QueueName) -> QueueKeys {
        QueueKeys::new(&self.prefix, queue)
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

    pub async fn sizes(&self, queue: &QueueName) -> Result<QueueSizes, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let (scheduled, dead, dead_dropped, paused): (u64, u64, Option<u64>, bool) = redis::pipe()
            .cmd("ZCARD")
            .arg(&keys.scheduled)
            .cmd("ZCARD")
            .arg(&keys.dead)
            .cmd("GET")
            .arg(&keys.dead_dropped)
            .cmd("EXISTS")
            .arg(&keys.paused)
            .query_async(&mut conn)
            .await?;
        let (ready, in_flight) = group_counts(&mut conn, &keys).await?;
        Ok(QueueSizes {
            queue: queue.to_string(),
            ready,
            in_flight,
            scheduled,
            dead,
            dead_dropped: dead_dropped.unwrap_or(0),
            paused,
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
        let revived = match Envelope::decode(body.as_bytes()) {
            Ok(mut env) => {
                env.attempt = 0;
                env.died_at = None;
                env.run_at = None;
                env.deferred = None;
                unique_key = env.unique_key.clone();
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
            .arg(id)
            .arg(revived)
            .arg(if unique.is_some() { "1" } else { "0" })
            .arg(u64::try_from(REVIVED_UNIQUE_FOR.as_millis()).unwrap_or(u64::MAX))
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

    /// Deletes a dead job for good. `false` if there was none.
    pub async fn discard_dead(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let (removed, _): (i64, i64) = redis::pipe()
            .atomic()
            .cmd("HDEL")
            .arg(&keys.dead_jobs)
            .arg(id)
            .cmd("ZREM")
            .arg(&keys.dead)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        Ok(removed == 1)
    }

    /// Empties the dead set; returns how many jobs it held.
    pub async fn discard_all_dead(&self, queue: &QueueName) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let (n, _, _): (u64, i64, i64) = redis::pipe()
            .atomic()
            .cmd("ZCARD")
            .arg(&keys.dead)
            .cmd("DEL")
            .arg(&keys.dead)
            .cmd("DEL")
            .arg(&keys.dead_jobs)
            .query_async(&mut conn)
            .await?;
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
            .arg(&member)
            .arg(id)
            .arg(if unique.is_some() { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await?;
        Ok(n == 1)
    }
}

/// How long a revived unique job holds its key: the kinds' own `UNIQUE_FOR` is not known
/// here, and a day is every kind's default.
const REVIVED_UNIQUE_FOR: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// (undelivered, pending) of the group; both 0 for a queue no worker consumed yet.
async fn group_counts(conn: &mut ConnectionManager, keys: &QueueKeys) -> Result<(u64, u64), Error> {
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

async fn last_delivered(conn: &mut ConnectionManager, keys: &QueueKeys) -> Result<String, Error> {
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

async fn entry(
    conn: &mut ConnectionManager,
    keys: &QueueKeys,
    id: &str,
) -> Result<Option<Envelope>, Error> {
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
    conn: &mut ConnectionManager,
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
