//! One queue's maintenance loop: the pause flag, the keepalive of everything this worker
//! holds, crash recovery (reclaim) and pruning of idle consumers, each on its own timer.

use std::sync::Arc;
use std::time::Duration;

use crate::heartbeat;
use crate::queue_state::QueueState;
use crate::reclaim;

/// Pause flag, keepalive of running jobs, crash recovery, consumer pruning. Runs until
/// the worker's shutdown aborts it, after the drain: the keepalive must go on while running
/// jobs finish.
pub(crate) async fn run(state: Arc<QueueState>) {
    let vis = state.settings.visibility_timeout;
    let keepalive_every = (vis / 3).max(Duration::from_millis(100));
    let reclaim_every = (vis / 2).max(Duration::from_millis(100));
    let prune_every = Duration::from_secs(600);
    let mut rng = fastrand::Rng::new();
    let start = tokio::time::Instant::now();
    let mut next_pause_check = start;
    let mut next_keepalive = start + keepalive_every;
    // First reclaim soon after start: a restarted worker should not wait to take back
    // what its previous incarnation left.
    let mut next_reclaim = start + Duration::from_millis(rng.u64(100..1_000));
    let mut next_prune = start + prune_every;
    let mut conn = state.conn.clone();
    let beat = state.settings.heartbeat_interval;
    let heartbeat_lapse = beat * heartbeat::MISSED_BEATS;
    // Heartbeats are judged only after this worker has reached Redis without trouble for
    // a whole lapse (plus one beat): after a stall or an outage every heartbeat looks
    // old, though the workers behind them are alive and running their jobs.
    let mut judge_after = start;
    let troubled = |took: Duration, failed: bool, judge_after: &mut tokio::time::Instant| {
        if failed || took > beat {
            *judge_after = tokio::time::Instant::now() + heartbeat_lapse + beat;
        }
    };
    loop {
        let now = tokio::time::Instant::now();
        if now >= next_pause_check {
            let res = state.refresh_paused().await;
            troubled(now.elapsed(), res.is_err(), &mut judge_after);
            if let Err(e) = res {
                tracing::debug!(error = %crate::error::Chain(&e), "pause check failed");
            }
            next_pause_check = now + Duration::from_secs(1);
        }
        if now >= next_keepalive {
            let (started, waiting) = state.holdings.started_and_waiting();
            let began = tokio::time::Instant::now();
            let res =
                reclaim::keepalive(&mut conn, &state.keys, &state.consumer, &started, &waiting)
                    .await;
            troubled(began.elapsed(), res.is_err(), &mut judge_after);
            if let Err(e) = res {
                tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "keepalive failed");
            }
            next_keepalive = now + keepalive_every;
        }
        if now >= next_reclaim {
            let policy = reclaim::ReclaimPolicy {
                min_idle: vis,
                heartbeat_lapse,
                judge_heartbeats: tokio::time::Instant::now() >= judge_after,
                judge_within: beat,
            };
            match reclaim::reclaim(&mut conn, &state.settler, &state.consumer, policy).await {
                Ok(r) if r != reclaim::Reclaimed::default() => {
                    state.metrics.recovered(r.requeued, r.buried, r.returned);
                    tracing::warn!(queue = %state.keys.queue, requeued = r.requeued, buried = r.buried,
                        dropped = r.dropped, returned = r.returned, "reclaimed jobs of a dead worker");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "reclaim failed")
                }
            }
            let jitter = Duration::from_millis(
                rng.u64(0..=u64::try_from(reclaim_every.as_millis() / 5).unwrap_or(0)),
            );
            next_reclaim = now + reclaim_every + jitter;
        }
        if now >= next_prune {
            if let Err(e) =
                reclaim::prune_consumers(&mut conn, &state.keys, Duration::from_secs(3600)).await
            {
                tracing::debug!(error = %crate::error::Chain(&e), "consumer pruning failed");
            }
            next_prune = now + prune_every;
        }
        let wake = next_pause_check
            .min(next_keepalive)
            .min(next_reclaim)
            .min(next_prune);
        tokio::time::sleep_until(wake).await;
    }
}
