//! Instagram, through the Instagram API with Instagram Login (Business Login for Instagram):
//! the consent window and the three token calls, `/me`, and content publishing (a container
//! made from an image the sandbox really downloads, its status, `media_publish`, the
//! publishing limit over a moving 24 h window), the published media's permalink and its
//! insights, all with the Graph API's error bodies.
//!
//! The hosts are imitated under three prefixes: `/instagram-www` (www.instagram.com, the
//! consent), `/instagram-api` (api.instagram.com, the code exchange) and `/instagram-graph`
//! (graph.instagram.com, everything else; a version segment such as `/v23.0` is optional).
//! It imitates Meta's documentation (developers.facebook.com/docs/instagram-platform), not our
//! client: "Business Login for Instagram", "Access Token", "Refresh Access Token",
//! "Content Publishing", "IG Container", "IG User Content Publishing Limit", "Media
//! Insights", "Error Codes", "Rate Limiting".

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::Method;
use actix_web::http::header;
use serde::Serialize;
use serde_json::{Value, json};

use crate::call::{Call, code};
use crate::fixtures::hash;
use crate::state::now_ms;

const DAY_MS: u64 = 24 * 3600 * 1000;
/// Business Login's short-lived tokens live an hour.
const SHORT_LIVED_S: u64 = 3600;
/// Instagram downloads at most 8 MiB ("Error Codes", subcode 2207004).
const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// "Content Publishing", limitations: captions at most 2,200 characters and 30 hashtags.
const MAX_CAPTION_CHARS: usize = 2200;
const MAX_HASHTAGS: usize = 30;
/// "Content Publishing", image specifications: aspect ratios from 4:5 to 1.91:1.
const MIN_ASPECT: f64 = 4.0 / 5.0;
const MAX_ASPECT: f64 = 1.91;

/// The scopes Business Login for Instagram knows.
pub const SCOPES: [&str; 5] = [
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_messages",
    "instagram_business_manage_insights",
];

/// The Instagram part of the sandbox's settings.
#[derive(Debug, Clone)]
pub struct InstagramOptions {
    /// The Instagram app id and secret (App Dashboard, "API setup with Instagram login").
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of long-lived tokens (60 days).
    pub long_lived_expires_in_s: u64,
    /// How old a long-lived token must be before `refresh_access_token` takes it (24 h, as
    /// Instagram says; tests set 0).
    pub refresh_min_age_s: u64,
    /// Posts an account may publish through the API in any moving 24 h window
    /// (`content_publishing_limit`'s `quota_total`).
    pub publish_limit: u32,
    /// How long a container that was not published stays publishable (24 h).
    pub container_expiry_s: u64,
    /// Status reads a new container answers IN_PROGRESS before FINISHED (Instagram takes
    /// a moment to download and process the image).
    pub in_progress_reads: u32,
}

impl Default for InstagramOptions {
    fn default() -> Self {
        Self {
            client_id: "sandbox-instagram-app-id".to_owned(),
            client_secret: "sandbox-instagram-app-secret".to_owned(),
            long_lived_expires_in_s: 5_184_000,
            refresh_min_age_s: 24 * 3600,
            publish_limit: 50,
            container_expiry_s: 24 * 3600,
            in_progress_reads: 1,
        }
    }
}

/// The fault modes of a route: every Graph route can answer Meta's rate-limit errors
/// (`app_limit`: code 4 with `X-App-Usage`; `account_limit`: code 17 with
/// `X-Business-Use-Case-Usage`) or an invalid token (`token_invalid`: code 190); a
/// container can end in ERROR or EXPIRED; `media_publish` can answer the publishing limit.
pub(crate) fn modes(route: &str) -> &'static [&'static str] {
    match route {
        "instagram.media" => &["app_limit", "account_limit", "token_invalid", "error"],
        "instagram.container" => &[
            "app_limit",
            "account_limit",
            "token_invalid",
            "error",
            "expired",
        ],
        "instagram.publish" => &[
            "app_limit",
            "account_limit",
            "token_invalid",
            "publish_limit",
        ],
        "instagram.me" | "instagram.limit" | "instagram.permalink" | "instagram.insights" => {
            &["app_limit", "account_limit", "token_invalid"]
        }
        _ => &[],
    }
}

/// Everything Instagram remembers; reset with the rest of the sandbox.
#[derive(Default)]
pub(crate) struct State {
    codes: HashMap<String, AuthCode>,
    tokens: HashMap<String, IgToken>,
    containers: HashMap<String, Container>,
    /// Published media, oldest first.
    pub media: Vec<Media>,
    counter: u64,
}

struct AuthCode {
    redirect_uri: String,
    scope: String,
    user_id: String,
    used: bool,
}

struct IgToken {
    user_id: String,
    scope: String,
    long_lived: bool,
    issued_at_ms: u64,
    expires_at_ms: u64,
    revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum ContainerStatus {
    InProgress,
    Finished,
    Error,
    Expired,
    Published,
}

struct Container {
    owner: String,
    created_at_ms: u64,
    reads: u32,
    error: bool,
    expired: bool,
    media_id: Option<String>,
    caption: String,
    image_url: String,
    alt_text: Option<String>,
}

/// A published post, as `GET /_sandbox/instagram/media` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Media {
    pub id: String,
    pub owner: String,
    pub container: String,
    pub caption: String,
    pub alt_text: Option<String>,
    pub image_url: String,
    pub permalink: String,
    pub created_at_ms: u64,
}

impl State {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A 17-digit id like Instagram's.
    fn id(&mut self, seed: u64, run: u64, kind: &str) -> String {
        let n = self.next();
        format!(
            "178{:08}{:06}",
            hash(seed, &format!("{kind}:{run}")) % 100_000_000,
            n
        )
    }

    fn status(&self, container: &Container, options: &InstagramOptions) -> ContainerStatus {
        if container.media_id.is_some() {
            ContainerStatus::Published
        } else if container.error {
            ContainerStatus::Error
        } else if container.expired
            || now_ms().saturating_sub(container.created_at_ms)
                >= options.container_expiry_s.saturating_mul(1000)
        {
            ContainerStatus::Expired
        } else if container.reads <= options.in_progress_reads {
            ContainerStatus::InProgress
        } else {
            ContainerStatus::Finished
        }
    }

    /// Media `owner` published in the moving window ending now.
    fn published_in_window(&self, owner: &str) -> usize {
        let since = now_ms().saturating_sub(DAY_MS);
        self.media
            .iter()
            .filter(|m| m.owner == owner && m.created_at_ms > since)
            .count()
    }
}

/// The route of an Instagram request, or `None` when it is not one.
pub(crate) fn identify(method: &Method, path: &str, query: &str) -> Option<&'static str> {
    let get = method == Method::GET;
    let post = method == Method::POST;
    if let Some(rest) = path.strip_prefix("/instagram-www/oauth/") {
        return (rest == "authorize" && (get || post)).then_some("instagram.authorize");
    }
    if let Some(rest) = path.strip_prefix("/instagram-api/oauth/") {
        return (rest == "access_token" && post).then_some("instagram.token");
    }
    let rest = path.strip_prefix("/instagram-graph/")?;
    let rest = strip_version(rest);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        ["access_token"] if get => Some("instagram.exchange"),
        ["refresh_access_token"] if get => Some("instagram.refresh"),
        ["me"] if get => Some("instagram.me"),
        [_, "media"] if post => Some("instagram.media"),
        [_, "media_publish"] if post => Some("instagram.publish"),
        [_, "content_publishing_limit"] if get => Some("instagram.limit"),
        [_, "insights"] if get => Some("instagram.insights"),
        [_] if get => {
            let fields = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "fields")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            Some(if fields.split(',').any(|f| f == "status_code") {
                "instagram.container"
            } else {
                "instagram.permalink"
            })
        }
        _ => None,
    }
}

/// `v23.0/...` → `...`: Graph calls may name a version.
fn strip_version(path: &str) -> &str {
    match path.split_once('/') {
        Some((v, rest))
            if v.starts_with('v')
                && v.len() > 1
                && v[1..].chars().all(|c| c.is_ascii_digit() || c == '.') =>
        {
            rest
        }
        _ => path,
    }
}

/// The path's segments below the host (and version).
fn segments(call: &Call<'_>) -> Vec<String> {
    let path = call.req.path();
    let rest = path.strip_prefix("/instagram-graph/").unwrap_or(path);
    strip_version(rest)
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A Graph API error body ("Error Codes": `message`, `type`, `code`, `error_subcode`,
/// `fbtrace_id`; `is_transient` and the user title and message where Meta gives them).
fn graph_err(status: u16, code_: i64, subcode: Option<i64>, message: &str) -> HttpResponse {
    let mut error = json!({
        "message": message,
        "type": if code_ == 190 || code_ == 100 || code_ == 10 { "OAuthException" } else { "IGApiException" },
        "code": code_,
        "is_transient": matches!(code_, 1 | 2 | 4 | 17 | 32 | 613 | -1 | -2),
        "fbtrace_id": format!("A{:x}", hash(7, message) & 0xFFFF_FFFF_FFFF),
    });
    if let (Some(s), Some(o)) = (subcode, error.as_object_mut()) {
        o.insert("error_subcode".into(), json!(s));
    }
    HttpResponse::build(code(status)).json(json!({ "error": error }))
}

/// `api.instagram.com`'s OAuth error body (the code exchange answers in this older shape).
fn oauth_err(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "error_type": "OAuthException", "code": 400, "error_message": message
    }))
}

fn invalid_token() -> HttpResponse {
    graph_err(
        400,
        190,
        None,
        "Invalid OAuth access token - Cannot parse access token",
    )
}

/// Meta's rate-limit answers ("Rate Limiting"): code 4 is the app's limit, told by
/// `X-App-Usage`; code 17 (and 32, 613) an account's, told by `X-Business-Use-Case-Usage`
/// with the time to regain access in minutes.
fn limit_err(app: bool, user: &str) -> HttpResponse {
    let mut resp = if app {
        graph_err(400, 4, Some(1_349_193), "Application request limit reached")
    } else {
        graph_err(400, 17, Some(2_207_050), "User request limit reached")
    };
    let (name, value) = if app {
        (
            "x-app-usage",
            json!({"call_count": 100, "total_cputime": 31, "total_time": 42}).to_string(),
        )
    } else {
        (
            "x-business-use-case-usage",
            json!({ user: [{"type": "instagram", "call_count": 100, "total_cputime": 12,
                "total_time": 20, "estimated_time_to_regain_access": 5}] })
            .to_string(),
        )
    };
    if let Ok(v) = header::HeaderValue::from_str(&value) {
        resp.headers_mut()
            .insert(header::HeaderName::from_static(name), v);
    }
    resp
}

/// A fault's status in Instagram's shape.
pub(crate) fn fault(route: &str, status: u16) -> HttpResponse {
    if route == "instagram.authorize" || route == "instagram.token" {
        return HttpResponse::build(code(status)).json(json!({
            "error_type": "OAuthException", "code": status,
            "error_message": "The sandbox was asked to fail this call."
        }));
    }
    match status {
        401 => graph_err(
            401,
            190,
            Some(463),
            "Error validating access token: Session has expired",
        ),
        403 => graph_err(
            403,
            10,
            None,
            "Application does not have permission for this action",
        ),
        429 => limit_err(true, "0"),
        s if s >= 500 => graph_err(
            s,
            2,
            None,
            "An unexpected error has occurred. Please retry your request later.",
        ),
        s => graph_err(s, 100, None, "Invalid parameter"),
    }
}

/// Runs a route.
pub(crate) async fn serve(route: &str, call: &Call<'_>) -> HttpResponse {
    match route {
        "instagram.authorize" => authorize(call),
        "instagram.token" => token(call),
        "instagram.exchange" => exchange(call),
        "instagram.refresh" => refresh(call),
        _ => {
            let Some(user) = authenticate(call) else {
                return invalid_token();
            };
            let (user_id, scope) = match user {
                Ok(u) => u,
                Err(resp) => return resp,
            };
            match call.mode {
                Some("app_limit") => return limit_err(true, &user_id),
                Some("account_limit") => return limit_err(false, &user_id),
                Some("token_invalid") => {
                    return graph_err(
                        400,
                        190,
                        Some(460),
                        "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
                    );
                }
                _ => {}
            }
            match route {
                "instagram.me" => me(call, &user_id),
                "instagram.media" => create_container(call, &user_id, &scope).await,
                "instagram.container" => container_status(call, &user_id),
                "instagram.publish" => publish(call, &user_id, &scope),
                "instagram.limit" => publishing_limit(call, &user_id),
                "instagram.permalink" => media_fields(call, &user_id),
                "instagram.insights" => insights(call, &user_id, &scope),
                _ => HttpResponse::NotFound().finish(),
            }
        }
    }
}

/// Query, then form or JSON body parameters.
fn params(call: &Call<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        url::form_urlencoded::parse(call.req.query_string().as_bytes())
            .into_owned()
            .collect();
    if call.req.method() == Method::POST {
        let json_body = call
            .req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json_body {
            if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(call.body) {
                for (k, v) in o {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.push((k, v));
                }
            }
        } else {
            out.extend(url::form_urlencoded::parse(call.body).into_owned());
        }
    }
    out
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `GET /oauth/authorize` on www.instagram.com: the consent window (Allow / Cancel), or with
/// `auto=allow|cancel` the redirect at once. The account consenting is `account=` when
/// given (a numeric Instagram user id), else one derived from `state`. Allow redirects with
/// `code` and `state` (and the `#_` Instagram appends); Cancel with
/// `error=access_denied&error_reason=user_denied` ("Business Login for Instagram",
/// "Canceled authorization").
fn authorize(call: &Call<'_>) -> HttpResponse {
    let p = params(call);
    let opts = &call.shared.options;
    let ig = &opts.instagram;
    if param(&p, "client_id") != Some(ig.client_id.as_str()) {
        return oauth_err("Invalid platform app");
    }
    if param(&p, "response_type") != Some("code") {
        return oauth_err("Invalid response_type: must be code");
    }
    let Some(redirect) = param(&p, "redirect_uri").filter(|r| r.starts_with("http")) else {
        return oauth_err("Invalid redirect_uri");
    };
    let state = param(&p, "state").unwrap_or_default();
    let scope: Vec<String> = param(&p, "scope")
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(unknown) = scope.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return oauth_err(&format!("Invalid scope: {unknown}"));
    }
    if !scope.iter().any(|s| s == "instagram_business_basic") {
        return oauth_err("Invalid scope: instagram_business_basic is required");
    }
    let scope = scope.join(",");
    let account = param(&p, "account").map(str::to_owned).unwrap_or_else(|| {
        format!(
            "1784{:013}",
            hash(opts.seed, &format!("ig-account:{state}")) % 10_000_000_000_000
        )
    });
    let sep = if redirect.contains('?') { '&' } else { '?' };
    match param(&p, "decision").or_else(|| param(&p, "auto")) {
        Some("allow") => {
            let mut data = call.shared.lock();
            let n = data.instagram.next();
            let code = format!(
                "AQB{:x}{n}",
                hash(opts.seed, &format!("ig-code:{n}:{state}"))
            );
            data.instagram.codes.insert(
                code.clone(),
                AuthCode {
                    redirect_uri: redirect.to_owned(),
                    scope,
                    user_id: account,
                    used: false,
                },
            );
            let to = format!("{redirect}{sep}code={}&state={}#_", enc(&code), enc(state));
            HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .finish()
        }
        Some("cancel") => {
            let to = format!(
                "{redirect}{sep}error=access_denied&error_reason=user_denied&error_description={}&state={}#_",
                enc("The user denied your request."),
                enc(state)
            );
            HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .finish()
        }
        _ => {
            let hidden: String = p
                .iter()
                .filter(|(k, _)| k != "decision" && k != "auto")
                .map(|(k, v)| {
                    format!(
                        r#"<input type="hidden" name="{}" value="{}">"#,
                        escape_html(k),
                        escape_html(v)
                    )
                })
                .collect();
            let page = format!(
                r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Instagram (sandbox): allow access</title></head>
<body><main><h1>AstroGrowth would like to access your Instagram professional account</h1>
<p>It will be able to: {scope}.</p>
<form method="post" action="authorize">{hidden}<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></form></main></body></html>"#,
                scope = escape_html(&scope)
            );
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page)
        }
    }
}

fn new_token(
    state: &mut State,
    seed: u64,
    user_id: &str,
    scope: &str,
    long_lived: bool,
    expires_in_s: u64,
) -> String {
    let n = state.next();
    let token = format!(
        "IGAA{:x}{n}",
        hash(seed, &format!("ig-token:{n}:{user_id}:{long_lived}"))
    );
    let now = now_ms();
    state.tokens.insert(
        token.clone(),
        IgToken {
            user_id: user_id.to_owned(),
            scope: scope.to_owned(),
            long_lived,
            issued_at_ms: now,
            expires_at_ms: now + expires_in_s * 1000,
            revoked: false,
        },
    );
    token
}

/// `POST https://api.instagram.com/oauth/access_token`: a single-use code, for the same
/// redirect_uri and app, gives a short-lived token (1 h), the app-scoped user id and the
/// permissions granted. The answer is the shape Business Login documents (`data` holding
/// one grant).
fn token(call: &Call<'_>) -> HttpResponse {
    let p: Vec<(String, String)> = url::form_urlencoded::parse(call.body)
        .into_owned()
        .collect();
    let opts = &call.shared.options;
    let ig = &opts.instagram;
    if param(&p, "client_id") != Some(ig.client_id.as_str()) {
        return oauth_err("Invalid platform app");
    }
    if param(&p, "client_secret") != Some(ig.client_secret.as_str()) {
        return oauth_err("Error validating client secret.");
    }
    if param(&p, "grant_type") != Some("authorization_code") {
        return oauth_err("Invalid grant_type: must be authorization_code");
    }
    let redirect = param(&p, "redirect_uri").unwrap_or_default();
    let mut data = call.shared.lock();
    let state = &mut data.instagram;
    let (user_id, scope) = match param(&p, "code").and_then(|c| state.codes.get_mut(c)) {
        None => return oauth_err("Invalid authorization code"),
        Some(c) if c.used => return oauth_err("This authorization code has been used"),
        Some(c) if c.redirect_uri != redirect => {
            return oauth_err(
                "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
            );
        }
        Some(c) => {
            c.used = true;
            (c.user_id.clone(), c.scope.clone())
        }
    };
    let token = new_token(state, opts.seed, &user_id, &scope, false, SHORT_LIVED_S);
    HttpResponse::Ok().json(json!({"data": [{
        "access_token": token, "user_id": user_id, "permissions": scope
    }]}))
}

/// The token of a Graph call (`access_token` parameter or `Authorization: Bearer`).
fn bearer(call: &Call<'_>) -> Option<String> {
    param(&params(call), "access_token")
        .map(str::to_owned)
        .or_else(|| {
            call.req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned)
        })
}

/// The user and scopes of a valid token, or the Graph error for a missing, unknown,
/// revoked or expired one (code 190 with the subcodes Meta gives).
fn authenticate(call: &Call<'_>) -> Option<Result<(String, String), HttpResponse>> {
    let token = bearer(call)?;
    let data = call.shared.lock();
    let t = data.instagram.tokens.get(&token)?;
    Some(if t.revoked {
        Err(graph_err(
            400,
            190,
            Some(458),
            "Error validating access token: The user has not authorized application.",
        ))
    } else if t.expires_at_ms <= now_ms() {
        Err(graph_err(
            400,
            190,
            Some(463),
            "Error validating access token: Session has expired.",
        ))
    } else {
        Ok((t.user_id.clone(), t.scope.clone()))
    })
}

/// `GET graph.instagram.com/access_token?grant_type=ig_exchange_token`: a valid short-lived
/// token and the app secret give a long-lived token (60 days).
fn exchange(call: &Call<'_>) -> HttpResponse {
    let p = params(call);
    let opts = &call.shared.options;
    if param(&p, "grant_type") != Some("ig_exchange_token") {
        return graph_err(
            400,
            100,
            None,
            "Unsupported grant_type: must be ig_exchange_token",
        );
    }
    if param(&p, "client_secret") != Some(opts.instagram.client_secret.as_str()) {
        return graph_err(400, 101, None, "Error validating client secret.");
    }
    let user = match authenticate(call) {
        None => return invalid_token(),
        Some(Err(e)) => return e,
        Some(Ok(u)) => u,
    };
    let mut data = call.shared.lock();
    let state = &mut data.instagram;
    let short = bearer(call)
        .and_then(|t| state.tokens.get(&t))
        .is_some_and(|t| !t.long_lived);
    if !short {
        return graph_err(
            400,
            100,
            None,
            "The access token is already long-lived; refresh it instead",
        );
    }
    let expires_in = opts.instagram.long_lived_expires_in_s;
    let token = new_token(state, opts.seed, &user.0, &user.1, true, expires_in);
    HttpResponse::Ok().json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": expires_in
    }))
}

/// `GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token`: a valid
/// long-lived token at least 24 h old gives a new one valid 60 days from now.
fn refresh(call: &Call<'_>) -> HttpResponse {
    let p = params(call);
    let opts = &call.shared.options;
    if param(&p, "grant_type") != Some("ig_refresh_token") {
        return graph_err(
            400,
            100,
            None,
            "Unsupported grant_type: must be ig_refresh_token",
        );
    }
    let user = match authenticate(call) {
        None => return invalid_token(),
        Some(Err(e)) => return e,
        Some(Ok(u)) => u,
    };
    let mut data = call.shared.lock();
    let state = &mut data.instagram;
    let Some(old) = bearer(call).and_then(|t| state.tokens.get(&t)) else {
        return invalid_token();
    };
    if !old.long_lived {
        return graph_err(
            400,
            100,
            None,
            "Only long-lived access tokens can be refreshed",
        );
    }
    if now_ms().saturating_sub(old.issued_at_ms) < opts.instagram.refresh_min_age_s * 1000 {
        return graph_err(
            400,
            100,
            None,
            "The access token is less than 24 hours old and cannot be refreshed yet",
        );
    }
    let expires_in = opts.instagram.long_lived_expires_in_s;
    let token = new_token(state, opts.seed, &user.0, &user.1, true, expires_in);
    HttpResponse::Ok().json(json!({
        "access_token": token, "token_type": "bearer", "expires_in": expires_in
    }))
}

fn has_scope(scope: &str, want: &str) -> bool {
    scope.split([',', ' ']).any(|s| s == want)
}

fn username(user_id: &str) -> String {
    let tail: Vec<char> = user_id.chars().rev().take(6).collect();
    format!("sandbox_{}", tail.into_iter().rev().collect::<String>())
}

/// `GET /me?fields=user_id,username`.
fn me(_: &Call<'_>, user_id: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "id": user_id, "user_id": user_id, "username": username(user_id),
        "account_type": "BUSINESS"
    }))
}

/// The object `{id}` names must be the token's own user: Graph's answer otherwise.
fn not_own(id: &str) -> HttpResponse {
    graph_err(
        400,
        100,
        Some(33),
        &format!(
            "Unsupported post request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
        ),
    )
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default()
    })
}

/// Width and height of a baseline or progressive JPEG, from its first SOF segment; `None`
/// when the bytes are not a JPEG.
pub(crate) fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return None;
    }
    let mut i = 2;
    while i + 3 < bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if sof {
            let s = bytes.get(i + 5..i + 9)?;
            let h = u32::from(u16::from_be_bytes([s[0], s[1]]));
            let w = u32::from(u16::from_be_bytes([s[2], s[3]]));
            return (w > 0 && h > 0).then_some((w, h));
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

/// Why Instagram cannot use what `image_url` answers, as its error.
async fn fetch_image(url: &str) -> Result<(), HttpResponse> {
    let unusable = |why: &str| {
        graph_err(
            400,
            9004,
            Some(2_207_052),
            &format!(
                "The media could not be fetched from this uri: {why}. Only photo or video can be accepted as media type."
            ),
        )
    };
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(unusable("not an http(s) URL"));
    }
    let resp = match http().get(url).send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return Err(graph_err(
                400,
                -2,
                Some(2_207_003),
                "It takes too long to download the media.",
            ));
        }
        Err(_) => return Err(unusable("unreachable")),
    };
    if !resp.status().is_success() {
        return Err(unusable(&format!("answered {}", resp.status().as_u16())));
    }
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(_) => return Err(unusable("the download broke off")),
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(graph_err(
            400,
            36_000,
            Some(2_207_004),
            "The image size is too large. It should be less than 8 MiB.",
        ));
    }
    let Some((w, h)) = jpeg_size(&bytes) else {
        return Err(unusable("not a JPEG image"));
    };
    let ratio = f64::from(w) / f64::from(h);
    if !(MIN_ASPECT - 1e-3..=MAX_ASPECT + 1e-3).contains(&ratio) {
        return Err(graph_err(
            400,
            36_003,
            Some(2_207_009),
            &format!(
                "The submitted image with aspect ratio ('{w}:{h}') cannot be published. Please submit an image with a valid aspect ratio."
            ),
        ));
    }
    Ok(())
}

/// `POST /{ig-user-id}/media` with `image_url`, `caption`, `alt_text`: downloads the image
/// now, as Instagram does, and answers the container id.
async fn create_container(call: &Call<'_>, user_id: &str, scope: &str) -> HttpResponse {
    let segs = segments(call);
    let target = segs.first().cloned().unwrap_or_default();
    if target != user_id && target != "me" {
        return not_own(&target);
    }
    if !has_scope(scope, "instagram_business_content_publish") {
        return graph_err(
            403,
            10,
            None,
            "Application does not have permission for this action",
        );
    }
    let p = params(call);
    let Some(image_url) = param(&p, "image_url").map(str::to_owned) else {
        return graph_err(400, 100, None, "The parameter image_url is required");
    };
    let caption = param(&p, "caption").unwrap_or_default().to_owned();
    if caption.chars().count() > MAX_CAPTION_CHARS {
        return graph_err(
            400,
            100,
            Some(2_207_018),
            "The caption is longer than 2,200 characters.",
        );
    }
    let hashtags = caption
        .split(|c: char| c.is_whitespace())
        .filter(|w| w.starts_with('#') && w.len() > 1)
        .count();
    if hashtags > MAX_HASHTAGS {
        return graph_err(
            400,
            100,
            Some(2_207_018),
            "The caption has more than 30 hashtags.",
        );
    }
    let alt_text = param(&p, "alt_text").map(str::to_owned);
    if let Err(resp) = fetch_image(&image_url).await {
        return resp;
    }
    let opts = &call.shared.options;
    let mut data = call.shared.lock();
    let id = data.instagram.id(opts.seed, call.shared.run, "container");
    data.instagram.containers.insert(
        id.clone(),
        Container {
            owner: user_id.to_owned(),
            created_at_ms: now_ms(),
            reads: 0,
            error: call.mode == Some("error"),
            expired: false,
            media_id: None,
            caption,
            image_url,
            alt_text,
        },
    );
    HttpResponse::Ok().json(json!({ "id": id }))
}

/// `GET /{container-id}?fields=status_code[,status]`.
fn container_status(call: &Call<'_>, user_id: &str) -> HttpResponse {
    let id = segments(call).first().cloned().unwrap_or_default();
    let opts = &call.shared.options.instagram;
    let mut data = call.shared.lock();
    let state = &mut data.instagram;
    let Some(c) = state.containers.get_mut(&id) else {
        return not_own(&id);
    };
    if c.owner != user_id {
        return not_own(&id);
    }
    match call.mode {
        Some("error") => c.error = true,
        Some("expired") => c.expired = true,
        _ => {}
    }
    c.reads += 1;
    let Some(c) = state.containers.get(&id) else {
        return not_own(&id);
    };
    let status = state.status(c, opts);
    let detail = match status {
        ContainerStatus::Error => "Error: 2207001",
        ContainerStatus::Expired => "Expired: 2207020",
        ContainerStatus::InProgress => "In Progress",
        ContainerStatus::Finished => {
            "Finished: Media has been uploaded and it is ready to be published."
        }
        ContainerStatus::Published => "Published",
    };
    HttpResponse::Ok().json(json!({"status_code": status, "status": detail, "id": id}))
}

/// `POST /{ig-user-id}/media_publish` with `creation_id`: publishes a FINISHED container of
/// the account's, within the moving 24 h window's limit.
fn publish(call: &Call<'_>, user_id: &str, scope: &str) -> HttpResponse {
    let segs = segments(call);
    let target = segs.first().cloned().unwrap_or_default();
    if target != user_id && target != "me" {
        return not_own(&target);
    }
    if !has_scope(scope, "instagram_business_content_publish") {
        return graph_err(
            403,
            10,
            None,
            "Application does not have permission for this action",
        );
    }
    let p = params(call);
    let Some(creation_id) = param(&p, "creation_id").map(str::to_owned) else {
        return graph_err(400, 100, None, "The parameter creation_id is required");
    };
    let options = &call.shared.options;
    let opts = &options.instagram;
    let limit_reached = |_: ()| {
        graph_err(
            400,
            9,
            Some(2_207_042),
            "You reached maximum number of posts that is allowed to be published by Content Publishing API.",
        )
    };
    if call.mode == Some("publish_limit") {
        return limit_reached(());
    }
    let mut data = call.shared.lock();
    let state = &mut data.instagram;
    let Some(c) = state.containers.get(&creation_id) else {
        return not_own(&creation_id);
    };
    if c.owner != user_id {
        return not_own(&creation_id);
    }
    match state.status(c, opts) {
        ContainerStatus::Finished => {}
        ContainerStatus::InProgress => {
            return graph_err(
                400,
                9007,
                Some(2_207_027),
                "Media ID is not available: the media is not ready for publishing, please wait for a moment.",
            );
        }
        ContainerStatus::Expired => {
            return graph_err(
                400,
                -2,
                Some(2_207_020),
                "The media you are trying to access has expired. Please try to upload again.",
            );
        }
        ContainerStatus::Error => {
            return graph_err(
                400,
                -1,
                Some(2_207_032),
                "Create media fail, please try to re-create media",
            );
        }
        ContainerStatus::Published => {
            return graph_err(
                400,
                100,
                None,
                &format!("The container {creation_id} has already been published"),
            );
        }
    }
    if state.published_in_window(user_id) >= opts.publish_limit as usize {
        return limit_reached(());
    }
    let media_id = state.id(options.seed, call.shared.run, "media");
    let shortcode = format!(
        "C{:x}",
        hash(options.seed, &format!("shortcode:{media_id}")) & 0xFF_FFFF_FFFF
    );
    let (caption, alt_text, image_url) = {
        let Some(c) = state.containers.get_mut(&creation_id) else {
            return not_own(&creation_id);
        };
        c.media_id = Some(media_id.clone());
        (c.caption.clone(), c.alt_text.clone(), c.image_url.clone())
    };
    state.media.push(Media {
        id: media_id.clone(),
        owner: user_id.to_owned(),
        container: creation_id,
        caption,
        alt_text,
        image_url,
        permalink: format!("https://www.instagram.com/p/{shortcode}/"),
        created_at_ms: now_ms(),
    });
    HttpResponse::Ok().json(json!({ "id": media_id }))
}

/// `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config[&since=]`.
fn publishing_limit(call: &Call<'_>, user_id: &str) -> HttpResponse {
    let target = segments(call).first().cloned().unwrap_or_default();
    if target != user_id && target != "me" {
        return not_own(&target);
    }
    let opts = &call.shared.options.instagram;
    let data = call.shared.lock();
    let usage = data.instagram.published_in_window(user_id);
    let fields = param(&params(call), "fields")
        .unwrap_or("quota_usage")
        .to_owned();
    let mut entry = json!({"quota_usage": usage});
    if fields.split(',').any(|f| f == "config")
        && let Some(o) = entry.as_object_mut()
    {
        o.insert(
            "config".into(),
            json!({"quota_total": opts.publish_limit, "quota_duration": 86_400}),
        );
    }
    HttpResponse::Ok().json(json!({ "data": [entry] }))
}

/// `GET /{media-id}?fields=id,permalink,timestamp,...`.
fn media_fields(call: &Call<'_>, user_id: &str) -> HttpResponse {
    let id = segments(call).first().cloned().unwrap_or_default();
    let data = call.shared.lock();
    let Some(m) = data
        .instagram
        .media
        .iter()
        .find(|m| m.id == id && m.owner == user_id)
    else {
        return not_own(&id);
    };
    let ts = chrono_like(m.created_at_ms);
    HttpResponse::Ok().json(json!({
        "id": m.id, "permalink": m.permalink, "timestamp": ts,
        "media_type": "IMAGE", "caption": m.caption, "username": username(user_id)
    }))
}

/// `2026-12-07T21:00:00+0000`, Instagram's timestamp format, without a date library.
fn chrono_like(ms: u64) -> String {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `GET /{media-id}/insights?metric=likes,comments,reach,views,...`: lifetime totals that
/// grow with the post's age; needs `instagram_business_manage_insights`.
fn insights(call: &Call<'_>, user_id: &str, scope: &str) -> HttpResponse {
    if !has_scope(scope, "instagram_business_manage_insights") {
        return graph_err(
            403,
            10,
            None,
            "(#10) Application does not have permission for this action",
        );
    }
    let id = segments(call).first().cloned().unwrap_or_default();
    let data = call.shared.lock();
    let Some(m) = data
        .instagram
        .media
        .iter()
        .find(|m| m.id == id && m.owner == user_id)
    else {
        return not_own(&id);
    };
    const KNOWN: [&str; 7] = [
        "likes",
        "comments",
        "reach",
        "views",
        "saved",
        "shares",
        "total_interactions",
    ];
    let metrics = param(&params(call), "metric")
        .unwrap_or_default()
        .to_owned();
    let wanted: Vec<&str> = metrics.split(',').filter(|s| !s.is_empty()).collect();
    if wanted.is_empty() {
        return graph_err(400, 100, None, "The parameter metric is required");
    }
    if let Some(bad) = wanted.iter().find(|w| !KNOWN.contains(w)) {
        return graph_err(
            400,
            100,
            Some(2_108_006),
            &format!("(#100) metric[0] must be one of the following values: {KNOWN:?}; not {bad}"),
        );
    }
    let age_min = (now_ms().saturating_sub(m.created_at_ms)) / 60_000 + 1;
    let seed = call.shared.options.seed;
    let out: Vec<Value> = wanted
        .iter()
        .map(|name| {
            let scale = match *name {
                "views" => 30,
                "reach" => 20,
                "likes" => 3,
                _ => 1,
            };
            let base = hash(seed, &format!("{id}:{name}")) % 10 + 1;
            let value = base * scale + age_min.min(10_000) * scale / 4;
            json!({
                "name": name, "period": "lifetime", "values": [{"value": value}],
                "title": name, "description": format!("The number of {name} on the post."),
                "id": format!("{id}/insights/{name}/lifetime")
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "data": out }))
}

/// `/_sandbox/instagram/...`: the published media, and expiring or revoking an account's
/// tokens.
pub(crate) fn control(
    method: &Method,
    path: &str,
    body: &[u8],
    shared: &crate::state::Shared,
) -> HttpResponse {
    match (method.clone(), path) {
        (Method::GET, "/_sandbox/instagram/media") => {
            HttpResponse::Ok().json(&shared.lock().instagram.media)
        }
        (Method::POST, "/_sandbox/instagram/tokens/expire")
        | (Method::POST, "/_sandbox/instagram/tokens/revoke") => {
            let Some(user) = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("user_id").and_then(Value::as_str).map(str::to_owned))
            else {
                return HttpResponse::BadRequest()
                    .json(json!({"error": "expected {\"user_id\": \"<instagram user id>\"}"}));
            };
            let revoke = path.ends_with("revoke");
            let mut data = shared.lock();
            let mut n = 0;
            for t in data
                .instagram
                .tokens
                .values_mut()
                .filter(|t| t.user_id == user)
            {
                if revoke {
                    t.revoked = true;
                } else {
                    t.expires_at_ms = now_ms().saturating_sub(1);
                }
                n += 1;
            }
            let key = if revoke { "revoked" } else { "expired" };
            HttpResponse::Ok().json(json!({ key: n }))
        }
        (m, p) => HttpResponse::NotFound().json(json!({
            "error": format!("no control route {m} {p}")
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_optional_in_graph_paths() {
        let get = Method::GET;
        assert_eq!(
            identify(&get, "/instagram-graph/v23.0/178/insights", ""),
            Some("instagram.insights")
        );
        assert_eq!(
            identify(&get, "/instagram-graph/178", "fields=status_code"),
            Some("instagram.container")
        );
        assert_eq!(
            identify(&get, "/instagram-graph/178", "fields=id,permalink"),
            Some("instagram.permalink")
        );
        assert_eq!(
            identify(
                &Method::POST,
                "/instagram-graph/v23.0/178/media_publish",
                ""
            ),
            Some("instagram.publish")
        );
        assert_eq!(identify(&Method::DELETE, "/instagram-graph/178", ""), None);
    }

    #[test]
    fn timestamps_are_instagrams_format() {
        assert_eq!(chrono_like(0), "1970-01-01T00:00:00+0000");
        assert_eq!(chrono_like(1_796_677_200_000), "2026-12-07T21:00:00+0000");
    }

    #[test]
    fn jpeg_sizes_come_from_the_sof_segment() {
        // SOI, an APP0 of 4 bytes, SOF0 with height 2 and width 3.
        let bytes = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00,
            0x02, 0x00, 0x03, 0x03,
        ];
        assert_eq!(jpeg_size(&bytes), Some((3, 2)));
        assert_eq!(jpeg_size(b"\x89PNG\r\n\x1a\n"), None);
    }
}
