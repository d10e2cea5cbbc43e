//! Sign up, sign in, sign out. These forms exist before any session, so their CSRF token is
//! a double-submit one: a random `ag_form` cookie (SameSite=Lax, so a cross-site post does
//! not carry it) that the form repeats in a hidden field. That stops login CSRF (another
//! site signing a browser into the attacker's account) without a Redis session per visitor.

use actix_session::Session;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tera::Context;

use super::{PageCtx, Shown, redirect, safe_next};
use crate::auth;
use crate::error::ApiError;
use crate::routes::accounts::{create_owner, verify_sign_in};
use crate::state::AppState;
use crate::validation::{self, Problem};

const FORM_COOKIE: &str = "ag_form";

/// A field's problem as the template shows it: `t(k=e.key, max=e.max, min=e.min)`.
#[derive(Debug, Serialize)]
pub struct FieldError {
    pub key: &'static str,
    pub max: Option<usize>,
    pub min: Option<usize>,
}

impl From<Problem> for FieldError {
    fn from(p: Problem) -> Self {
        let limit = p.limit();
        Self {
            key: p.key(),
            max: limit.filter(|(n, _)| *n == "max").map(|(_, v)| v),
            min: limit.filter(|(n, _)| *n == "min").map(|(_, v)| v),
        }
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    /// Set by the sign-up redirect, to say what just happened.
    created: Option<u8>,
    /// Set by the password reset's redirect.
    reset: Option<u8>,
}

/// The browser's form token, or a new one (with the cookie that carries it).
pub(super) fn form_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(c) = req.cookie(FORM_COOKIE).filter(|c| c.value().len() >= 32) {
        return (c.value().to_owned(), None);
    }
    let token = auth::random_token();
    let cookie = Cookie::build(FORM_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish();
    (token, Some(cookie))
}

pub(super) fn form_token_matches(req: &HttpRequest, sent: &str) -> Result<(), ApiError> {
    match req.cookie(FORM_COOKIE) {
        Some(c) if auth::same_token(c.value(), sent) => Ok(()),
        _ => Err(ApiError::Forbidden {
            code: "csrf_failed",
            message: "form token missing or wrong".into(),
        }),
    }
}

pub(super) fn with_cookie(
    mut response: HttpResponse,
    cookie: Option<Cookie<'static>>,
) -> HttpResponse {
    if let Some(cookie) = cookie
        && response.add_cookie(&cookie).is_err()
    {
        tracing::warn!("form cookie not set");
    }
    response
}

/// The sign-in form with `context` filled; `status` says why it is shown again.
fn sign_in_page(ctx: &PageCtx, mut context: Context, status: StatusCode) -> HttpResponse {
    let (token, cookie) = form_token(ctx.request());
    context.insert("form_token", &token);
    let next = context
        .get("next")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    context.insert(
        "oidc_buttons",
        &super::identities::buttons(ctx.request(), next.as_deref()),
    );
    let shown = Shown {
        status: Some(status),
        ..Shown::default()
    };
    let response = ctx.respond(ctx.render("sign_in.html", context, shown));
    with_cookie(response, cookie)
}

pub async fn sign_in_form(ctx: PageCtx, query: web::Query<SignInQuery>) -> HttpResponse {
    // Already signed in: nothing to do here.
    if ctx.user().await.is_ok() {
        return redirect(&safe_next(query.next.as_deref()));
    }
    let mut context = Context::new();
    context.insert("next", &safe_next(query.next.as_deref()));
    context.insert("created", &query.created.is_some());
    context.insert("reset", &query.reset.is_some());
    sign_in_page(&ctx, context, StatusCode::OK)
}

#[tracing::instrument(name = "page_sign_in", skip_all)]
pub async fn sign_in(
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<SignInForm>,
) -> HttpResponse {
    if let Err(e) = form_token_matches(ctx.request(), &form.csrf) {
        return ctx.respond(Err(e));
    }
    let next = safe_next(form.next.as_deref());
    let outcome =
        verify_sign_in(&state, &session, ctx.request(), &form.email, &form.password).await;
    let (problem, status) = match outcome {
        Ok(_) => return redirect(&next),
        Err(ApiError::BadCredentials | ApiError::Invalid(_)) => {
            ("sign-in-wrong", StatusCode::UNAUTHORIZED)
        }
        Err(ApiError::RateLimited { .. }) => ("sign-in-throttled", StatusCode::TOO_MANY_REQUESTS),
        Err(e) => return ctx.respond(Err(e)),
    };
    let mut context = Context::new();
    context.insert("next", &next);
    context.insert("email", form.email.trim());
    context.insert("problem", problem);
    sign_in_page(&ctx, context, status)
}

fn sign_up_page(ctx: &PageCtx, mut context: Context, status: StatusCode) -> HttpResponse {
    let (token, cookie) = form_token(ctx.request());
    context.insert("form_token", &token);
    context.insert(
        "oidc_buttons",
        &super::identities::buttons(ctx.request(), None),
    );
    let shown = Shown {
        status: Some(status),
        ..Shown::default()
    };
    with_cookie(
        ctx.respond(ctx.render("sign_up.html", context, shown)),
        cookie,
    )
}

pub async fn sign_up_form(ctx: PageCtx) -> HttpResponse {
    sign_up_page(&ctx, Context::new(), StatusCode::OK)
}

/// Like the API, the answer does not say whether the e-mail already had an account: both
/// cases go to the sign-in page with the same notice.
#[tracing::instrument(name = "page_sign_up", skip_all)]
pub async fn sign_up(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<SignUpForm>,
) -> HttpResponse {
    if let Err(e) = form_token_matches(ctx.request(), &form.csrf) {
        return ctx.respond(Err(e));
    }
    let checked = (
        validation::required_text(&form.name, 100),
        validation::email_address(&form.email),
        validation::password_strength(&form.password),
    );
    let (name, email) = match checked {
        (Ok(name), Ok(email), Ok(())) => (name, email),
        (name, email, password) => {
            let mut context = Context::new();
            context.insert("name", form.name.trim());
            context.insert("email", form.email.trim());
            let problems = [
                ("name", name.err()),
                ("email", email.err()),
                ("password", password.err()),
            ];
            for (field, problem) in problems {
                if let Some(p) = problem {
                    context.insert(format!("{field}_error"), &FieldError::from(p));
                }
            }
            return sign_up_page(&ctx, context, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match create_owner(&state, ctx.request(), &email, &name, &form.password).await {
        Ok(()) => redirect("/sign-in?created=1"),
        Err(e) => ctx.respond(Err(e)),
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends the session. A post without the session's token is refused (another site cannot
/// sign people out); one without a session just lands on the sign-in page.
pub async fn sign_out(
    ctx: PageCtx,
    session: Session,
    form: web::Form<SignOutForm>,
) -> HttpResponse {
    match ctx.user_posting(&form.csrf).await {
        Ok(_) | Err(ApiError::Unauthenticated) => {
            auth::end_session(&session);
            redirect("/sign-in")
        }
        Err(e) => ctx.respond(Err(e)),
    }
}
