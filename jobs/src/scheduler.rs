//! Moving due scheduled jobs (delays, retries, deferrals) to the stream.

use std::time::Duration;

use crate::connection::Conn;

use crate::connection::{Settings, now_ms};
use crate::error::Error;
use crate::keys::QueueKeys;
use crate::scripts::SCRIPTS;

/// Moves up to `limit` due jobs; returns how many moved and when the next one is due.
/// With `owner_turns`, an owner's job that comes due while owners wait for their turn joins
/// its owner's list instead of the stream ([`Settings::owner_turns`]).
#[tracing::instrument(level = "debug", skip_all, fields(queue = %keys.queue))]
pub async fn move_due(
    conn: &mut Conn,
    keys: &QueueKeys,
    limit: usize,
    owner_turns: bool,
) -> Result<(usize, Option<u64>), Error> {
    let (moved, next): (usize, i64) = SCRIPTS
        .move_due
        .key(&keys.scheduled)
        .key(&keys.stream)
        .key(&keys.retrying)
        .key(&keys.deferred)
        .key(&keys.fair_owners)
        .key(&keys.fair_waiting)
        .key(&keys.fair_clock)
        .arg(now_ms())
        .arg(limit.max(1))
        .arg(if owner_turns { "1" } else { "0" })
        .arg(crate::keys::GROUP)
        .arg(&keys.fair_held_prefix)
        .invoke_async(conn)
        .await?;
    Ok((moved, u64::try_from(next).ok()))
}

/// Every worker runs this for each of its queues. A full batch means more are due, so
/// it goes again at once; otherwise it sleeps until the next due job or the interval,
/// with jitter so many workers do not call in lockstep. Runs until the worker's shutdown
/// aborts it; a move is one atomic script, so an abort never leaves half of one.
pub(crate) async fn run(mut conn: Conn, keys: &QueueKeys, settings: &Settings) {
    let mut rng = fastrand::Rng::new();
    loop {
        let wait = match move_due(&mut conn, keys, settings.mover_batch, settings.owner_turns).await {
            Ok((moved, _)) if moved >= settings.mover_batch => Duration::ZERO,
            Ok((_, next)) => {
                let interval = settings.mover_interval;
                let until_next = next.map_or(interval, |t| {
                    Duration::from_millis(t.saturating_sub(now_ms()))
                });
                let jitter_cap = u64::try_from(interval.as_millis() / 10).unwrap_or(0);
                until_next.min(interval) + Duration::from_millis(rng.u64(0..=jitter_cap.max(1)))
            }
            Err(e) => {
                tracing::warn!(queue = %keys.queue, error = %crate::error::Chain(&e), "moving scheduled jobs failed");
                Duration::from_millis(500)
            }
        };
        if wait.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(wait).await;
        }
    }
}
