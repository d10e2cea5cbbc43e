//! Periodic jobs: a job enqueued once per period across every process that runs the
//! schedule. Each process wakes at each period's start; the first to claim the period's
//! marker (`SET NX`) enqueues, the others see it taken. A process that was down for a
//! period does not catch up: a periodic job does "what is due now", so the next run covers
//! what the missed one would have done.
//!
//! A Redis that lost its data lost the period's job too (and its marker, so the schedule
//! itself goes on at the next period). With [`spawn_with_losses`] the schedule also
//! enqueues an after-loss job at once, once per loss across every process.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::connection::now_ms;
use crate::epoch::Losses;
use crate::{Client, Error, Job};

/// How long the claim of a loss's after-loss job is kept: long past the heartbeats in
/// which every process notices that loss.
const LOSS_CLAIM_MS: u64 = 3_600_000;

/// Enqueues `make(period)` once per period of `every` until `stop`. `period` is the number
/// of whole periods since the Unix epoch, so every process agrees on it.
pub fn spawn<J: Job>(
    client: Client,
    every: Duration,
    make: fn(u64) -> J,
    stop: CancellationToken,
) -> JoinHandle<()> {
    spawn_with_losses(client, every, make, Losses::never(), make, stop)
}

/// [`spawn`], and on each Redis loss `losses` reports, `after_loss(period)` is enqueued
/// at once by whichever process claims that loss first: the job the loss took is not
/// waited for until the next period, and the job may do more than a routine run (the
/// reconciler takes every in-flight row, whatever its age).
pub fn spawn_with_losses<J: Job>(
    client: Client,
    every: Duration,
    make: fn(u64) -> J,
    mut losses: Losses,
    after_loss: fn(u64) -> J,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let every_ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1);
    let prefix = client.settings().prefix.clone();
    tokio::spawn(async move {
        let mut watching = true;
        let mut period = now_ms() / every_ms;
        let mut due = true;
        loop {
            if due {
                let marker = format!("{prefix}periodic:{}:{period}", J::KIND);
                let ttl = every_ms.saturating_mul(2).max(1000);
                if let Err(e) = enqueue_once(&client, &marker, ttl, &make(period)).await {
                    tracing::warn!(kind = J::KIND, period, error = %crate::error::Chain(&e), "periodic job not enqueued");
                }
            }
            // Wake just after the next period starts; a little spread so that many
            // processes do not all hit Redis in the same millisecond.
            let next = (period + 1) * every_ms + fastrand::u64(0..=every_ms.min(500) / 10);
            let wait = Duration::from_millis(next.saturating_sub(now_ms()).max(1));
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {
                    period = now_ms() / every_ms;
                    due = true;
                }
                lost = losses.next(), if watching => {
                    due = false;
                    let Some(epoch) = lost else {
                        watching = false;
                        continue;
                    };
                    let marker = format!("{prefix}periodic:{}:lost:{epoch}", J::KIND);
                    let job = after_loss(now_ms() / every_ms);
                    match enqueue_once(&client, &marker, LOSS_CLAIM_MS, &job).await {
                        Ok(true) => tracing::warn!(kind = J::KIND, %epoch, "redis lost its data: after-loss job enqueued"),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(kind = J::KIND, %epoch, error = %crate::error::Chain(&e), "after-loss job not enqueued"),
                    }
                }
            }
        }
    })
}

/// Claims `marker` and enqueues; gives the marker back if the enqueue failed, so another
/// process (or this one's next wake) can try.
async fn enqueue_once<J: Job>(
    client: &Client,
    marker: &str,
    ttl_ms: u64,
    job: &J,
) -> Result<bool, Error> {
    let mut conn = client.connection();
    let claimed: Option<String> = redis::cmd("SET")
        .arg(marker)
        .arg(1)
        .arg("NX")
        .arg("PX")
        .arg(ttl_ms)
        .query_async(&mut conn)
        .await?;
    if claimed.is_none() {
        return Ok(false);
    }
    if let Err(e) = client.enqueue(job).await {
        let _: Result<i64, _> = redis::cmd("DEL").arg(marker).query_async(&mut conn).await;
        return Err(e);
    }
    Ok(true)
}
