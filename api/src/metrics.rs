//! The api's `/metrics` (docs/operations.md, "Metrics and alerts"), on its own listener
//! (`metrics.bind`), never the public one.
//!
//! The api exports what describes the whole system, read when scraped: the queues in Redis
//! and the live workers (`jobs::gauges::QueueGauges`), the outbox and the campaigns in
//! PostgreSQL (`shared::metrics::DbGauges`). Workers never export those, so a sum over
//! processes never counts them twice. Besides, its own traffic: HTTP requests by route
//! template, and the provider calls it makes (LinkedIn's sign-in).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use actix_web::http::Method;
use jobs::gauges::QueueGauges;
use jobs::metrics::{Histogram, HistogramFamily};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Registry, Unit};
use shared::metrics::{DbGauges, Render};
use sqlx::PgPool;

/// Request latencies, seconds: the API answers in milliseconds; a slow page or a
/// PostgreSQL hiccup shows in the upper buckets.
pub const HTTP_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route matched (404s of scanners and typos): one value,
/// never the raw path.
pub const UNMATCHED: &str = "unmatched";

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_SECONDS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

struct Http {
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily<RouteLabels>,
}

static HTTP: LazyLock<Http> = LazyLock::new(|| Http {
    requests: Family::default(),
    duration: Family::new_with_constructor(http_histogram),
});

/// A method as a label: the standard ones, anything else `other` (a client may send any
/// token as a method).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts one request: `route` is actix's match pattern (`/api/campaigns/{id}`), `None`
/// when no route matched.
pub fn record_request(method: &Method, route: Option<String>, status: u16, elapsed: Duration) {
    let method = method_label(method);
    let route = route.unwrap_or_else(|| UNMATCHED.to_owned());
    HTTP.duration
        .get_or_create(&RouteLabels {
            method,
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    HTTP.requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status,
        })
        .inc();
}

fn register_http(registry: &mut Registry) {
    registry.register(
        "http_requests",
        "Requests the api answered, by method, route template (never the raw path) and status",
        HTTP.requests.clone(),
    );
    registry.register_with_unit(
        "http_request_duration",
        "Time the api took to answer, by method and route template",
        Unit::Seconds,
        HTTP.duration.clone(),
    );
}

/// Longest a scrape waits for Redis and PostgreSQL; past it the gauges keep their last
/// values (and the scrape-error counters say so), so a scrape always answers.
const REFRESH_LIMIT: Duration = Duration::from_secs(5);

/// What the api's metrics listener answers: the gauges refreshed from Redis and PostgreSQL,
/// then every family encoded. Scrapes are serialized, so two at once never see a
/// half-refreshed set.
pub fn render(admin: jobs::admin::Admin, db: PgPool) -> Render {
    let mut registry = shared::metrics::registry();
    let queues = QueueGauges::new(&mut registry);
    let business = DbGauges::new(&mut registry);
    register_http(&mut registry);
    shared::metrics::register_providers(&mut registry);
    let registry = Arc::new(registry);
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    Arc::new(move || {
        let (registry, lock, queues, business, admin, db) = (
            registry.clone(),
            lock.clone(),
            queues.clone(),
            business.clone(),
            admin.clone(),
            db.clone(),
        );
        Box::pin(async move {
            let _one_at_a_time = lock.lock().await;
            let (q, b) = tokio::join!(
                tokio::time::timeout(REFRESH_LIMIT, queues.refresh(&admin)),
                tokio::time::timeout(REFRESH_LIMIT, business.refresh(&db)),
            );
            match q {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %jobs::error::Chain(&e), "metrics: reading the queues failed")
                }
                Err(_) => tracing::warn!("metrics: reading the queues timed out"),
            }
            match b {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %jobs::error::Chain(&e), "metrics: reading PostgreSQL failed")
                }
                Err(_) => tracing::warn!("metrics: reading PostgreSQL timed out"),
            }
            shared::metrics::encode(&registry)
        })
    })
}
