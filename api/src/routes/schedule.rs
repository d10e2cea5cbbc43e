//! The owner's publishing schedule: her time zone, slots and daily cap
//! (`/api/profile/schedule`), the posts waiting for their slots (`/api/schedule`), and
//! what she does with one of them: publish it now, move it to another free slot, or take it
//! out of the schedule.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::db::lifecycle::schedule::{self, Slot, Upcoming};
use shared::schedule::ScheduleSpec;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// How many posts the schedule lists, and how many free slots it offers for a move.
const LISTED: i64 = 200;
const FREE_SLOTS: usize = 30;

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub schedule: ScheduleSpec,
    /// False until the owner saves one: the values are then the defaults.
    pub set: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleSaved {
    pub schedule: ScheduleSpec,
    /// Posts not yet being published that took a slot of the new schedule.
    pub reflowed: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Upcomings {
    pub time_zone: String,
    /// Approved posts not yet published: by slot, then those out of the schedule.
    pub items: Vec<Upcoming>,
    /// The next free slots, for a move.
    pub free_slots: Vec<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveTo {
    /// One of the owner's free slots, to come (RFC 3339).
    pub at: DateTime<Utc>,
}

/// The owner's publishing schedule (the default one until she saves hers).
#[utoipa::path(get, path = "/api/profile/schedule", tag = "schedule", operation_id = "get_schedule",
    responses((status = 200, body = ScheduleView)))]
pub async fn get(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    let mut conn = state.db.acquire().await.map_err(shared::Error::from)?;
    let current = schedule::load(&mut conn, user.id).await?;
    let set = schedule::is_set(&state.db, user.id).await?;
    Ok(HttpResponse::Ok().json(ScheduleView {
        schedule: current.spec(),
        set,
    }))
}

/// Set the schedule; every post not yet being published takes a slot of the new one, in
/// the order they were in.
#[utoipa::path(put, path = "/api/profile/schedule", tag = "schedule", operation_id = "set_schedule",
    request_body = ScheduleSpec,
    responses((status = 200, body = ScheduleSaved),
        (status = 422, description = "an unknown time zone, no day or time, a time not HH:MM, \
                                      per_day outside 1–100")))]
#[tracing::instrument(name = "set_schedule", skip_all)]
pub async fn set(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<ScheduleSpec>,
) -> ApiResult<HttpResponse> {
    let reflowed = schedule::save(&state.db, user.id, &body).await?;
    let mut conn = state.db.acquire().await.map_err(shared::Error::from)?;
    let saved = schedule::load(&mut conn, user.id).await?;
    Ok(HttpResponse::Ok().json(ScheduleSaved {
        schedule: saved.spec(),
        reflowed,
    }))
}

/// The approved posts waiting for their slot, and the free slots to move one to.
#[utoipa::path(get, path = "/api/schedule", tag = "schedule", operation_id = "list_schedule",
    responses((status = 200, body = Upcomings)))]
pub async fn list(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(upcomings(&state, user.id).await?))
}

pub async fn upcomings(state: &AppState, user_id: i64) -> Result<Upcomings, shared::Error> {
    let mut conn = state.db.acquire().await?;
    let current = schedule::load(&mut conn, user_id).await?;
    drop(conn);
    Ok(Upcomings {
        time_zone: current.time_zone.name().to_owned(),
        items: schedule::upcoming(&state.db, user_id, LISTED).await?,
        free_slots: schedule::free_slots(&state.db, user_id, FREE_SLOTS).await?,
    })
}

/// Publish a scheduled (or unscheduled) approved post now instead of in its slot. Its
/// slot becomes 15 seconds from now, and its job waits for it: a move or an unschedule in
/// those seconds takes it back (refused, 409, once its publication started). Refused
/// (409) while her publishing is paused.
#[utoipa::path(post, path = "/api/contents/{id}/publish-now", tag = "schedule",
    operation_id = "publish_now",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, body = Slot),
        (status = 409, description = "not approved, its publishing has started, or her \
                                      publishing is paused")))]
#[tracing::instrument(name = "publish_now", skip_all, fields(content.id = %id))]
pub async fn publish_now(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(schedule::publish_now(&state.db, user.id, *id).await?))
}

/// Move an approved post to another free slot (or put one taken out back in).
#[utoipa::path(post, path = "/api/contents/{id}/move", tag = "schedule",
    operation_id = "move_to_slot",
    params(("id" = i64, Path, description = "content id")), request_body = MoveTo,
    responses((status = 200, body = Slot),
        (status = 409, description = "not approved, its publishing has started, or the slot \
                                      is taken"),
        (status = 422, description = "not one of the owner's slots, or passed")))]
#[tracing::instrument(name = "move_to_slot", skip_all, fields(content.id = %id))]
pub async fn move_to(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    body: web::Json<MoveTo>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(schedule::move_to(&state.db, user.id, *id, body.at).await?))
}

/// Take an approved post out of the schedule: it waits, approved, until she moves it
/// back in.
#[utoipa::path(post, path = "/api/contents/{id}/unschedule", tag = "schedule",
    operation_id = "unschedule",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, body = Slot),
        (status = 409, description = "not approved, or its publishing has started")))]
#[tracing::instrument(name = "unschedule", skip_all, fields(content.id = %id))]
pub async fn unschedule(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(schedule::unschedule(&state.db, user.id, *id).await?))
}

/// Whether all the owner's publishing is paused.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pause {
    /// When she paused it; `null` when her posts go out in their slots.
    pub paused_since: Option<DateTime<Utc>>,
    /// Posts that took a slot to come again when she resumed (0 for a pause).
    pub reflowed: u64,
}

/// Pause all the owner's publishing: no post goes out (its job waits, spending no
/// attempt) until she resumes; a publication already started goes on. Pausing twice keeps
/// the first instant.
#[utoipa::path(post, path = "/api/schedule/pause", tag = "schedule", operation_id = "pause_publishing",
    responses((status = 200, body = Pause)))]
#[tracing::instrument(name = "pause_publishing", skip_all)]
pub async fn pause(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    let since = schedule::pause(&state.db, user.id).await?;
    Ok(HttpResponse::Ok().json(Pause {
        paused_since: Some(since),
        reflowed: 0,
    }))
}

/// Resume her publishing: the waiting posts take the slots to come, in their order, so
/// those whose slot passed during the pause do not all go out at once. Resuming what is
/// not paused changes nothing.
#[utoipa::path(post, path = "/api/schedule/resume", tag = "schedule", operation_id = "resume_publishing",
    responses((status = 200, body = Pause)))]
#[tracing::instrument(name = "resume_publishing", skip_all)]
pub async fn resume(state: web::Data<AppState>, user: CurrentUser) -> ApiResult<HttpResponse> {
    let reflowed = schedule::resume(&state.db, user.id).await?;
    Ok(HttpResponse::Ok().json(Pause {
        paused_since: None,
        reflowed,
    }))
}
