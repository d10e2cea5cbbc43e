//! One job: its arguments (redacted), errors and deferrals, and the actions on it.

use super::*;

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
    let view = service::find_job(state, &queue, id).await?;
    let detail = service::detail(&view);
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
    let key = match service::act_on_job(state, &user, &queue, id, action).await {
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
