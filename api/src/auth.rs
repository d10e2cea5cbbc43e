//! Who is calling. A session (cookie → Redis) holds the user id, the account's session
//! version and the CSRF token set at sign-in, and when it was last used. [`CurrentUser`] is
//! the extractor every authenticated handler takes: it refuses a request without a session,
//! with an idle one or one whose version the account has moved past (401: a password or
//! role change, sign out everywhere), a cookie-authenticated write without the session's
//! CSRF token (403), and a user over their API rate limit (429). The role is read from
//! PostgreSQL on every request, with the version, in one primary-key query: a demotion
//! takes effect at the next request.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use shared::db::users::{self, Language, Role};
use shared::rate_limit::{Decision, Limit};

use crate::error::ApiError;
use crate::state::AppState;

/// The header a cookie-authenticated write must carry, with the token sign-in returned.
pub const CSRF_HEADER: &str = "x-csrf-token";

const USER_ID: &str = "uid";
const VERSION: &str = "sv";
const CSRF: &str = "csrf";
/// Unix seconds of the last request that refreshed it.
const SEEN: &str = "seen";

/// Not `Debug`-derived: the CSRF token is a secret.
#[derive(Clone)]
pub struct CurrentUser {
    pub id: i64,
    pub role: Role,
    pub csrf_token: String,
    /// The account's chosen language, read with the role (no extra query): the pages put it
    /// before the browser's.
    pub language: Option<Language>,
}

impl std::fmt::Debug for CurrentUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentUser")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("language", &self.language)
            .field("csrf_token", &"[redacted]")
            .finish()
    }
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
pub fn begin_session(
    session: &Session,
    user_id: i64,
    session_version: i64,
) -> Result<String, ApiError> {
    session.clear();
    session.renew();
    let csrf = random_token();
    session
        .insert(USER_ID, user_id)
        .and_then(|()| session.insert(VERSION, session_version))
        .and_then(|()| session.insert(CSRF, &csrf))
        .and_then(|()| session.insert(SEEN, now_secs()))
        .map_err(ApiError::internal)?;
    Ok(csrf)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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

/// What the session says; checked against the account by [`check_account`].
struct SessionClaims {
    id: i64,
    version: i64,
    csrf_token: String,
    seen: u64,
}

fn from_session(session: &Session) -> Result<SessionClaims, ApiError> {
    let get = |key: &str| session.get::<i64>(key).ok().flatten();
    let id = get(USER_ID).ok_or(ApiError::Unauthenticated)?;
    let version = get(VERSION).ok_or(ApiError::Unauthenticated)?;
    let csrf_token = session
        .get::<String>(CSRF)
        .ok()
        .flatten()
        .ok_or(ApiError::Unauthenticated)?;
    let seen = session
        .get::<u64>(SEEN)
        .ok()
        .flatten()
        .ok_or(ApiError::Unauthenticated)?;
    Ok(SessionClaims {
        id,
        version,
        csrf_token,
        seen,
    })
}

/// The session as a user, if it is neither idle nor outdated; an ended session is purged so
/// its cookie is cleared too.
async fn check_account(
    state: &AppState,
    session: &Session,
    claims: SessionClaims,
) -> Result<CurrentUser, ApiError> {
    let idle = state.config.api.session_idle_secs;
    let now = now_secs();
    let since = now.saturating_sub(claims.seen);
    if since > idle {
        session.purge();
        return Err(ApiError::Unauthenticated);
    }
    let account = users::session_check(&state.db, claims.id).await?;
    let Some(account) = account.filter(|a| a.session_version == claims.version) else {
        session.purge();
        return Err(ApiError::Unauthenticated);
    };
    // Refreshed at most once a minute (less for short timeouts): each refresh is a write.
    if since >= (idle / 2).clamp(1, 60) {
        session.insert(SEEN, now).map_err(ApiError::internal)?;
    }
    Ok(CurrentUser {
        id: claims.id,
        role: account.role,
        csrf_token: claims.csrf_token,
        language: account.language,
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
            let sent = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            authenticate(&req, &sent).await
        })
    }
}

/// The session's user, checked as [`CurrentUser`] describes. `sent_csrf` is the token the
/// request carries (the JSON API's header, a page form's hidden field); a write whose token
/// is not the session's is refused before the account is even read.
pub async fn authenticate(req: &HttpRequest, sent_csrf: &str) -> Result<CurrentUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let session = req.get_session();
    let claims = from_session(&session)?;
    if is_write(req.method()) && !same_token(sent_csrf, &claims.csrf_token) {
        return Err(ApiError::Forbidden {
            code: "csrf_failed",
            message: format!(
                "missing or wrong {CSRF_HEADER} header; use the token sign-in returned"
            ),
        });
    }
    let user = check_account(state, &session, claims).await?;
    tracing::Span::current().record("user.id", user.id);
    let limits = &state.config.limits;
    let limit = Limit::per_minute(limits.api_per_minute, limits.api_burst);
    admit(
        state
            .limiter
            .check("api", &user.id.to_string(), limit)
            .await?,
    )?;
    Ok(user)
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
