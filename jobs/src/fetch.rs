//! Fetching: blocking batched reads, bounded by free worker slots plus the read-ahead.

use std::sync::Arc;
use std::time::Duration;

use apalis_core::task::{Task, builder::TaskBuilder, task_id::TaskId};
use redis::Value;
use redis::aio::ConnectionManager;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::delivery::Delivery;
use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys::{ENVELOPE_FIELD, GROUP, QueueKeys};
use crate::queue_state::QueueState;
use crate::reclaim::is_no_group;

/// Most entries one read asks for, whatever the free concurrency: keeps one reply small.
const MAX_READ: usize = 1_000;

/// One raw stream entry: its id and its fields, unparsed.
#[derive(Debug)]
pub struct RawEntry {
    pub id: String,
    /// `None` when the entry has no envelope field (or was deleted before the read).
    pub envelope: Option<Vec<u8>>,
    /// Everything the entry held, for the dead set when it is not a job.
    pub raw: Vec<u8>,
}

/// Creates the consumer group if the stream or the group is missing (a new queue, or a
/// Redis that restarted without persistence). Reading from `0` so entries enqueued before
/// any worker existed are delivered.
#[tracing::instrument(level = "debug", skip_all, fields(queue = %keys.queue))]
pub async fn ensure_group(conn: &mut ConnectionManager, keys: &QueueKeys) -> Result<(), Error> {
    let res: Result<(), redis::RedisError> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&keys.stream)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(conn)
        .await;
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `XREADGROUP … COUNT n BLOCK t`: returns as soon as one entry is there, so an idle
/// worker picks a new job up within one round trip, and a busy one takes up to `n`.
pub async fn read(
    conn: &mut ConnectionManager,
    keys: &QueueKeys,
    consumer: &str,
    count: usize,
    block: Duration,
) -> Result<Vec<RawEntry>, Error> {
    let reply: Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg(consumer)
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX))
        .arg("STREAMS")
        .arg(&keys.stream)
        .arg(">")
        .query_async(conn)
        .await?;
    Ok(parse_read_reply(reply))
}

/// Parses an XREADGROUP reply by hand rather than through typed conversions, so one
/// entry with binary garbage in it cannot make the whole batch (and the loop) fail.
pub fn parse_read_reply(reply: Value) -> Vec<RawEntry> {
    let streams = match reply {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(mut pair) if pair.len() == 2 => pair.pop(),
                _ => None,
            })
            .collect::<Vec<_>>(),
        Value::Map(pairs) => pairs.into_iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for entries in streams {
        if let Value::Array(entries) = entries {
            out.extend(entries.into_iter().filter_map(parse_entry));
        }
    }
    out
}

/// One `[id, [field, value, …]]` pair.
pub fn parse_entry(entry: Value) -> Option<RawEntry> {
    let Value::Array(mut parts) = entry else {
        return None;
    };
    if parts.is_empty() {
        return None;
    }
    let fields = if parts.len() > 1 { parts.pop() } else { None };
    let id = bytes_of(parts.pop()?)?;
    let id = String::from_utf8(id).ok()?;
    let mut envelope = None;
    let mut raw = Vec::new();
    if let Some(Value::Array(fields)) = fields {
        let mut it = fields.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            let (Some(k), Some(v)) = (bytes_of(k), bytes_of(v)) else {
                continue;
            };
            if !raw.is_empty() {
                raw.push(b' ');
            }
            raw.extend_from_slice(&k);
            raw.push(b'=');
            raw.extend_from_slice(&v);
            if k == ENVELOPE_FIELD.as_bytes() && envelope.is_none() {
                envelope = Some(v);
            }
        }
    }
    Some(RawEntry { id, envelope, raw })
}

fn bytes_of(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

/// The fetch loop of one queue. Never returns on a Redis error: an outage or a restart
/// is waited out with a capped backoff and the loop goes on, on a fresh connection.
/// Stops when `stop` turns true; an entry read but not yet handed out stays in this
/// consumer's pending list, and closing the backend hands it back (see `release.lua`).
pub(crate) async fn run(
    state: Arc<QueueState>,
    conn: ConnectionManager,
    budget: Arc<Semaphore>,
    tx: mpsc::Sender<Task<Delivery>>,
    stop: watch::Receiver<bool>,
) {
    run_loop(&state, conn, budget, tx, stop).await;
    state.fetch_exited();
}

async fn run_loop(
    state: &Arc<QueueState>,
    mut conn: ConnectionManager,
    budget: Arc<Semaphore>,
    tx: mpsc::Sender<Task<Delivery>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut pause = Duration::from_millis(50);
    let mut group_ready = false;
    loop {
        if *stop.borrow() {
            return;
        }
        if !group_ready {
            match ensure_group(&mut conn, &state.keys).await {
                Ok(()) => group_ready = true,
                Err(e) => {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "cannot create the consumer group yet");
                    if sleep_or_stop(&mut stop, pause).await {
                        return;
                    }
                    pause = (pause * 2).min(Duration::from_secs(2));
                    continue;
                }
            }
        }
        if state.is_paused() {
            if sleep_or_stop(&mut stop, Duration::from_millis(250)).await {
                return;
            }
            continue;
        }
        // Wait for room in the budget (running jobs plus read-ahead) first: reading more
        // would strand jobs here while other workers idle.
        let first = tokio::select! {
            permit = budget.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let mut permits = first;
        let extra = budget.available_permits().min(MAX_READ - 1);
        if extra > 0
            && let Ok(more) = budget
                .clone()
                .try_acquire_many_owned(u32::try_from(extra).unwrap_or(1))
        {
            permits.merge(more);
        }
        let count = permits.num_permits();
        // Not cancelled on stop: a read dropped mid-flight could still deliver entries
        // after closing handed back the rest. It returns within `block` anyway.
        let entries = read(
            &mut conn,
            &state.keys,
            &state.consumer,
            count,
            state.settings.block,
        )
        .await;
        let entries = match entries {
            Ok(entries) => {
                pause = Duration::from_millis(50);
                entries
            }
            Err(e) => {
                drop(permits);
                // The stream was deleted under us (UNBLOCKED) or its group is gone
                // (NOGROUP, e.g. a Redis restarted without persistence): recreate it.
                if let Error::Redis(re) = &e
                    && (is_no_group(re) || re.code() == Some("UNBLOCKED"))
                {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "consumer group missing, recreating it");
                    group_ready = false;
                    continue;
                }
                if e.is_transient() {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "redis unavailable, fetch waits");
                } else {
                    tracing::error!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "fetch failed");
                }
                if sleep_or_stop(&mut stop, pause).await {
                    return;
                }
                pause = (pause * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        for entry in entries {
            let Some(permit) = permits.split(1) else {
                break;
            };
            match decode(&entry) {
                Ok(envelope) => {
                    if *stop.borrow() {
                        // Stopping: leave it pending; closing hands it back.
                        return;
                    }
                    let task = to_task(&entry.id, envelope, permit);
                    state.hold(&task.args.entry_id);
                    if tx.send(task).await.is_err() {
                        return;
                    }
                }
                Err(reason) => {
                    drop(permit);
                    tracing::error!(queue = %state.keys.queue, entry = %entry.id, %reason, "malformed entry sent to the dead set");
                    if let Err(e) = state
                        .settler
                        .bury_malformed(&entry.id, &entry.raw, &reason)
                        .await
                    {
                        tracing::error!(queue = %state.keys.queue, entry = %entry.id, error = %crate::error::Chain(&e),
                            "could not bury a malformed entry; it stays pending and is reclaimed later");
                    }
                }
            }
        }
    }
}

pub(crate) fn decode(entry: &RawEntry) -> Result<Envelope, String> {
    match &entry.envelope {
        None => Err(format!("entry has no {ENVELOPE_FIELD:?} field")),
        Some(bytes) => Envelope::decode(bytes).map_err(|e| e.to_string()),
    }
}

fn to_task(
    entry_id: &str,
    envelope: Envelope,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Task<Delivery> {
    let id = envelope.id.clone();
    let attempt = envelope.attempt as usize;
    let mut delivery = Delivery::new(entry_id, envelope);
    delivery.permit = Some(Arc::new(permit));
    TaskBuilder::new(delivery)
        .task_id(TaskId::from_string(id))
        .attempt(attempt)
        .build()
}

/// Sleeps, or returns true at once if asked to stop.
pub(crate) async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &[u8]) -> Value {
        Value::BulkString(s.to_vec())
    }

    #[test]
    fn parses_entries_and_tolerates_garbage() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk(b"ag:{q}:stream"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk(b"1-0"),
                    Value::Array(vec![bulk(b"e"), bulk(b"{}")]),
                ]),
                Value::Array(vec![
                    bulk(b"2-0"),
                    Value::Array(vec![bulk(b"x"), bulk(&[0xff, 0xfe])]),
                ]),
                Value::Array(vec![bulk(b"3-0"), Value::Nil]),
                Value::Int(7),
            ]),
        ])]);
        let entries = parse_read_reply(reply);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].envelope.as_deref(), Some(&b"{}"[..]));
        assert!(entries[1].envelope.is_none());
        assert!(entries[2].envelope.is_none());
    }
}
