//! The admin queue UI (admin role only; an owner gets the 403 page): overview with
//! per-minute charts, live workers, jobs per state with filters and paging, job detail
//! (arguments redacted), retry / discard / run now, bulk retry / discard by filter after a
//! confirmation page, pause / resume, and the audit log. Everything reads and posts
//! without JavaScript; the operations are the JSON API's (`routes::admin`), so both write
//! the same audit rows. A decision redirects back (post/redirect/get) and says what it did
//! once, through a notice kept in the session.

use actix_session::SessionExt;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jobs::QueueName;
use jobs::admin::{JobFilter, JobState};
use serde::{Deserialize, Serialize};
use shared::db::Page;
use shared::db::admin_audit;
use tera::Context;

use super::{PageCtx, Shown, encode, redirect, safe_next};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::routes::admin::{
    self as ops, JobAction, JobSummary, MinuteTotals, QueueSizes, known_queue,
};
use crate::state::AppState;

/// How much of an error message a list shows (the detail shows all of it).
const ERROR_CHARS: usize = 300;
/// Audit rows per page.
const AUDIT_PAGE: u32 = 50;
/// The session key of the one-time notice.
const FLASH: &str = "admin_notice";
/// The states as the pages name them, in the tabs' order.
const STATES: [&str; 4] = ["dead", "ready", "running", "scheduled"];

/// What an action did, shown once on the page it returns to: `admin-notice-<key>`.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    key: String,
    count: u64,
}

fn flash(ctx: &PageCtx, key: &str, count: u64) {
    let notice = Notice {
        key: key.to_owned(),
        count,
    };
    if ctx.request().get_session().insert(FLASH, notice).is_err() {
        tracing::warn!("admin notice not kept");
    }
}

fn take_flash(ctx: &PageCtx) -> Option<Notice> {
    ctx.request()
        .get_session()
        .remove_as::<Notice>(FLASH)
        .and_then(Result::ok)
}

async fn admin(ctx: &PageCtx) -> ApiResult<CurrentUser> {
    let user = ctx.user().await?;
    user.require_admin()?;
    Ok(user)
}

async fn admin_posting(ctx: &PageCtx, csrf: &str) -> ApiResult<CurrentUser> {
    let user = ctx.user_posting(csrf).await?;
    user.require_admin()?;
    Ok(user)
}

fn render(
    ctx: &PageCtx,
    user: &CurrentUser,
    template: &str,
    mut context: Context,
) -> ApiResult<HttpResponse> {
    context.insert("notice", &take_flash(ctx));
    ctx.render(
        template,
        context,
        Shown {
            user: Some(user),
            ..Shown::default()
        },
    )
}

/// `2026-01-01 12:00:00 UTC`, or empty.
fn when(ms: Option<u64>) -> String {
    ms.and_then(|ms| i64::try_from(ms).ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or_else(String::new, |t| {
            t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        })
}

/// A duration in units both languages write the same way: `45 s`, `12 min`, `3 h 05`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1_000;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        _ => format!("{} h {:02}", s / 3_600, (s % 3_600) / 60),
    }
}

fn slug_of(state: JobState) -> &'static str {
    match state {
        JobState::InFlight => "running",
        other => ops::state_name(other),
    }
}

// ---- overview ----

#[derive(Debug, Serialize)]
struct QueueRow {
    #[serde(flatten)]
    sizes: QueueSizes,
    delayed: u64,
    lag: String,
}

/// A bar chart as the template draws it: SVG coordinates computed here, so the page needs
/// no script; the same numbers are in the text alternative.
#[derive(Debug, Serialize)]
struct Chart {
    id: &'static str,
    title_key: &'static str,
    color: &'static str,
    width: usize,
    height: u64,
    bars: Vec<Bar>,
    total: u64,
    peak: u64,
    peak_at: String,
    start: String,
    middle: String,
    end: String,
    /// Totals per 15 minutes, for the table under the chart.
    rows: Vec<(String, u64)>,
}

#[derive(Debug, Serialize)]
struct Bar {
    x: usize,
    y: u64,
    h: u64,
}

const CHART_HEIGHT: u64 = 100;
const BAR_WIDTH: usize = 4;

fn hhmm(minute: u64) -> String {
    when(Some(minute * 60_000))
        .get(11..16)
        .unwrap_or_default()
        .to_owned()
}

fn chart(
    id: &'static str,
    title_key: &'static str,
    color: &'static str,
    minutes: &[MinuteTotals],
    value: impl Fn(&MinuteTotals) -> u64,
) -> Chart {
    let values: Vec<u64> = minutes.iter().map(&value).collect();
    let peak = values.iter().copied().max().unwrap_or(0);
    let peak_at = minutes
        .iter()
        .zip(&values)
        .find(|(_, v)| **v == peak && peak > 0)
        .map(|(m, _)| hhmm(m.minute))
        .unwrap_or_default();
    let bars = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .map(|(i, v)| {
            // At least 1 unit high, so a single job shows.
            let h = (v * CHART_HEIGHT).div_ceil(peak.max(1)).max(1);
            Bar {
                x: i * BAR_WIDTH,
                y: CHART_HEIGHT - h,
                h,
            }
        })
        .collect();
    let rows = minutes
        .chunks(15)
        .map(|c| {
            let first = c.first().map_or(0, |m| m.minute);
            (hhmm(first), c.iter().map(&value).sum())
        })
        .collect();
    let at = |i: usize| minutes.get(i).map(|m| hhmm(m.minute)).unwrap_or_default();
    Chart {
        id,
        title_key,
        color,
        width: minutes.len() * BAR_WIDTH,
        height: CHART_HEIGHT,
        bars,
        total: values.iter().sum(),
        peak,
        peak_at,
        start: at(0),
        middle: at(minutes.len() / 2),
        end: at(minutes.len().saturating_sub(1)),
        rows,
    }
}

#[derive(Debug, Deserialize)]
pub struct OverviewQuery {
    /// A job id searched for and not found.
    missing: Option<String>,
}

pub async fn overview(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<OverviewQuery>,
) -> HttpResponse {
    ctx.respond(overview_page(&ctx, &state, &query).await)
}

async fn overview_page(
    ctx: &PageCtx,
    state: &AppState,
    query: &OverviewQuery,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let overview = ops::overview_of(state, ops::CHART_MINUTES).await?;
    let rows: Vec<QueueRow> = overview
        .queues
        .into_iter()
        .map(|sizes| QueueRow {
            delayed: sizes.delayed(),
            lag: sizes.lag_ms.map(duration).unwrap_or_default(),
            sizes,
        })
        .collect();
    let charts = [
        chart(
            "throughput",
            "admin-chart-throughput",
            "#4f46e5",
            &overview.minutes,
            |m| m.processed,
        ),
        chart(
            "failures",
            "admin-chart-failures",
            "#b91c1c",
            &overview.minutes,
            |m| m.failed,
        ),
    ];
    let mut context = Context::new();
    context.insert("queues", &rows);
    context.insert("charts", &charts);
    context.insert("hours", &(ops::CHART_MINUTES / 60));
    context.insert("live_workers", &overview.live_workers);
    context.insert("missing", &query.missing.as_deref().map(|m| m.trim()));
    context.insert("section", "overview");
    render(ctx, &user, "admin_overview.html", context)
}

// ---- search by id ----

#[derive(Debug, Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    id: String,
}

/// A job id from the search box: its page, or back to the overview saying none has it.
pub async fn find(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<FindQuery>,
) -> HttpResponse {
    ctx.respond(find_job(&ctx, &state, &query.id).await)
}

async fn find_job(ctx: &PageCtx, state: &AppState, id: &str) -> ApiResult<HttpResponse> {
    admin(ctx).await?;
    let id = id.trim();
    match ops::find_anywhere(state, id).await? {
        Some(view) => Ok(redirect(&format!(
            "/admin/queues/{}/jobs/{}",
            encode(&view.envelope.queue),
            encode(&view.envelope.id)
        ))),
        None => Ok(redirect(&format!("/admin?missing={}", encode(id)))),
    }
}

// ---- workers ----

pub async fn workers(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    ctx.respond(workers_page(&ctx, &state).await)
}

#[derive(Debug, Serialize)]
struct WorkerRow {
    id: String,
    host: String,
    pid: u32,
    queues: Vec<ops::WorkerQueue>,
    jobs: Vec<(ops::BusyJob, String)>,
    started: String,
    beat_age: String,
}

async fn workers_page(ctx: &PageCtx, state: &AppState) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let rows: Vec<WorkerRow> = ops::workers_of(state)
        .await?
        .into_iter()
        .map(|w| WorkerRow {
            jobs: w
                .jobs
                .into_iter()
                .map(|j| {
                    let runtime = duration(j.runtime_ms);
                    (j, runtime)
                })
                .collect(),
            started: when(Some(w.started_at)),
            beat_age: duration(w.beat_age_ms),
            id: w.id,
            host: w.host,
            pid: w.pid,
            queues: w.queues,
        })
        .collect();
    let mut context = Context::new();
    context.insert("workers", &rows);
    context.insert("section", "workers");
    render(ctx, &user, "admin_workers.html", context)
}

// ---- jobs in a state ----

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    kind: String,
    /// A user id, as typed: checked here so a typo is a message, not an error page.
    #[serde(default)]
    user: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    cursor: String,
}

impl ListQuery {
    /// The filter, or the message key for a user field that is not a user id.
    fn filter(&self) -> Result<JobFilter, &'static str> {
        let user = match self.user.trim() {
            "" => None,
            u => Some(
                u.parse::<i64>()
                    .ok()
                    .filter(|u| *u > 0)
                    .ok_or("admin-filter-user-invalid")?,
            ),
        };
        if self.kind.len() > 100 || self.q.len() > 200 {
            return Err("admin-filter-too-long");
        }
        Ok(JobFilter::new(Some(&self.kind), user, Some(&self.q)))
    }

    /// The filter's part of a URL query (`kind=..&user=..&q=..`, only the fields given),
    /// without the cursor.
    fn filter_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("kind", &self.kind), ("user", &self.user), ("q", &self.q)] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        query.finish()
    }

    /// `path` with this filter and, if given, a cursor.
    fn url(&self, path: &str, cursor: Option<&str>) -> String {
        let mut query = self.filter_query();
        if let Some(c) = cursor {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str("cursor=");
            query.push_str(&encode(c));
        }
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

#[derive(Debug, Serialize)]
struct JobRow {
    #[serde(flatten)]
    job: JobSummary,
    error: String,
    died: String,
    runs: String,
    enqueued: String,
}

impl From<JobSummary> for JobRow {
    fn from(job: JobSummary) -> Self {
        Self {
            error: jobs::envelope::truncate(job.last_error.as_deref().unwrap_or(""), ERROR_CHARS),
            died: when(job.died_at),
            runs: when(job.run_at),
            enqueued: when(Some(job.enqueued_at)),
            job,
        }
    }
}

/// `/admin/queues/{queue}/dead` (the link the overview's counts use).
pub async fn dead(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    ctx.respond(list_page(&ctx, &state, &queue, "dead", &query).await)
}

/// `/admin/queues/{queue}/{state}`: ready, running, scheduled or dead.
pub async fn list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let (queue, slug) = path.into_inner();
    ctx.respond(list_page(&ctx, &state, &queue, &slug, &query).await)
}

async fn list_page(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    slug: &str,
    query: &ListQuery,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let queue = known_queue(state, raw).await?;
    let job_state = ops::parse_state(slug).ok_or(ApiError::NotFound("page"))?;
    let sizes = state.queue_admin.sizes(&queue).await?;
    let mut context = Context::new();
    let filter = query.filter();
    let filtered = !matches!(&filter, Ok(f) if f.is_empty());
    match &filter {
        Ok(filter) => {
            let cursor = Some(query.cursor.as_str()).filter(|c| !c.is_empty());
            let page =
                ops::list_jobs(state, &queue, job_state, filter, cursor, ops::LIST_PAGE).await?;
            let rows: Vec<JobRow> = page.jobs.into_iter().map(JobRow::from).collect();
            context.insert("jobs", &rows);
            context.insert("next_cursor", &page.next_cursor);
            context.insert("scanned", &page.scanned);
            context.insert("budget_spent", &page.budget_spent);
            context.insert("first_page", &cursor.is_none());
            context.insert("filter_error", &None::<&str>);
        }
        Err(key) => {
            context.insert("jobs", &Vec::<JobRow>::new());
            context.insert("next_cursor", &None::<String>);
            context.insert("scanned", &0);
            context.insert("budget_spent", &false);
            context.insert("first_page", &true);
            context.insert("filter_error", key);
        }
    }
    let counts = [
        ("dead", sizes.dead),
        ("ready", sizes.ready),
        ("running", sizes.in_flight),
        ("scheduled", sizes.scheduled),
    ];
    let here = format!("/admin/queues/{}/{}", queue.as_str(), slug_of(job_state));
    let cursor = Some(query.cursor.as_str()).filter(|c| !c.is_empty());
    let back = query.url(&here, cursor);
    context.insert("queue", queue.as_str());
    context.insert("paused", &sizes.paused);
    context.insert("state", slug_of(job_state));
    context.insert("states", &STATES);
    context.insert("counts", &counts);
    context.insert("filtered", &filtered);
    context.insert("kind", query.kind.trim());
    context.insert("user_filter", query.user.trim());
    context.insert("q", query.q.trim());
    context.insert("first_url", &query.url(&here, None));
    let next_cursor: Option<String> = context
        .get("next_cursor")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    context.insert("next_url", &next_cursor.map(|c| query.url(&here, Some(&c))));
    let bulk = |action: &str| {
        let f = query.filter_query();
        let sep = if f.is_empty() { "" } else { "&" };
        format!(
            "/admin/queues/{}/bulk?action={action}{sep}{f}",
            queue.as_str()
        )
    };
    context.insert("bulk_retry_url", &bulk("retry"));
    context.insert("bulk_discard_url", &bulk("discard"));
    context.insert("job_suffix", &format!("?back={}", encode(&back)));
    context.insert("back", &back);
    context.insert("budget", &jobs::admin::SCAN_BUDGET);
    context.insert("section", "queues");
    render(ctx, &user, "admin_jobs.html", context)
}

// ---- one job ----

#[derive(Debug, Deserialize)]
pub struct JobQuery {
    /// The list this job was opened from, to come back to.
    back: Option<String>,
}

pub async fn job(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<JobQuery>,
) -> HttpResponse {
    let (queue, id) = path.into_inner();
    ctx.respond(job_page(&ctx, &state, &queue, &id, query.back.as_deref()).await)
}

#[derive(Debug, Serialize)]
struct ErrorRow {
    at: String,
    attempt: u32,
    message: String,
}

async fn job_page(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    id: &str,
    back: Option<&str>,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let queue = known_queue(state, raw).await?;
    let view = ops::find_job(state, &queue, id).await?;
    let detail = ops::detail(&view);
    let args = serde_json::to_string_pretty(&detail.args).map_err(ApiError::internal)?;
    let errors: Vec<ErrorRow> = detail
        .errors
        .iter()
        .rev()
        .map(|e| ErrorRow {
            at: when(Some(e.at)),
            attempt: e.attempt,
            message: e.message.clone(),
        })
        .collect();
    let mut context = Context::new();
    context.insert("queue", queue.as_str());
    context.insert("job", &detail.summary);
    context.insert("state", slug_of(view.state));
    context.insert("args", &args);
    context.insert("errors", &errors);
    context.insert("enqueued", &when(Some(detail.summary.enqueued_at)));
    context.insert("run_at", &when(detail.summary.run_at));
    context.insert("died", &when(detail.summary.died_at));
    context.insert("unique_key", &detail.unique_key);
    context.insert("consumer", &detail.consumer);
    context.insert("idle", &detail.idle_ms.map(duration));
    context.insert(
        "deferred",
        &detail
            .deferred
            .as_ref()
            .map(|d| (d.reason.clone(), when(Some(d.until)), d.count)),
    );
    let list = format!("/admin/queues/{}/{}", queue.as_str(), slug_of(view.state));
    let back = match back {
        Some(b) if b.starts_with(&list) => safe_next(Some(b)),
        _ => list,
    };
    context.insert("back", &back);
    context.insert("section", "queues");
    render(ctx, &user, "admin_job.html", context)
}

#[derive(Debug, Deserialize)]
pub struct JobForm {
    #[serde(default)]
    csrf: String,
    /// `retry`, `discard` or `run-now`.
    #[serde(default)]
    action: String,
    /// The page to come back to.
    #[serde(default)]
    back: String,
}

pub async fn act(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<JobForm>,
) -> HttpResponse {
    let (queue, id) = path.into_inner();
    ctx.respond(act_on(&ctx, &state, &queue, &id, &form).await)
}

/// One job retried, discarded or made due, then back where the admin was. A job already
/// gone is not an error page: someone else got there first, and the notice says so.
async fn act_on(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    id: &str,
    form: &JobForm,
) -> ApiResult<HttpResponse> {
    let user = admin_posting(ctx, &form.csrf).await?;
    let queue = known_queue(state, raw).await?;
    let action = JobAction::parse(&form.action)
        .ok_or_else(|| ApiError::BadRequest("unknown action".into()))?;
    let key = match ops::act_on_job(state, &user, &queue, id, action).await {
        Ok(true) => match action {
            JobAction::Retry => "retried",
            JobAction::Discard => "discarded",
            JobAction::RunNow => "run-now",
        },
        Ok(false) => "gone",
        Err(ApiError::Conflict(_)) => "unique-held",
        Err(e) => return Err(e),
    };
    flash(ctx, key, 1);
    let default = format!("/admin/queues/{}/dead", queue.as_str());
    let back = match form.back.as_str() {
        "" => default,
        b => safe_next(Some(b)),
    };
    Ok(redirect(&back))
}

// ---- bulk by filter ----

#[derive(Debug, Deserialize)]
pub struct BulkQuery {
    #[serde(default)]
    action: String,
    #[serde(flatten)]
    list: ListQuery,
}

/// The confirmation page: what will happen to how many jobs, with the button that does
/// it. A plain page rather than a script dialog, so it works without JavaScript.
pub async fn confirm(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    query: web::Query<BulkQuery>,
) -> HttpResponse {
    ctx.respond(confirm_page(&ctx, &state, &queue, &query).await)
}

fn bulk_retry(action: &str) -> ApiResult<bool> {
    match action {
        "retry" => Ok(true),
        "discard" => Ok(false),
        _ => Err(ApiError::BadRequest("unknown action".into())),
    }
}

async fn confirm_page(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    query: &BulkQuery,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let queue = known_queue(state, raw).await?;
    let retry = bulk_retry(&query.action)?;
    let filter = query
        .list
        .filter()
        .map_err(|_| ApiError::BadRequest("bad filter".into()))?;
    let cutoff = jobs::now_ms();
    let count = ops::count_dead(state, &queue, &filter).await?;
    let mut context = Context::new();
    context.insert("queue", queue.as_str());
    context.insert("action", if retry { "retry" } else { "discard" });
    context.insert("count", &count.count);
    context.insert("exact", &count.exact);
    context.insert("scanned", &count.scanned);
    context.insert("cutoff", &cutoff);
    context.insert("kind", query.list.kind.trim());
    context.insert("user_filter", query.list.user.trim());
    context.insert("q", query.list.q.trim());
    context.insert("filtered", &!filter.is_empty());
    context.insert(
        "back",
        &query
            .list
            .url(&format!("/admin/queues/{}/dead", queue.as_str()), None),
    );
    context.insert("section", "queues");
    render(ctx, &user, "admin_confirm.html", context)
}

#[derive(Debug, Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    /// When the count was shown (ms): jobs that died later are not taken. Text, because
    /// a flattened form reads every value as text.
    #[serde(default)]
    cutoff: String,
    #[serde(flatten)]
    list: ListQuery,
}

pub async fn bulk(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    form: web::Form<BulkForm>,
) -> HttpResponse {
    ctx.respond(bulk_act(&ctx, &state, &queue, &form).await)
}

async fn bulk_act(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    form: &BulkForm,
) -> ApiResult<HttpResponse> {
    let user = admin_posting(ctx, &form.csrf).await?;
    let queue = known_queue(state, raw).await?;
    let retry = bulk_retry(&form.action)?;
    let filter = form
        .list
        .filter()
        .map_err(|_| ApiError::BadRequest("bad filter".into()))?;
    let cutoff = form
        .cutoff
        .trim()
        .parse::<u64>()
        .unwrap_or_else(|_| jobs::now_ms());
    let n = ops::act_on_matching(state, &user, &queue, &filter, retry, cutoff).await?;
    flash(
        ctx,
        if retry {
            "bulk-retried"
        } else {
            "bulk-discarded"
        },
        n,
    );
    Ok(redirect(&form.list.url(
        &format!("/admin/queues/{}/dead", queue.as_str()),
        None,
    )))
}

// ---- pause / resume ----

#[derive(Debug, Deserialize)]
pub struct PauseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

pub async fn pause(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    form: web::Form<PauseForm>,
) -> HttpResponse {
    ctx.respond(set_paused(&ctx, &state, &queue, &form, true).await)
}

pub async fn resume(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    form: web::Form<PauseForm>,
) -> HttpResponse {
    ctx.respond(set_paused(&ctx, &state, &queue, &form, false).await)
}

async fn set_paused(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    form: &PauseForm,
    paused: bool,
) -> ApiResult<HttpResponse> {
    let user = admin_posting(ctx, &form.csrf).await?;
    let queue: QueueName = known_queue(state, raw).await?;
    ops::set_paused(state, &user, &queue, paused).await?;
    flash(ctx, if paused { "paused" } else { "resumed" }, 0);
    Ok(redirect(&match form.back.as_str() {
        "" => "/admin".to_owned(),
        b => safe_next(Some(b)),
    }))
}

// ---- audit ----

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// Text, so `?page=x` is the first page rather than the query extractor's JSON error.
    page: Option<String>,
}

#[derive(Debug, Serialize)]
struct AuditRow {
    at: String,
    user_email: String,
    action: &'static str,
    queue: String,
    job_id: Option<String>,
    filter: String,
    affected: i64,
}

pub async fn audit(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    ctx.respond(audit_page(&ctx, &state, &query).await)
}

/// A bulk action's filter in words an admin reads at a glance: `kind=scrape user=7 "lyon"`.
fn filter_text(filter: Option<&serde_json::Value>) -> String {
    let Some(f) = filter else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(k) = f.get("kind").and_then(|v| v.as_str()) {
        parts.push(format!("kind={k}"));
    }
    if let Some(u) = f.get("user_id").and_then(serde_json::Value::as_i64) {
        parts.push(format!("user={u}"));
    }
    if let Some(t) = f.get("text").and_then(|v| v.as_str()) {
        parts.push(format!("\"{t}\""));
    }
    parts.join(" ")
}

async fn audit_page(
    ctx: &PageCtx,
    state: &AppState,
    query: &AuditQuery,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let number = query.page.as_deref().and_then(|p| p.parse().ok());
    let page = Page::new(number, Some(AUDIT_PAGE))?;
    let found = admin_audit::list(&state.db, page).await?;
    let pages = (found.total + i64::from(AUDIT_PAGE) - 1) / i64::from(AUDIT_PAGE);
    let rows: Vec<AuditRow> = found
        .items
        .into_iter()
        .map(|e| AuditRow {
            at: when(u64::try_from(e.at.timestamp_millis()).ok()),
            user_email: e.user_email,
            action: e.action.as_str(),
            filter: filter_text(e.filter.as_ref()),
            queue: e.queue,
            job_id: e.job_id,
            affected: e.affected,
        })
        .collect();
    let mut context = Context::new();
    context.insert("entries", &rows);
    context.insert("page", &page.page);
    context.insert("pages", &pages.max(1));
    context.insert("section", "audit");
    render(ctx, &user, "admin_audit.html", context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_same_in_both_languages() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(59_999), "59 s");
        assert_eq!(duration(61_000), "1 min");
        assert_eq!(duration(3_600_000 + 5 * 60_000), "1 h 05");
    }

    #[test]
    fn a_chart_scales_to_its_peak_and_sums_its_rows() {
        let minutes: Vec<MinuteTotals> = (0..30)
            .map(|i| MinuteTotals {
                minute: 29_000_000 + i,
                processed: if i == 3 { 10 } else { i % 2 },
                ..MinuteTotals::default()
            })
            .collect();
        let c = chart("t", "k", "#000", &minutes, |m| m.processed);
        assert_eq!(c.peak, 10);
        assert_eq!(c.total, 10 + 14);
        assert_eq!(c.rows.len(), 2);
        assert_eq!(c.rows.iter().map(|r| r.1).sum::<u64>(), c.total);
        let tallest = c.bars.iter().map(|b| b.h).max();
        assert_eq!(tallest, Some(CHART_HEIGHT));
        assert!(c.bars.iter().all(|b| b.h >= 1 && b.y + b.h == CHART_HEIGHT));
    }

    #[test]
    fn a_user_filter_that_is_not_an_id_is_a_message() {
        let q = ListQuery {
            user: "abc".into(),
            ..ListQuery::default()
        };
        assert_eq!(q.filter(), Err("admin-filter-user-invalid"));
        let q = ListQuery {
            user: " 7 ".into(),
            kind: "scrape".into(),
            ..ListQuery::default()
        };
        let f = q.filter().unwrap_or_default();
        assert_eq!((f.user_id, f.kind.as_deref()), (Some(7), Some("scrape")));
    }

    /// Keys the admin templates build from data (`"admin-state-" ~ state`...).
    #[test]
    fn every_admin_built_key_exists_in_both_languages() {
        use super::super::i18n::{Catalog, Lang};
        use shared::db::admin_audit::AuditAction;
        let mut keys: Vec<String> = Vec::new();
        for s in STATES {
            for prefix in ["state", "jobs-title", "jobs-empty", "back-to"] {
                keys.push(format!("admin-{prefix}-{s}"));
            }
        }
        for n in [
            "retried",
            "discarded",
            "run-now",
            "gone",
            "unique-held",
            "bulk-retried",
            "bulk-discarded",
            "paused",
            "resumed",
        ] {
            keys.push(format!("admin-notice-{n}"));
        }
        for a in ["retry", "discard"] {
            for part in ["title", "count", "help", "button"] {
                keys.push(format!("admin-confirm-{part}-{a}"));
            }
        }
        for s in ["overview", "workers", "audit"] {
            keys.push(format!("admin-nav-{s}"));
        }
        for a in [
            AuditAction::Retry,
            AuditAction::Discard,
            AuditAction::RunNow,
            AuditAction::RetryMatching,
            AuditAction::DiscardMatching,
            AuditAction::Pause,
            AuditAction::Resume,
        ] {
            keys.push(format!("admin-action-{}", a.as_str()));
        }
        for k in [
            "admin-chart-throughput",
            "admin-chart-failures",
            "admin-filter-user-invalid",
            "admin-filter-too-long",
        ] {
            keys.push(k.to_owned());
        }
        for lang in [Lang::Fr, Lang::En] {
            let have = Catalog::keys(lang);
            let missing: Vec<&String> = keys.iter().filter(|k| !have.contains(k)).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
    }
}
