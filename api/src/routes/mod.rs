//! The REST API under `/api`, one module per resource.

pub mod accounts;
pub mod admin;
pub mod campaigns;
pub mod contents;
pub mod health;
pub mod instagram;
pub mod leads_csv;
pub mod metrics;
pub mod oauth_round;
pub mod password_reset;
pub mod profile;
pub mod publications;
pub mod schedule;
pub mod signed_media;

use actix_web::http::header::ALLOW;
use actix_web::{HttpResponse, Resource, web};

use actix_session::SessionMiddleware;

use crate::error::{ErrorBody, ErrorDetail};
use crate::session_store::RedisSessionStore;

/// The probes, outside the session middleware: they answer whatever cookie a client sends,
/// and `/healthz` keeps answering while Redis (the session store) is down.
pub fn probes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz", "GET").route(web::get().to(health::healthz)))
        .service(resource("/readyz", "GET").route(web::get().to(health::readyz)));
}

/// Every route under `/api`, wrapped in the session middleware.
pub fn api(cfg: &mut web::ServiceConfig, sessions: SessionMiddleware<RedisSessionStore>) {
    cfg.service(
        web::scope("/api")
            .wrap(sessions)
            .service(resource("/openapi.json", "GET").route(web::get().to(crate::openapi::serve)))
            .service(resource("/auth/sign-up", "POST").route(web::post().to(accounts::sign_up)))
            .service(resource("/auth/sign-in", "POST").route(web::post().to(accounts::sign_in)))
            .service(resource("/auth/sign-out", "POST").route(web::post().to(accounts::sign_out)))
            .service(
                resource("/auth/forgot-password", "POST")
                    .route(web::post().to(password_reset::forgot)),
            )
            .service(
                resource("/auth/reset-password", "POST")
                    .route(web::post().to(password_reset::reset)),
            )
            .service(
                resource("/auth/sign-out-everywhere", "POST")
                    .route(web::post().to(accounts::sign_out_everywhere)),
            )
            .service(resource("/auth/me", "GET").route(web::get().to(accounts::me)))
            .service(
                resource("/campaigns", "GET, POST")
                    .route(web::get().to(campaigns::list))
                    .route(web::post().to(campaigns::create)),
            )
            .service(resource("/campaigns/{id}", "GET").route(web::get().to(campaigns::detail)))
            .service(
                resource("/campaigns/{id}/leads.csv", "GET")
                    .route(web::get().to(leads_csv::export)),
            )
            .service(
                resource("/campaigns/{id}/launch", "POST").route(web::post().to(campaigns::launch)),
            )
            .service(
                resource("/campaigns/{id}/cancel", "POST").route(web::post().to(campaigns::cancel)),
            )
            .service(resource("/contents", "GET").route(web::get().to(contents::list)))
            .service(resource("/contents/pending", "GET").route(web::get().to(contents::pending)))
            .service(
                resource("/contents/{id}", "GET, PUT")
                    .route(web::get().to(contents::get))
                    .route(web::put().to(contents::edit)),
            )
            .service(resource("/contents/{id}/image", "GET").route(web::get().to(contents::image)))
            .service(
                resource("/contents/{id}/approve", "POST").route(web::post().to(contents::approve)),
            )
            .service(
                resource("/contents/{id}/reject", "POST").route(web::post().to(contents::reject)),
            )
            .service(
                resource("/contents/{id}/publish-now", "POST")
                    .route(web::post().to(schedule::publish_now)),
            )
            .service(
                resource("/contents/{id}/move", "POST").route(web::post().to(schedule::move_to)),
            )
            .service(
                resource("/contents/{id}/unschedule", "POST")
                    .route(web::post().to(schedule::unschedule)),
            )
            .service(resource("/schedule", "GET").route(web::get().to(schedule::list)))
            .service(resource("/schedule/pause", "POST").route(web::post().to(schedule::pause)))
            .service(resource("/schedule/resume", "POST").route(web::post().to(schedule::resume)))
            .service(
                resource("/profile/schedule", "GET, PUT")
                    .route(web::get().to(schedule::get))
                    .route(web::put().to(schedule::set)),
            )
            .service(resource("/metrics", "GET").route(web::get().to(metrics::get)))
            .service(resource("/publications", "GET").route(web::get().to(publications::list)))
            .service(
                resource("/publications/{id}/resolve", "POST")
                    .route(web::post().to(publications::resolve)),
            )
            .service(
                resource("/profile", "GET, PUT")
                    .route(web::get().to(profile::get))
                    .route(web::put().to(profile::update)),
            )
            .service(
                resource("/profile/linkedin/connect", "POST")
                    .route(web::post().to(profile::linkedin_connect)),
            )
            .service(
                resource("/profile/linkedin/callback", "GET")
                    .route(web::get().to(profile::linkedin_callback)),
            )
            .service(
                resource("/profile/linkedin/disconnect", "POST")
                    .route(web::post().to(profile::linkedin_disconnect)),
            )
            .configure(instagram_routes)
            .service(resource("/admin/queues", "GET").route(web::get().to(admin::queues)))
            .configure(admin_routes),
    );
}

/// `/api/profile/instagram/*`: the Instagram connection (routes/instagram.rs).
fn instagram_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/profile/instagram", "GET").route(web::get().to(instagram::get)))
        .service(
            resource("/profile/instagram/connect", "POST")
                .route(web::post().to(instagram::connect)),
        )
        .service(
            resource("/profile/instagram/callback", "GET")
                .route(web::get().to(instagram::callback)),
        )
        .service(
            resource("/profile/instagram/disconnect", "POST")
                .route(web::post().to(instagram::disconnect)),
        );
}

/// `/api/admin/*`: the admin queue UI's operations as JSON (routes/admin.rs).
fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/admin/overview", "GET").route(web::get().to(admin::overview)))
        .service(resource("/admin/workers", "GET").route(web::get().to(admin::workers)))
        .service(resource("/admin/audit", "GET").route(web::get().to(admin::audit_log)))
        .service(resource("/admin/jobs/{id}", "GET").route(web::get().to(admin::find)))
        .service(resource("/admin/queues/{queue}/jobs", "GET").route(web::get().to(admin::jobs)))
        .service(
            resource("/admin/queues/{queue}/jobs/{id}", "GET").route(web::get().to(admin::job)),
        )
        .service(
            resource("/admin/queues/{queue}/jobs/{id}/retry", "POST")
                .route(web::post().to(admin::retry)),
        )
        .service(
            resource("/admin/queues/{queue}/jobs/{id}/discard", "POST")
                .route(web::post().to(admin::discard)),
        )
        .service(
            resource("/admin/queues/{queue}/jobs/{id}/run-now", "POST")
                .route(web::post().to(admin::run_now)),
        )
        .service(
            resource("/admin/queues/{queue}/dead/count", "GET")
                .route(web::get().to(admin::dead_count)),
        )
        .service(
            resource("/admin/queues/{queue}/dead/retry", "POST")
                .route(web::post().to(admin::retry_matching)),
        )
        .service(
            resource("/admin/queues/{queue}/dead/discard", "POST")
                .route(web::post().to(admin::discard_matching)),
        )
        .service(
            resource("/admin/queues/{queue}/pause", "POST").route(web::post().to(admin::pause)),
        )
        .service(
            resource("/admin/queues/{queue}/resume", "POST").route(web::post().to(admin::resume)),
        );
}

/// A resource that answers an unsupported method with 405 and the methods it has.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        HttpResponse::MethodNotAllowed()
            .insert_header((ALLOW, allow))
            .json(ErrorBody {
                error: ErrorDetail {
                    code: "method_not_allowed".into(),
                    message: format!("this resource allows {allow}"),
                },
            })
    }))
}
