//! The admin operations as JSON for ops scripts (`/api/admin/*`): request parsing and
//! answers around `crate::admin`, which the admin pages share. Admin role only;
//! cookie-authenticated writes need the CSRF header as everywhere else.

use actix_web::{HttpResponse, web};
use jobs::admin::JobState;
use serde::Deserialize;
use shared::db::Paged;
use shared::db::admin_audit::{self, AuditEntry};
use utoipa::{IntoParams, ToSchema};

use crate::admin::{
    self, Affected, CHART_MINUTES, Count, JobAction, JobDetail, JobPage, LIST_PAGE,
    MAX_CHART_MINUTES, Overview, QueueSizes, Worker, filter_of,
};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// Minutes the per-minute series covers: 1–1440, default 180.
    #[param(minimum = 1, maximum = 1440)]
    pub minutes: Option<u64>,
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

// ---- JSON handlers ----

/// Every known queue with its sizes. Admin role only.
#[utoipa::path(get, path = "/api/admin/queues", tag = "admin",
    responses((status = 200, body = Vec<QueueSizes>)))]
#[tracing::instrument(name = "queues", skip_all)]
pub async fn queues(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    Ok(HttpResponse::Ok().json(admin::queue_sizes(&state).await?))
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
    let mut overview = admin::overview_of(&state, minutes).await?;
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
    Ok(HttpResponse::Ok().json(admin::workers_of(&state).await?))
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
    let queue = admin::known_queue(&state, &path).await?;
    let job_state = match query.state.as_deref() {
        None => JobState::Dead,
        Some(s) => admin::parse_state(s).ok_or_else(|| {
            ApiError::Invalid("state must be ready, in_flight, scheduled or dead".into())
        })?,
    };
    let limit = query.limit.unwrap_or(LIST_PAGE);
    if !(1..=jobs::admin::MAX_PAGE).contains(&limit) {
        return Err(ApiError::Invalid("limit must be between 1 and 500".into()));
    }
    let filter = filter_of(query.kind.as_deref(), query.user_id, query.q.as_deref());
    let page = admin::list_jobs(
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
    let queue = admin::known_queue(&state, &queue).await?;
    let view = admin::find_job(&state, &queue, &id).await?;
    Ok(HttpResponse::Ok().json(admin::detail(&view)))
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
    let view = admin::find_anywhere(&state, &id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    Ok(HttpResponse::Ok().json(admin::detail(&view)))
}

async fn job_action(
    state: &AppState,
    user: &CurrentUser,
    path: (String, String),
    action: JobAction,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let (queue, id) = path;
    let queue = admin::known_queue(state, &queue).await?;
    if admin::act_on_job(state, user, &queue, &id, action).await? {
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
    let queue = admin::known_queue(&state, &path).await?;
    let filter = filter_of(query.kind.as_deref(), query.user_id, query.q.as_deref());
    Ok(HttpResponse::Ok().json(admin::count_dead(&state, &queue, &filter).await?))
}

async fn bulk(
    state: &AppState,
    user: &CurrentUser,
    raw: &str,
    body: &BulkRequest,
    retry: bool,
) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    let queue = admin::known_queue(state, raw).await?;
    let filter = filter_of(body.kind.as_deref(), body.user_id, body.q.as_deref());
    let cutoff = body.cutoff_ms.unwrap_or_else(jobs::now_ms);
    let affected = admin::act_on_matching(state, user, &queue, &filter, retry, cutoff).await?;
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
    let queue = admin::known_queue(&state, &path).await?;
    admin::set_paused(&state, &user, &queue, true).await?;
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
    let queue = admin::known_queue(&state, &path).await?;
    admin::set_paused(&state, &user, &queue, false).await?;
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
