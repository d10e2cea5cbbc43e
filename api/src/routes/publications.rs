//! What was published, with its engagement.

use actix_web::{HttpResponse, web};
use shared::db::Paged;
use shared::db::publications::{self, Publication};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::routes::campaigns::PageQuery;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/publications", tag = "publications", params(PageQuery),
    responses((status = 200, body = Paged<Publication>)))]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(publications::list(&state.db, user.id, query.page()?).await?))
}
