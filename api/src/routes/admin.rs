//! The queues for admins, as JSON for ops scripts (`/api/admin/*`), and the operations the
//! admin pages share with it: overview, live workers, jobs per state with filters, job
//! detail with redacted arguments, retry / discard / run now, bulk retry / discard by
//! filter, pause / resume, and the audit log every action writes to before it acts. Admin
//! role only; cookie-authenticated writes need the CSRF header as everywhere else.
//!
//! Every read here is O(1) or O(page) in Redis whatever the backlog (see `jobs::admin`):
//! counts are ZCARD / XLEN / group summaries, charts read the per-minute counter hashes,
//! and filtered dead lists page through the dead set's kind and user indexes. Argument
//! text is searched with a bounded scan that returns a cursor to continue from.

use actix_web::{HttpResponse, web};
use jobs::admin::{JobFilter, JobState, JobView};
use jobs::{Job, QueueName};
use serde::{Deserialize, Serialize};
use shared::db::Paged;
use shared::db::admin_audit::{self, AuditAction, AuditEntry, NewAuditEntry};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::redact::redact_json;
use crate::state::AppState;

/// Minutes the overview's charts cover by default (the counters live 24 h).
pub const CHART_MINUTES: u64 = 180;
const MAX_CHART_MINUTES: u64 = 1_440;
/// Jobs per list page unless asked otherwise.
pub const LIST_PAGE: usize = 50;

/// How many jobs a queue holds in each state, and how it is doing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueSizes {
    pub queue: String,
    /// In the stream, not yet delivered to a worker.
    pub ready: u64,
    /// Delivered and not yet acked: running (or held by a worker that died).
    pub in_flight: u64,
    /// Everything in the scheduled set: delayed jobs, retries waiting for their backoff
    /// and deferrals.
    pub scheduled: u64,
    /// Of `scheduled`, the retries waiting for their backoff.
    pub retrying: u64,
    /// Of `scheduled`, the deferred jobs (waiting without using an attempt).
    pub deferred: u64,
    pub dead: u64,
    /// Dead jobs the dead-set cap dropped, oldest first, since the queue began.
    pub dead_dropped: u64,
    pub paused: bool,
    /// How long the oldest ready job has waited, ms; `null` when none waits.
    pub lag_ms: Option<u64>,
    /// Jobs completed in the last 60 minutes.
    pub processed_last_hour: u64,
    /// Failed attempts (retried or buried) in the last 60 minutes.
    pub failed_last_hour: u64,
}

impl QueueSizes {
    /// Scheduled jobs that are neither retries nor deferrals: plain delayed jobs.
    pub fn delayed(&self) -> u64 {
        self.scheduled
            .saturating_sub(self.retrying)
            .saturating_sub(self.deferred)
    }
}

/// One minute of all queues together.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MinuteTotals {
    /// Minutes since the Unix epoch (UTC).
    pub minute: u64,
    pub processed: u64,
    /// Failed attempts: retried plus buried.
    pub failed: u64,
    pub dead: u64,
    pub deferred: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub queues: Vec<QueueSizes>,
    /// Oldest first, the current minute last.
    pub minutes: Vec<MinuteTotals>,
    /// Worker processes with a recent heartbeat.
    pub live_workers: usize,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// Minutes the per-minute series covers: 1–1440, default 180.
    #[param(minimum = 1, maximum = 1440)]
    pub minutes: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerQueue {
    pub queue: String,
    pub concurrency: usize,
    /// Jobs running now.
    pub busy: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BusyJob {
    pub queue: String,
    pub id: String,
    pub kind: String,
    pub started_at: u64,
    /// How long it has run at the last heartbeat, ms.
    pub runtime_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Worker {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub queues: Vec<WorkerQueue>,
    /// The longest running jobs (at most 20 per queue).
    pub jobs: Vec<BusyJob>,
    pub started_at: u64,
    pub last_beat: u64,
    /// How long ago the last heartbeat was, ms.
    pub beat_age_ms: u64,
}

/// A job in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobSummary {
    pub id: String,
    pub kind: String,
    pub queue: String,
    /// `ready`, `in_flight`, `scheduled` or `dead`.
    pub state: String,
    pub user_id: Option<i64>,
    /// Attempts used.
    pub attempt: u32,
    pub max_attempts: u32,
    /// ms since the epoch.
    pub enqueued_at: u64,
    pub run_at: Option<u64>,
    pub died_at: Option<u64>,
    pub last_error: Option<String>,
    /// Why it waits, when it was deferred.
    pub deferred_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobErrorView {
    pub at: u64,
    pub attempt: u32,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeferralView {
    /// When it runs again, ms.
    pub until: u64,
    pub reason: String,
    /// Deferrals in a row.
    pub count: u32,
}

/// Everything about one job, arguments with secrets redacted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub summary: JobSummary,
    /// The arguments; values under keys that look like secrets are `"[redacted]"`.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// The last five failed attempts, oldest first.
    pub errors: Vec<JobErrorView>,
    pub deferred: Option<DeferralView>,
    pub unique_key: Option<String>,
    /// In flight: the worker holding it, and for how long (ms) since its last claim.
    pub consumer: Option<String>,
    pub idle_ms: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
    /// Jobs read to make this page.
    pub scanned: usize,
    /// The search read its budget (5,000 jobs) before the page was full: continue with
    /// `next_cursor`.
    pub budget_spent: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// `ready`, `in_flight` (or `running`), `scheduled` or `dead` (default).
    #[param(pattern = "^(ready|in_flight|running|scheduled|dead)$")]
    pub state: Option<String>,
    /// Only jobs of this kind.
    pub kind: Option<String>,
    /// Only jobs of this user.
    pub user_id: Option<i64>,
    /// Only jobs whose arguments contain this text (case-insensitive).
    pub q: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    pub kind: Option<String>,
    pub user_id: Option<i64>,
    /// Text in the arguments (case-insensitive).
    pub q: Option<String>,
}

/// Which dead jobs a bulk action takes; empty fields match every job.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkRequest {
    pub kind: Option<String>,
    pub user_id: Option<i64>,
    /// Text in the arguments (case-insensitive).
    pub q: Option<String>,
    /// Only jobs that died at or before this time (ms), e.g. when the count was shown;
    /// default now.
    pub cutoff_ms: Option<u64>,
}

/// How many dead jobs match a filter.
#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    /// Exact when `exact`; otherwise how many matched among the `scanned` newest.
    pub count: u64,
    /// False when a text search stopped at its budget (5,000 jobs read, as a list page):
    /// more of the older jobs may match.
    pub exact: bool,
    /// Jobs read to count; 0 when an index answered.
    pub scanned: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Affected {
    /// How many jobs the action changed.
    pub affected: u64,
}

/// What an admin does to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// A dead job back to the stream, attempts reset.
    Retry,
    /// A dead or scheduled job deleted.
    Discard,
    /// A scheduled job made due now.
    RunNow,
}

impl JobAction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "retry" => Some(Self::Retry),
            "discard" => Some(Self::Discard),
            "run-now" | "run_now" => Some(Self::RunNow),
            _ => None,
        }
    }

    fn audit(self) -> AuditAction {
        match self {
            Self::Retry => AuditAction::Retry,
            Self::Discard => AuditAction::Discard,
            Self::RunNow => AuditAction::RunNow,
        }
    }
}

/// A state by its wire name.
pub fn parse_state(s: &str) -> Option<JobState> {
    match s {
        "ready" => Some(JobState::Ready),
        "in_flight" | "running" => Some(JobState::InFlight),
        "scheduled" => Some(JobState::Scheduled),
        "dead" => Some(JobState::Dead),
        _ => None,
    }
}

pub fn state_name(s: JobState) -> &'static str {
    match s {
        JobState::Ready => "ready",
        JobState::InFlight => "in_flight",
        JobState::Scheduled => "scheduled",
        JobState::Dead => "dead",
    }
}

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
    Ok(Overview {
        queues,
        minutes,
        live_workers: workers.len(),
    })
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

pub fn summary(view: &JobView) -> JobSummary {
    let e = &view.envelope;
    JobSummary {
        id: e.id.clone(),
        kind: e.kind.clone(),
        queue: e.queue.clone(),
        state: state_name(view.state).to_owned(),
        user_id: e.user_id,
        attempt: e.attempt,
        max_attempts: e.max_attempts,
        enqueued_at: e.enqueued_at,
        run_at: e.run_at,
        died_at: e.died_at,
        last_error: e.last_error().map(str::to_owned),
        deferred_reason: e.deferred.as_ref().map(|d| d.reason.clone()),
    }
}

pub fn detail(view: &JobView) -> JobDetail {
    let e = &view.envelope;
    JobDetail {
        summary: summary(view),
        args: redact_json(e.args.get()),
        errors: e
            .errors
            .iter()
            .map(|r| JobErrorView {
                at: r.at,
                attempt: r.attempt,
                message: r.message.clone(),
            })
            .collect(),
        deferred: e.deferred.as_ref().map(|d| DeferralView {
            until: d.until,
            reason: d.reason.clone(),
            count: d.count,
        }),
        unique_key: e.unique_key.clone(),
        consumer: view.consumer.clone(),
        idle_ms: view.idle_ms,
    }
}

/// A page of jobs in `job_state` matching `filter`.
pub async fn list_jobs(
    state: &AppState,
    queue: &QueueName,
    job_state: JobState,
    filter: &JobFilter,
    cursor: Option<&str>,
    limit: usize,
) -> ApiResult<JobPage> {
    let page = state
        .queue_admin
        .page(queue, job_state, filter, cursor, limit)
        .await?;
    Ok(JobPage {
        jobs: page.jobs.iter().map(summary).collect(),
        next_cursor: page.next,
        scanned: page.scanned,
        budget_spent: page.budget_spent,
    })
}

/// A job of this queue by id, or 404.
pub async fn find_job(state: &AppState, queue: &QueueName, id: &str) -> ApiResult<JobView> {
    if id.is_empty() || id.len() > 200 {
        return Err(ApiError::NotFound("job"));
    }
    state
        .queue_admin
        .find(queue, id)
        .await?
        .ok_or(ApiError::NotFound("job"))
}

/// A job by id in any queue (dead jobs are found in O(1); others by a bounded scan).
pub async fn find_anywhere(state: &AppState, id: &str) -> ApiResult<Option<JobView>> {
    let id = id.trim();
    if id.is_empty() || id.len() > 200 {
        return Ok(None);
    }
    for queue in all_queues(state).await? {
        if let Some(view) = state.queue_admin.find(&queue, id).await? {
            return Ok(Some(view));
        }
    }
    Ok(None)
}

/// Writes the audit row of an action about to be carried out; the action must not start if
/// this fails, so that none goes unrecorded. Returns the row, to [`settle`] or [`withdraw`].
async fn audit_before(
    state: &AppState,
    user: &CurrentUser,
    action: AuditAction,
    queue: &QueueName,
    job_id: Option<&str>,
    filter: Option<&JobFilter>,
) -> ApiResult<i64> {
    let filter = filter
        .map(|f| serde_json::json!({ "kind": f.kind, "user_id": f.user_id, "text": f.text() }));
    let entry = NewAuditEntry {
        user_id: user.id,
        action,
        queue: queue.as_str(),
        job_id,
        filter,
    };
    Ok(admin_audit::open(&state.db, &entry).await?)
}

/// Sets the count on a row whose action is done. A failure is logged, not answered: the
/// action happened and is recorded (with 0), and an admin told it failed would repeat it.
async fn settle(state: &AppState, row: i64, affected: u64) {
    let affected = i64::try_from(affected).unwrap_or(i64::MAX);
    if let Err(e) = admin_audit::settle(&state.db, row, affected).await {
        tracing::warn!(error = %e, audit.id = row, affected, "admin audit count not written");
    }
}

/// Takes back the row of an action that did nothing (its job had gone, or another job held
/// its unique key). Left in place on failure: a row too many is the safe side.
async fn withdraw(state: &AppState, row: i64) {
    if let Err(e) = admin_audit::withdraw(&state.db, row).await {
        tracing::warn!(error = %e, audit.id = row, "admin audit row of a no-op left in place");
    }
}

/// Retry, discard or run one job now, recorded first. `false`: no job in a state the action
/// applies to (gone, or never there). Another job holding its unique key is a 409.
pub async fn act_on_job(
    state: &AppState,
    user: &CurrentUser,
    queue: &QueueName,
    id: &str,
    action: JobAction,
) -> ApiResult<bool> {
    let row = audit_before(state, user, action.audit(), queue, Some(id), None).await?;
    let admin = &state.queue_admin;
    let done = match action {
        JobAction::Retry => match admin.retry_dead(queue, id).await {
            Err(jobs::Error::UniqueHeld { holder, .. }) => {
                withdraw(state, row).await;
                return Err(ApiError::Conflict(format!(
                    "job {holder} with the same unique key is queued; this one stays dead"
                )));
            }
            other => other?,
        },
        JobAction::Discard => {
            admin.discard_dead(queue, id).await? || admin.discard_scheduled(queue, id).await?
        }
        JobAction::RunNow => admin.run_scheduled_now(queue, id).await?,
    };
    tracing::info!(user.id = user.id, queue = %queue, job.id = id, ?action, done, "admin action on a job");
    if done {
        settle(state, row, 1).await;
    } else {
        withdraw(state, row).await;
    }
    Ok(done)
}

/// How many dead jobs match `filter`, without reading the whole dead set: the indexes answer
/// a kind or user filter exactly; a text search reads with the list's bounded scan, page
/// after page, until [`jobs::admin::SCAN_BUDGET`] jobs were read (the last page may read up
/// to that many again), holding one page in memory at a time.
pub async fn count_dead(
    state: &AppState,
    queue: &QueueName,
    filter: &JobFilter,
) -> ApiResult<Count> {
    let admin = &state.queue_admin;
    if filter.text().is_none() {
        let count = admin.count_dead(queue, filter).await?;
        return Ok(Count {
            count,
            exact: true,
            scanned: 0,
        });
    }
    let mut count = 0;
    let mut scanned = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = admin
            .page(
                queue,
                JobState::Dead,
                filter,
                cursor.as_deref(),
                jobs::admin::MAX_PAGE,
            )
            .await?;
        count += page.jobs.len() as u64;
        scanned += page.scanned;
        match page.next {
            None => {
                return Ok(Count {
                    count,
                    exact: true,
                    scanned,
                });
            }
            Some(_) if page.budget_spent || scanned >= jobs::admin::SCAN_BUDGET => {
                return Ok(Count {
                    count,
                    exact: false,
                    scanned,
                });
            }
            next => cursor = next,
        }
    }
}

/// Retries or discards every dead job matching `filter` that died by `cutoff_ms`, recorded
/// first, then with the count.
pub async fn act_on_matching(
    state: &AppState,
    user: &CurrentUser,
    queue: &QueueName,
    filter: &JobFilter,
    retry: bool,
    cutoff_ms: u64,
) -> ApiResult<u64> {
    let action = if retry {
        AuditAction::RetryMatching
    } else {
        AuditAction::DiscardMatching
    };
    let row = audit_before(state, user, action, queue, None, Some(filter)).await?;
    let admin = &state.queue_admin;
    let n = if retry {
        admin.retry_dead_matching(queue, filter, cutoff_ms).await?
    } else {
        admin
            .discard_dead_matching(queue, filter, cutoff_ms)
            .await?
    };
    tracing::info!(user.id = user.id, queue = %queue, ?filter, ?action, n, "admin bulk action");
    settle(state, row, n).await;
    Ok(n)
}

/// Pauses (or resumes) a queue, recorded first.
pub async fn set_paused(
    state: &AppState,
    user: &CurrentUser,
    queue: &QueueName,
    paused: bool,
) -> ApiResult<()> {
    let action = if paused {
        AuditAction::Pause
    } else {
        AuditAction::Resume
    };
    audit_before(state, user, action, queue, None, None).await?;
    if paused {
        state.queue_admin.pause(queue).await?;
    } else {
        state.queue_admin.resume(queue).await?;
    }
    tracing::info!(user.id = user.id, queue = %queue, paused, "admin paused or resumed a queue");
    Ok(())
}

fn filter_of(kind: Option<&str>, user_id: Option<i64>, q: Option<&str>) -> JobFilter {
    JobFilter::new(kind, user_id, q)
}

// ---- JSON handlers ----

/// Every known queue with its sizes. Admin role only.
#[utoipa::path(get, path = "/api/admin/queues", tag = "admin",
    responses((status = 200, body = Vec<QueueSizes>)))]
#[tracing::instrument(name = "queues", skip_all)]
pub async fn queues(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    Ok(HttpResponse::Ok().json(queue_sizes(&state).await?))
}

/// Queues with their sizes and lag, per-minute throughput and failures of all queues,
/// live workers. O(1) Redis reads per queue and minute, whatever the backlog.
#[utoipa::path(get, path = "/api/admin/overview", tag = "admin", params(OverviewQuery),
    responses((status = 200, body = Overview)))]
#[tracing::instrument(name = "admin_overview", skip_all)]
pub async fn overview(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<OverviewQuery>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let minutes = query.minutes.unwrap_or(CHART_MINUTES);
    if !(1..=MAX_CHART_MINUTES).contains(&minutes) {
        return Err(ApiError::Invalid(
            "minutes must be between 1 and 1440".into(),
        ));
    }
    let mut overview = overview_of(&state, minutes).await?;
    let skip = overview
        .minutes
        .len()
        .saturating_sub(usize::try_from(minutes).unwrap_or(0));
    overview.minutes.drain(..skip);
    Ok(HttpResponse::Ok().json(overview))
}

/// Worker processes with a recent heartbeat: queues, concurrency, running jobs.
#[utoipa::path(get, path = "/api/admin/workers", tag = "admin",
    responses((status = 200, body = Vec<Worker>)))]
#[tracing::instrument(name = "admin_workers", skip_all)]
pub async fn workers(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    Ok(HttpResponse::Ok().json(workers_of(&state).await?))
}

/// A page of a queue's jobs in one state, filtered by kind, user and argument text.
/// Dead jobs filtered by kind or user come from an index (O(page)); text filters and
/// filters on other states read at most 5,000 jobs and return a cursor to continue.
#[utoipa::path(get, path = "/api/admin/queues/{queue}/jobs", tag = "admin",
    params(("queue" = String, Path, description = "queue name"), JobsQuery),
    responses((status = 200, body = JobPage)))]
#[tracing::instrument(name = "admin_jobs", skip_all, fields(queue = %path))]
pub async fn jobs(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<JobsQuery>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let queue = known_queue(&state, &path).await?;
    let job_state = match query.state.as_deref() {
        None => JobState::Dead,
        Some(s) => parse_state(s).ok_or_else(|| {
            ApiError::Invalid("state must be ready, in_flight, scheduled or dead".into())
        })?,
    };
    let limit = query.limit.unwrap_or(LIST_PAGE);
    if !(1..=jobs::admin::MAX_PAGE).contains(&limit) {
        return Err(ApiError::Invalid("limit must be between 1 and 500".into()));
    }
    let filter = filter_of(query.kind.as_deref(), query.user_id, query.q.as_deref());
    let page = list_jobs(
        &state,
        &queue,
        job_state,
        &filter,
        query.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One job with its arguments (secrets redacted), attempts, errors and deferral.
#[utoipa::path(get, path = "/api/admin/queues/{queue}/jobs/{id}", tag = "admin",
    params(("queue" = String, Path, description = "queue name"),
           ("id" = String, Path, description = "job id")),
    responses((status = 200, body = JobDetail)))]
#[tracing::instrument(name = "admin_job", skip_all)]
pub async fn job(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let (queue, id) = path.into_inner();
    let queue = known_queue(&state, &queue).await?;
    let view = find_job(&state, &queue, &id).await?;
    Ok(HttpResponse::Ok().json(detail(&view)))
}

/// A job by id, whatever its queue.
#[utoipa::path(get, path = "/api/admin/jobs/{id}", tag = "admin",
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = JobDetail)))]
#[tracing::instrument(name = "admin_find_job", skip_all)]
pub async fn find(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let view = find_anywhere(&state, &id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    Ok(HttpResponse::Ok().json(detail(&view)))
}

async fn job_action(
    state: &AppState,
    user: &CurrentUser,
    path: (String, String),
    action: JobAction,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let (queue, id) = path;
    let queue = known_queue(state, &queue).await?;
    if act_on_job(state, user, &queue, &id, action).await? {
        Ok(HttpResponse::Ok().json(Affected { affected: 1 }))
    } else {
        Err(ApiError::NotFound("job"))
    }
}

/// Retry a dead job now, attempts reset. 404 if it is not dead (any more); 409 if a job
/// with the same unique key is queued.
#[utoipa::path(post, path = "/api/admin/queues/{queue}/jobs/{id}/retry", tag = "admin",
    params(("queue" = String, Path, description = "queue name"),
           ("id" = String, Path, description = "job id")),
    responses((status = 200, body = Affected)))]
#[tracing::instrument(name = "admin_retry", skip_all)]
pub async fn retry(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    job_action(&state, &user, path.into_inner(), JobAction::Retry).await
}

/// Delete a dead or scheduled job for good. 404 if there is none.
#[utoipa::path(post, path = "/api/admin/queues/{queue}/jobs/{id}/discard", tag = "admin",
    params(("queue" = String, Path, description = "queue name"),
           ("id" = String, Path, description = "job id")),
    responses((status = 200, body = Affected)))]
#[tracing::instrument(name = "admin_discard", skip_all)]
pub async fn discard(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    job_action(&state, &user, path.into_inner(), JobAction::Discard).await
}

/// Make a scheduled job (a retry, a deferral, a delayed job) due now. 404 if it is not
/// scheduled.
#[utoipa::path(post, path = "/api/admin/queues/{queue}/jobs/{id}/run-now", tag = "admin",
    params(("queue" = String, Path, description = "queue name"),
           ("id" = String, Path, description = "job id")),
    responses((status = 200, body = Affected)))]
#[tracing::instrument(name = "admin_run_now", skip_all)]
pub async fn run_now(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    job_action(&state, &user, path.into_inner(), JobAction::RunNow).await
}

/// How many dead jobs match a filter (what a bulk action would take now).
#[utoipa::path(get, path = "/api/admin/queues/{queue}/dead/count", tag = "admin",
    params(("queue" = String, Path, description = "queue name"), FilterQuery),
    responses((status = 200, body = Count)))]
#[tracing::instrument(name = "admin_dead_count", skip_all)]
pub async fn dead_count(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    query: web::Query<FilterQuery>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let queue = known_queue(&state, &path).await?;
    let filter = filter_of(query.kind.as_deref(), query.user_id, query.q.as_deref());
    Ok(HttpResponse::Ok().json(count_dead(&state, &queue, &filter).await?))
}

async fn bulk(
    state: &AppState,
    user: &CurrentUser,
    raw: &str,
    body: &BulkRequest,
    retry: bool,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let queue = known_queue(state, raw).await?;
    let filter = filter_of(body.kind.as_deref(), body.user_id, body.q.as_deref());
    let cutoff = body.cutoff_ms.unwrap_or_else(jobs::now_ms);
    let affected = act_on_matching(state, user, &queue, &filter, retry, cutoff).await?;
    Ok(HttpResponse::Ok().json(Affected { affected }))
}

/// Retry every dead job matching the filter (that died by `cutoff_ms`).
#[utoipa::path(post, path = "/api/admin/queues/{queue}/dead/retry", tag = "admin",
    params(("queue" = String, Path, description = "queue name")),
    request_body = BulkRequest, responses((status = 200, body = Affected)))]
#[tracing::instrument(name = "admin_retry_matching", skip_all)]
pub async fn retry_matching(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<BulkRequest>,
) -> ApiResult<HttpResponse> {
    bulk(&state, &user, &path, &body, true).await
}

/// Discard every dead job matching the filter (that died by `cutoff_ms`).
#[utoipa::path(post, path = "/api/admin/queues/{queue}/dead/discard", tag = "admin",
    params(("queue" = String, Path, description = "queue name")),
    request_body = BulkRequest, responses((status = 200, body = Affected)))]
#[tracing::instrument(name = "admin_discard_matching", skip_all)]
pub async fn discard_matching(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
    body: web::Json<BulkRequest>,
) -> ApiResult<HttpResponse> {
    bulk(&state, &user, &path, &body, false).await
}

/// Stop workers fetching from a queue (running jobs finish).
#[utoipa::path(post, path = "/api/admin/queues/{queue}/pause", tag = "admin",
    params(("queue" = String, Path, description = "queue name")),
    responses((status = 204, description = "paused")))]
#[tracing::instrument(name = "admin_pause", skip_all)]
pub async fn pause(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let queue = known_queue(&state, &path).await?;
    set_paused(&state, &user, &queue, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/admin/queues/{queue}/resume", tag = "admin",
    params(("queue" = String, Path, description = "queue name")),
    responses((status = 204, description = "resumed")))]
#[tracing::instrument(name = "admin_resume", skip_all)]
pub async fn resume(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let queue = known_queue(&state, &path).await?;
    set_paused(&state, &user, &queue, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What admins did, newest first.
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin",
    params(crate::routes::campaigns::PageQuery),
    responses((status = 200, body = Paged<AuditEntry>)))]
#[tracing::instrument(name = "admin_audit", skip_all)]
pub async fn audit_log(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<crate::routes::campaigns::PageQuery>,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let page = query.page()?;
    Ok(HttpResponse::Ok().json(admin_audit::list(&state.db, page).await?))
}
