//! Periodic jobs: a job enqueued once per period across every process that runs the
//! schedule. Each process wakes at each period's start; the first to claim the period's
//! marker (`SET NX`) enqueues, the others see it taken. A process that was down for a
//! period does not catch up: a periodic job does "what is due now", so the next run covers
//! what the missed one would have done.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::connection::now_ms;
use crate::{Client, Error, Job};

/// Enqueues `make(period)` once per period of `every` until `stop`. `period` is the number
/// of whole periods since the Unix epoch, so every process agrees on it.
pub fn spawn<J: Job>(
    client: Client,
    every: Duration,
    make: fn(u64) -> J,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let every_ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    tokio::spawn(async move {
        loop {
            let now = now_ms();
            let period = now / every_ms;
            if let Err(e) = enqueue_once(&client, period, every_ms, make).await {
                tracing::warn!(kind = J::KIND, period, error = %e, "periodic job not enqueued");
            }
            // Wake just after the next period starts; a little spread so that many
            // processes do not all hit Redis in the same millisecond.
            let next = (period + 1) * every_ms + fastrand::u64(0..=every_ms.min(500) / 10);
            let wait = Duration::from_millis(next.saturating_sub(now_ms()).max(1));
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    })
}

/// Claims the period's marker and enqueues; gives the marker back if the enqueue failed,
/// so another process (or this one's next wake) can try.
async fn enqueue_once<J: Job>(
    client: &Client,
    period: u64,
    every_ms: u64,
    make: fn(u64) -> J,
) -> Result<bool, Error> {
    let marker = format!("{}periodic:{}:{period}", client.settings().prefix, J::KIND);
    let mut conn = client.connection();
    let claimed: Option<String> = redis::cmd("SET")
        .arg(&marker)
        .arg(1)
        .arg("NX")
        .arg("PX")
        .arg(every_ms.saturating_mul(2).max(1000))
        .query_async(&mut conn)
        .await?;
    if claimed.is_none() {
        return Ok(false);
    }
    if let Err(e) = client.enqueue(&make(period)).await {
        let _: Result<i64, _> = redis::cmd("DEL").arg(&marker).query_async(&mut conn).await;
        return Err(e);
    }
    Ok(true)
}
