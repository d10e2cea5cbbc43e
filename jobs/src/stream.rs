//! A queue's stream as the engine reads it: the consumer group (created when missing,
//! NOGROUP recognised), blocking group reads, and raw entries parsed by hand and decoded
//! into envelopes. Fetching and crash recovery both build on this.

use std::time::Duration;

use redis::Value;
use crate::connection::Conn;

use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys::{ENVELOPE_FIELD, GROUP, QueueKeys};
use crate::scripts::SCRIPTS;

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
pub async fn ensure_group(conn: &mut Conn, keys: &QueueKeys) -> Result<(), Error> {
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
    conn: &mut Conn,
    keys: &QueueKeys,
    consumer: &str,
    count: usize,
    block: Duration,
) -> Result<Vec<RawEntry>, Error> {
    let reply: Value = read_cmd(keys, consumer, count, block)
        .query_async(conn)
        .await?;
    Ok(parse_read_reply(reply))
}

/// [`read`], in one round trip with a look at the owners waiting for their turn: with
/// `admit`, `lua/admit.lua` first lets their jobs into the stream for `count` slots;
/// without, a plain `ZCARD` only counts them (the fetch loop admits from its next read on
/// when some wait, and an idle queue pays one O(1) command per read). Returns the entries
/// and how many owners still wait.
///
/// The pipeline ignores errors, so the read's entries always reach the caller: a script a
/// restarted Redis no longer knows (NOSCRIPT) is loaded for the next read, which admits.
pub async fn read_with_turns(
    conn: &mut Conn,
    keys: &QueueKeys,
    consumer: &str,
    count: usize,
    block: Duration,
    admit: bool,
) -> Result<(Vec<RawEntry>, u64), Error> {
    let mut pipe = redis::pipe();
    pipe.ignore_errors();
    if admit {
        pipe.add_command(
            crate::scripts::evalsha(
                &SCRIPTS.admit,
                &[
                    &keys.stream,
                    &keys.fair_owners,
                    &keys.fair_waiting,
                    &keys.fair_clock,
                ],
            )
            .arg(GROUP)
            .arg(count)
            .arg(&keys.fair_held_prefix)
            .clone(),
        );
    } else {
        pipe.cmd("ZCARD").arg(&keys.fair_owners);
    }
    pipe.add_command(read_cmd(keys, consumer, count, block));
    let mut replies: Vec<Value> = pipe.query_async(conn).await?;
    let read = replies.pop().unwrap_or(Value::Nil).extract_error()?;
    let waiting = match replies.pop().map(Value::extract_error) {
        Some(Ok(Value::Int(n))) => u64::try_from(n).unwrap_or(0),
        Some(Ok(Value::Array(parts))) => match parts.get(1) {
            Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        },
        Some(Err(e)) => {
            if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) {
                SCRIPTS.admit.load_async(conn).await?;
            } else {
                tracing::warn!(queue = %keys.queue, error = %crate::error::Chain(&e), "letting waiting owners' jobs in failed");
            }
            // Still crowded as far as we know: the next read tries again.
            1
        }
        _ => 0,
    };
    Ok((parse_read_reply(read), waiting))
}

fn read_cmd(keys: &QueueKeys, consumer: &str, count: usize, block: Duration) -> redis::Cmd {
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP")
        .arg(GROUP)
        .arg(consumer)
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX))
        .arg("STREAMS")
        .arg(&keys.stream)
        .arg(">");
    cmd
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

pub(crate) fn decode(entry: &RawEntry) -> Result<Envelope, String> {
    match &entry.envelope {
        None => Err(format!("entry has no {ENVELOPE_FIELD:?} field")),
        Some(bytes) => Envelope::decode(bytes).map_err(|e| e.to_string()),
    }
}


/// NOGROUP as a plain reply or from inside a script.
pub(crate) fn is_no_group(e: &redis::RedisError) -> bool {
    e.code() == Some("NOGROUP") || e.to_string().contains("NOGROUP")
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
