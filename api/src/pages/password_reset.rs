//! "Forgot password" pages: ask for the link, then choose the new password with it. The
//! forms carry the same double-submit token as sign-in (no session exists yet). The JSON
//! API's functions do the work (`routes::password_reset`), so both answer alike.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::db::password_resets;
use tera::Context;

use super::account::{FieldError, form_token, form_token_matches, with_cookie};
use super::{PageCtx, Shown, redirect};
use crate::error::ApiError;
use crate::routes::password_reset;
use crate::state::AppState;
use crate::validation;

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

fn page(ctx: &PageCtx, template: &str, context: Context, status: StatusCode) -> HttpResponse {
    page_at(ctx, template, context, status, None)
}

/// As [`page`], with the address the language switch comes back to (`here`).
fn page_at(
    ctx: &PageCtx,
    template: &str,
    mut context: Context,
    status: StatusCode,
    here: Option<String>,
) -> HttpResponse {
    let (token, cookie) = form_token(ctx.request());
    context.insert("form_token", &token);
    let shown = Shown {
        status: Some(status),
        here,
        ..Shown::default()
    };
    with_cookie(ctx.respond(ctx.render(template, context, shown)), cookie)
}

pub async fn forgot_form(ctx: PageCtx) -> HttpResponse {
    page(&ctx, "forgot_password.html", Context::new(), StatusCode::OK)
}

/// The same page ("a link is on its way") whether or not the address has an account.
#[tracing::instrument(name = "page_forgot_password", skip_all)]
pub async fn forgot(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<ForgotForm>,
) -> HttpResponse {
    if let Err(e) = form_token_matches(ctx.request(), &form.csrf) {
        return ctx.respond(Err(e));
    }
    let mut context = Context::new();
    context.insert("email", form.email.trim());
    let email = match validation::email_address(&form.email) {
        Ok(email) => email,
        Err(p) => {
            let _ = p;
            context.insert("problem", "invalid-email");
            return page(
                &ctx,
                "forgot_password.html",
                context,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match password_reset::request(&state, ctx.request(), &email).await {
        Ok(()) => {
            context.insert("sent", &true);
            page(&ctx, "forgot_password.html", context, StatusCode::OK)
        }
        Err(ApiError::RateLimited { .. }) => {
            context.insert("problem", "forgot-throttled");
            page(
                &ctx,
                "forgot_password.html",
                context,
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// The new-password form, or "this link does not work any more" at once (rather than after
/// she typed a password).
pub async fn reset_form(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<ResetQuery>,
) -> HttpResponse {
    let valid = !query.token.is_empty()
        && query.token.len() <= 100
        && match password_resets::is_valid(&state.db, &query.token).await {
            Ok(valid) => valid,
            Err(e) => return ctx.respond(Err(e.into())),
        };
    let mut context = Context::new();
    context.insert("token", &query.token);
    context.insert("invalid", &!valid);
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    page(&ctx, "reset_password.html", context, status)
}

#[tracing::instrument(name = "page_reset_password", skip_all)]
pub async fn reset(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<ResetForm>,
) -> HttpResponse {
    if let Err(e) = form_token_matches(ctx.request(), &form.csrf) {
        return ctx.respond(Err(e));
    }
    let mut context = Context::new();
    context.insert("token", &form.token);
    // Shown again after the POST, the form's language switch must come back to the link
    // (its token), not to /reset-password alone, which says the link does not work.
    let back = format!(
        "/reset-password?token={}",
        url::form_urlencoded::byte_serialize(form.token.as_bytes()).collect::<String>()
    );
    if let Err(p) = validation::password_strength(&form.password) {
        context.insert("password_error", &FieldError::from(p));
        return page_at(
            &ctx,
            "reset_password.html",
            context,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(back),
        );
    }
    match password_reset::complete(&state, ctx.request(), &form.token, &form.password).await {
        Ok(_) => redirect("/sign-in?reset=1"),
        Err(ApiError::Invalid(_)) => {
            context.insert("invalid", &true);
            page_at(
                &ctx,
                "reset_password.html",
                context,
                StatusCode::BAD_REQUEST,
                Some(back),
            )
        }
        Err(ApiError::RateLimited { .. }) => {
            context.insert("problem", "forgot-throttled");
            page_at(
                &ctx,
                "reset_password.html",
                context,
                StatusCode::TOO_MANY_REQUESTS,
                Some(back),
            )
        }
        Err(e) => ctx.respond(Err(e)),
    }
}
