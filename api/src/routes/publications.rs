//! What was published, with its engagement; and the owner's way to settle a publication
//! whose outcome LinkedIn did not tell us (`state=unknown`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::db::publications::{self, Publication, PublicationState, Resolution};
use shared::db::{Paged, lifecycle};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicationQuery {
    /// Only publications in this state; `unknown` lists those waiting for the owner.
    pub state: Option<PublicationState>,
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

#[utoipa::path(get, path = "/api/publications", tag = "publications",
    operation_id = "list_publications", params(PublicationQuery),
    responses((status = 200, body = Paged<Publication>)))]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PublicationQuery>,
) -> ApiResult<HttpResponse> {
    let page = shared::db::Page::new(query.page, query.per_page)?;
    Ok(HttpResponse::Ok().json(publications::list(&state.db, user.id, query.state, page).await?))
}

/// How to settle a publication whose outcome is unknown: `mark_published` with the post's
/// LinkedIn address (it is there), or `publish_again` (it is not).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Resolve {
    #[schema(example = "mark_published")]
    pub action: ResolveAction,
    /// Required with `mark_published`: `https://www.linkedin.com/feed/update/urn:li:share:…`.
    #[schema(max_length = 500)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolveAction {
    MarkPublished,
    PublishAgain,
}

/// Settle a publication whose outcome is unknown (409 for any other state).
#[utoipa::path(post, path = "/api/publications/{id}/resolve", tag = "publications",
    params(("id" = i64, Path, description = "publication id")),
    request_body = Resolve,
    responses((status = 200, body = Publication)))]
#[tracing::instrument(name = "resolve_publication", skip_all, fields(publication.id = %id))]
pub async fn resolve(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    body: web::Json<Resolve>,
) -> ApiResult<HttpResponse> {
    let resolution = resolution(body.action, body.url.as_deref())?;
    let publication = lifecycle::publication::resolve(&state.db, user.id, *id, &resolution).await?;
    Ok(HttpResponse::Ok().json(publication))
}

/// The owner's answer as the resolution to store; shared with the home page's forms. Whether
/// the address is a LinkedIn post's is `publications::resolve`'s to say.
pub fn resolution(action: ResolveAction, url: Option<&str>) -> ApiResult<Resolution> {
    match (action, url) {
        (ResolveAction::MarkPublished, Some(url)) if url.len() <= 500 => {
            Ok(Resolution::MarkPublished {
                url: url.trim().to_owned(),
            })
        }
        (ResolveAction::MarkPublished, _) => Err(ApiError::Invalid(
            "url: mark_published needs the post's LinkedIn address (at most 500 characters)"
                .to_owned(),
        )),
        (ResolveAction::PublishAgain, _) => Ok(Resolution::PublishAgain),
    }
}
