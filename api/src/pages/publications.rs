//! Settling a publication whose outcome is unknown, from the home page: the two answers of
//! `POST /api/publications/{id}/resolve` as forms, through the same functions. A bad address
//! brings the home page back with the message next to that publication's field.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::db::lifecycle;
use shared::db::publications::{self, PublicationState};

use super::home::{self, ResolveProblem};
use super::{PageCtx, redirect};
use crate::error::{ApiError, ApiResult};
use crate::routes::publications::{ResolveAction, resolution};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    csrf: String,
    /// `mark_published` or `publish_again`, the JSON API's names; anything else is a
    /// 400 page (the form reader refuses it).
    action: ResolveAction,
    #[serde(default)]
    url: String,
}

pub async fn resolve(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ResolveForm>,
) -> HttpResponse {
    ctx.respond(settle(&ctx, &state, *id, &form).await)
}

/// Another owner's publication is a 404 page (the query takes the user's id); one settled
/// meanwhile (another tab) says so on the home page rather than as an error.
#[tracing::instrument(name = "page_resolve_publication", skip_all, fields(publication.id = id))]
async fn settle(
    ctx: &PageCtx,
    state: &AppState,
    id: i64,
    form: &ResolveForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let url = form.url.trim();
    let problem = |key| ResolveProblem {
        id,
        url: url.to_owned(),
        key,
    };
    if matches!(form.action, ResolveAction::MarkPublished) && url.is_empty() {
        return home::home(
            ctx,
            state,
            &user,
            None,
            Some(problem("resolve-url-required")),
        )
        .await;
    }
    let outcome = match resolution(form.action, Some(url)) {
        Ok(r) => lifecycle::publication::resolve(&state.db, user.id, id, &r)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let done = match (outcome, form.action) {
        (Ok(_), ResolveAction::MarkPublished) => "marked-published",
        (Ok(_), ResolveAction::PublishAgain) => "published-again",
        // A conflict on a publication still unknown is the post's address: another
        // publication holds that post. Otherwise it was settled meanwhile.
        (Err(ApiError::Conflict(_)), ResolveAction::MarkPublished)
            if still_unknown(state, user.id, id).await? =>
        {
            return home::home(ctx, state, &user, None, Some(problem("resolve-url-taken"))).await;
        }
        (Err(ApiError::Conflict(_)), _) => "already-resolved",
        (Err(ApiError::Invalid(_)), _) => {
            return home::home(
                ctx,
                state,
                &user,
                None,
                Some(problem("resolve-url-invalid")),
            )
            .await;
        }
        (Err(e), _) => return Err(e),
    };
    Ok(redirect(&format!("/?done={done}")))
}

async fn still_unknown(state: &AppState, user_id: i64, id: i64) -> ApiResult<bool> {
    let publication = publications::get(&state.db, user_id, id).await?;
    Ok(publication.state == PublicationState::Unknown)
}
