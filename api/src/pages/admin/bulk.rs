//! Retry or discard every dead job matching a filter, after a confirmation page.

use super::*;

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
    let count = service::count_dead(state, &queue, &filter).await?;
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
    let n = service::act_on_matching(state, &user, &queue, &filter, retry, cutoff).await?;
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
