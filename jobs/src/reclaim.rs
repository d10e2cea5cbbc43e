//! Crash recovery: taking back entries left pending by a dead worker, and keeping a live
//! worker's long jobs from being taken.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use redis::Value;
use crate::connection::Conn;

use crate::settle::{Settled, Settler};
use crate::envelope::MAX_FREE_RETURNS;
use crate::error::Error;
use crate::stream::{decode, is_no_group, parse_entry};
use crate::keys::{GROUP, QueueKeys};
use crate::outcome::Fate;
use crate::scripts::SCRIPTS;

/// Entries one XAUTOCLAIM call takes.
const PAGE: usize = 100;
/// Pages per pass: a huge backlog of orphans is taken over several passes, not at once.
const MAX_PAGES: usize = 50;

/// What one reclaim pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reclaimed {
    /// Put back in the stream with an attempt used.
    pub requeued: usize,
    /// Out of attempts: dead set.
    pub buried: usize,
    /// Pending entries whose stream entry was already deleted: just acked.
    pub dropped: usize,
    /// Never started (read-ahead of a dead worker): put back without using an attempt.
    pub returned: usize,
}

/// A live worker's entry is taken only after this many visibility timeouts without a
/// keepalive: the last resort for a worker that is alive (its heartbeat is fresh) but
/// stuck, e.g. a wedged runtime thread.
pub const LAST_RESORT_FACTOR: u32 = 10;

/// What a reclaim pass may judge.
#[derive(Debug, Clone, Copy)]
pub struct ReclaimPolicy {
    /// An entry of a dead consumer is taken once idle this long (the visibility timeout).
    pub min_idle: Duration,
    /// A consumer whose heartbeat is older than this is dead.
    pub heartbeat_lapse: Duration,
    /// False right after this worker itself could not reach Redis (or Redis stalled):
    /// every heartbeat looks old then, though the workers behind them are alive and
    /// running their jobs; only the last resort applies until they had time to beat.
    pub judge_heartbeats: bool,
    /// Reading the heartbeats must take less than this (one beat interval): a read that
    /// took longer sat through a stall, and the heartbeats it read are stale for it.
    pub judge_within: Duration,
}

/// Crash recovery (docs/architecture.md): entries of consumers whose heartbeat has
/// lapsed are taken once idle past the visibility timeout; a live worker's entries only
/// when idle `LAST_RESORT_FACTOR` times longer. Each taken entry goes back to the stream
/// with one attempt used, or to the dead set if that was its last. A worker that is alive
/// and merely could not reach Redis for a while keeps its jobs.
///
/// Requeueing rather than running them here means any free worker takes them, and the
/// attempt count stays right even if the job keeps killing the worker that runs it.
#[tracing::instrument(level = "debug", skip_all, fields(queue = %settler.keys().queue, consumer = %consumer))]
pub async fn reclaim(
    conn: &mut Conn,
    settler: &Settler,
    consumer: &str,
    policy: ReclaimPolicy,
) -> Result<Reclaimed, Error> {
    let mut out = Reclaimed::default();
    let last_resort = policy.min_idle * LAST_RESORT_FACTOR;
    let stuck = format!(
        "the worker running this job made no progress for {}s; reclaimed by {consumer}",
        last_resort.as_secs()
    );
    autoclaim(conn, settler, consumer, last_resort, &stuck, &mut out).await?;
    if policy.judge_heartbeats {
        let began = std::time::Instant::now();
        let lapsed = lapsed_consumers(conn, settler, consumer, policy.heartbeat_lapse).await?;
        if began.elapsed() > policy.judge_within {
            return Ok(out);
        }
        for dead in lapsed {
            let msg = format!(
                "the worker running this job stopped (worker {dead}: no heartbeat for {}s); reclaimed by {consumer}",
                policy.heartbeat_lapse.as_secs_f64().ceil()
            );
            claim_from(
                conn,
                settler,
                consumer,
                &dead,
                policy.min_idle,
                &msg,
                &mut out,
            )
            .await?;
        }
    }
    Ok(out)
}

/// Consumers of the group, other than `me`, holding entries while their heartbeat is
/// older than `lapse` (or gone).
async fn lapsed_consumers(
    conn: &mut Conn,
    settler: &Settler,
    me: &str,
    lapse: Duration,
) -> Result<Vec<String>, Error> {
    let keys = settler.keys();
    let summary: Value = match redis::cmd("XPENDING")
        .arg(&keys.stream)
        .arg(GROUP)
        .query_async(conn)
        .await
    {
        Ok(v) => v,
        Err(e) if is_no_group(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let Value::Array(parts) = summary else {
        return Ok(Vec::new());
    };
    let Some(Value::Array(consumers)) = parts.into_iter().nth(3) else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = consumers
        .into_iter()
        .filter_map(|c| match c {
            Value::Array(mut pair) if !pair.is_empty() => match pair.swap_remove(0) {
                Value::BulkString(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                Value::SimpleString(s) => Some(s),
                _ => None,
            },
            _ => None,
        })
        .filter(|name| name != me)
        .collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // Judged by Redis's clock, which scored the beats: this host's clock may be off.
    let globals = crate::keys::GlobalKeys::new(&settler.settings().prefix);
    let mut judge = SCRIPTS.lapsed.key(&globals.workers);
    judge.arg(u64::try_from(lapse.as_millis()).unwrap_or(u64::MAX));
    for name in &names {
        judge.arg(name);
    }
    Ok(judge.invoke_async(conn).await?)
}

/// XAUTOCLAIM over the whole group: entries idle past `min_idle`, whoever holds them.
async fn autoclaim(
    conn: &mut Conn,
    settler: &Settler,
    consumer: &str,
    min_idle: Duration,
    message: &str,
    out: &mut Reclaimed,
) -> Result<(), Error> {
    let keys = settler.keys();
    let mut cursor = "0-0".to_owned();
    for _ in 0..MAX_PAGES {
        let reply: Result<Value, redis::RedisError> = redis::cmd("XAUTOCLAIM")
            .arg(&keys.stream)
            .arg(GROUP)
            .arg(consumer)
            .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
            .arg(&cursor)
            .arg("COUNT")
            .arg(PAGE)
            .query_async(conn)
            .await;
        let reply = match reply {
            Ok(r) => r,
            // No group (yet, or Redis lost it): nothing can be pending.
            Err(e) if is_no_group(&e) => break,
            Err(e) => return Err(e.into()),
        };
        let Value::Array(mut parts) = reply else {
            break;
        };
        if parts.len() < 2 {
            break;
        }
        let deleted = if parts.len() > 2 { parts.pop() } else { None };
        let entries = parts.pop();
        let next = match parts.pop() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
            Some(Value::SimpleString(s)) => s,
            _ => "0-0".to_owned(),
        };
        if let Some(Value::Array(entries)) = entries {
            requeue_all(settler, entries, &HashSet::new(), message, out).await?;
        }
        if let Some(Value::Array(ids)) = deleted
            && !ids.is_empty()
        {
            let mut ack = redis::cmd("XACK");
            ack.arg(&keys.stream).arg(GROUP);
            for id in &ids {
                if let Value::BulkString(b) = id {
                    ack.arg(b.as_slice());
                }
            }
            let n: usize = ack.query_async(conn).await?;
            out.dropped += n;
        }
        if next == "0-0" {
            break;
        }
        cursor = next;
    }
    Ok(())
}

/// Takes the entries of one dead consumer idle past `min_idle` (XPENDING … consumer,
/// then XCLAIM to `me`, which skips any entry another worker took meanwhile).
async fn claim_from(
    conn: &mut Conn,
    settler: &Settler,
    me: &str,
    dead: &str,
    min_idle: Duration,
    message: &str,
    out: &mut Reclaimed,
) -> Result<(), Error> {
    let keys = settler.keys();
    let idle_ms = u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX);
    for _ in 0..MAX_PAGES {
        let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(&keys.stream)
            .arg(GROUP)
            .arg("IDLE")
            .arg(idle_ms)
            .arg("-")
            .arg("+")
            .arg(PAGE)
            .arg(dead)
            .query_async(conn)
            .await?;
        if pending.is_empty() {
            return Ok(());
        }
        let mut claim = redis::cmd("XCLAIM");
        claim.arg(&keys.stream).arg(GROUP).arg(me).arg(idle_ms);
        for (id, ..) in &pending {
            claim.arg(id);
        }
        let claimed: Value = claim.query_async(conn).await?;
        let Value::Array(entries) = claimed else {
            return Ok(());
        };
        // Entries deleted from the stream are dropped from the pending list by XCLAIM.
        out.dropped += pending.len().saturating_sub(entries.len());
        // Delivery count 0: the keepalive saw it waiting in the read-ahead, not started.
        let unstarted: HashSet<&str> = pending
            .iter()
            .filter(|(.., deliveries)| *deliveries == 0)
            .map(|(id, ..)| id.as_str())
            .collect();
        requeue_all(settler, entries, &unstarted, message, out).await?;
        if pending.len() < PAGE {
            return Ok(());
        }
    }
    Ok(())
}

/// Each claimed entry back to the stream: one that never started (in `unstarted`) without
/// using an attempt, up to `MAX_FREE_RETURNS` times; the others with
/// an attempt used (or dead); a non-envelope to the dead set verbatim.
async fn requeue_all(
    settler: &Settler,
    entries: Vec<Value>,
    unstarted: &HashSet<&str>,
    message: &str,
    out: &mut Reclaimed,
) -> Result<(), Error> {
    for entry in entries.into_iter().filter_map(parse_entry) {
        let settled = match decode(&entry) {
            Ok(envelope)
                if unstarted.contains(&*entry.id) && envelope.returned < MAX_FREE_RETURNS =>
            {
                if settler.return_unstarted(&entry.id, &envelope).await? == Settled::Requeued {
                    out.returned += 1;
                }
                continue;
            }
            Ok(envelope) => {
                match crate::outcome::failure(&envelope, Duration::ZERO, message.to_owned()) {
                    Fate::Bury { message } => {
                        settler.bury(Some(&entry.id), &envelope, &message).await?
                    }
                    Fate::Retry { message, .. } => {
                        settler
                            .requeue_orphan(&entry.id, &envelope, &message)
                            .await?
                    }
                    Fate::Ack | Fate::Defer { .. } => continue,
                }
            }
            Err(reason) => {
                settler
                    .bury_malformed(&entry.id, &entry.raw, &reason)
                    .await?
            }
        };
        match settled {
            Settled::Buried => out.buried += 1,
            Settled::Requeued => out.requeued += 1,
            _ => {}
        }
    }
    Ok(())
}

/// Resets the idle time of this consumer's held entries (XCLAIM … JUSTID), so a slow
/// LinkedIn upload is not taken for a dead worker's job and published twice. `waiting`
/// entries (read-ahead) are marked not started (delivery count 0), `started` ones get
/// count 1 back, so crash recovery knows which used an attempt (see `keepalive.lua`).
#[tracing::instrument(level = "debug", skip_all, fields(queue = %keys.queue, started = started.len(), waiting = waiting.len()))]
pub async fn keepalive(
    conn: &mut Conn,
    keys: &QueueKeys,
    consumer: &str,
    started: &[Arc<str>],
    waiting: &[Arc<str>],
) -> Result<usize, Error> {
    let mut total = 0;
    let chunks = started
        .chunks(500)
        .map(|c| (c, c.len()))
        .chain(waiting.chunks(500).map(|c| (c, 0)));
    for (chunk, n_started) in chunks {
        let mut inv = SCRIPTS.keepalive.key(&keys.stream);
        inv.arg(GROUP).arg(consumer).arg(n_started);
        for id in chunk {
            inv.arg(&**id);
        }
        let n: usize = match inv.invoke_async(conn).await {
            Ok(n) => n,
            Err(e) if is_no_group(&e) => 0,
            Err(e) => return Err(e.into()),
        };
        total += n;
    }
    Ok(total)
}

/// Hands back entries this consumer holds but never started (see `release.lua`).
#[tracing::instrument(level = "debug", skip_all, fields(queue = %keys.queue, consumer = %consumer))]
pub async fn release(
    conn: &mut Conn,
    keys: &QueueKeys,
    consumer: &str,
    running: &[Arc<str>],
) -> Result<usize, Error> {
    let mut inv = SCRIPTS.release.key(&keys.stream);
    inv.arg(GROUP).arg(consumer).arg(10_000);
    for id in running {
        inv.arg(&**id);
    }
    match inv.invoke_async(conn).await {
        Ok(n) => Ok(n),
        // The stream or group is gone (flushed): nothing left to hand back.
        Err(e) if is_no_group(&e) => Ok(0),
        Err(e) => Err(e.into()),
    }
}


/// Removes consumers that hold nothing and were idle for a long time, so the group's
/// consumer list does not grow with every worker restart.
#[tracing::instrument(level = "debug", skip_all, fields(queue = %keys.queue))]
pub async fn prune_consumers(
    conn: &mut Conn,
    keys: &QueueKeys,
    idle: Duration,
) -> Result<usize, Error> {
    let reply: Value = redis::cmd("XINFO")
        .arg("CONSUMERS")
        .arg(&keys.stream)
        .arg(GROUP)
        .query_async(conn)
        .await?;
    let Value::Array(consumers) = reply else {
        return Ok(0);
    };
    let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    let mut removed = 0;
    for c in consumers {
        let fields = match c {
            Value::Array(f) => f
                .chunks(2)
                .map(|p| (p[0].clone(), p.get(1).cloned()))
                .collect::<Vec<_>>(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            _ => continue,
        };
        let mut name = None;
        let mut pending = -1;
        let mut inactive = 0;
        for (k, v) in fields {
            let key = match k {
                Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
                Value::SimpleString(s) => s,
                _ => continue,
            };
            match (key.as_str(), v) {
                ("name", Some(Value::BulkString(b))) => name = Some(b),
                ("pending", Some(Value::Int(n))) => pending = n,
                ("inactive", Some(Value::Int(n))) | ("idle", Some(Value::Int(n))) => {
                    inactive = inactive.max(n)
                }
                _ => {}
            }
        }
        if let Some(name) = name
            && pending == 0
            && inactive > idle_ms
        {
            let n: i64 = SCRIPTS
                .prune
                .key(&keys.stream)
                .arg(GROUP)
                .arg(name.as_slice())
                .invoke_async(conn)
                .await?;
            if n == 1 {
                removed += 1;
            }
        }
    }
    Ok(removed)
}
