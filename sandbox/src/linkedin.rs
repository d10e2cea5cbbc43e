//! LinkedIn: the OAuth consent page and token endpoint, userinfo, and the versioned REST
//! API (images, posts, member post analytics) with LinkedIn's error bodies, tokens that
//! expire or are revoked, duplicate-post detection and daily limits.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde_json::{Value, json};

use crate::call::{Call, code, query};
use crate::fixtures::hash;
use crate::state::{Code, Data, Image, Post, Token, now_ms};

const DAY_MS: u64 = 24 * 3600 * 1000;

fn err(status: u16, service_code: u32, code_name: &str, message: &str) -> HttpResponse {
    HttpResponse::build(code(status)).json(json!({
        "status": status, "serviceErrorCode": service_code, "code": code_name, "message": message
    }))
}

fn oauth_err(status: u16, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(code(status))
        .json(json!({"error": error, "error_description": description}))
}

/// A fault's status in LinkedIn's shape (OAuth routes: the OAuth shape).
pub(crate) fn fault(route: &str, status: u16, retry_after_s: Option<f64>) -> HttpResponse {
    if route == "linkedin.authorize" || route == "linkedin.token" {
        return oauth_err(
            status,
            "server_error",
            "The sandbox was asked to fail this call.",
        );
    }
    let mut resp = match status {
        401 => err(401, 65_600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
        403 => err(
            403,
            100,
            "ACCESS_DENIED",
            "Not enough permissions to access: partnerApiPostsExternal.CREATE.20261101",
        ),
        429 => err(
            429,
            101,
            "TOO_MANY_REQUESTS",
            "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
        ),
        s => err(s, 0, "SERVER_ERROR", "Internal Server Error"),
    };
    if let Some(s) = retry_after_s
        && let Ok(v) = header::HeaderValue::from_str(&format!("{}", s.ceil()))
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

pub(crate) fn serve(route: &str, call: &Call<'_>) -> HttpResponse {
    match route {
        "linkedin.authorize" => authorize(call),
        "linkedin.token" => token(call),
        "linkedin.userinfo" => with_member(call, false, userinfo),
        "linkedin.images.init" => with_member(call, true, init_upload),
        "linkedin.images.upload" => with_member(call, false, upload),
        "linkedin.images.get" => with_member(call, true, image_status),
        "linkedin.posts" => with_member(call, true, create_post),
        "linkedin.analytics" => with_member(call, true, analytics),
        "linkedin.media" => media(call),
        _ => HttpResponse::NotFound().finish(),
    }
}

fn params(call: &Call<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        url::form_urlencoded::parse(call.req.query_string().as_bytes())
            .into_owned()
            .collect();
    if call.req.method() == actix_web::http::Method::POST {
        out.extend(url::form_urlencoded::parse(call.body).into_owned());
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

/// `GET /oauth/v2/authorization`: the consent page (Allow / Cancel), or with
/// `auto=allow` / `auto=cancel` the redirect at once. The member consenting is `member=`
/// when given, else one derived from `state` (each connect is then a fresh member).
/// The page's buttons post back here with `decision=allow|cancel`.
fn authorize(call: &Call<'_>) -> HttpResponse {
    let p = params(call);
    let opts = &call.shared.options;
    if param(&p, "client_id") != Some(opts.linkedin_client_id.as_str()) {
        return oauth_err(
            400,
            "invalid_client_id",
            "The passed in client_id is invalid",
        );
    }
    if param(&p, "response_type") != Some("code") {
        return oauth_err(400, "invalid_request", "response_type must be code");
    }
    let Some(redirect) = param(&p, "redirect_uri").filter(|r| r.starts_with("http")) else {
        return oauth_err(400, "invalid_request", "A valid redirect_uri is required");
    };
    let state = param(&p, "state").unwrap_or_default();
    let scope = param(&p, "scope")
        .unwrap_or("openid profile")
        .replace(',', " ");
    let member = param(&p, "member").map(str::to_owned).unwrap_or_else(|| {
        format!(
            "m{:08x}",
            hash(opts.seed, &format!("member:{state}")) & 0xFFFF_FFFF
        )
    });
    let decision = param(&p, "decision").or_else(|| param(&p, "auto"));
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // A scope none of the app's products gives: LinkedIn sends the browser straight back,
    // before any consent page, with `unauthorized_scope_error` ("Authorization Code Flow
    // (3-legged OAuth)", learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow).
    if let Some(refused) = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .find(|s| !product_allows(&opts.linkedin_products, s))
    {
        let to = format!(
            "{redirect}{sep}error=unauthorized_scope_error&error_description={}&state={}",
            enc(&format!(
                "Scope \"{refused}\" is not authorized for your application"
            )),
            enc(state)
        );
        return HttpResponse::Found()
            .insert_header((header::LOCATION, to))
            .finish();
    }
    match decision {
        Some("allow") => {
            let mut data = call.shared.lock();
            let n = data.next();
            let code = format!("AQT{:x}{n}", hash(opts.seed, &format!("code:{n}:{state}")));
            data.codes.insert(
                code.clone(),
                Code {
                    redirect_uri: redirect.to_owned(),
                    scope,
                    member,
                    used: false,
                },
            );
            let to = format!("{redirect}{sep}code={}&state={}", enc(&code), enc(state));
            HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .finish()
        }
        Some("cancel") => {
            let to = format!(
                "{redirect}{sep}error=user_cancelled_authorize&error_description={}&state={}",
                enc("The user cancelled the authorization"),
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
                r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LinkedIn (sandbox): allow access</title></head>
<body><main><h1>AstroGrowth would like to access your LinkedIn account</h1>
<p>It will be able to: {scope}.</p>
<form method="post" action="authorization">{hidden}<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></form></main></body></html>"#,
                scope = escape_html(&scope)
            );
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page)
        }
    }
}

/// Whether one of the app's approved products gives `scope`.
fn product_allows(products: &[String], scope: &str) -> bool {
    crate::LINKEDIN_PRODUCTS
        .iter()
        .filter(|(name, _)| products.iter().any(|p| p.eq_ignore_ascii_case(name)))
        .any(|(_, scopes)| scopes.contains(&scope))
}

fn issue(data: &mut Data, opts: &crate::Options, member: &str, scope: &str) -> Value {
    let n = data.next();
    let access = format!(
        "AQV{:x}{n}",
        hash(opts.seed, &format!("access:{n}:{member}"))
    );
    data.tokens.insert(
        access.clone(),
        Token {
            member: member.to_owned(),
            scope: scope.to_owned(),
            expires_at_ms: now_ms() + opts.token_expires_in_s * 1000,
            revoked: false,
        },
    );
    let mut out = json!({
        "access_token": access,
        "expires_in": opts.token_expires_in_s,
        "scope": scope.replace(' ', ","),
        "token_type": "Bearer",
        "id_token": format!("eyJhbGciOiJSUzI1NiJ9.{member}.sandbox"),
    });
    if opts.refresh_tokens {
        let refresh = format!(
            "AQX{:x}{n}",
            hash(opts.seed, &format!("refresh:{n}:{member}"))
        );
        data.refresh
            .insert(refresh.clone(), (member.to_owned(), scope.to_owned()));
        if let Some(o) = out.as_object_mut() {
            o.insert("refresh_token".into(), json!(refresh));
            o.insert("refresh_token_expires_in".into(), json!(31_536_000));
        }
    }
    out
}

/// `POST /oauth/v2/accessToken`: authorization_code (single-use codes, the same
/// redirect_uri) and refresh_token grants ("Authorization Code Flow (3-legged OAuth)",
/// learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow). An unknown
/// client (id or secret) is `invalid_client` (401) whatever the code; a known client with a
/// code that was never issued, was used, or was issued for another redirect_uri is
/// `invalid_grant` (400, RFC 6749 section 5.2), so a caller can tell "our app is known"
/// from "our app is not" with a made-up code.
fn token(call: &Call<'_>) -> HttpResponse {
    let p: Vec<(String, String)> = url::form_urlencoded::parse(call.body)
        .into_owned()
        .collect();
    let opts = &call.shared.options;
    if param(&p, "client_id") != Some(opts.linkedin_client_id.as_str())
        || param(&p, "client_secret") != Some(opts.linkedin_client_secret.as_str())
    {
        return oauth_err(401, "invalid_client", "Client authentication failed");
    }
    let mut data = call.shared.lock();
    match param(&p, "grant_type") {
        Some("authorization_code") => {
            let Some(code) = param(&p, "code") else {
                return oauth_err(
                    400,
                    "invalid_request",
                    "A required parameter \"code\" is missing",
                );
            };
            let redirect = param(&p, "redirect_uri").unwrap_or_default();
            let (member, scope) = match data.codes.get_mut(code) {
                None => {
                    return oauth_err(
                        400,
                        "invalid_grant",
                        "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired.",
                    );
                }
                Some(c) if c.used => {
                    return oauth_err(
                        400,
                        "invalid_grant",
                        "Unable to retrieve access token: authorization code has already been used",
                    );
                }
                Some(c) if c.redirect_uri != redirect => {
                    return oauth_err(
                        400,
                        "invalid_grant",
                        "Unable to retrieve access token: redirect_uri does not match the authorization code",
                    );
                }
                Some(c) => {
                    c.used = true;
                    (c.member.clone(), c.scope.clone())
                }
            };
            let body = issue(&mut data, opts, &member, &scope);
            HttpResponse::Ok().json(body)
        }
        Some("refresh_token") if opts.refresh_tokens => {
            let Some((member, scope)) =
                param(&p, "refresh_token").and_then(|r| data.refresh.get(r).cloned())
            else {
                return oauth_err(
                    400,
                    "invalid_grant",
                    "The provided refresh token is invalid",
                );
            };
            let body = issue(&mut data, opts, &member, &scope);
            HttpResponse::Ok().json(body)
        }
        _ => oauth_err(
            400,
            "unsupported_grant_type",
            "The grant type is not supported",
        ),
    }
}

/// The member and scopes behind the request's Bearer token, with the `/rest` header checks
/// when `rest`; or LinkedIn's 400/401/426 answer.
fn with_member(
    call: &Call<'_>,
    rest: bool,
    f: impl FnOnce(&Call<'_>, &str, &str) -> HttpResponse,
) -> HttpResponse {
    if rest {
        let h = |n: &str| call.req.headers().get(n).and_then(|v| v.to_str().ok());
        match h("linkedin-version") {
            None => {
                return err(
                    400,
                    0,
                    "VERSION_MISSING",
                    "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                );
            }
            Some(v)
                if v.parse::<u32>()
                    .is_ok_and(|v| call.shared.options.linkedin_versions.contains(&v)) => {}
            // LinkedIn's answer for a version it does not serve (retired, or never released):
            // "Versioning", learn.microsoft.com/linkedin/marketing/versioning.
            Some(v) => {
                return err(
                    426,
                    0,
                    "NONEXISTENT_VERSION",
                    &format!("Requested version {v} is not active"),
                );
            }
        }
        if h("x-restli-protocol-version") != Some("2.0.0") {
            return err(
                400,
                0,
                "PROTOCOL_VERSION_MISSING",
                "X-Restli-Protocol-Version: 2.0.0 is required",
            );
        }
    }
    let bearer = call
        .req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let found = {
        let data = call.shared.lock();
        bearer.as_deref().and_then(|b| data.tokens.get(b)).map(|t| {
            (
                t.member.clone(),
                t.scope.clone(),
                t.revoked,
                t.expires_at_ms,
            )
        })
    };
    match found {
        None => err(401, 65_600, "INVALID_ACCESS_TOKEN", "Invalid access token"),
        Some((_, _, true, _)) => err(
            401,
            65_601,
            "REVOKED_ACCESS_TOKEN",
            "The token used in the request has been revoked by the user",
        ),
        Some((_, _, _, exp)) if exp <= now_ms() => err(
            401,
            65_602,
            "EXPIRED_ACCESS_TOKEN",
            "The token used in the request has expired",
        ),
        Some((member, scope, ..)) => f(call, &member, &scope),
    }
}

fn has_scope(scope: &str, want: &str) -> bool {
    scope.split([' ', ',']).any(|s| s == want)
}

/// Invented members' names: a person's, as LinkedIn's userinfo gives it, so a page that
/// shows "publishing as" is seen with a real-looking name (and an accent, a long one).
const GIVEN: [&str; 6] = [
    "Claire",
    "Julien",
    "Amélie",
    "Karim",
    "Sofia",
    "Jean-Baptiste",
];
const FAMILY: [&str; 6] = [
    "Martin",
    "Moreau",
    "Dubois",
    "Haddad",
    "Rossi",
    "de La Fontaine",
];

/// `GET /v2/userinfo` as LinkedIn answers it ("Sign In with LinkedIn using OpenID
/// Connect"): `sub`, `name`, `given_name`, `family_name`, `picture` (a media URL that
/// expires, `e=`), `locale`, `email`, `email_verified`. The picture is served here.
fn userinfo(call: &Call<'_>, member: &str, _: &str) -> HttpResponse {
    let h = hash(call.shared.options.seed, member);
    let given = GIVEN[usize::try_from(h % 6).unwrap_or(0)];
    let family = FAMILY[usize::try_from((h >> 8) % 6).unwrap_or(0)];
    let expires = now_ms() / 1000 + 60 * 86_400;
    HttpResponse::Ok().json(json!({
        "sub": member, "name": format!("{given} {family}"), "given_name": given, "family_name": family,
        "picture": format!(
            "{}/linkedin-media/dms/image/{member}/profile-displayphoto-shrink_100_100/0/?e={expires}&v=beta",
            call.base
        ),
        "email": format!("{member}@members.example.com"),
        "email_verified": true, "locale": {"country": "CA", "language": "en"}
    }))
}

/// A member's profile photo (`/linkedin-media/dms/image/{member}/…`), a small PNG of the
/// member's own colours; no token needed, as on LinkedIn's media host.
fn media(call: &Call<'_>) -> HttpResponse {
    let path = call.req.path();
    let member = path
        .strip_prefix("/linkedin-media/dms/image/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    if member.is_empty() {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("image/png")
        .body(crate::png::image(
            hash(call.shared.options.seed, member),
            100,
        ))
}

fn init_upload(call: &Call<'_>, member: &str, scope: &str) -> HttpResponse {
    if query(call, "action").as_deref() != Some("initializeUpload") {
        return err(
            400,
            0,
            "ILLEGAL_ARGUMENT",
            "action=initializeUpload is required",
        );
    }
    if !has_scope(scope, "w_member_social") {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "Not enough permissions to access: images.CREATE",
        );
    }
    let body: Value = serde_json::from_slice(call.body).unwrap_or(Value::Null);
    let Some(owner) = body
        .pointer("/initializeUploadRequest/owner")
        .and_then(Value::as_str)
    else {
        return err(
            400,
            0,
            "FIELD_MISSING",
            "/initializeUploadRequest/owner is required",
        );
    };
    if owner != format!("urn:li:person:{member}") {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "The owner must be the authenticated member",
        );
    }
    let mut data = call.shared.lock();
    data.images_made += 1;
    let id = format!(
        "C4E10AQ{:x}{}",
        hash(
            call.shared.options.seed,
            &format!("image:{}", call.shared.run)
        ) & 0xFFFF_FFFF_FFFF,
        data.images_made
    );
    let urn = format!("urn:li:image:{id}");
    data.images.insert(
        urn.clone(),
        Image {
            owner: owner.to_owned(),
            uploaded: false,
            status_reads: 0,
        },
    );
    HttpResponse::Ok().json(json!({"value": {
        "uploadUrlExpiresAt": now_ms() + 3_600_000,
        "uploadUrl": format!("{}/linkedin-api/mediaUpload/{id}", call.base),
        "image": urn,
    }}))
}

fn upload(call: &Call<'_>, member: &str, _: &str) -> HttpResponse {
    let id = call
        .req
        .path()
        .trim_start_matches("/linkedin-api/mediaUpload/");
    let urn = format!("urn:li:image:{id}");
    let mut data = call.shared.lock();
    let Some(image) = data.images.get_mut(&urn) else {
        return err(
            404,
            0,
            "NOT_FOUND",
            "No upload was initialized for this URL",
        );
    };
    if image.owner != format!("urn:li:person:{member}") {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "This upload belongs to another member",
        );
    }
    if call.body.is_empty() {
        return err(400, 0, "EMPTY_BODY", "The upload has no bytes");
    }
    image.uploaded = true;
    HttpResponse::Created().finish()
}

fn image_status(call: &Call<'_>, _: &str, _: &str) -> HttpResponse {
    if call.shared.options.linkedin_image_status_forbidden {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "Not enough permissions to access: images.GET.NO_VERSION",
        );
    }
    let raw = call
        .req
        .path()
        .trim_start_matches("/linkedin-api/rest/images/");
    let urn: String = url::form_urlencoded::parse(format!("u={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut data = call.shared.lock();
    let Some(image) = data.images.get_mut(&urn) else {
        return err(404, 0, "NOT_FOUND", &format!("Image {urn} does not exist"));
    };
    // Processing on the first read after the upload, available from the second on.
    let status = if !image.uploaded {
        "WAITING_UPLOAD"
    } else {
        image.status_reads += 1;
        if image.status_reads == 1 {
            "PROCESSING"
        } else {
            "AVAILABLE"
        }
    };
    HttpResponse::Ok().json(json!({"id": urn, "status": status, "owner": image.owner}))
}

/// LinkedIn cuts `commentary` at the first unescaped little-text reserved character
/// (`#` is a hashtag when a word character follows it) and stores escapes decoded.
pub(crate) fn little_text(commentary: &str) -> String {
    const RESERVED: &[char] = &[
        '\\', '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '*', '_', '~',
    ];
    let mut out = String::new();
    let mut chars = commentary.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) => out.push(n),
                None => break,
            }
        } else if c == '#' && chars.peek().is_some_and(|n| n.is_alphanumeric()) {
            out.push(c);
        } else if RESERVED.contains(&c) {
            break;
        } else {
            out.push(c);
        }
    }
    out
}

fn create_post(call: &Call<'_>, member: &str, scope: &str) -> HttpResponse {
    if !has_scope(scope, "w_member_social") {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "Not enough permissions to access: partnerApiPostsExternal.CREATE.20261101",
        );
    }
    let body: Value = match serde_json::from_slice(call.body) {
        Ok(b) => b,
        Err(e) => return err(400, 0, "ILLEGAL_ARGUMENT", &format!("Malformed JSON: {e}")),
    };
    let author = format!("urn:li:person:{member}");
    if body.get("author").and_then(Value::as_str) != Some(author.as_str()) {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "The author must be the authenticated member",
        );
    }
    let Some(commentary) = body.get("commentary").and_then(Value::as_str) else {
        return err(400, 0, "FIELD_MISSING", "/commentary is required");
    };
    if commentary.chars().count() > 3000 {
        return err(
            400,
            0,
            "FIELD_LENGTH_TOO_LONG",
            "/commentary is longer than 3000 characters",
        );
    }
    for (field, allowed) in [
        ("visibility", &["PUBLIC", "CONNECTIONS", "LOGGED_IN"][..]),
        ("lifecycleState", &["PUBLISHED", "DRAFT"][..]),
    ] {
        match body.get(field).and_then(Value::as_str) {
            Some(v) if allowed.contains(&v) => {}
            _ => {
                return err(
                    400,
                    0,
                    "ILLEGAL_ARGUMENT",
                    &format!("/{field} must be one of {allowed:?}"),
                );
            }
        }
    }
    let now = now_ms();
    let mut data = call.shared.lock();
    let image = body
        .pointer("/content/media/id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(urn) = &image {
        match data.images.get(urn) {
            Some(i) if i.owner == author && i.uploaded => {}
            Some(i) if i.owner != author => {
                return err(
                    403,
                    100,
                    "ACCESS_DENIED",
                    &format!("{urn} belongs to another member"),
                );
            }
            _ => {
                return err(
                    400,
                    0,
                    "ILLEGAL_ARGUMENT",
                    &format!("{urn} was never uploaded"),
                );
            }
        }
    }
    let stored = little_text(commentary);
    let window_ms = call.shared.options.duplicate_window_s.saturating_mul(1000);
    let earlier = data
        .posts
        .iter()
        .rev()
        .find(|p| {
            p.author == author
                && (call.mode == Some("duplicate")
                    || (p.commentary == stored && now - p.created_at_ms < window_ms))
        })
        .map(|p| p.urn.clone());
    if let Some(urn) = earlier.or_else(|| {
        (call.mode == Some("duplicate")).then(|| "urn:li:share:7000000000000000000".to_owned())
    }) {
        return HttpResponse::UnprocessableEntity().json(json!({
            "message": format!("Content is a duplicate of {urn}"),
            "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
            "status": 422
        }));
    }
    let today = now / DAY_MS;
    let posted_today = |by: Option<&str>| {
        data.posts
            .iter()
            .filter(|p| p.created_at_ms / DAY_MS == today && by.is_none_or(|a| p.author == a))
            .count()
    };
    let opts = &call.shared.options;
    // LinkedIn names the limit reached: a client keeps one member waiting for its own
    // limit, but every member for the application's.
    let limit = if posted_today(None) >= opts.linkedin_daily_app as usize {
        Some("APPLICATION")
    } else if posted_today(Some(&author)) >= opts.linkedin_daily_member as usize {
        Some("MEMBER")
    } else {
        None
    };
    if let Some(limit) = limit {
        let reset_s = ((today + 1) * DAY_MS - now).div_ceil(1000);
        let mut resp = err(
            429,
            101,
            "TOO_MANY_REQUESTS",
            &format!(
                "Resource level throttle {limit} DAY limit for calls to this resource is reached."
            ),
        );
        if let Ok(v) = header::HeaderValue::from_str(&reset_s.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    // 19 digits like LinkedIn's: this start's own 11 digits, then the post's number, so
    // ids never repeat within a run nor (but with a fixed `linkedin_id_epoch`) across runs.
    data.posts_made += 1;
    let urn = format!(
        "urn:li:share:71{:011}{:06}",
        hash(opts.seed, &format!("posts:{}", call.shared.run)) % 100_000_000_000,
        data.posts_made
    );
    data.posts.push(Post {
        urn: urn.clone(),
        author,
        commentary: stored,
        image,
        created_at_ms: now,
        analytics_seen: false,
    });
    HttpResponse::Created()
        .insert_header(("x-restli-id", urn.clone()))
        .insert_header(("x-linkedin-id", urn))
        .finish()
}

/// Counts for a known post that grow with its age; the first call about a post answers
/// no data yet (empty `elements`), as LinkedIn does for a post it has not counted.
fn analytics(call: &Call<'_>, member: &str, scope: &str) -> HttpResponse {
    if !has_scope(scope, "r_member_postAnalytics") {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "Not enough permissions to access: memberCreatorPostAnalytics.FINDER-entity",
        );
    }
    if query(call, "q").as_deref() != Some("entity") {
        return err(400, 0, "ILLEGAL_ARGUMENT", "q=entity is required");
    }
    let Some(metric) = query(call, "queryType").filter(|m| {
        [
            "IMPRESSION",
            "MEMBERS_REACHED",
            "RESHARE",
            "REACTION",
            "COMMENT",
        ]
        .contains(&m.as_str())
    }) else {
        return err(
            400,
            0,
            "ILLEGAL_ARGUMENT",
            "queryType must be IMPRESSION, MEMBERS_REACHED, RESHARE, REACTION or COMMENT",
        );
    };
    let entity = query(call, "entity").unwrap_or_default();
    let Some(urn) = entity
        .strip_prefix('(')
        .and_then(|e| e.strip_suffix(')'))
        .and_then(|e| e.split_once(':'))
        .map(|(_, urn)| urn.to_owned())
    else {
        return err(
            400,
            0,
            "ILLEGAL_ARGUMENT",
            "entity must be (share:URN) or (ugc:URN)",
        );
    };
    let author = format!("urn:li:person:{member}");
    let mut data = call.shared.lock();
    let Some(post) = data.posts.iter_mut().find(|p| p.urn == urn) else {
        return err(404, 0, "NOT_FOUND", &format!("{urn} does not exist"));
    };
    if post.author != author {
        return err(
            403,
            100,
            "ACCESS_DENIED",
            "Analytics are only available for the member's own posts",
        );
    }
    let paging = json!({"start": 0, "count": 10, "links": []});
    if !post.analytics_seen {
        post.analytics_seen = true;
        return HttpResponse::Ok().json(json!({"elements": [], "paging": paging}));
    }
    let age_min = (now_ms() - post.created_at_ms) / 60_000 + 1;
    let base = hash(call.shared.options.seed, &format!("{urn}:{metric}")) % 20 + 1;
    let scale = match metric.as_str() {
        "IMPRESSION" => 40,
        "MEMBERS_REACHED" => 25,
        "REACTION" => 3,
        _ => 1,
    };
    let count = base * scale + age_min.min(10_000) * scale / 4;
    let target = if urn.starts_with("urn:li:ugcPost:") {
        json!({"ugc": urn})
    } else {
        json!({"share": urn})
    };
    HttpResponse::Ok().json(json!({
        "elements": [{"count": count, "metricType": metric, "targetEntity": target}],
        "paging": paging
    }))
}

#[cfg(test)]
mod tests {
    use super::little_text;

    #[test]
    fn little_text_cuts_at_the_first_unescaped_reserved_character() {
        assert_eq!(little_text("Open (Mon to Fri)"), "Open ");
        assert_eq!(
            little_text("Open \\(Mon to Fri\\) #Guelph"),
            "Open (Mon to Fri) #Guelph"
        );
        assert_eq!(little_text("a # b"), "a ");
        assert_eq!(little_text("ok 😀 \\_x\\_"), "ok 😀 _x_");
    }
}
