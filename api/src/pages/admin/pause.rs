//! Pausing and resuming a queue.

use super::*;

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
    service::set_paused(state, &user, &queue, paused).await?;
    flash(ctx, if paused { "paused" } else { "resumed" }, 0);
    Ok(redirect(&match form.back.as_str() {
        "" => "/admin".to_owned(),
        b => safe_next(Some(b)),
    }))
}
