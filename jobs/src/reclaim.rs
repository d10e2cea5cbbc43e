//! Crash recovery: taking back entries left pending by a dead worker, and keeping a live
//! worker's long jobs from being taken.

use std::sync::Arc;
use std::time::Duration;

use redis::Value;
use redis::aio::ConnectionManager;

use crate::delivery::{Settled, Settler};
use crate::error::Error;
use crate::fetch::{decode, parse_entry};
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
}

/// Claims entries idle longer than `min_idle` (their worker died or hung) and puts each
/// back in the stream with one attempt used, or in the dead set if that was its last.
/// Requeueing rather than running them here means any free worker takes them, and the
/// attempt count stays right even if the job keeps killing the worker that runs it.
pub async fn reclaim(
    conn: &mut ConnectionManager,
    settler: &Settler,
    consumer: &str,
    min_idle: Duration,
) -> Result<Reclaimed, Error> {
    let keys = settler.keys();
    let mut out = Reclaimed::default();
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
            for entry in entries.into_iter().filter_map(parse_entry) {
                let settled = match decode(&entry) {
                    Ok(envelope) => {
                        let msg = format!(
                            "the worker running this job stopped (no heartbeat for {}s); reclaimed by {consumer}",
                            min_idle.as_secs()
                        );
                        match crate::outcome::failure(&envelope, Duration::ZERO, msg) {
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
    Ok(out)
}

/// Resets the idle time of this consumer's running entries (XCLAIM … JUSTID), so a slow
/// LinkedIn upload is not taken for a dead worker's job and published twice.
pub async fn keepalive(
    conn: &mut ConnectionManager,
    keys: &QueueKeys,
    consumer: &str,
    entries: &[Arc<str>],
) -> Result<usize, Error> {
    if entries.is_empty() {
        return Ok(0);
    }
    let mut total = 0;
    for chunk in entries.chunks(500) {
        let mut inv = SCRIPTS.keepalive.key(&keys.stream);
        inv.arg(GROUP).arg(consumer);
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
pub async fn release(
    conn: &mut ConnectionManager,
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

/// NOGROUP as a plain reply or from inside a script.
pub(crate) fn is_no_group(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
}

/// Removes consumers that hold nothing and were idle for a long time, so the group's
/// consumer list does not grow with every worker restart.
pub async fn prune_consumers(
    conn: &mut ConnectionManager,
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
