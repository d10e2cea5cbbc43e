//! The dashboard's KPIs.

use actix_web::{HttpResponse, web};
use shared::db::Page;
use shared::db::metrics::{self, Metrics};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::routes::campaigns::PageQuery;
use crate::state::AppState;

/// Campaigns with their own figures when the client does not say (the totals cover all).
const CAMPAIGNS_PER_PAGE: u32 = 50;

/// Leads, contents, published posts and engagement in total, and per campaign for one page
/// of campaigns (newest first; `per_page` defaults to 50 here).
#[utoipa::path(get, path = "/api/metrics", tag = "metrics", operation_id = "get_metrics", params(PageQuery),
    responses((status = 200, body = Metrics)))]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(
        query.page,
        Some(query.per_page.unwrap_or(CAMPAIGNS_PER_PAGE)),
    )?;
    Ok(HttpResponse::Ok().json(metrics::for_user(&state.db, user.id, page).await?))
}
