//! The REST API under `/api`, one module per resource.

pub mod accounts;
pub mod admin;
pub mod campaigns;
pub mod contents;
pub mod health;
pub mod metrics;
pub mod profile;
pub mod publications;

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
            .service(resource("/admin/queues", "GET").route(web::get().to(admin::queues))),
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
