//! The HTTP server: one dispatcher that names each request's route, applies latency and
//! the fault plan, runs the route, and logs it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::call::{Call, code};
use crate::faults::{self, Fault};
use crate::state::{LogEntry, Shared, now_ms};
use crate::{Options, control, google, instagram, linkedin, oidc, sites};

/// A running sandbox; `stop` (or dropping the runtime) ends it.
pub struct Sandbox {
    addr: SocketAddr,
    handle: ServerHandle,
}

/// How long an idle client connection stays open: past reqwest's 90 s pool idle timeout.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(120);

impl Sandbox {
    /// Binds `bind` (port 0 picks a free one) and serves on the caller's tokio runtime.
    pub async fn start(bind: SocketAddr, options: Options) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let shared = web::Data::new(Arc::new(Shared::new(options)));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                // Image uploads are raw bytes, larger than actix's 256 KiB default.
                .app_data(web::PayloadConfig::new(32 * 1024 * 1024))
                .default_service(web::to(dispatch))
        })
        .listen(listener)?
        .workers(2)
        // Idle connections stay open longer than our clients keep them pooled (reqwest: 90 s),
        // as the providers' front ends do. With actix's 5 s default, a call made just as the
        // server dropped its idle connection (a LinkedIn token exchange a few seconds after
        // the last one) failed with an incomplete message: a fault no real provider plays.
        .keep_alive(KEEP_ALIVE)
        .disable_signals()
        .shutdown_timeout(1)
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Sandbox { addr, handle })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }

    /// Serves until the process is told to stop (the binary).
    pub async fn wait(self) {
        std::future::pending::<()>().await;
    }
}

async fn dispatch(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Arc<Shared>>,
) -> HttpResponse {
    let path = req.path().to_owned();
    if path.starts_with("/_sandbox/") {
        return control::handle(&req, &body, &shared).await;
    }
    let found = instagram::identify(req.method(), &path, req.query_string())
        .map(|route| (route, "instagram"))
        .or_else(|| identify(req.method(), &path, &body));
    let Some((route, provider)) = found else {
        return HttpResponse::NotFound().json(json!({
            "error": format!("the sandbox serves no {} {path}", req.method())
        }));
    };
    let latency = shared.options.latency.of(provider);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = faults::take(&mut shared.lock().faults, route);
    if let Some(ms) = fault.as_ref().and_then(|f| f.delay_ms) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let conn = req.connection_info().clone();
    let call = Call {
        req: &req,
        body: &body,
        base: format!("{}://{}", conn.scheme(), conn.host()),
        shared: &shared,
        mode: fault.as_ref().and_then(|f| f.mode.as_deref()),
    };
    if route == "site" && call.mode == Some("hang") {
        log(&shared, route, &req, 0, fault.as_ref());
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return HttpResponse::GatewayTimeout().finish();
    }
    let status_fault = fault.as_ref().filter(|f| f.status.is_some());
    let response = match status_fault {
        Some(f) if !f.after_effect => fault_response(route, f),
        Some(f) => {
            let _ = run(route, &call).await;
            fault_response(route, f)
        }
        None => run(route, &call).await,
    };
    log(
        &shared,
        route,
        &req,
        response.status().as_u16(),
        fault.as_ref(),
    );
    response
}

fn log(
    shared: &Shared,
    route: &'static str,
    req: &HttpRequest,
    status: u16,
    fault: Option<&Fault>,
) {
    let path = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    shared.lock().log.push(LogEntry {
        route,
        method: req.method().to_string(),
        path,
        status,
        at_ms: now_ms(),
        fault: fault.map(|f| f.id.clone()),
    });
}

async fn run(route: &str, call: &Call<'_>) -> HttpResponse {
    match route {
        "places.search" => google::places(call),
        "gemini.text" => google::gemini_text(call),
        "gemini.image" => google::gemini_image(call),
        "gemini.models" => google::gemini_models(call),
        "imagen.predict" => google::imagen(call),
        "site" => sites::serve(call),
        r if r.starts_with("instagram.") => instagram::serve(r, call).await,
        r if r.starts_with("oidc.") => oidc::serve(r, call),
        _ => linkedin::serve(route, call),
    }
}

/// The answer a fault's status gives, in the provider's own error shape.
fn fault_response(route: &str, f: &Fault) -> HttpResponse {
    let status = f.status.unwrap_or(500);
    if route == "site" {
        return HttpResponse::build(code(status))
            .content_type("text/html")
            .body(format!("<h1>Error {status}</h1>"));
    }
    if route.starts_with("linkedin.") {
        return linkedin::fault(route, status, f.retry_after_s);
    }
    if route.starts_with("instagram.") {
        return instagram::fault(route, status);
    }
    google::fault(route, status, f)
}

/// The route id and latency provider of a request, from its method and path (and, for
/// Gemini, whether the body asks for an image).
fn identify(method: &Method, path: &str, body: &[u8]) -> Option<(&'static str, &'static str)> {
    let post = method == Method::POST;
    let get = method == Method::GET;
    if post && path == "/places/v1/places:searchText" {
        return Some(("places.search", "places"));
    }
    if get && (path == "/gemini/v1beta/models" || path == "/gemini/v1beta/models/") {
        return Some(("gemini.models", "gemini"));
    }
    if let Some(rest) = path.strip_prefix("/gemini/v1beta/models/") {
        if get && !rest.contains(':') {
            return Some(("gemini.models", "gemini"));
        }
        if !post {
            return None;
        }
        if rest.ends_with(":predict") {
            return Some(("imagen.predict", "image"));
        }
        if rest.ends_with(":generateContent") {
            return Some(if google::wants_image(body) {
                ("gemini.image", "image")
            } else {
                ("gemini.text", "gemini")
            });
        }
        return None;
    }
    if let Some(rest) = path.strip_prefix("/linkedin-www/oauth/v2/") {
        return match rest {
            "authorization" if get || post => Some(("linkedin.authorize", "linkedin")),
            "accessToken" if post => Some(("linkedin.token", "linkedin")),
            _ => None,
        };
    }
    if let Some(rest) = path.strip_prefix("/linkedin-api/") {
        let route = match rest {
            "v2/userinfo" if get => "linkedin.userinfo",
            "rest/images" if post => "linkedin.images.init",
            "rest/posts" if post => "linkedin.posts",
            "rest/memberCreatorPostAnalytics" if get => "linkedin.analytics",
            r if get && r.starts_with("rest/images/") => "linkedin.images.get",
            r if method == Method::PUT && r.starts_with("mediaUpload/") => "linkedin.images.upload",
            _ => return None,
        };
        return Some((route, "linkedin"));
    }
    if get && path.starts_with("/linkedin-media/") {
        return Some(("linkedin.media", "linkedin"));
    }
    if let Some(route) = oidc::identify(method, path) {
        return Some((route, "oidc"));
    }
    if get && path.starts_with("/sites/") {
        return Some(("site", "sites"));
    }
    None
}
