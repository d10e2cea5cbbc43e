//! The owner's profile: business details (the same checks and query as `PUT /api/profile`),
//! the account's language, and the LinkedIn connection: its state and expiry, connect (the
//! JSON API's OAuth start, then a redirect to LinkedIn's consent page) and disconnect, after
//! a confirmation page so it works without JavaScript.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use shared::db::profiles::{self, LinkedInStatus, Profile};
use shared::db::users;
use tera::Context;

use super::account::FieldError;
use super::i18n::Lang;
use super::{PageCtx, Shown, redirect, set_language_cookie};
use crate::error::{ApiError, ApiResult};
use crate::routes::profile::{UpdateProfile, check_profile, start_connect};
use crate::state::AppState;

/// From this many days before the token expires, the home page asks to reconnect.
pub const EXPIRY_WARNING_DAYS: i64 = 7;

/// The business fields in form order: name, input type, autocomplete hint, length limit
/// (the same limits `check_profile` applies). `profile-field-<name>` labels each.
pub const FIELDS: [(&str, &str, &str, usize); 5] = [
    ("business_name", "text", "organization", 200),
    ("business_type", "text", "off", 100),
    ("location", "text", "address-level2", 200),
    ("phone", "tel", "tel", 40),
    ("website", "url", "url", 500),
];

/// What `?linkedin=` and `?done=` may announce (`profile-notice-<name>`).
pub const NOTICES: [&str; 7] = [
    "connected",
    "cancelled",
    "refused",
    "failed",
    "unavailable",
    "disconnected",
    "saved",
];

/// The connection's states as the owner reads them (`profile-linkedin-<state>`).
pub const LINKEDIN_STATES: [&str; 3] = ["connected", "reconnect", "disconnected"];

#[derive(Debug, Deserialize)]
pub struct ProfileQuery {
    linkedin: Option<String>,
    done: Option<String>,
    /// The Instagram connect's outcome, shown in its own part of the page.
    instagram: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    business_name: String,
    #[serde(default)]
    business_type: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    language: String,
}

#[derive(Debug, Deserialize)]
pub struct PostedForm {
    #[serde(default)]
    csrf: String,
}

impl PostedForm {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Serialize)]
struct FieldView {
    name: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    max: usize,
    value: String,
    error: Option<FieldError>,
}

/// A date the templates print with `t(k="date-full", day=, month=, year=)`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DateView {
    pub day: u32,
    pub month: u32,
    pub year: i32,
}

impl From<DateTime<Utc>> for DateView {
    fn from(t: DateTime<Utc>) -> Self {
        Self {
            day: t.day(),
            month: t.month(),
            year: t.year(),
        }
    }
}

/// The connection as the profile and home pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedInView {
    /// One of [`LINKEDIN_STATES`].
    pub state: &'static str,
    pub member_name: Option<String>,
    pub expires: Option<DateView>,
    /// Whole days left before the token expires, rounded up (a token expiring in 3 days
    /// minus a second says 3); set only while connected.
    pub days_left: Option<i64>,
    /// Connected, but LinkedIn did not grant post analytics: the dashboard says why her
    /// engagement stays empty and how to get it.
    pub no_analytics: bool,
}

impl LinkedInView {
    /// An expired token is a reconnect: the publish job will refuse it anyway.
    pub fn new(status: &LinkedInStatus, now: DateTime<Utc>) -> Self {
        let seconds_left = status.expires_at.map(|t| (t - now).num_seconds());
        let state = match (status.connected, status.reconnect_needed, seconds_left) {
            (false, _, _) => "disconnected",
            (true, true, _) => "reconnect",
            (true, false, Some(s)) if s <= 0 => "reconnect",
            (true, false, _) => "connected",
        };
        Self {
            state,
            member_name: status.member_name.clone(),
            expires: status.expires_at.map(DateView::from),
            days_left: seconds_left
                .filter(|_| state == "connected")
                .map(|s| (s + 86_399) / 86_400),
            no_analytics: status.connected && !status.analytics,
        }
    }

    /// The home page's warning: connected, and expiring within [`EXPIRY_WARNING_DAYS`].
    pub fn expiring_in(&self) -> Option<i64> {
        self.days_left.filter(|d| *d <= EXPIRY_WARNING_DAYS)
    }
}

/// The profile, which every account has (made with it); a missing one is a 404 page.
async fn load(state: &AppState, user_id: i64) -> ApiResult<Profile> {
    Ok(profiles::get(&state.db, user_id).await?)
}

fn fields(
    values: [String; 5],
    errors: &[(&'static str, crate::validation::Problem)],
) -> Vec<FieldView> {
    FIELDS
        .iter()
        .zip(values)
        .map(|(&(name, kind, autocomplete, max), value)| FieldView {
            name,
            kind,
            autocomplete,
            max,
            value,
            error: errors
                .iter()
                .find(|(field, _)| *field == name)
                .map(|(_, problem)| FieldError::from(problem.clone())),
        })
        .collect()
}

/// The origin of LinkedIn's consent page, which the connect form is redirected to.
fn consent_origin(state: &AppState) -> Option<String> {
    let linkedin = state.linkedin.as_ref()?;
    let url = url::Url::parse(&linkedin.authorize_url("", "")).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

pub async fn show(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<ProfileQuery>,
    session: actix_session::Session,
) -> HttpResponse {
    ctx.respond(show_page(&ctx, &state, &query, &session).await)
}

async fn show_page(
    ctx: &PageCtx,
    state: &AppState,
    query: &ProfileQuery,
    session: &actix_session::Session,
) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let profile = load(state, user.id).await?;
    let values = [
        profile.business_name.clone(),
        profile.business_type.clone(),
        profile.location.clone(),
        profile.phone.clone(),
        profile.website.clone(),
    ]
    .map(Option::unwrap_or_default);
    let notice = [query.linkedin.as_deref(), query.done.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|n| NOTICES.iter().find(|known| **known == n));
    let mut conn = state.db.acquire().await.map_err(shared::Error::from)?;
    let current = shared::db::lifecycle::schedule::load(&mut conn, user.id).await?;
    drop(conn);
    // "9:00, 14:00 (Paris time)": her slots on the clock of the zone they are in.
    let times = current
        .times
        .iter()
        .map(|m| format!("{}:{:02}", m / 60, m % 60))
        .collect::<Vec<_>>()
        .join(", ");
    let times = super::times::labelled(times, current.time_zone, ctx.ui().catalog(*ctx.lang));
    let schedule = current.spec();
    let mut context = Context::new();
    context.insert("notice", &notice);
    super::instagram::insert_notice(&mut context, query.instagram.as_deref(), session);
    // Who posts: her LinkedIn name and photo, as the previews show them.
    context.insert("author", &super::preview::author(state, user.id).await?);
    // LinkedIn's own words when it refused the connect, shown once.
    if notice == Some(&"refused") {
        let refusal: Option<crate::routes::profile::Refusal> = session
            .remove_as(crate::routes::profile::OAUTH_REFUSAL)
            .and_then(Result::ok);
        if let Some(r) = refusal {
            context.insert("refusal_scope", &(r.error == "unauthorized_scope_error"));
            context.insert("refusal", &r);
        }
    }
    // Her publishing schedule in short; it is set on the schedule page, beside the posts
    // it places, so a change shows where it lands.
    context.insert("schedule", &schedule);
    context.insert("schedule_times", &times);
    context.insert("mail_notices", &super::notices::rows(state, user.id).await?);
    context.insert(
        "notices_saved",
        &(query.done.as_deref() == Some(super::notices::SAVED)),
    );
    super::identities::add_to_profile(&mut context, state, ctx.request(), user.id).await?;
    page(
        ctx,
        state,
        &user,
        &profile,
        fields(values, &[]),
        context,
        StatusCode::OK,
    )
    .await
}

async fn page(
    ctx: &PageCtx,
    state: &AppState,
    user: &crate::auth::CurrentUser,
    profile: &Profile,
    fields: Vec<FieldView>,
    mut context: Context,
    status: StatusCode,
) -> ApiResult<HttpResponse> {
    context.insert("fields", &fields);
    context.insert("languages", &Lang::ALL.map(Lang::code));
    context.insert("language", ctx.lang.code());
    context.insert(
        "linkedin",
        &LinkedInView::new(&profile.linkedin, Utc::now()),
    );
    context.insert("linkedin_available", &state.linkedin.is_some());
    super::instagram::insert(&mut context, state, user.id).await?;
    ctx.render(
        "profile.html",
        context,
        Shown {
            user: Some(user),
            status: Some(status),
            form_target: super::identities::form_targets(
                super::instagram::form_targets(consent_origin(state), state),
                state,
            ),
            ..Shown::default()
        },
    )
}

pub async fn save(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<ProfileForm>,
) -> HttpResponse {
    ctx.respond(save_profile(&ctx, &state, &form).await)
}

/// Nothing is stored unless every field is valid; the page comes back with each problem
/// next to its field and what was typed.
#[tracing::instrument(name = "page_save_profile", skip_all)]
async fn save_profile(
    ctx: &PageCtx,
    state: &AppState,
    form: &ProfileForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let input = UpdateProfile {
        business_name: Some(form.business_name.clone()),
        business_type: Some(form.business_type.clone()),
        location: Some(form.location.clone()),
        phone: Some(form.phone.clone()),
        website: Some(form.website.clone()),
    };
    // A value we do not offer keeps the language in force.
    let lang = Lang::parse(&form.language).unwrap_or(*ctx.lang);
    let update = match check_profile(&input) {
        Ok(update) => update,
        Err(problems) => {
            let profile = load(state, user.id).await?;
            let values = [
                &form.business_name,
                &form.business_type,
                &form.location,
                &form.phone,
                &form.website,
            ]
            .map(|v| v.trim().to_owned());
            return page(
                ctx,
                state,
                &user,
                &profile,
                fields(values, &problems),
                Context::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    tokio::try_join!(
        profiles::update(&state.db, user.id, &update),
        users::set_language(&state.db, user.id, lang.language()),
    )?;
    let mut response = redirect("/profile?done=saved");
    // Signed out, this browser keeps reading the chosen language.
    set_language_cookie(&mut response, lang);
    Ok(response)
}

pub async fn connect(
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<PostedForm>,
) -> HttpResponse {
    ctx.respond(connect_start(&ctx, &state, &session, &form).await)
}

/// The JSON API's connect, answered with a redirect to LinkedIn's consent page; LinkedIn
/// then sends the browser to the callback, which comes back here with a notice.
async fn connect_start(
    ctx: &PageCtx,
    state: &AppState,
    session: &Session,
    form: &PostedForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    match start_connect(state, session, &user, true) {
        Ok(consent) => Ok(redirect(&consent)),
        Err(ApiError::Unavailable(_)) => Ok(redirect("/profile?linkedin=unavailable")),
        Err(e) => Err(e),
    }
}

pub async fn confirm_disconnect(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    ctx.respond(confirm_page(&ctx, &state).await)
}

async fn confirm_page(ctx: &PageCtx, state: &AppState) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let profile = load(state, user.id).await?;
    if !profile.linkedin.connected {
        return Ok(redirect("/profile"));
    }
    let mut context = Context::new();
    context.insert(
        "linkedin",
        &LinkedInView::new(&profile.linkedin, Utc::now()),
    );
    ctx.render(
        "profile_disconnect.html",
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

#[tracing::instrument(name = "page_linkedin_disconnect", skip_all)]
async fn disconnect_now(
    ctx: &PageCtx,
    state: &AppState,
    form: &PostedForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    profiles::disconnect_linkedin(&state.db, user.id).await?;
    Ok(redirect("/profile?linkedin=disconnected"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(connected: bool, reconnect: bool, expires_in: Option<i64>) -> LinkedInStatus {
        LinkedInStatus {
            connected,
            reconnect_needed: reconnect,
            member_urn: None,
            member_name: None,
            expires_at: expires_in.map(|s| Utc::now() + chrono::Duration::seconds(s)),
            scope: None,
            analytics: connected,
        }
    }

    #[test]
    fn the_warning_starts_a_week_before_expiry_and_counts_whole_days() {
        let now = Utc::now();
        let day = 86_400;
        let view = |s| LinkedInView::new(&status(true, false, Some(s)), now);
        // 60 days left: no warning.
        assert_eq!(view(60 * day).expiring_in(), None);
        assert_eq!(view(60 * day).state, "connected");
        // A token made "3 days from now" a moment ago still reads 3 days.
        assert_eq!(view(3 * day - 1).expiring_in(), Some(3));
        assert_eq!(view(7 * day).expiring_in(), Some(7));
        assert_eq!(view(7 * day + 1).expiring_in(), None);
        assert_eq!(view(30).expiring_in(), Some(1));
        // Expired: a reconnect, not a countdown.
        assert_eq!(view(-5).state, "reconnect");
        assert_eq!(view(-5).expiring_in(), None);
    }

    #[test]
    fn states_follow_the_profile() {
        let now = Utc::now();
        assert_eq!(
            LinkedInView::new(&status(false, false, None), now).state,
            "disconnected"
        );
        let refused = LinkedInView::new(&status(true, true, Some(86_400 * 30)), now);
        assert_eq!(refused.state, "reconnect");
        assert_eq!(refused.expiring_in(), None);
    }
}
