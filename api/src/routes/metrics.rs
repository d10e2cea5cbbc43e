//! The dashboard's KPIs.

use actix_web::{HttpResponse, web};
use shared::db::metrics::{self, Metrics};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// How many campaigns get their own figures; the totals cover all of them.
const CAMPAIGNS_SHOWN: i64 = 50;

/// Leads, contents, published posts and engagement, in total and per campaign (newest 50).
#[utoipa::path(get, path = "/api/metrics", tag = "metrics",
    responses((status = 200, body = Metrics)))]
pub async fn get(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(metrics::for_user(&state.db, user.id, CAMPAIGNS_SHOWN).await?))
}
