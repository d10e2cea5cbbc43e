//! A queue's stream as the engine reads it: the consumer group (created when missing,
//! NOGROUP recognised), blocking group reads, and raw entries parsed by hand and decoded
//! into envelopes. Fetching and crash recovery both build on this.

use std::time::Duration;

use redis::Value;
use crate::connection::Conn;

use crate::envelope::Envelope;
use crate::error::Error;
use crate::keys::{ENVELOPE_FIELD, GROUP, QueueKeys};

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
