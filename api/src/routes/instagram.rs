//! The Instagram connection (Business Login for Instagram): the OAuth start, the callback
//! (the code for a long-lived token, sealed in the vault as LinkedIn's is), the state, and
//! disconnect. Its own session keys, so a LinkedIn connect and an Instagram connect started
//! in one session never take each other's `state`.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use shared::db::instagram::{self, InstagramStatus, SealedInstagramGrant};
use shared::vault::Field;
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;

use crate::error::{ApiError, ApiResult};
use crate::routes::oauth_round::Round;
use crate::state::AppState;

/// The OAuth round's session keys, apart from LinkedIn's.
const ROUND: Round = Round {
    platform: "instagram",
    state: "ig_state",
    made_at: "ig_state_at",
    from_page: "ig_from_page",
};
/// Instagram's words when it refused a connect, kept for the profile page to show once.
pub const OAUTH_REFUSAL: &str = "ig_refusal";

/// What Instagram sends when the owner herself cancelled the consent ("Business Login for
/// Instagram", canceled authorization): `error=access_denied`, `error_reason=user_denied`.
pub const CANCELLATION_REASON: &str = "user_denied";

const NOT_CONFIGURED: &str = "Instagram is not configured on this server";

/// What Instagram said when it refused a connect, as shown to the owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refusal {
    pub error: String,
    pub reason: String,
    pub description: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// Instagram's authorization code, 1–2,048 characters; required unless `error` is set.
    #[param(min_length = 1, max_length = 2048)]
    pub code: Option<String>,
    /// Must be the `state` of the connect this session started within the last 10 minutes
    /// (43 URL-safe base64 characters, single use).
    #[param(pattern = "^[A-Za-z0-9_-]{43}$", min_length = 43, max_length = 43)]
    pub state: Option<String>,
    /// `access_denied` when the owner cancelled (with `error_reason=user_denied`), or
    /// Instagram's refusal of the request.
    #[param(max_length = 200)]
    pub error: Option<String>,
    #[param(max_length = 200)]
    pub error_reason: Option<String>,
    #[param(max_length = 2000)]
    pub error_description: Option<String>,
}

/// Where the browser goes to consent on Instagram.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstagramConnectStart {
    pub authorize_url: String,
}

/// Where Instagram sends the owner back: the URL the connect sends and the one the Meta
/// app's "Business login settings" must list as a redirect URL, character for character.
pub fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}/api/profile/instagram/callback",
        state.config.api.public_url.trim_end_matches('/')
    )
}

/// The Instagram connection's state.
#[utoipa::path(get, path = "/api/profile/instagram", tag = "profile",
    operation_id = "get_instagram", responses((status = 200, body = InstagramStatus)))]
pub async fn get(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(instagram::status(&state.db, user.id).await?))
}

/// Start connecting Instagram: answers the consent URL for the browser to open. A POST with
/// the CSRF token, so a cross-site page cannot start a connect.
#[utoipa::path(post, path = "/api/profile/instagram/connect", tag = "profile",
    responses((status = 200, body = InstagramConnectStart),
        (status = 503, description = "Instagram is not configured")))]
#[tracing::instrument(name = "instagram_connect", skip_all)]
pub async fn connect(
    state: web::Data<AppState>,
    user: CurrentUser,
    session: Session,
) -> ApiResult<HttpResponse> {
    let authorize_url = start_connect(&state, &session, &user, false)?;
    Ok(HttpResponse::Ok().json(InstagramConnectStart { authorize_url }))
}

/// Remembers a fresh OAuth `state` in the session and answers Instagram's consent URL.
pub fn start_connect(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    from_page: bool,
) -> ApiResult<String> {
    let ig = state
        .instagram
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable(NOT_CONFIGURED.into()))?;
    let oauth_state = ROUND.begin(session, from_page)?;
    tracing::info!(user.id = user.id, from_page, "instagram connect started");
    Ok(ig.authorize_url(&oauth_state, &redirect_uri(state)))
}

/// Where Instagram sends the browser back. A connect the profile page started comes back
/// to it with a notice (`?instagram=connected|cancelled|refused|failed`) whatever happened;
/// one the JSON API started gets the error answers documented here.
#[utoipa::path(get, path = "/api/profile/instagram/callback", tag = "profile",
    params(CallbackQuery),
    responses((status = 303, description = "back to the profile page"),
        (status = 400, description = "state not from this session's connect, or no code"),
        (status = 503, description = "Instagram is not configured, or did not answer")))]
#[tracing::instrument(name = "instagram_callback", skip_all)]
pub async fn callback(
    state: web::Data<AppState>,
    user: CurrentUser,
    session: Session,
    query: web::Query<CallbackQuery>,
) -> ApiResult<HttpResponse> {
    let outcome = complete_connect(&state, &user, &session, &query).await;
    ROUND.finish(&state, &session, outcome)
}

async fn complete_connect(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    query: &CallbackQuery,
) -> ApiResult<&'static str> {
    let ig = state
        .instagram
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable(NOT_CONFIGURED.into()))?;
    ROUND.check_state(session, query.state.as_deref())?;
    if let Some(error) = query.error.as_deref() {
        if query.error_reason.as_deref() == Some(CANCELLATION_REASON) {
            tracing::info!(
                user.id = user.id,
                "instagram connect cancelled by the owner"
            );
            return Ok("cancelled");
        }
        let clip = |s: Option<&str>, n: usize| -> String {
            s.unwrap_or_default().chars().take(n).collect()
        };
        let refusal = Refusal {
            error: clip(Some(error), 200),
            reason: clip(query.error_reason.as_deref(), 200),
            description: clip(query.error_description.as_deref(), 2000),
        };
        tracing::warn!(
            user.id = user.id,
            error = %refusal.error,
            error_reason = %refusal.reason,
            "instagram refused the connect"
        );
        session
            .insert(OAUTH_REFUSAL, &refusal)
            .map_err(ApiError::internal)?;
        return Ok("refused");
    }
    let code = query
        .code
        .as_deref()
        // Instagram appends `#_` to the redirect; a browser keeps it out of the query,
        // a copied URL may not.
        .map(|c| c.trim_end_matches("#_"))
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| ApiError::BadRequest("code is missing".into()))?;
    let grant = ig
        .exchange_code(code, &redirect_uri(state))
        .await
        .map_err(shared::Error::from)?;
    let expires_in =
        chrono::Duration::from_std(grant.expires_in).unwrap_or(chrono::Duration::days(60));
    let sealed = SealedInstagramGrant {
        access_token: state.vault.seal(
            user.id,
            Field::InstagramAccessToken,
            &grant.access_token,
        )?,
        expires_at: Utc::now() + expires_in,
        user_id: grant.user_id,
        username: grant.username,
        scope: grant.permissions,
    };
    let mut tx = state.db.begin().await.map_err(shared::Error::from)?;
    instagram::connect(&mut tx, user.id, &sealed).await?;
    tx.commit().await.map_err(shared::Error::from)?;
    tracing::info!(user.id = user.id, "instagram connected");
    Ok("connected")
}

/// Forget the Instagram token.
#[utoipa::path(post, path = "/api/profile/instagram/disconnect", tag = "profile",
    responses((status = 204, description = "disconnected")))]
#[tracing::instrument(name = "instagram_disconnect", skip_all)]
pub async fn disconnect(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    instagram::disconnect(&state.db, user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
