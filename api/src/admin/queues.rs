//! Which queues there are, their sizes and last hours, and the live workers.

use jobs::{Job, QueueName};

use super::views::{
    BusyJob, MinuteTotals, Overview, OwnerShare, QueueOwners, QueueSizes, Worker, WorkerQueue,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The queues of the code's job kinds. The registry set only learns a queue when the outbox
/// relay enqueues to it or a worker consumes it, so `periodic` (enqueued by the scheduler)
/// and `probe` (by ops checks) can be live and still missing from it.
const CODE_QUEUES: [&str; 8] = [
    jobs::kinds::ScrapeCampaign::QUEUE,
    jobs::kinds::EnrichLead::QUEUE,
    jobs::kinds::GenerateContent::QUEUE,
    jobs::kinds::PublishPost::QUEUE,
    jobs::kinds::Reconcile::QUEUE,
    jobs::kinds::SyncAnalytics::QUEUE,
    jobs::kinds::SendMail::QUEUE,
    jobs::kinds::probe::Probe::QUEUE,
];

/// Every queue the admin UI shows, sorted: the registry's, the code's job kinds' and those
/// the live workers' heartbeats announce (a worker may consume a queue no kind here names).
pub async fn all_queues(state: &AppState) -> ApiResult<Vec<QueueName>> {
    let admin = &state.queue_admin;
    let (registered, workers) = tokio::try_join!(admin.queues(), admin.live_workers())?;
    let mut names: Vec<String> = registered
        .iter()
        .map(|q| q.as_str().to_owned())
        .chain(CODE_QUEUES.iter().map(|q| (*q).to_owned()))
        .chain(
            workers
                .into_iter()
                .flat_map(|w| w.queues.into_iter().map(|(q, _)| q)),
        )
        .collect();
    names.sort();
    names.dedup();
    Ok(names
        .iter()
        .filter_map(|n| QueueName::new(n).ok())
        .collect())
}

/// Minutes the overview's charts cover by default (the counters live 24 h).
pub const CHART_MINUTES: u64 = 180;

pub const MAX_CHART_MINUTES: u64 = 1_440;

/// A queue name from a path, among [`all_queues`]; anything else is a 404.
pub async fn known_queue(state: &AppState, raw: &str) -> ApiResult<QueueName> {
    let queue = QueueName::new(raw).map_err(|_| ApiError::NotFound("queue"))?;
    if CODE_QUEUES.contains(&queue.as_str()) || state.queue_admin.is_known(&queue).await? {
        return Ok(queue);
    }
    let announced = state
        .queue_admin
        .live_workers()
        .await?
        .iter()
        .any(|w| w.queues.iter().any(|(q, _)| q == queue.as_str()));
    if announced {
        Ok(queue)
    } else {
        Err(ApiError::NotFound("queue"))
    }
}

/// Every known queue with its sizes and last hour, read concurrently.
pub async fn queue_sizes(state: &AppState) -> ApiResult<Vec<QueueSizes>> {
    Ok(overview_data(state, 60).await?.0)
}

/// Sizes per queue and per-minute totals of all queues over `minutes`.
async fn overview_data(
    state: &AppState,
    minutes: u64,
) -> ApiResult<(Vec<QueueSizes>, Vec<MinuteTotals>)> {
    let minutes = minutes.clamp(60, MAX_CHART_MINUTES);
    let queues = all_queues(state).await?;
    let admin = &state.queue_admin;
    let per_queue = futures::future::try_join_all(queues.iter().map(|q| async move {
        let (sizes, stats) = tokio::try_join!(admin.sizes(q), admin.recent_stats(q, minutes))?;
        Ok::<_, jobs::Error>((sizes, stats))
    }))
    .await?;
    let now = jobs::now_ms();
    let mut totals: Vec<MinuteTotals> = Vec::new();
    let mut rows = Vec::with_capacity(per_queue.len());
    for (s, stats) in per_queue {
        if totals.is_empty() {
            totals = stats
                .iter()
                .map(|m| MinuteTotals {
                    minute: m.minute,
                    ..MinuteTotals::default()
                })
                .collect();
        }
        for (t, m) in totals.iter_mut().zip(&stats) {
            t.processed += m.processed;
            t.failed += m.failed;
            t.dead += m.dead;
            t.deferred += m.deferred;
        }
        let last_hour = stats.iter().rev().take(60);
        let (processed, failed) =
            last_hour.fold((0, 0), |(p, f), m| (p + m.processed, f + m.failed));
        rows.push(QueueSizes {
            queue: s.queue,
            ready: s.ready,
            waiting_turn: s.waiting_turn,
            in_flight: s.in_flight,
            scheduled: s.scheduled,
            retrying: s.retrying,
            deferred: s.deferred,
            dead: s.dead,
            dead_dropped: s.dead_dropped,
            paused: s.paused,
            lag_ms: s.oldest_ready_at.map(|t| now.saturating_sub(t)),
            processed_last_hour: processed,
            failed_last_hour: failed,
        });
    }
    if totals.is_empty() {
        let last = now / 60_000;
        totals = (last + 1 - minutes..=last)
            .map(|minute| MinuteTotals {
                minute,
                ..MinuteTotals::default()
            })
            .collect();
    }
    Ok((rows, totals))
}

/// The overview: queues, the last `minutes` minutes, how many workers are alive.
pub async fn overview_of(state: &AppState, minutes: u64) -> ApiResult<Overview> {
    let ((queues, minutes), workers) = tokio::try_join!(overview_data(state, minutes), async {
        state
            .queue_admin
            .live_workers()
            .await
            .map_err(ApiError::from)
    })?;
    let owners = owners_of(state, &queues, &workers).await?;
    Ok(Overview {
        queues,
        minutes,
        live_workers: workers.len(),
        owners,
    })
}

/// Owners the overview lists per queue.
pub const OWNERS_SHOWN: usize = 10;

/// The busiest owners of every queue that has any, with their e-mail addresses.
async fn owners_of(
    state: &AppState,
    queues: &[QueueSizes],
    workers: &[jobs::heartbeat::WorkerInfo],
) -> ApiResult<Vec<QueueOwners>> {
    let admin = &state.queue_admin;
    let names: Vec<QueueName> = queues
        .iter()
        .filter_map(|q| QueueName::new(&q.queue).ok())
        .collect();
    let loads =
        futures::future::try_join_all(names.iter().map(|q| admin.owners(q, workers, OWNERS_SHOWN)))
            .await?;
    let ids: Vec<i64> = loads.iter().flatten().map(|o| o.user_id).collect();
    let emails: std::collections::HashMap<i64, String> = shared::db::users::emails(&state.db, &ids)
        .await?
        .into_iter()
        .collect();
    Ok(names
        .into_iter()
        .zip(loads)
        .filter(|(_, owners)| !owners.is_empty())
        .map(|(queue, owners)| QueueOwners {
            queue: queue.to_string(),
            owners: owners
                .into_iter()
                .map(|o| OwnerShare {
                    email: emails.get(&o.user_id).cloned(),
                    user_id: o.user_id,
                    running: o.running,
                    waiting_turn: o.waiting_turn,
                })
                .collect(),
        })
        .collect())
}

pub async fn workers_of(state: &AppState) -> ApiResult<Vec<Worker>> {
    let now = jobs::now_ms();
    Ok(state
        .queue_admin
        .live_workers()
        .await?
        .into_iter()
        .map(|w| {
            let busy = |q: &str| {
                w.busy
                    .iter()
                    .find(|(name, _)| name == q)
                    .map_or(0, |(_, n)| *n)
            };
            Worker {
                queues: w
                    .queues
                    .iter()
                    .map(|(q, c)| WorkerQueue {
                        queue: q.clone(),
                        concurrency: *c,
                        busy: busy(q),
                    })
                    .collect(),
                jobs: w
                    .jobs
                    .iter()
                    .map(|j| BusyJob {
                        queue: j.queue.clone(),
                        id: j.id.clone(),
                        kind: j.kind.clone(),
                        started_at: j.started_at,
                        runtime_ms: w.last_beat.saturating_sub(j.started_at),
                    })
                    .collect(),
                beat_age_ms: now.saturating_sub(w.last_beat),
                id: w.id,
                host: w.host,
                pid: w.pid,
                started_at: w.started_at,
                last_beat: w.last_beat,
            }
        })
        .collect())
}
