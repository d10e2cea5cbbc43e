//! "Forgot password": a mailed link, single use, 30 minutes long (`db::password_resets`).
//!
//! The answer to a request is the same whether or not the address has an account, and
//! so is the work before it: the request writes one mail row addressed to the address and
//! its job, and never looks the address up. The mail job does, then makes the reset and
//! sends the link, or drops the mail; so neither the answer's words nor its time tell. Requests are limited per client address and per address asked about; both
//! count whatever the address, so a limit reached tells nothing either. Using the link sets
//! the password and ends every session of the account, as "sign out everywhere" does.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::password_resets;
use shared::rate_limit::Limit;
use utoipa::ToSchema;

use super::accounts::{client_ip, failure_limit};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::password;
use crate::state::AppState;
use crate::validation;

/// Reset mails one address may be sent per hour: enough for a mail that went to spam,
/// too few to flood someone's inbox.
const PER_ACCOUNT: Limit = Limit {
    count: 3,
    period: Duration::from_secs(3600),
    burst: 3,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotPassword {
    #[schema(example = "ana@bakery.example", format = "email", max_length = 254)]
    pub email: String,
}

/// `Debug` by hand: neither the token nor the password is printed.
#[derive(Deserialize, ToSchema)]
pub struct ResetPassword {
    /// The `token` of the mailed link.
    pub token: String,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

impl std::fmt::Debug for ResetPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetPassword").finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResetRequested {
    pub message: String,
}

const REQUESTED: &str =
    "if this e-mail has an account, a link to choose a new password is on its way";

/// Ask for a link to choose a new password. 202 with the same message whether or not the
/// address has an account; 429 past the limits (per client address, per address asked).
#[utoipa::path(post, path = "/api/auth/forgot-password", tag = "accounts",
    operation_id = "forgot_password", request_body = ForgotPassword,
    responses((status = 202, body = ResetRequested), (status = 429, description = "too many requests")))]
#[tracing::instrument(name = "forgot_password", skip_all)]
pub async fn forgot(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ForgotPassword>,
) -> ApiResult<HttpResponse> {
    let email = validation::email(&body.email)?;
    request(&state, &req, &email).await?;
    Ok(HttpResponse::Accepted().json(ResetRequested {
        message: REQUESTED.into(),
    }))
}

/// The request, shared by the JSON API and the page: limits, then the mail job that makes
/// a reset and sends its link if the address has an account.
pub async fn request(state: &AppState, req: &HttpRequest, email: &str) -> ApiResult<()> {
    let per_ip = failure_limit(state.config.limits.sign_in_failures_per_ip);
    let account = email.to_lowercase();
    auth::admit(
        state
            .limiter
            .check("forgot:ip", &client_ip(req), per_ip)
            .await?,
    )?;
    auth::admit(
        state
            .limiter
            .check("forgot:account", &account, PER_ACCOUNT)
            .await?,
    )?;
    // The same write for any address: the mail job finds out whether it has an account.
    let mail_id = shared::mail::request_reset(&state.db, &account).await?;
    tracing::info!(mail.id = mail_id, "password reset asked");
    Ok(())
}

/// Choose a new password with the mailed link's token. Every session of the account ends;
/// sign in next. 422 when the link is unknown, used or expired.
#[utoipa::path(post, path = "/api/auth/reset-password", tag = "accounts",
    operation_id = "reset_password", request_body = ResetPassword,
    responses((status = 204, description = "password changed, every session ended"),
              (status = 422, description = "the link is unknown, used or expired, or the password too weak")))]
#[tracing::instrument(name = "reset_password", skip_all)]
pub async fn reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetPassword>,
) -> ApiResult<HttpResponse> {
    validation::password(&body.password)?;
    complete(&state, &req, &body.token, &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Uses a token, shared by the JSON API and the page. Tokens are 256 random bits, but the
/// attempts are still limited per client address (a hash each, and no free guessing).
pub async fn complete(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
    new_password: &str,
) -> ApiResult<i64> {
    let per_ip = failure_limit(state.config.limits.sign_in_failures_per_ip);
    auth::admit(
        state
            .limiter
            .check("reset:ip", &client_ip(req), per_ip)
            .await?,
    )?;
    if token.is_empty() || token.len() > 100 {
        return Err(invalid_token());
    }
    let hash = password::hash(new_password.to_owned()).await?;
    let user_id = password_resets::complete(&state.db, token, &hash)
        .await?
        .ok_or_else(invalid_token)?;
    // Like a successful sign-in, a successful reset hands its unit back.
    state
        .limiter
        .give_back("reset:ip", &client_ip(req), per_ip)
        .await?;
    state
        .limiter
        .reset("sign-in:account", &email_of(state, user_id).await?)
        .await?;
    tracing::info!(user.id = user_id, "password reset; every session ended");
    Ok(user_id)
}

/// The account's address as the sign-in throttle keys it: a new password lifts the lock
/// the forgotten one may have caused.
async fn email_of(state: &AppState, user_id: i64) -> ApiResult<String> {
    Ok(shared::db::users::find(&state.db, user_id)
        .await?
        .email
        .to_lowercase())
}

/// What a link that no longer works answers (422 `invalid`, with the reason).
pub fn invalid_token() -> ApiError {
    ApiError::Invalid(INVALID_TOKEN.into())
}

pub const INVALID_TOKEN: &str =
    "token: this link is unknown, already used or expired; ask for a new one";
