//! Sign up, sign in, sign out, me. Sign-in failures are throttled per account and per
//! client address; each attempt reserves its unit before the password is even hashed.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::users::{self, NewUser, Role, User};
use shared::mail::{self, MailKind};
use shared::rate_limit::Limit;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;
use utoipa::ToSchema;

use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::pages::i18n::Lang;
use crate::password;
use crate::state::AppState;
use crate::validation;

/// `Debug` by hand: the password is never printed.
#[derive(Deserialize, ToSchema)]
pub struct SignUp {
    #[schema(example = "ana@bakery.example", format = "email", max_length = 254)]
    pub email: String,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// `Debug` by hand: the password is never printed.
#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("name", &self.name)
            .finish()
    }
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// The signed-in user and the token their writes must carry in `X-CSRF-Token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
}

const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

pub(crate) fn failure_limit(count: u32) -> Limit {
    Limit {
        count,
        period: FAILURE_WINDOW,
        burst: count,
    }
}

pub(crate) fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".into(), |a| throttle_key(a.ip()))
}

/// The address a per-address limit counts: an IPv4 address, or the /64 of an IPv6 one (one
/// host usually has a whole /64 to pick addresses from).
fn throttle_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
    }
}

/// What sign-up answers, whether or not the e-mail already had an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignUpAccepted {
    pub message: String,
}

const SIGN_UP_ACCEPTED: &str =
    "if this e-mail had no account, one is created: sign in with your password";

/// Create an owner account. The answer is the same when the e-mail already has an account
/// (nothing is changed then), so sign-up does not tell which e-mails have one; the client
/// signs in next. The account's owner, not the person signing up, is told by mail. A new
/// account takes the language the request asks for (`Accept-Language`, or the language
/// switch's cookie): its pages and mail speak it.
#[utoipa::path(post, path = "/api/auth/sign-up", tag = "accounts", request_body = SignUp,
    responses((status = 202, body = SignUpAccepted)))]
#[tracing::instrument(name = "sign_up", skip_all)]
pub async fn sign_up(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SignUp>,
) -> ApiResult<HttpResponse> {
    let email = validation::email(&body.email)?;
    let name = validation::required("name", &body.name, 100)?;
    validation::password(&body.password)?;
    create_owner(&state, &req, &email, &name, &body.password).await?;
    Ok(HttpResponse::Accepted().json(SignUpAccepted {
        message: SIGN_UP_ACCEPTED.into(),
    }))
}

/// Creates an owner account from checked fields, or does nothing if the e-mail has one
/// (the caller answers the same either way). Shared by the JSON API and the sign-up page.
pub async fn create_owner(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    name: &str,
    password: &str,
) -> ApiResult<()> {
    // Sign-ups cost a hash each: bounded per address like failed sign-ins.
    let per_ip = failure_limit(state.config.limits.sign_in_failures_per_ip);
    auth::admit(
        state
            .limiter
            .check("sign-up:ip", &client_ip(req), per_ip)
            .await?,
    )?;
    // Hashed in both cases, so the time taken does not tell either.
    let hash = password::hash(password.to_owned()).await?;
    let created = users::create(
        &state.db,
        &NewUser {
            email,
            name,
            password_hash: &hash,
            role: Role::Owner,
        },
    )
    .await;
    match created {
        Ok(user) => {
            tracing::info!(user.id = user.id, "account created");
            // The language she signed up in is hers until she switches: her mail is written
            // in it, though she never touched the switch.
            if let Some(lang) = Lang::asked_by(req) {
                users::set_language(&state.db, user.id, lang.language()).await?;
            }
        }
        Err(shared::Error::Conflict(_)) => {
            tracing::info!("sign-up for a taken e-mail");
            tell_owner_of_taken_address(state, email).await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Mails "you already have an account" to the address's owner, at most a few times an
/// hour (a stranger re-submitting the form must not flood her inbox). The answer to the
/// sign-up does not change either way.
async fn tell_owner_of_taken_address(state: &AppState, email: &str) -> ApiResult<()> {
    const PER_ACCOUNT: Limit = Limit {
        count: 3,
        period: Duration::from_secs(3600),
        burst: 3,
    };
    let decision = state
        .limiter
        .check("account-exists:account", &email.to_lowercase(), PER_ACCOUNT)
        .await?;
    if auth::admit(decision).is_err() {
        return Ok(());
    }
    let Some(found) = users::credentials(&state.db, email).await? else {
        return Ok(());
    };
    let mut tx = state.db.begin().await.map_err(shared::Error::from)?;
    mail::enqueue(&mut tx, found.user_id, MailKind::AccountExists, None, None).await?;
    tx.commit().await.map_err(shared::Error::from)?;
    Ok(())
}

/// Sign in with e-mail and password.
#[utoipa::path(post, path = "/api/auth/sign-in", tag = "accounts", request_body = SignIn,
    responses((status = 200, body = SessionInfo)))]
#[tracing::instrument(name = "sign_in", skip_all)]
pub async fn sign_in(
    state: web::Data<AppState>,
    session: Session,
    req: HttpRequest,
    body: web::Json<SignIn>,
) -> ApiResult<HttpResponse> {
    let (user_id, csrf_token) =
        verify_sign_in(&state, &session, &req, &body.email, &body.password).await?;
    let user = users::find(&state.db, user_id).await?;
    Ok(HttpResponse::Ok().json(SessionInfo { user, csrf_token }))
}

/// Checks the password under the sign-in throttles and, when it is right, begins a fresh
/// session for the account. Shared by the JSON API and the sign-in page, so both are
/// throttled alike.
pub async fn verify_sign_in(
    state: &AppState,
    session: &Session,
    req: &HttpRequest,
    email: &str,
    password: &str,
) -> ApiResult<(i64, String)> {
    if password.len() > 512 {
        return Err(ApiError::Invalid("password is too long".into()));
    }
    // Trimmed, bounded, no control characters: PostgreSQL cannot even compare a NUL.
    let account = validation::required("email", email, 254)?.to_lowercase();
    let ip = client_ip(req);
    let limits = &state.config.limits;
    let per_account = failure_limit(limits.sign_in_failures_per_account);
    let per_ip = failure_limit(limits.sign_in_failures_per_ip);
    // Each attempt takes its unit before the password is verified, so concurrent attempts
    // count each other; a success hands its units back.
    let attempts = [
        ("sign-in:account", account.as_str(), per_account),
        ("sign-in:ip", ip.as_str(), per_ip),
    ];
    for (taken, (name, subject, limit)) in attempts.iter().enumerate() {
        if let Err(refused) = auth::admit(state.limiter.check(name, subject, *limit).await?) {
            for (name, subject, limit) in &attempts[..taken] {
                state.limiter.give_back(name, subject, *limit).await?;
            }
            return Err(refused);
        }
    }
    let credentials = users::credentials(&state.db, &account).await?;
    let (stored, found) = match credentials {
        Some(c) => (c.password_hash, Some((c.user_id, c.session_version))),
        None => (None, None),
    };
    let valid = match password::verify(password.to_owned(), stored).await {
        Ok(valid) => valid,
        Err(e) => {
            // Not an attempt (the pool was full or broke): it counts against no one.
            for (name, subject, limit) in &attempts {
                state.limiter.give_back(name, subject, *limit).await?;
            }
            return Err(e);
        }
    };
    let Some((user_id, session_version)) = found.filter(|_| valid) else {
        return Err(ApiError::BadCredentials);
    };
    state.limiter.reset("sign-in:account", &account).await?;
    state.limiter.give_back("sign-in:ip", &ip, per_ip).await?;
    users::record_sign_in(&state.db, user_id).await?;
    // An OpenID Connect identity whose e-mail is this account's waits in the session for
    // this proof that the account is hers; the new session no longer has it.
    let pending = crate::pages::identities::pending(session);
    let csrf_token = auth::begin_session(session, &state.clock, user_id, session_version)?;
    crate::pages::identities::link_pending(state, pending, user_id).await?;
    Ok((user_id, csrf_token))
}

/// End the session; its CSRF token dies with it.
#[utoipa::path(post, path = "/api/auth/sign-out", tag = "accounts",
    responses((status = 204, description = "signed out")))]
pub async fn sign_out(_user: CurrentUser, session: Session) -> HttpResponse {
    auth::end_session(&session);
    HttpResponse::NoContent().finish()
}

/// End every session of this account, on every device (this one included): each carries
/// the account's session version, which this moves past.
#[utoipa::path(post, path = "/api/auth/sign-out-everywhere", tag = "accounts",
    responses((status = 204, description = "every session of the account ended")))]
#[tracing::instrument(name = "sign_out_everywhere", skip_all)]
pub async fn sign_out_everywhere(
    state: web::Data<AppState>,
    user: CurrentUser,
    session: Session,
) -> ApiResult<HttpResponse> {
    users::end_sessions(&state.db, user.id).await?;
    auth::end_session(&session);
    tracing::info!(user.id = user.id, "signed out everywhere");
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user, and the CSRF token for their writes.
#[utoipa::path(get, path = "/api/auth/me", tag = "accounts",
    responses((status = 200, body = SessionInfo)))]
pub async fn me(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    let found = users::find(&state.db, user.id).await?;
    Ok(HttpResponse::Ok().json(SessionInfo {
        user: found,
        csrf_token: user.csrf_token,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let key = |s: &str| throttle_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), key("2001:db8:1:2::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
    }

    /// Request bodies and the session's user print no secret.
    #[test]
    fn bodies_and_the_current_user_print_no_secret() {
        let sign_in = SignIn {
            email: "ana@example.com".into(),
            password: "hunter2-secret".into(),
        };
        let sign_up = SignUp {
            email: "ana@example.com".into(),
            password: "hunter2-secret".into(),
            name: "Ana".into(),
        };
        let user = CurrentUser {
            id: 1,
            role: Role::Owner,
            csrf_token: "csrf-secret".into(),
            language: None,
        };
        let printed = format!("{sign_in:?} {sign_up:?} {user:?} {sign_in:#?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("ana@example.com"), "{printed}");
    }
}
