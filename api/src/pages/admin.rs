//! The admin queue UI's first pages: per-queue counts, and each queue's dead jobs with
//! retry and discard. Admin role only: an owner gets the 403 page. Arguments are not shown
//! (they may carry what the redaction of issue 11 is for); kind, id, user, attempts and the
//! last error are.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jobs::QueueName;
use jobs::admin::JobState;
use serde::{Deserialize, Serialize};
use tera::Context;

use super::{PageCtx, Shown, redirect};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Dead jobs per page: enough to scan, small enough to render fast.
const DEAD_PAGE: usize = 50;
/// How much of an error message the list shows.
const ERROR_CHARS: usize = 300;

#[derive(Debug, Serialize)]
struct DeadRow {
    id: String,
    kind: String,
    user_id: Option<i64>,
    attempt: u32,
    max_attempts: u32,
    died_at: String,
    error: String,
}

#[derive(Debug, Deserialize)]
pub struct JobAction {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    /// `retry` or `discard`.
    #[serde(default)]
    action: String,
}

fn queue_name(raw: &str) -> ApiResult<QueueName> {
    QueueName::new(raw).map_err(|_| ApiError::NotFound("queue"))
}

fn when(ms: Option<u64>) -> String {
    ms.and_then(|ms| i64::try_from(ms).ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or_else(String::new, |t| {
            t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        })
}

pub async fn overview(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    ctx.respond(overview_page(&ctx, &state).await)
}

async fn overview_page(ctx: &PageCtx, state: &AppState) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    user.require_admin()?;
    let rows = crate::routes::admin::queue_sizes(state).await?;
    let mut context = Context::new();
    context.insert("queues", &rows);
    ctx.render(
        "admin_overview.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}

pub async fn dead(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
) -> HttpResponse {
    ctx.respond(dead_page(&ctx, &state, &queue).await)
}

async fn dead_page(ctx: &PageCtx, state: &AppState, raw: &str) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    user.require_admin()?;
    let queue = queue_name(raw)?;
    let (sizes, jobs) = tokio::try_join!(
        state.queue_admin.sizes(&queue),
        state.queue_admin.list(&queue, JobState::Dead, 0, DEAD_PAGE),
    )?;
    let rows: Vec<DeadRow> = jobs
        .into_iter()
        .map(|j| {
            let e = j.envelope;
            DeadRow {
                error: jobs::envelope::truncate(e.last_error().unwrap_or(""), ERROR_CHARS),
                id: e.id,
                kind: e.kind,
                user_id: e.user_id,
                attempt: e.attempt,
                max_attempts: e.max_attempts,
                died_at: when(e.died_at),
            }
        })
        .collect();
    let mut context = Context::new();
    context.insert("queue", queue.as_str());
    context.insert("dead_total", &sizes.dead);
    context.insert("jobs", &rows);
    ctx.render(
        "admin_dead.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}

pub async fn act(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    form: web::Form<JobAction>,
) -> HttpResponse {
    ctx.respond(act_on(&ctx, &state, &queue, &form).await)
}

/// Retry or discard one dead job, then back to the list (post/redirect/get, so a reload
/// does not repeat it). A job already gone is not an error: someone else got there first.
#[tracing::instrument(name = "admin_dead_job", skip_all, fields(queue = %raw, job.id = %form.id, action = %form.action))]
async fn act_on(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    form: &JobAction,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    user.require_admin()?;
    let queue = queue_name(raw)?;
    let done = match form.action.as_str() {
        "retry" => state.queue_admin.retry_dead(&queue, &form.id).await?,
        "discard" => state.queue_admin.discard_dead(&queue, &form.id).await?,
        _ => return Err(ApiError::BadRequest("unknown action".into())),
    };
    tracing::info!(user.id = user.id, done, "admin action on a dead job");
    Ok(redirect(&format!("/admin/queues/{}/dead", queue.as_str())))
}
