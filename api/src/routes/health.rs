//! Liveness and readiness for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub postgres: bool,
    pub redis: bool,
}

/// The process answers. Says nothing about its dependencies, so a database outage does not
/// get every api process restarted.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// PostgreSQL and Redis both answer; 503 otherwise, with which one failed.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let timeout = std::time::Duration::from_secs(2);
    let postgres = async {
        matches!(
            tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(&state.db)).await,
            Ok(Ok(_))
        )
    };
    let redis = async {
        let mut conn = state.redis.clone();
        matches!(
            tokio::time::timeout(timeout, redis::cmd("PING").query_async::<String>(&mut conn))
                .await,
            Ok(Ok(_))
        )
    };
    let (postgres, redis) = tokio::join!(postgres, redis);
    let body = Readiness { postgres, redis };
    if postgres && redis {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
