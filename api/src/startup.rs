//! Builds the app from a `Config` and a pool: the tests and `main` run the same thing.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_web::body::MessageBody;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use shared::Config;
use shared::providers::instagram_oauth::{InstagramConnect, InstagramOAuth};
use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
use shared::rate_limit::RateLimiter;
use shared::vault::Vault;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::ApiError;
use crate::session_store::RedisSessionStore;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "ag_session";

pub struct Application {
    server: Server,
    port: u16,
    /// The metrics listener's port, when `metrics.bind` is set.
    metrics_port: Option<u16>,
    relay: JoinHandle<()>,
    /// Stops the relay and the metrics listener.
    stop_relay: CancellationToken,
    metrics: Option<JoinHandle<()>>,
    clock: crate::clock::Clock,
}

impl Application {
    /// Binds, connects to Redis, and starts the outbox relay. A missing secret or an
    /// unreachable Redis stops it here, not at the first request.
    pub async fn build(config: Config, db: PgPool) -> Result<Self, shared::Error> {
        Self::build_with(config, db, None).await
    }

    /// `linkedin` replaces the client built from the config (tests point it elsewhere).
    pub async fn build_with(
        config: Config,
        db: PgPool,
        linkedin: Option<Arc<dyn LinkedInConnect>>,
    ) -> Result<Self, shared::Error> {
        let vault = Vault::from_config(&config.vault)?;
        let cookie_key = cookie_key(&config, &vault)?;
        let settings = config.queue_settings();
        let redis = jobs::connect(&config.redis.url, Duration::from_secs(10)).await?;
        let client = jobs::Client::with_connection(redis.clone(), settings.clone());
        let linkedin = match linkedin {
            Some(l) => Some(l),
            None => LinkedInOAuth::from_config(&config.linkedin)?
                .map(|c| Arc::new(c) as Arc<dyn LinkedInConnect>),
        };
        let instagram = InstagramOAuth::from_config(&config.instagram)
            .map_err(shared::Error::from)?
            .map(|c| Arc::new(c) as Arc<dyn InstagramConnect>);
        let listener = TcpListener::bind(&config.api.bind).map_err(|e| {
            shared::Error::Config(format!("cannot listen on {}: {e}", config.api.bind))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| shared::Error::Config(e.to_string()))?
            .port();
        let storage = shared::storage::Storage::from_config(&config.storage)?;
        // Bound before serving, like the public listener: a bad or busy address stops the
        // process here.
        let metrics_listener = match &config.metrics.bind {
            Some(bind) => Some(shared::metrics::bind(bind).await?),
            None => None,
        };
        let clock = crate::clock::Clock::default();
        let state = web::Data::new(AppState {
            clock: clock.clone(),
            storage,
            limiter: RateLimiter::new(redis.clone(), &settings.prefix),
            queue_admin: jobs::admin::Admin::new(redis.clone(), &settings),
            redis: redis.clone(),
            vault,
            linkedin,
            instagram,
            oidc: Arc::new(crate::oidc::Providers::from_config(
                &config.oidc,
                &config.api,
            )?),
            live_streams: Arc::default(),
            cookie_key: cookie_key.clone(),
            db: db.clone(),
            config: config.clone(),
        });
        let ui = web::Data::new(
            crate::pages::render::Ui::new()
                .map_err(|e| shared::Error::Config(format!("dashboard pages: {e}")))?,
        );
        let store = RedisSessionStore::new(redis.clone(), &settings.prefix);
        let body_limit = config.api.body_limit_bytes;
        let secure = config.api.secure_cookies();
        let ttl = actix_web::cookie::time::Duration::seconds(
            i64::try_from(config.api.session_ttl_secs).unwrap_or(i64::MAX),
        );
        let mut server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(store.clone(), cookie_key.clone())
                .cookie_name(SESSION_COOKIE.to_owned())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_secure(secure)
                .cookie_content_security(CookieContentSecurity::Signed)
                .session_lifecycle(PersistentSession::default().session_ttl(ttl))
                .build();
            App::new()
                .app_data(state.clone())
                .app_data(ui.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(body_limit)
                        .error_handler(move |e, _| json_error(e, body_limit).into()),
                )
                .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e).into()))
                .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e).into()))
                .wrap(from_fn(trace_request))
                .configure(crate::routes::probes)
                .configure(crate::routes::signed_media::routes)
                .configure(|cfg| crate::routes::api(cfg, sessions.clone()))
                .configure(|cfg| crate::pages::routes(cfg, sessions))
                .default_service(web::to(not_found))
        })
        .listen(listener)
        .map_err(|e| shared::Error::Config(format!("cannot serve: {e}")))?
        .shutdown_timeout(10);
        if config.api.http_workers > 0 {
            server = server.workers(config.api.http_workers);
        }
        let stop_relay = CancellationToken::new();
        let mut metrics_port = None;
        let metrics = metrics_listener.map(|listener| {
            metrics_port = shared::metrics::local_addr(&listener).map(|a| a.port());
            tracing::info!(addr = ?shared::metrics::local_addr(&listener), "serving /metrics");
            let render = crate::metrics::render(
                jobs::admin::Admin::new(redis.clone(), &settings),
                db.clone(),
            );
            shared::metrics::serve(listener, render, stop_relay.clone())
        });
        let relay = shared::outbox::spawn_relay(db, client, stop_relay.clone());
        Ok(Self {
            server: server.run(),
            port,
            metrics_port,
            relay,
            stop_relay,
            metrics,
            clock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The clock the app judges sessions' idleness on (the system clock): a test stops it
    /// and moves it forward instead of sleeping.
    pub fn clock(&self) -> crate::clock::Clock {
        self.clock.clone()
    }

    /// The port of the metrics listener (`metrics.bind`), if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until SIGINT/SIGTERM (actix handles both), then stops the relay.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.stop_relay.cancel();
        let _ = self.relay.await;
        if let Some(metrics) = self.metrics {
            let _ = metrics.await;
        }
        served
    }
}

/// The configured cookie key. Outside production one is derived from the current vault key
/// so a local setup needs one secret less; in production that is refused: it would tie the
/// two secrets together (a vault key rotation would sign everyone out, one leak is two).
fn cookie_key(config: &Config, vault: &Vault) -> Result<Key, shared::Error> {
    match &config.api.cookie_key {
        Some(encoded) => {
            let bytes = STANDARD
                .decode(encoded.trim())
                .map_err(|_| shared::Error::Config("api.cookie_key is not valid base64".into()))?;
            Key::try_from(bytes.as_slice()).map_err(|_| {
                shared::Error::Config("api.cookie_key must be at least 64 bytes".into())
            })
        }
        None if config.api.is_production() => Err(shared::Error::Config(
            "api.cookie_key is required in production (AG_API__COOKIE_KEY, 64 bytes base64)".into(),
        )),
        None => Ok(Key::derive_from(vault.key_material())),
    }
}

/// Body errors become our error shape: 413 over the limit, 415 for another content type,
/// 400 for broken JSON, 422 for JSON of the wrong shape.
fn json_error(e: JsonPayloadError, limit: usize) -> ApiError {
    match e {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge { limit }
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("send the body as application/json".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::Invalid(e.to_string()),
        JsonPayloadError::Deserialize(e) => ApiError::BadRequest(format!("malformed JSON: {e}")),
        other => ApiError::BadRequest(other.to_string()),
    }
}

fn query_error(e: QueryPayloadError) -> ApiError {
    ApiError::BadRequest(format!("bad query string: {e}"))
}

/// An id that is not a number names no row.
fn path_error(_: PathError) -> ApiError {
    ApiError::NotFound("resource")
}

/// JSON under `/api`, where programs call; a page in the reader's language elsewhere.
async fn not_found(req: HttpRequest) -> actix_web::HttpResponse {
    let api = req.path() == "/api" || req.path().starts_with("/api/");
    if api {
        actix_web::ResponseError::error_response(&ApiError::NotFound("route"))
    } else {
        crate::pages::error_page(&req, &ApiError::NotFound("page"))
    }
}

/// One span per request, carrying `user.id` once the session is read; one log line per
/// request at debug, at warn for a 5xx; the request counted in the HTTP metrics by its
/// route template (`crate::metrics`).
///
/// Handlers' errors arrive here as responses. An `Err` comes from the session middleware,
/// whose store is Redis: it is answered as our 503, in our error shape, instead of
/// actix-session's empty 500.
async fn trace_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let span = tracing::info_span!(
        "http",
        method = %req.method(),
        path = %req.path(),
        user.id = tracing::field::Empty,
    );
    let started = Instant::now();
    let method = req.method().clone();
    // The template of the route that will answer (`/api/campaigns/{id}`), from the app's
    // resource map; `None` for the default service.
    let route = req.match_pattern();
    let response = next.call(req).instrument(span.clone()).await.map_err(|e| {
        span.in_scope(
            || tracing::warn!(error = %jobs::error::Chain(&e), "session store unavailable"),
        );
        crate::metrics::record_request(&method, route.clone(), 503, started.elapsed());
        ApiError::Unavailable("sessions are unavailable; try again shortly".into())
    })?;
    let status = response.status().as_u16();
    crate::metrics::record_request(&method, route, status, started.elapsed());
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms, "request");
        } else {
            tracing::debug!(status, ms, "request");
        }
    });
    Ok(response)
}
