//! The business profile and the LinkedIn connection (OAuth start and callback, disconnect).

use actix_session::Session;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use shared::db::contents;
use shared::db::profiles::{self, Profile, ProfileUpdate, SealedGrant};
use shared::vault::Field;
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;

use crate::error::{ApiError, ApiResult};
use crate::routes::oauth_round::Round;
use crate::state::AppState;
use crate::validation;

/// The OAuth round's session keys. Set from the profile page, the callback brings every
/// outcome back to that page with a notice, where the JSON API's client gets its error.
const ROUND: Round = Round {
    platform: "linkedin",
    state: "li_state",
    made_at: "li_state_at",
    from_page: "li_from_page",
};
/// LinkedIn's `error` and `error_description` of a refused connect, kept in the session for
/// the profile page to show once (not in its URL, where anyone could write a notice).
pub const OAUTH_REFUSAL: &str = "li_refusal";

/// The `error` values LinkedIn sends when the member herself stopped: she declined to sign
/// in, or refused the permissions ("Authorization Code Flow (3-legged OAuth)",
/// learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow). Any other
/// `error` (`unauthorized_scope_error`, a redirect_uri LinkedIn does not know...) is LinkedIn
/// refusing the app, which the owner must be told as such.
pub const CANCELLATION_ERRORS: [&str; 2] = ["user_cancelled_login", "user_cancelled_authorize"];

/// What LinkedIn said when it refused a connect, as shown to the owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refusal {
    pub error: String,
    pub description: String,
}

/// The whole profile: an absent or empty field clears it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateProfile {
    #[schema(max_length = 200)]
    pub business_name: Option<String>,
    #[schema(max_length = 100)]
    pub business_type: Option<String>,
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    /// An http(s) URL.
    #[schema(max_length = 500)]
    pub website: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// LinkedIn's authorization code, 1–2,048 characters; required unless `error` is set.
    #[param(min_length = 1, max_length = 2048)]
    pub code: Option<String>,
    /// Must be the `state` of the connect this session started within the last 10 minutes
    /// (43 URL-safe base64 characters, single use): anything else is a 400, which is what
    /// most generated values get.
    #[param(pattern = "^[A-Za-z0-9_-]{43}$", min_length = 43, max_length = 43)]
    pub state: Option<String>,
    /// Set by LinkedIn when the member stopped (`user_cancelled_login`,
    /// `user_cancelled_authorize`) or when LinkedIn refused the request (for instance
    /// `unauthorized_scope_error`: a scope outside the app's products).
    #[param(max_length = 200)]
    pub error: Option<String>,
    #[param(max_length = 2000)]
    pub error_description: Option<String>,
}

#[utoipa::path(get, path = "/api/profile", tag = "profile", operation_id = "get_profile",
    responses((status = 200, body = Profile)))]
pub async fn get(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(profiles::get(&state.db, user.id).await?))
}

#[utoipa::path(put, path = "/api/profile", tag = "profile", request_body = UpdateProfile,
    responses((status = 200, body = Profile)))]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<UpdateProfile>,
) -> ApiResult<HttpResponse> {
    let update = match check_profile(&body) {
        Ok(update) => update,
        Err(problems) => {
            let message = problems
                .first()
                .map(|(field, problem)| problem.message(field))
                .unwrap_or_else(|| "the profile is not valid".into());
            return Err(ApiError::Invalid(message));
        }
    };
    Ok(HttpResponse::Ok().json(profiles::update(&state.db, user.id, &update).await?))
}

/// The checks of a profile edit, shared by `PUT /api/profile` and the profile page: the
/// update to store, or every field's problem in form order (the API reports the first,
/// the page shows each next to its field).
pub fn check_profile(
    input: &UpdateProfile,
) -> Result<ProfileUpdate, Vec<(&'static str, validation::Problem)>> {
    let mut problems = Vec::new();
    let mut keep = |field: &'static str, checked: Result<Option<String>, validation::Problem>| {
        checked.unwrap_or_else(|problem| {
            problems.push((field, problem));
            None
        })
    };
    let text = validation::optional_text;
    let update = ProfileUpdate {
        business_name: keep("business_name", text(input.business_name.as_deref(), 200)),
        business_type: keep("business_type", text(input.business_type.as_deref(), 100)),
        location: keep("location", text(input.location.as_deref(), 200)),
        phone: keep("phone", text(input.phone.as_deref(), 40)),
        website: keep(
            "website",
            validation::website_address(input.website.as_deref()),
        ),
    };
    if problems.is_empty() {
        Ok(update)
    } else {
        Err(problems)
    }
}

fn redirect_uri(state: &AppState) -> String {
    state.config.api.linkedin_redirect_uri()
}

/// Where the browser goes to consent on LinkedIn.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectStart {
    pub authorize_url: String,
}

/// Start connecting LinkedIn: answers the LinkedIn consent URL for the browser to open. A
/// POST with the CSRF token, so a cross-site page cannot start a connect (whose callback
/// publishes the contents approved while LinkedIn was not connected).
#[utoipa::path(post, path = "/api/profile/linkedin/connect", tag = "profile",
    responses((status = 200, body = ConnectStart)))]
#[tracing::instrument(name = "linkedin_connect", skip_all)]
pub async fn linkedin_connect(
    state: web::Data<AppState>,
    user: CurrentUser,
    session: Session,
) -> ApiResult<HttpResponse> {
    let authorize_url = start_connect(&state, &session, &user, false)?;
    Ok(HttpResponse::Ok().json(ConnectStart { authorize_url }))
}

/// Remembers a fresh OAuth `state` in the session and answers LinkedIn's consent URL; the
/// JSON API answers it, the profile page (`from_page`) redirects to it.
pub fn start_connect(
    state: &AppState,
    session: &Session,
    user: &CurrentUser,
    from_page: bool,
) -> ApiResult<String> {
    let linkedin = state
        .linkedin
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("LinkedIn is not configured on this server".into()))?;
    let oauth_state = ROUND.begin(session, from_page)?;
    tracing::info!(user.id = user.id, from_page, "linkedin connect started");
    Ok(linkedin.authorize_url(&oauth_state, &redirect_uri(state)))
}

/// Where LinkedIn sends the browser back. Checks `state`, trades the code for tokens, seals
/// them, and queues the contents approved while LinkedIn was not connected. A connect the
/// profile page started comes back to it with a notice whatever happened; one the JSON API
/// started gets the error answers documented here.
#[utoipa::path(get, path = "/api/profile/linkedin/callback", tag = "profile",
    params(CallbackQuery),
    responses((status = 303, description = "back to the profile page"),
        (status = 400, description = "state not from this session's connect, or no code"),
        (status = 503, description = "LinkedIn is not configured, or did not answer")))]
#[tracing::instrument(name = "linkedin_callback", skip_all)]
pub async fn linkedin_callback(
    state: web::Data<AppState>,
    user: CurrentUser,
    session: Session,
    query: web::Query<CallbackQuery>,
) -> ApiResult<HttpResponse> {
    let outcome = complete_connect(&state, &user, &session, &query).await;
    ROUND.finish(&state, &session, outcome)
}

/// The callback's work; answers the outcome the profile page's notice names.
async fn complete_connect(
    state: &AppState,
    user: &CurrentUser,
    session: &Session,
    query: &CallbackQuery,
) -> ApiResult<&'static str> {
    let linkedin = state
        .linkedin
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("LinkedIn is not configured on this server".into()))?;
    ROUND.check_state(session, query.state.as_deref())?;
    if let Some(error) = query.error.as_deref() {
        if CANCELLATION_ERRORS.contains(&error) {
            tracing::info!(
                user.id = user.id,
                error,
                "linkedin connect cancelled by the member"
            );
            return Ok("cancelled");
        }
        let refusal = Refusal {
            error: error.chars().take(200).collect(),
            description: query
                .error_description
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(2000)
                .collect(),
        };
        tracing::warn!(
            user.id = user.id,
            error = %refusal.error,
            error_description = %refusal.description,
            "linkedin refused the connect"
        );
        session
            .insert(OAUTH_REFUSAL, &refusal)
            .map_err(ApiError::internal)?;
        return Ok("refused");
    }
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| ApiError::BadRequest("code is missing".into()))?;
    let grant = linkedin.exchange_code(code, &redirect_uri(state)).await?;
    let now = Utc::now();
    let to_chrono = |d: std::time::Duration| {
        chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(60))
    };
    let sealed = SealedGrant {
        access_token: state
            .vault
            .seal(user.id, Field::LinkedInAccessToken, &grant.access_token)?,
        refresh_token: grant
            .refresh_token
            .as_deref()
            .map(|t| state.vault.seal(user.id, Field::LinkedInRefreshToken, t))
            .transpose()?,
        expires_at: now + to_chrono(grant.expires_in),
        refresh_expires_at: grant.refresh_expires_in.map(|d| now + to_chrono(d)),
        member_urn: grant.member_urn,
        member_name: grant.member_name,
        member_picture: grant
            .member_picture
            .map(|p| (p.bytes, p.content_type.to_owned())),
        scope: profiles::normalize_scope(grant.scope.as_deref()),
    };
    let mut tx = state.db.begin().await.map_err(shared::Error::from)?;
    profiles::connect_linkedin(&mut tx, user.id, &sealed).await?;
    let queued = contents::queue_waiting_approvals(&mut tx, user.id).await?;
    tx.commit().await.map_err(shared::Error::from)?;
    tracing::info!(user.id = user.id, queued, "linkedin connected");
    Ok("connected")
}

/// Forget the LinkedIn tokens.
#[utoipa::path(post, path = "/api/profile/linkedin/disconnect", tag = "profile",
    responses((status = 204, description = "disconnected")))]
#[tracing::instrument(name = "linkedin_disconnect", skip_all)]
pub async fn linkedin_disconnect(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> ApiResult<HttpResponse> {
    profiles::disconnect_linkedin(&state.db, user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}
