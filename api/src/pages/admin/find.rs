//! A job found by its id, whatever its queue.

use super::*;

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
    match service::find_anywhere(state, id).await? {
        Some(view) => Ok(redirect(&format!(
            "/admin/queues/{}/jobs/{}",
            encode(&view.envelope.queue),
            encode(&view.envelope.id)
        ))),
        None => Ok(redirect(&format!("/admin?missing={}", encode(id)))),
    }
}
