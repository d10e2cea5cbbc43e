//! Per-queue counters per minute, for the admin UI and metrics.

use crate::connection::Conn;
use serde::Serialize;

use crate::connection::now_ms;
use crate::error::Error;
use crate::keys::QueueKeys;

/// One minute of a queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Minute {
    /// Minutes since the epoch.
    pub minute: u64,
    pub processed: u64,
    /// Failed attempts: retried plus buried.
    pub failed: u64,
    pub retried: u64,
    pub dead: u64,
    pub deferred: u64,
    /// Dead jobs the dead-set cap dropped this minute.
    pub dead_dropped: u64,
}

/// The last `minutes` minutes, oldest first, the current minute included.
pub async fn recent(conn: &mut Conn, keys: &QueueKeys, minutes: u64) -> Result<Vec<Minute>, Error> {
    let now = now_ms() / 60_000;
    let first = now.saturating_sub(minutes.saturating_sub(1));
    let mut pipe = redis::pipe();
    for m in first..=now {
        pipe.cmd("HMGET").arg(keys.stats_minute(m)).arg(&[
            "processed",
            "retried",
            "dead",
            "deferred",
            "dead_dropped",
        ]);
    }
    let rows: Vec<Vec<Option<u64>>> = pipe.query_async(conn).await?;
    Ok((first..=now)
        .zip(rows)
        .map(|(minute, row)| {
            let get = |i: usize| row.get(i).copied().flatten().unwrap_or(0);
            Minute {
                minute,
                processed: get(0),
                failed: get(1) + get(2),
                retried: get(1),
                dead: get(2),
                deferred: get(3),
                dead_dropped: get(4),
            }
        })
        .collect())
}
