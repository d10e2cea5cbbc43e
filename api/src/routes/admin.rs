//! Queue state for admins (the JSON side of the admin UI; the pages come with their issue).

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// How many jobs a queue holds in each state.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueSizes {
    pub queue: String,
    pub ready: u64,
    pub in_flight: u64,
    pub scheduled: u64,
    pub dead: u64,
    pub paused: bool,
}

/// Every known queue with its sizes. Admin role only.
#[utoipa::path(get, path = "/api/admin/queues", tag = "admin",
    responses((status = 200, body = Vec<QueueSizes>)))]
#[tracing::instrument(name = "queues", skip_all)]
pub async fn queues(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    user.require_admin()?;
    Ok(HttpResponse::Ok().json(queue_sizes(&state).await?))
}

/// Every known queue with its sizes (the JSON view and the admin page).
pub async fn queue_sizes(state: &AppState) -> ApiResult<Vec<QueueSizes>> {
    let mut sizes = Vec::new();
    for queue in state.queue_admin.queues().await? {
        let s = state.queue_admin.sizes(&queue).await?;
        sizes.push(QueueSizes {
            queue: s.queue,
            ready: s.ready,
            in_flight: s.in_flight,
            scheduled: s.scheduled,
            dead: s.dead,
            paused: s.paused,
        });
    }
    Ok(sizes)
}
