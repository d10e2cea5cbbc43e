//! The audit log: what admins did, newest first.

use super::*;

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
