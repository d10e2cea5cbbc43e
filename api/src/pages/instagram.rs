//! The Instagram part of the profile page (`profile_instagram.html`): its state, the account
//! it publishes as, the expiry, the connect's outcome; connect (the JSON API's OAuth start,
//! then a redirect to Instagram's consent window) and disconnect after a confirmation page,
//! so both work without JavaScript.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::db::instagram::{self, InstagramStatus};
use tera::Context;

use super::profile::{DateView, PostedForm};
use super::{PageCtx, Shown, redirect};
use crate::error::{ApiError, ApiResult};
use crate::routes::instagram::{OAUTH_REFUSAL, Refusal, start_connect};
use crate::state::AppState;

/// What `?instagram=` may announce (`profile-instagram-notice-<name>`).
pub const NOTICES: [&str; 6] = [
    "connected",
    "cancelled",
    "refused",
    "failed",
    "unavailable",
    "disconnected",
];

/// The pages' routes of the Instagram connection.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/profile/instagram/connect", web::post().to(connect))
        .route("/profile/instagram/disconnect", web::get().to(confirm))
        .route("/profile/instagram/disconnect", web::post().to(disconnect));
}

/// The connection as the profile page shows it; the states are LinkedIn's
/// (`connected`, `reconnect`, `disconnected`).
#[derive(Debug, Clone, Serialize)]
pub struct InstagramView {
    pub state: &'static str,
    pub username: Option<String>,
    pub expires: Option<DateView>,
    /// Whole days left before the token expires, rounded up; set only while connected.
    pub days_left: Option<i64>,
}

impl InstagramView {
    /// An expired token is a reconnect: Instagram refuses it (code 190).
    pub fn new(status: &InstagramStatus, now: DateTime<Utc>) -> Self {
        let seconds_left = status.expires_at.map(|t| (t - now).num_seconds());
        let state = match (status.connected, status.reconnect_needed, seconds_left) {
            (false, _, _) => "disconnected",
            (true, true, _) => "reconnect",
            (true, false, Some(s)) if s <= 0 => "reconnect",
            (true, false, _) => "connected",
        };
        Self {
            state,
            username: status.username.clone(),
            expires: status.expires_at.map(DateView::from),
            days_left: seconds_left
                .filter(|_| state == "connected")
                .map(|s| (s + 86_399) / 86_400),
        }
    }
}

/// The origins the profile page's forms may be redirected to: LinkedIn's consent page and
/// Instagram's consent window (the Content-Security-Policy's `form-action`).
pub fn form_targets(linkedin: Option<String>, state: &AppState) -> Option<String> {
    let instagram = state.instagram.as_ref().and_then(|ig| {
        let url = url::Url::parse(&ig.authorize_url("", "")).ok()?;
        Some(url.origin().ascii_serialization()).filter(|o| o != "null")
    });
    match (linkedin, instagram) {
        (Some(l), Some(i)) if l != i => Some(format!("{l} {i}")),
        (l, i) => l.or(i),
    }
}

/// The connect's outcome, and Instagram's own words when it refused, shown once.
pub fn insert_notice(context: &mut Context, notice: Option<&str>, session: &Session) {
    let notice = notice.and_then(|n| NOTICES.iter().find(|known| **known == n));
    context.insert("instagram_notice", &notice);
    if notice == Some(&"refused") {
        let refusal: Option<Refusal> = session.remove_as(OAUTH_REFUSAL).and_then(Result::ok);
        context.insert("instagram_refusal", &refusal);
    }
}

/// The part's state.
pub async fn insert(context: &mut Context, state: &AppState, user_id: i64) -> ApiResult<()> {
    let status = instagram::status(&state.db, user_id).await?;
    context.insert("instagram", &InstagramView::new(&status, Utc::now()));
    context.insert("instagram_available", &state.instagram.is_some());
    Ok(())
}

pub async fn connect(
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<PostedForm>,
) -> HttpResponse {
    ctx.respond(connect_start(&ctx, &state, &session, &form).await)
}

async fn connect_start(
    ctx: &PageCtx,
    state: &AppState,
    session: &Session,
    form: &PostedForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(form.csrf()).await?;
    match start_connect(state, session, &user, true) {
        Ok(consent) => Ok(redirect(&consent)),
        Err(ApiError::Unavailable(_)) => Ok(redirect("/profile?instagram=unavailable#instagram")),
        Err(e) => Err(e),
    }
}

pub async fn confirm(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    ctx.respond(confirm_page(&ctx, &state).await)
}

async fn confirm_page(ctx: &PageCtx, state: &AppState) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let status = instagram::status(&state.db, user.id).await?;
    if !status.connected {
        return Ok(redirect("/profile"));
    }
    let mut context = Context::new();
    context.insert("instagram", &InstagramView::new(&status, Utc::now()));
    ctx.render(
        "profile_instagram_disconnect.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}

pub async fn disconnect(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<PostedForm>,
) -> HttpResponse {
    ctx.respond(disconnect_now(&ctx, &state, &form).await)
}

#[tracing::instrument(name = "page_instagram_disconnect", skip_all)]
async fn disconnect_now(
    ctx: &PageCtx,
    state: &AppState,
    form: &PostedForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(form.csrf()).await?;
    instagram::disconnect(&state.db, user.id).await?;
    Ok(redirect("/profile?instagram=disconnected#instagram"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_connection_and_its_expiry() {
        let now = Utc::now();
        let status = |connected, reconnect_needed, secs: Option<i64>| InstagramStatus {
            connected,
            reconnect_needed,
            expires_at: secs.map(|s| now + chrono::Duration::seconds(s)),
            ..InstagramStatus::default()
        };
        assert_eq!(
            InstagramView::new(&status(false, false, None), now).state,
            "disconnected"
        );
        assert_eq!(
            InstagramView::new(&status(true, true, Some(99)), now).state,
            "reconnect"
        );
        assert_eq!(
            InstagramView::new(&status(true, false, Some(-1)), now).state,
            "reconnect"
        );
        let ok = InstagramView::new(&status(true, false, Some(3 * 86_400 - 1)), now);
        assert_eq!((ok.state, ok.days_left), ("connected", Some(3)));
    }
}
