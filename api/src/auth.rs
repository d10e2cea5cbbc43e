//! Who is calling. A session (cookie → Redis) holds the user id, the account's session
//! version and the CSRF token set at sign-in, and when it was last used. [`CurrentUser`] is
//! the extractor every authenticated handler takes: it refuses a request without a session,
//! with an idle one or one whose version the account has moved past (401: a password or
//! role change, sign out everywhere), a cookie-authenticated write without the session's
//! CSRF token (403), and a user over their API rate limit (429). The role is read from
//! PostgreSQL on every request, with the version, in one primary-key query: a demotion
//! takes effect at the next request.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::cookie::{CookieJar, Key};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::de::DeserializeOwned;
use shared::db::users::{self, Language, Role};
use shared::rate_limit::{Decision, Limit};

use crate::clock::Clock;
use crate::error::ApiError;
use crate::session_store::RedisSessionStore;
use crate::startup::SESSION_COOKIE;
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
    clock: &Clock,
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
        .and_then(|()| session.insert(SEEN, clock.now_secs()))
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

/// What the session says; checked against the account by [`check_account`].
struct SessionClaims {
    id: i64,
    version: i64,
    csrf_token: String,
    seen: u64,
}

fn from_session(session: &Session) -> Result<SessionClaims, ApiError> {
    claims_of(&session.entries())
}

/// The claims in a session's state as actix-session keeps it: each value JSON text.
fn claims_of(entries: &HashMap<String, String>) -> Result<SessionClaims, ApiError> {
    fn get<T: DeserializeOwned>(entries: &HashMap<String, String>, key: &str) -> Option<T> {
        entries.get(key).and_then(|v| serde_json::from_str(v).ok())
    }
    let missing = || ApiError::Unauthenticated;
    Ok(SessionClaims {
        id: get(entries, USER_ID).ok_or_else(missing)?,
        version: get(entries, VERSION).ok_or_else(missing)?,
        csrf_token: get(entries, CSRF).ok_or_else(missing)?,
        seen: get(entries, SEEN).ok_or_else(missing)?,
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
    let now = state.clock.now_secs();
    let since = now.saturating_sub(claims.seen);
    if is_idle(state, &claims) {
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

fn is_idle(state: &AppState, claims: &SessionClaims) -> bool {
    state.clock.now_secs().saturating_sub(claims.seen) > state.config.api.session_idle_secs
}

/// A session as a response that outlives its request (a live page's event stream) checks it
/// again later: the request was authenticated once, but the session can end while the
/// response is still being written (sign-out here or everywhere, an account reset, a role
/// change, idleness). [`SessionWatch::holds`] answers what [`authenticate`] would.
#[derive(Debug)]
pub struct SessionWatch {
    /// The session's Redis key, from the request's signed cookie.
    store_key: String,
    user_id: i64,
    version: i64,
    /// The role when the response began: a change ends the response, and the reconnect
    /// that follows is authorized under the new role.
    role: Role,
}

impl SessionWatch {
    /// For `user`, whom [`authenticate`] just let through on `req`. A request whose cookie
    /// names no session (a new one was made by this very request) is refused as signed out.
    pub fn new(req: &HttpRequest, user: &CurrentUser) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| ApiError::internal("application state missing"))?;
        let session_key =
            signed_session_key(req, &state.cookie_key).ok_or(ApiError::Unauthenticated)?;
        let version = from_session(&req.get_session())?.version;
        Ok(Self {
            store_key: RedisSessionStore::key_for(&state.config.queue.prefix, &session_key),
            user_id: user.id,
            version,
            role: user.role,
        })
    }

    /// Whether the session still stands: in the store, not idle, for this account at the
    /// same session version and role. One Redis GET and one primary-key read.
    pub async fn holds(&self, state: &AppState) -> Result<bool, ApiError> {
        let mut conn = state.redis.clone();
        let stored: Option<String> = redis::cmd("GET")
            .arg(&self.store_key)
            .query_async(&mut conn)
            .await
            .map_err(shared::Error::from)?;
        let Some(entries) =
            stored.and_then(|s| serde_json::from_str::<HashMap<String, String>>(&s).ok())
        else {
            return Ok(false);
        };
        let Ok(claims) = claims_of(&entries) else {
            return Ok(false);
        };
        if claims.id != self.user_id || claims.version != self.version || is_idle(state, &claims) {
            return Ok(false);
        }
        let account = users::session_check(&state.db, self.user_id).await?;
        Ok(account.is_some_and(|a| a.session_version == self.version && a.role == self.role))
    }
}

/// The session key the request's cookie names, if its signature is ours (the session
/// middleware signs it; see `startup`).
fn signed_session_key(req: &HttpRequest, key: &Key) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(SESSION_COOKIE)?);
    jar.signed(key)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
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
