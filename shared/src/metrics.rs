//! Prometheus metrics shared by the api and the workers (docs/operations.md, "Metrics and
//! alerts"): the provider calls each process makes, the business gauges the api reads
//! from PostgreSQL when scraped, and the small HTTP listener that serves `/metrics`.
//!
//! Provider calls are counted by the process that makes them (workers for Places, Gemini,
//! Imagen, LinkedIn and websites; the api for LinkedIn's sign-in); the PostgreSQL gauges
//! (outbox, campaigns) describe the whole system and are exported by the api alone.

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use jobs::metrics::{Histogram, HistogramFamily};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use jobs::metrics::PREFIX;

/// The content type of the Prometheus text format (0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// A registry whose every name starts with `astrogrowth_`.
pub fn registry() -> Registry {
    Registry::with_prefix(PREFIX)
}

/// `registry` in the Prometheus text format.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::with_capacity(16 * 1024);
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, registry);
    out
}

/// A provider's route, named as the sandbox's fault plan and log name it (docs/sandbox.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    PlacesSearch,
    GeminiText,
    GeminiImage,
    ImagenPredict,
    LinkedInToken,
    LinkedInUserinfo,
    LinkedInImagesInit,
    LinkedInImagesUpload,
    LinkedInImagesGet,
    LinkedInPosts,
    LinkedInAnalytics,
    InstagramToken,
    InstagramExchange,
    InstagramRefresh,
    InstagramMe,
    InstagramMedia,
    InstagramContainer,
    InstagramPublish,
    InstagramLimit,
    InstagramPermalink,
    InstagramInsights,
    /// A lead's website (the enrichment's page fetches).
    Site,
}

impl Route {
    pub const ALL: [Self; 22] = [
        Self::PlacesSearch,
        Self::GeminiText,
        Self::GeminiImage,
        Self::ImagenPredict,
        Self::LinkedInToken,
        Self::LinkedInUserinfo,
        Self::LinkedInImagesInit,
        Self::LinkedInImagesUpload,
        Self::LinkedInImagesGet,
        Self::LinkedInPosts,
        Self::LinkedInAnalytics,
        Self::InstagramToken,
        Self::InstagramExchange,
        Self::InstagramRefresh,
        Self::InstagramMe,
        Self::InstagramMedia,
        Self::InstagramContainer,
        Self::InstagramPublish,
        Self::InstagramLimit,
        Self::InstagramPermalink,
        Self::InstagramInsights,
        Self::Site,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::PlacesSearch => "places.search",
            Self::GeminiText => "gemini.text",
            Self::GeminiImage => "gemini.image",
            Self::ImagenPredict => "imagen.predict",
            Self::LinkedInToken => "linkedin.token",
            Self::LinkedInUserinfo => "linkedin.userinfo",
            Self::LinkedInImagesInit => "linkedin.images.init",
            Self::LinkedInImagesUpload => "linkedin.images.upload",
            Self::LinkedInImagesGet => "linkedin.images.get",
            Self::LinkedInPosts => "linkedin.posts",
            Self::LinkedInAnalytics => "linkedin.analytics",
            Self::InstagramToken => "instagram.token",
            Self::InstagramExchange => "instagram.exchange",
            Self::InstagramRefresh => "instagram.refresh",
            Self::InstagramMe => "instagram.me",
            Self::InstagramMedia => "instagram.media",
            Self::InstagramContainer => "instagram.container",
            Self::InstagramPublish => "instagram.publish",
            Self::InstagramLimit => "instagram.limit",
            Self::InstagramPermalink => "instagram.permalink",
            Self::InstagramInsights => "instagram.insights",
            Self::Site => "site",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// How a provider call failed, as the errors counter's `class` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// No answer within the client's timeout.
    Timeout,
    /// No connection (refused, DNS, TLS handshake).
    Connect,
    /// Any other transport failure (reset mid-answer, a body that broke off).
    Transport,
    /// A 4xx answer, 429 included (429s are also counted alone).
    Client,
    /// A 5xx answer.
    Server,
}

impl ErrorClass {
    const ALL: [Self; 5] = [
        Self::Timeout,
        Self::Connect,
        Self::Transport,
        Self::Client,
        Self::Server,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Transport => "transport",
            Self::Client => "4xx",
            Self::Server => "5xx",
        }
    }

    pub fn of_transport(e: &reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_connect() {
            Self::Connect
        } else {
            Self::Transport
        }
    }

    pub fn of_status(status: u16) -> Option<Self> {
        match status {
            400..=499 => Some(Self::Client),
            500..=599 => Some(Self::Server),
            _ => None,
        }
    }
}

/// Provider call latencies, seconds: Places' tenth of a second to an image's minute.
pub const PROVIDER_SECONDS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
];

fn provider_histogram() -> Histogram {
    Histogram::new(PROVIDER_SECONDS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteErrorLabels {
    pub route: &'static str,
    pub class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabel {
    pub provider: String,
}

struct Providers {
    /// Jobs that met a setting the provider does not know (a retired model), by the
    /// credential's gate name: the operator alert.
    misconfigured: Family<ProviderLabel, Counter>,
    calls: Family<RouteLabel, Counter>,
    duration: HistogramFamily<RouteLabel>,
    errors: Family<RouteErrorLabels, Counter>,
    throttled: Family<RouteLabel, Counter>,
    /// Every route's handles, made once: a call counts with atomic adds only.
    routes: Vec<RouteMetrics>,
}

struct RouteMetrics {
    calls: Counter,
    duration: Histogram,
    errors: [Counter; 5],
    throttled: Counter,
}

static PROVIDERS: LazyLock<Providers> = LazyLock::new(|| {
    let calls: Family<RouteLabel, Counter> = Family::default();
    let duration: HistogramFamily<RouteLabel> = Family::new_with_constructor(provider_histogram);
    let errors: Family<RouteErrorLabels, Counter> = Family::default();
    let throttled: Family<RouteLabel, Counter> = Family::default();
    let routes = Route::ALL
        .iter()
        .map(|r| {
            let l = RouteLabel { route: r.label() };
            RouteMetrics {
                calls: calls.get_or_create_owned(&l),
                duration: duration.get_or_create_owned(&l),
                errors: ErrorClass::ALL.map(|c| {
                    errors.get_or_create_owned(&RouteErrorLabels {
                        route: r.label(),
                        class: c.label(),
                    })
                }),
                throttled: throttled.get_or_create_owned(&l),
            }
        })
        .collect();
    Providers {
        misconfigured: Family::default(),
        calls,
        duration,
        errors,
        throttled,
        routes,
    }
});

/// Adds this process's provider call metrics to `registry`.
pub fn register_providers(registry: &mut Registry) {
    let p = &*PROVIDERS;
    registry.register(
        "provider_calls",
        "Requests sent to a provider route (Places, Gemini, Imagen, LinkedIn, leads' websites)",
        p.calls.clone(),
    );
    registry.register_with_unit(
        "provider_call_duration",
        "Time from sending a provider request to its answer's headers, or to its failure",
        Unit::Seconds,
        p.duration.clone(),
    );
    registry.register(
        "provider_errors",
        "Provider calls that failed, by class: timeout, connect, transport, 4xx (429 \
         included), 5xx",
        p.errors.clone(),
    );
    registry.register(
        "provider_throttled",
        "Provider answers 429 Too Many Requests",
        p.throttled.clone(),
    );
    registry.register(
        "provider_misconfigured",
        "Jobs that waited for an operator because the provider does not know a setting \
         (a retired model id, an API version no longer served), by provider",
        p.misconfigured.clone(),
    );
}

/// Counts one job that met `provider`'s misconfiguration (the alert's signal).
pub fn record_misconfigured(provider: &str) {
    PROVIDERS
        .misconfigured
        .get_or_create(&ProviderLabel {
            provider: provider.to_owned(),
        })
        .inc();
}

/// Counts one call of `route` that took `elapsed`: its answer's status, or its failure.
pub fn record_call(route: Route, elapsed: Duration, outcome: Result<u16, ErrorClass>) {
    let Some(m) = PROVIDERS.routes.get(route.index()) else {
        return;
    };
    m.calls.inc();
    m.duration.observe(elapsed.as_secs_f64());
    let class = match outcome {
        Ok(status) => {
            if status == 429 {
                m.throttled.inc();
            }
            ErrorClass::of_status(status)
        }
        Err(class) => Some(class),
    };
    if let Some(c) = class {
        let i = ErrorClass::ALL.iter().position(|x| *x == c).unwrap_or(0);
        if let Some(counter) = m.errors.get(i) {
            counter.inc();
        }
    }
}

/// Sends `request` as a call of `route`, counted.
pub async fn send(
    route: Route,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, reqwest::Error> {
    let started = Instant::now();
    let result = request.send().await;
    let outcome = match &result {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(ErrorClass::of_transport(e)),
    };
    record_call(route, started.elapsed(), outcome);
    result
}

/// Statuses of a campaign that the pipeline drives (the reconciler watches the same).
pub const RUNNING_CAMPAIGN_STATUSES: [&str; 3] = ["scraping", "enriching", "generating"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: String,
}

/// What PostgreSQL holds, read when scraped: the outbox's backlog and the campaigns by
/// status. Exported by the api only (one truth for the whole system).
#[derive(Clone)]
pub struct DbGauges {
    outbox_rows: Gauge,
    outbox_oldest: Gauge<f64, std::sync::atomic::AtomicU64>,
    outbox_failing: Gauge,
    campaigns: Family<StatusLabel, Gauge>,
    oldest_launch: Family<StatusLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    oldest_move: Family<StatusLabel, Gauge<f64, std::sync::atomic::AtomicU64>>,
    scrape_errors: Counter,
}

/// Every status a campaign can have (the table's CHECK), so each has a series, 0 included.
const CAMPAIGN_STATUSES: [&str; 8] = [
    "draft",
    "scraping",
    "enriching",
    "generating",
    "ready",
    "completed",
    "error",
    "cancelled",
];

impl DbGauges {
    pub fn new(registry: &mut Registry) -> Self {
        let g = Self {
            outbox_rows: Gauge::default(),
            outbox_oldest: Gauge::default(),
            outbox_failing: Gauge::default(),
            campaigns: Family::default(),
            oldest_launch: Family::default(),
            oldest_move: Family::default(),
            scrape_errors: Counter::default(),
        };
        registry.register(
            "outbox_rows",
            "Rows in the PostgreSQL outbox not yet relayed to Redis",
            g.outbox_rows.clone(),
        );
        registry.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest outbox row (how late the relay is); 0 when the outbox is empty",
            Unit::Seconds,
            g.outbox_oldest.clone(),
        );
        registry.register(
            "outbox_failing_rows",
            "Outbox rows the relay failed to enqueue at least once (see their last_error)",
            g.outbox_failing.clone(),
        );
        registry.register("campaigns", "Campaigns by status", g.campaigns.clone());
        registry.register_with_unit(
            "campaign_oldest_launch_age",
            "Per running status (scraping, enriching, generating): time since the oldest such \
             campaign was launched; 0 when none",
            Unit::Seconds,
            g.oldest_launch.clone(),
        );
        registry.register_with_unit(
            "campaign_oldest_move_age",
            "Per running status: time since the least recently moved such campaign last moved \
             (a lead stored, enriched, written); 0 when none",
            Unit::Seconds,
            g.oldest_move.clone(),
        );
        registry.register(
            "db_scrape_errors",
            "Scrapes whose read of PostgreSQL failed (the gauges then keep their previous values)",
            g.scrape_errors.clone(),
        );
        g
    }

    /// Two queries: the outbox's count and oldest row, and one GROUP BY over campaigns.
    pub async fn refresh(&self, db: &PgPool) -> Result<(), sqlx::Error> {
        let result = self.read(db).await;
        if result.is_err() {
            self.scrape_errors.inc();
        }
        result
    }

    async fn read(&self, db: &PgPool) -> Result<(), sqlx::Error> {
        let (rows, oldest, failing): (i64, f64, i64) = sqlx::query_as(
            "SELECT count(*),
                    COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::float8, 0),
                    count(*) FILTER (WHERE attempts > 0)
             FROM outbox",
        )
        .fetch_one(db)
        .await?;
        let by_status: Vec<(String, i64, Option<f64>, Option<f64>)> = sqlx::query_as(
            "SELECT status, count(*),
                    EXTRACT(EPOCH FROM now() - min(launched_at))::float8,
                    EXTRACT(EPOCH FROM now() - min(updated_at))::float8
             FROM campaigns GROUP BY status",
        )
        .fetch_all(db)
        .await?;
        self.outbox_rows.set(rows);
        self.outbox_oldest.set(oldest.max(0.0));
        self.outbox_failing.set(failing);
        for status in CAMPAIGN_STATUSES {
            let l = StatusLabel {
                status: status.to_owned(),
            };
            let row = by_status.iter().find(|r| r.0 == status);
            self.campaigns.get_or_create(&l).set(row.map_or(0, |r| r.1));
            if RUNNING_CAMPAIGN_STATUSES.contains(&status) {
                let age = |v: Option<f64>| v.unwrap_or(0.0).max(0.0);
                self.oldest_launch
                    .get_or_create(&l)
                    .set(row.map_or(0.0, |r| age(r.2)));
                self.oldest_move
                    .get_or_create(&l)
                    .set(row.map_or(0.0, |r| age(r.3)));
            }
        }
        Ok(())
    }
}

/// What a scrape answers: the exposition, built (and, in the api, refreshed) on demand.
pub type Render =
    Arc<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = String> + Send>> + Send + Sync>;

/// Binds the metrics listener; a bad or busy address stops the process at startup.
pub async fn bind(addr: &str) -> Result<TcpListener, crate::Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| crate::Error::Config(format!("cannot listen for metrics on {addr}: {e}")))
}

/// Serves `GET /metrics` (and nothing else) on `listener` until `stop`. HTTP/1.1 with
/// keep-alive, as Prometheus scrapes; each answer is one render.
pub fn serve(listener: TcpListener, render: Render, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = stop.cancelled() => return,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %jobs::error::Chain(&e), "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let render = render.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(req, render.clone()));
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    r = conn.as_mut() => {
                        if let Err(e) = r {
                            tracing::debug!(%peer, error = %jobs::error::Chain(&e), "metrics connection ended");
                        }
                    }
                    () = stop.cancelled() => conn.as_mut().graceful_shutdown(),
                }
            });
        }
    })
}

async fn answer(
    req: Request<Incoming>,
    render: Render,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let reply = |status: StatusCode, ctype: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = hyper::header::HeaderValue::from_str(ctype) {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => reply(StatusCode::OK, CONTENT_TYPE, render().await),
        (&Method::GET, "/") => reply(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "AstroGrowth metrics: GET /metrics\n".into(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: GET /metrics\n".into(),
        ),
    })
}

/// The listener's address, for logs and tests.
pub fn local_addr(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape() -> String {
        let mut r = registry();
        register_providers(&mut r);
        encode(&r)
    }

    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} missing from\n{text}"))
    }

    #[test]
    fn a_call_counts_its_route_latency_and_error_class() {
        // The statics are shared with the other tests: compare before and after.
        let before = scrape();
        record_call(Route::GeminiText, Duration::from_millis(30), Ok(429));
        record_call(Route::GeminiText, Duration::from_millis(40), Ok(503));
        record_call(Route::GeminiText, Duration::from_millis(50), Ok(200));
        record_call(
            Route::GeminiText,
            Duration::from_secs(60),
            Err(ErrorClass::Timeout),
        );
        let after = scrape();
        let delta = |series: &str| sample(&after, series) - sample(&before, series);
        let route = "route=\"gemini.text\"";
        assert_eq!(
            delta(&format!("astrogrowth_provider_calls_total{{{route}}}")),
            4.0
        );
        assert_eq!(
            delta(&format!("astrogrowth_provider_throttled_total{{{route}}}")),
            1.0
        );
        for (class, n) in [
            ("4xx", 1.0),
            ("5xx", 1.0),
            ("timeout", 1.0),
            ("connect", 0.0),
        ] {
            assert_eq!(
                delta(&format!(
                    "astrogrowth_provider_errors_total{{{route},class=\"{class}\"}}"
                )),
                n,
                "{class}"
            );
        }
        assert_eq!(
            delta(&format!(
                "astrogrowth_provider_call_duration_seconds_bucket{{{route},le=\"0.05\"}}"
            )),
            3.0
        );
        assert_eq!(
            delta(&format!(
                "astrogrowth_provider_call_duration_seconds_count{{{route}}}"
            )),
            4.0
        );
        // Every route has its series from the start, so a rate is defined before any call.
        for r in Route::ALL {
            assert!(
                after.contains(&format!("provider_calls_total{{route=\"{}\"}}", r.label())),
                "{r:?}"
            );
        }
    }

    #[test]
    fn statuses_map_to_classes() {
        assert_eq!(ErrorClass::of_status(200), None);
        assert_eq!(ErrorClass::of_status(303), None);
        assert_eq!(ErrorClass::of_status(404), Some(ErrorClass::Client));
        assert_eq!(ErrorClass::of_status(429), Some(ErrorClass::Client));
        assert_eq!(ErrorClass::of_status(502), Some(ErrorClass::Server));
    }

    #[tokio::test]
    async fn the_listener_serves_metrics_and_nothing_else() {
        let listener = bind("127.0.0.1:0").await.unwrap();
        let addr = local_addr(&listener).unwrap();
        let stop = CancellationToken::new();
        let render: Render = Arc::new(|| Box::pin(async { "astrogrowth_up 1\n".to_owned() }));
        let server = serve(listener, render, stop.clone());
        let http = reqwest::Client::new();
        let r = http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], CONTENT_TYPE);
        assert_eq!(r.text().await.unwrap(), "astrogrowth_up 1\n");
        for path in ["/metrics/x", "/api/campaigns"] {
            let r = http
                .get(format!("http://{addr}{path}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{path}");
        }
        let r = http
            .post(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        // A second process cannot take the same address: a startup error, not a panic.
        assert!(bind(&addr.to_string()).await.is_err());
        stop.cancel();
        server.await.unwrap();
    }
}
