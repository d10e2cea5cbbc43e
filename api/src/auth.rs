//! Who is calling. A session (cookie → Redis) holds the user id, role and CSRF token set at
//! sign-in. [`CurrentUser`] is the extractor every authenticated handler takes: it refuses
//! a request without a session (401), a cookie-authenticated write without the session's
//! CSRF token (403), and a user over their API rate limit (429).

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use shared::db::users::Role;
use shared::rate_limit::{Decision, Limit};

use crate::error::ApiError;
use crate::state::AppState;

/// The header a cookie-authenticated write must carry, with the token sign-in returned.
pub const CSRF_HEADER: &str = "x-csrf-token";

const USER_ID: &str = "uid";
const ROLE: &str = "role";
const CSRF: &str = "csrf";

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub role: Role,
    pub csrf_token: String,
}

impl CurrentUser {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Owner => Err(ApiError::Forbidden {
                code: "forbidden",
                message: "this needs the admin role".into(),
            }),
        }
    }
}

/// A fresh session for this user: a new session key (no fixation), none of the previous
/// session's state (a LinkedIn connect started by whoever used this browser before), and a
/// new CSRF token, so a token from an earlier session is worthless.
pub fn begin_session(session: &Session, user_id: i64, role: Role) -> Result<String, ApiError> {
    session.clear();
    session.renew();
    let csrf = random_token();
    session
        .insert(USER_ID, user_id)
        .and_then(|()| session.insert(ROLE, role.as_str()))
        .and_then(|()| session.insert(CSRF, &csrf))
        .map_err(ApiError::internal)?;
    Ok(csrf)
}

pub fn end_session(session: &Session) {
    session.purge();
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal-time comparison, so the token cannot be found byte by byte from timings.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A limiter's refusal as the 429 the client sees.
pub fn admit(decision: Decision) -> Result<(), ApiError> {
    match decision {
        Decision::Allowed => Ok(()),
        Decision::Limited { retry_after } => Err(ApiError::RateLimited { retry_after }),
    }
}

fn from_session(session: &Session) -> Result<CurrentUser, ApiError> {
    let read = |key: &str| session.get::<String>(key).ok().flatten();
    let id = session
        .get::<i64>(USER_ID)
        .ok()
        .flatten()
        .ok_or(ApiError::Unauthenticated)?;
    let role = read(ROLE)
        .and_then(|r| r.parse::<Role>().ok())
        .ok_or(ApiError::Unauthenticated)?;
    let csrf_token = read(CSRF).ok_or(ApiError::Unauthenticated)?;
    Ok(CurrentUser {
        id,
        role,
        csrf_token,
    })
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = from_session(&req.get_session())?;
            if is_write(req.method()) {
                let sent = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !same_token(sent, &user.csrf_token) {
                    return Err(ApiError::Forbidden {
                        code: "csrf_failed",
                        message: format!(
                            "missing or wrong {CSRF_HEADER} header; use the token sign-in returned"
                        ),
                    });
                }
            }
            tracing::Span::current().record("user.id", user.id);
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?;
            let limits = &state.config.limits;
            let limit = Limit::per_minute(limits.api_per_minute, limits.api_burst);
            admit(
                state
                    .limiter
                    .check("api", &user.id.to_string(), limit)
                    .await?,
            )?;
            Ok(user)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_whole() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &a[..42]));
        assert!(!same_token(&a, ""));
    }
}
