//! The dashboard: server-rendered pages for owners, beside the JSON API (which stays under
//! `/api`; no page path starts with it). Same session cookie as the API: signing in on
//! either signs in both. Pages read without JavaScript; forms post with the session's
//! CSRF token in a hidden field (or, before sign-in, the `ag_form` cookie's). Every error a
//! browser gets is a page in its language, never the API's JSON.

pub mod account;
pub mod admin;
pub mod assets;
pub mod campaign;
pub mod chart;
pub mod contents;
pub mod home;
pub mod i18n;
pub mod identities;
pub mod instagram;
pub mod live;
pub mod notices;
pub mod password_reset;
pub mod post_counts;
pub mod preview;
pub mod profile;
pub mod publications;
pub mod reasons;
pub mod render;
pub mod schedule;
pub mod score;
pub mod times;
pub mod wizard;

use std::cell::RefCell;
use std::future::{Ready, ready};

use actix_session::SessionMiddleware;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tera::Context;

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::session_store::RedisSessionStore;
use crate::state::AppState;
use i18n::{LANG_COOKIE, Lang, ReaderLang};
use jobs::error::Chain;
use render::Ui;

/// Scripts, styles and form targets from us only: a field that slipped past escaping
/// still could not load or send anything elsewhere.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
    script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The owner's pages, as the header (and a phone's menu) lists them: path and label.
pub const NAV_LINKS: [(&str, &str); 5] = [
    ("/", "nav-home"),
    ("/contents", "nav-contents"),
    ("/campaigns/new", "nav-new-campaign"),
    ("/schedule", "nav-schedule"),
    ("/profile", "nav-profile"),
];

/// The menu entry of the page at `path` (marked `aria-current`), if it is one.
fn nav_current(path: &str) -> Option<&'static str> {
    NAV_LINKS.iter().map(|(p, _)| *p).find(|p| match *p {
        "/" | "/campaigns/new" => path == *p,
        _ => path == *p || path.starts_with(&format!("{p}/")),
    })
}

/// The error pages there are: `error-<kind>-title` and `-body` in the catalogs.
pub const ERROR_KINDS: [&str; 7] = [
    "not-found",
    "expired",
    "forbidden",
    "busy",
    "unavailable",
    "internal",
    "bad-request",
];

/// Every page route, wrapped in the session middleware (the API's, so one cookie serves
/// both). Registered after `/api`, so the API keeps its own paths.
pub fn routes(cfg: &mut web::ServiceConfig, sessions: SessionMiddleware<RedisSessionStore>) {
    cfg.service(web::resource("/static/{version}/{name:.*}").route(web::get().to(assets::serve)))
        .service(web::resource("/favicon.ico").route(web::get().to(assets::favicon)))
        .service(
            web::scope("")
                .wrap(sessions)
                .app_data(web::PathConfig::default().error_handler(|_, req| {
                    actix_web::error::InternalError::from_response(
                        "bad path",
                        error_page(req, &ApiError::NotFound("page")),
                    )
                    .into()
                }))
                .app_data(
                    web::FormConfig::default()
                        .limit(16 * 1024)
                        .error_handler(|e, req| {
                            actix_web::error::InternalError::from_response(
                                "bad form",
                                error_page(req, &ApiError::BadRequest(e.to_string())),
                            )
                            .into()
                        }),
                )
                .route("/", web::get().to(home::show))
                .route("/sign-in", web::get().to(account::sign_in_form))
                .route("/sign-in", web::post().to(account::sign_in))
                .route("/sign-up", web::get().to(account::sign_up_form))
                .route("/sign-up", web::post().to(account::sign_up))
                .route("/sign-out", web::post().to(account::sign_out))
                .route(
                    "/forgot-password",
                    web::get().to(password_reset::forgot_form),
                )
                .route("/forgot-password", web::post().to(password_reset::forgot))
                .route("/reset-password", web::get().to(password_reset::reset_form))
                .route("/reset-password", web::post().to(password_reset::reset))
                .route("/language/{code}", web::get().to(switch_language))
                .route("/campaigns/new", web::get().to(wizard::start))
                .route("/campaigns/new", web::post().to(wizard::step))
                .route("/campaigns/{id}", web::get().to(campaign::show))
                .route("/campaigns/{id}/events", web::get().to(live::events))
                .route(
                    "/campaigns/{id}/launched",
                    web::get().to(campaign::launched),
                )
                .route("/contents", web::get().to(contents::gallery))
                .route("/contents/{id}/approve", web::post().to(contents::approve))
                .route("/contents/{id}/reject", web::post().to(contents::reject))
                .route("/contents/{id}/edit", web::post().to(contents::edit))
                .route(
                    "/contents/{id}/unreject",
                    web::post().to(contents::unreject),
                )
                .route(
                    "/contents/approve-at-least",
                    web::post().to(contents::approve_at_least),
                )
                .route("/contents/bulk", web::post().to(contents::bulk))
                .route("/schedule", web::get().to(schedule::show))
                .route("/schedule", web::post().to(schedule::save))
                .route(
                    "/schedule/{id}/publish-now",
                    web::post().to(schedule::publish_now),
                )
                .route("/schedule/{id}/move", web::post().to(schedule::move_to))
                .route("/schedule/{id}/undo", web::post().to(schedule::undo))
                .route("/schedule/pause", web::post().to(schedule::pause))
                .route("/schedule/resume", web::post().to(schedule::resume))
                .route(
                    "/schedule/{id}/unschedule",
                    web::post().to(schedule::unschedule),
                )
                .route("/profile", web::get().to(profile::show))
                .route("/profile/linkedin-picture", web::get().to(preview::picture))
                .route("/profile", web::post().to(profile::save))
                .route("/profile/notices", web::post().to(notices::save))
                .route(
                    "/profile/linkedin/connect",
                    web::post().to(profile::connect),
                )
                .route(
                    "/profile/linkedin/disconnect",
                    web::get().to(profile::confirm_disconnect),
                )
                .route(
                    "/profile/linkedin/disconnect",
                    web::post().to(profile::disconnect),
                )
                .configure(instagram::routes)
                .route(
                    "/publications/{id}/resolve",
                    web::post().to(publications::resolve),
                )
                .configure(identities::routes)
                .configure(admin_routes)
                .default_service(web::to(not_found)),
        );
}

/// The admin queue UI (pages/admin.rs). Fixed segments before `{state}`, which only
/// matches the four state names.
fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(admin::overview))
        .route("/admin/find", web::get().to(admin::find))
        .route("/admin/workers", web::get().to(admin::workers))
        .route("/admin/audit", web::get().to(admin::audit))
        .route("/admin/queues/{queue}/bulk", web::get().to(admin::confirm))
        .route("/admin/queues/{queue}/bulk", web::post().to(admin::bulk))
        .route("/admin/queues/{queue}/pause", web::post().to(admin::pause))
        .route(
            "/admin/queues/{queue}/resume",
            web::post().to(admin::resume),
        )
        .route("/admin/queues/{queue}/dead", web::get().to(admin::dead))
        .route(
            "/admin/queues/{queue}/{state:(ready|running|scheduled)}",
            web::get().to(admin::list),
        )
        .route("/admin/queues/{queue}/jobs/{id}", web::get().to(admin::job))
        .route(
            "/admin/queues/{queue}/jobs/{id}",
            web::post().to(admin::act),
        );
}

/// A path no page has, inside the session middleware: a signed-in owner gets the 404 page
/// with their menu and in their account's language, like every other page.
async fn not_found(ctx: PageCtx) -> HttpResponse {
    // Signed out (or a post without its token), the page is shown all the same.
    let _ = ctx.user().await;
    ctx.respond(Err(ApiError::NotFound("page")))
}

/// What every page handler starts from: the reader's language and the renderer.
pub struct PageCtx {
    /// The browser's language, then the account's once `user()` has read it.
    pub lang: ReaderLang,
    ui: web::Data<Ui>,
    req: HttpRequest,
    /// The user once a handler has authenticated them, so an error page after that (a
    /// 404, a 403) still shows the signed-in menu and its sign-out button.
    seen: RefCell<Option<CurrentUser>>,
}

impl FromRequest for PageCtx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            PageCtx::new(req)
                .ok_or_else(|| ApiError::internal("page renderer missing"))
                .map_err(actix_web::Error::from),
        )
    }
}

/// A page's options on top of its template data.
#[derive(Default)]
pub struct Shown<'a> {
    pub user: Option<&'a CurrentUser>,
    pub status: Option<StatusCode>,
    /// Other origins this page's forms may lead to (space-separated), added to the CSP's
    /// `form-action`: the profile's connect forms post to us and are redirected to
    /// LinkedIn's or Instagram's consent page, and Chromium checks the redirect against
    /// `form-action` too.
    pub form_target: Option<String>,
    /// Where the language switch leads back to, when this request's address would not
    /// show the page again: a form shown again after its POST, whose GET needs what the
    /// form carried (the reset link's token).
    pub here: Option<String>,
}

impl PageCtx {
    fn new(req: &HttpRequest) -> Option<Self> {
        Some(Self {
            lang: ReaderLang::new(Lang::of_request(req)),
            ui: req.app_data::<web::Data<Ui>>()?.clone(),
            req: req.clone(),
            seen: RefCell::new(None),
        })
    }

    /// The signed-in user, for a page that only reads.
    pub async fn user(&self) -> ApiResult<CurrentUser> {
        self.remember(auth::authenticate(&self.req, "").await)
    }

    /// The signed-in user, for a form post: `csrf` is the form's hidden field.
    pub async fn user_posting(&self, csrf: &str) -> ApiResult<CurrentUser> {
        self.remember(auth::authenticate(&self.req, csrf).await)
    }

    fn remember(&self, user: ApiResult<CurrentUser>) -> ApiResult<CurrentUser> {
        if let Ok(u) = &user {
            self.lang.set_account(u.language);
            *self.seen.borrow_mut() = Some(u.clone());
        }
        user
    }

    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// The renderer, for a response that renders after the handler returns (a live stream).
    pub fn ui(&self) -> web::Data<Ui> {
        self.ui.clone()
    }

    /// The template with `context` and what the layout needs (language, switch link,
    /// assets, the sign-out form's token). The three URLs are ours (the switch's `next`
    /// is percent-encoded), so the layout prints them unescaped: tera's escaping would
    /// turn each `/` into `&#x2F;`.
    pub fn render(
        &self,
        template: &str,
        mut context: Context,
        shown: Shown<'_>,
    ) -> ApiResult<HttpResponse> {
        let assets = self.ui.assets();
        context.insert("lang", self.lang.code());
        context.insert(
            "switch_url",
            &format!(
                "/language/{}?next={}",
                self.lang.other().code(),
                encode(&shown.here.clone().unwrap_or_else(|| here(&self.req)))
            ),
        );
        context.insert("css_url", &assets.url("app.css"));
        context.insert("favicon_url", &assets.url(assets::FAVICON));
        context.insert("app_js_url", &assets.url(assets::APP_JS));
        context.insert("signed_in", &shown.user.is_some());
        context.insert("nav_links", &NAV_LINKS);
        context.insert("nav_current", &nav_current(self.req.path()));
        context.insert(
            "is_admin",
            &shown
                .user
                .is_some_and(|u| matches!(u.role, shared::db::users::Role::Admin)),
        );
        if let Some(user) = shown.user {
            context.insert("csrf", &user.csrf_token);
        }
        let html = self
            .ui
            .render(*self.lang, template, &context)
            .map_err(ApiError::internal)?;
        let mut response = page_response(shown.status.unwrap_or(StatusCode::OK), html);
        if let Some(origin) = shown.form_target.as_deref()
            && let Ok(csp) = CSP
                .replace(
                    "form-action 'self'",
                    &format!("form-action 'self' {origin}"),
                )
                .parse::<actix_web::http::header::HeaderValue>()
        {
            response.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
        }
        Ok(response)
    }

    /// A handler's outcome as the browser should get it: a sign-in redirect when the
    /// session is missing or over, an error page in the reader's language otherwise.
    pub fn respond(&self, result: ApiResult<HttpResponse>) -> HttpResponse {
        match result {
            Ok(response) => response,
            Err(ApiError::Unauthenticated) => {
                redirect(&format!("/sign-in?next={}", encode(&here(&self.req))))
            }
            Err(e) => self.error(&e),
        }
    }

    fn error(&self, e: &ApiError) -> HttpResponse {
        if let ApiError::Internal(_) = e {
            tracing::error!(error = %Chain(e), "page failed");
        }
        let status = actix_web::ResponseError::status_code(e);
        let kind = match e {
            ApiError::NotFound(_) => "not-found",
            ApiError::Forbidden {
                code: "csrf_failed",
                ..
            } => "expired",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::RateLimited { .. } | ApiError::Busy { .. } => "busy",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
            _ => "bad-request",
        };
        let mut context = Context::new();
        context.insert("kind", kind);
        context.insert("status", &status.as_u16());
        let seen = self.seen.borrow().clone();
        let shown = Shown {
            status: Some(status),
            user: seen.as_ref(),
            ..Shown::default()
        };
        match self.render("error.html", context, shown) {
            Ok(response) => response,
            // The error page itself failed: plain text, still not JSON.
            Err(render) => {
                tracing::error!(error = %Chain(&render), "error page failed");
                HttpResponse::build(status)
                    .insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"))
                    .body(status.to_string())
            }
        }
    }
}

/// The error page for `req`, outside a handler (the app's default service, extractors).
pub fn error_page(req: &HttpRequest, e: &ApiError) -> HttpResponse {
    match PageCtx::new(req) {
        Some(ctx) => ctx.error(e),
        None => actix_web::ResponseError::error_response(e),
    }
}

fn page_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        // Pages show one account's data: never kept by a shared cache or the back button
        // after sign-out.
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((CONTENT_SECURITY_POLICY, CSP))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((X_FRAME_OPTIONS, "DENY"))
        .insert_header((REFERRER_POLICY, "same-origin"))
        .body(html)
}

/// 303, so the browser follows a form post with a GET.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// The path and query of this request, where the language switch and sign-in come back.
fn here(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    }
}

/// A local path to go back to, or `/`: never another site (`//evil.example`, `/\evil`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.into(),
        _ => "/".into(),
    }
}

/// A `/` then anything but a second `/` or a `\`, with no backslash or control character
/// anywhere: browsers read `\` as `/` and drop tabs and newlines inside a URL, so
/// `/\evil.example` and `/<tab>/evil.example` both become `//evil.example`, another site.
fn is_local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && chars.next().is_some_and(|c| c != '/' && c != '\\')
        && !n.chars().any(|c| c.is_control() || c == '\\')
}

/// `s` as one query-string value (form encoding).
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Debug, Deserialize)]
pub struct Next {
    pub next: Option<String>,
}

/// `GET /language/{code}?next=/path`: a link, not a form, so it works signed out and
/// without JavaScript. It sets this browser's cookie and, signed in, the account's language
/// (so the choice follows the owner to other devices). A link another site makes a browser
/// follow (`Sec-Fetch-Site: cross-site`) changes the cookie only: the account is changed
/// from our own pages.
async fn switch_language(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<Next>,
) -> HttpResponse {
    let Some(lang) = Lang::parse(&code) else {
        return error_page(&req, &ApiError::NotFound("language"));
    };
    let cross_site = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    if !cross_site && let Ok(user) = auth::authenticate(&req, "").await {
        let saved = shared::db::users::set_language(&state.db, user.id, lang.language()).await;
        if let Err(e) = saved {
            // The cookie still switches this browser.
            tracing::warn!(error = %Chain(&e), "account language not saved");
        }
    }
    let mut response = redirect(&safe_next(query.next.as_deref()));
    set_language_cookie(&mut response, lang);
    response
}

/// The `ag_lang` cookie: what a browser reads in before (and without) signing in.
pub fn set_language_cookie(response: &mut HttpResponse, lang: Lang) {
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    if response.add_cookie(&cookie).is_err() {
        tracing::warn!("language cookie not set");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/campaigns/3?x=1")), "/campaigns/3?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/a\u{7f}b")), "/");
        assert_eq!(safe_next(Some("/a/b\\c")), "/");
        assert_eq!(safe_next(Some("/?x=1")), "/?x=1");
        assert_eq!(safe_next(None), "/");
    }
}
