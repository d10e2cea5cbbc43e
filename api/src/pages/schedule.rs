//! The owner's publishing schedule page: her slots and time zone (a form), then the posts
//! waiting for their slots, by day in her time zone, each with "publish now", "move" (to a
//! free slot) and "take out of the schedule"; those taken out can be put back with a move.
//! The forms go through the same functions as the JSON API; a change comes back to the page
//! with a notice (post/redirect/get), a bad schedule with the message next to the form.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use shared::db::contents::Content;
use shared::db::lifecycle::schedule;
use shared::schedule::ScheduleSpec;
use tera::Context;

use super::i18n::Lang;
use super::{PageCtx, Shown, redirect};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::routes::schedule::upcomings;
use crate::state::AppState;

/// What a change did, shown once on the page it returns to.
pub const NOTICES: [&str; 6] = [
    "saved",
    "published-now",
    "moved",
    "unscheduled",
    "started",
    "slot-taken",
];

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
}

/// "Tue 9:00" and "mar. 9:00": a slot as the owner reads it, in her time zone.
pub fn slot_label(at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    let day = weekday(local.weekday().number_from_monday(), lang);
    format!(
        "{day} {} {}, {}",
        local.day(),
        month(local.month(), lang),
        local.format("%-H:%M")
    )
}

fn weekday(n: u32, lang: Lang) -> &'static str {
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
    let i = (n.clamp(1, 7) - 1) as usize;
    match lang {
        Lang::En => EN[i],
        Lang::Fr => FR[i],
    }
}

fn month(n: u32, lang: Lang) -> &'static str {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const FR: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];
    let i = (n.clamp(1, 12) - 1) as usize;
    match lang {
        Lang::En => EN[i],
        Lang::Fr => FR[i],
    }
}

/// "Tue 1 Dec, 9:00" for each of these contents that waits for its slot (approved, not
/// published, in the schedule), in the owner's time zone: for the gallery, the campaign
/// page and its live updates.
pub async fn labels(
    state: &AppState,
    user_id: i64,
    contents: &[Content],
    lang: Lang,
) -> Result<HashMap<i64, String>, shared::Error> {
    if contents.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = contents.iter().map(|c| c.id).collect();
    let slots = schedule::slots(&state.db, user_id, &ids).await?;
    if slots.is_empty() {
        return Ok(Default::default());
    }
    let mut conn = state.db.acquire().await?;
    let tz = schedule::load(&mut conn, user_id).await?.time_zone;
    Ok(slots
        .into_iter()
        .map(|(id, at)| (id, slot_label(at, tz, lang)))
        .collect())
}

#[derive(Debug, Serialize)]
struct Line {
    id: i64,
    campaign_id: i64,
    campaign_name: String,
    business_name: String,
    text: String,
    time: String,
    started: bool,
}

#[derive(Debug, Serialize)]
struct Day {
    label: String,
    lines: Vec<Line>,
}

#[derive(Debug, Serialize)]
struct FreeSlot {
    value: String,
    label: String,
}

pub async fn show(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    let page = async {
        let user = ctx.user().await?;
        let notice = query
            .done
            .as_deref()
            .and_then(|d| NOTICES.iter().find(|n| **n == d).copied());
        page(&ctx, &state, &user, notice, None).await
    };
    ctx.respond(page.await)
}

/// A schedule that did not save: the form shows what she sent and why.
struct Refused {
    spec: ScheduleSpec,
    message: String,
}

async fn page(
    ctx: &PageCtx,
    state: &AppState,
    user: &CurrentUser,
    notice: Option<&str>,
    refused: Option<Refused>,
) -> ApiResult<HttpResponse> {
    let lang = *ctx.lang;
    let mut conn = state.db.acquire().await.map_err(shared::Error::from)?;
    let current = schedule::load(&mut conn, user.id).await?;
    drop(conn);
    let set = schedule::is_set(&state.db, user.id).await?;
    let tz = current.time_zone;
    let list = upcomings(state, user.id).await?;
    let mut days: Vec<Day> = Vec::new();
    let mut unscheduled = Vec::new();
    let mut last_date = None;
    for item in list.items {
        let line = |time: String| Line {
            id: item.content_id,
            campaign_id: item.campaign_id,
            campaign_name: item.campaign_name.clone(),
            business_name: item.business_name.clone(),
            text: excerpt(&item.text),
            time,
            started: item.started,
        };
        match item.scheduled_at {
            Some(at) => {
                let local = at.with_timezone(&tz);
                let date = local.date_naive();
                let entry = line(local.format("%-H:%M").to_string());
                if last_date != Some(date) {
                    last_date = Some(date);
                    let label = slot_label(at, tz, lang);
                    // The day part of the label: "Tue 9 Dec".
                    let day = label.split(',').next().unwrap_or(&label).to_owned();
                    days.push(Day {
                        label: day,
                        lines: Vec::new(),
                    });
                }
                if let Some(d) = days.last_mut() {
                    d.lines.push(entry);
                }
            }
            None => unscheduled.push(line(String::new())),
        }
    }
    let free: Vec<FreeSlot> = list
        .free_slots
        .iter()
        .map(|t| FreeSlot {
            value: t.to_rfc3339(),
            label: slot_label(*t, tz, lang),
        })
        .collect();
    let (spec, error) = match refused {
        Some(r) => (r.spec, Some(r.message)),
        None => (current.spec(), None),
    };
    let error_field = error.as_deref().and_then(refused_field);
    let mut context = Context::new();
    context.insert("schedule", &spec);
    context.insert("schedule_error_field", &error_field);
    context.insert("times_text", &spec.times.join(", "));
    context.insert("schedule_set", &set);
    context.insert("schedule_error", &error);
    context.insert("days", &days);
    context.insert("unscheduled", &unscheduled);
    context.insert("free_slots", &free);
    context.insert("notice", &notice);
    let status = error
        .as_ref()
        .map(|_| actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
    ctx.render(
        "schedule.html",
        context,
        Shown {
            user: Some(user),
            status,
            ..Shown::default()
        },
    )
}

/// The fields a schedule can be refused for: the check's name (its message starts with
/// it, `"times: …"`) and the page's (`schedule-error-<field>` says what is wrong).
pub const REFUSED_FIELDS: [(&str, &str); 4] = [
    ("time_zone", "time-zone"),
    ("days", "days"),
    ("times", "times"),
    ("per_day", "per-day"),
];

/// The field a refused schedule is about, from the check's message: the page says what is
/// wrong in its own language and marks that field, where the check's message is English,
/// for the JSON API.
fn refused_field(message: &str) -> Option<&'static str> {
    let (name, _) = message.split_once(':')?;
    REFUSED_FIELDS
        .iter()
        .find(|(check, _)| *check == name)
        .map(|(_, field)| *field)
}

/// The first words of a post, for a line of the list.
fn excerpt(text: &str) -> String {
    const MAX: usize = 140;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Saves the slots; a bad field shows the page again with the message.
pub async fn save(ctx: PageCtx, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    ctx.respond(save_settings(&ctx, &state, &body).await)
}

async fn save_settings(ctx: &PageCtx, state: &AppState, body: &[u8]) -> ApiResult<HttpResponse> {
    // Read by hand: the day checkboxes repeat one name (`day=2&day=3`).
    let field = |name: &str| {
        url::form_urlencoded::parse(body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let user = ctx.user_posting(&field("csrf")).await?;
    let days: Vec<u8> = url::form_urlencoded::parse(body)
        .filter(|(k, _)| k == "day")
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect();
    let times_text = field("times");
    let times: Vec<String> = times_text
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let per_day = field("per_day").trim().parse::<u16>().unwrap_or(0);
    let spec = ScheduleSpec {
        time_zone: field("time_zone").trim().to_owned(),
        days,
        times,
        per_day,
        immediate: false,
    };
    match schedule::save(&state.db, user.id, &spec).await {
        Ok(_) => Ok(redirect("/schedule?done=saved")),
        Err(shared::Error::Invalid(message)) => {
            let refused = Refused { spec, message };
            page(ctx, state, &user, None, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    at: String,
}

pub async fn publish_now(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(change(&ctx, &state, *id, &form, Change::PublishNow).await)
}

pub async fn move_to(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(change(&ctx, &state, *id, &form, Change::Move).await)
}

pub async fn unschedule(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(change(&ctx, &state, *id, &form, Change::Unschedule).await)
}

#[derive(Debug, Clone, Copy)]
enum Change {
    PublishNow,
    Move,
    Unschedule,
}

/// A content another request moved on (started publishing, took the slot) comes back to
/// the page with a notice saying so rather than an error page.
async fn change(
    ctx: &PageCtx,
    state: &AppState,
    id: i64,
    form: &ChangeForm,
    what: Change,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let outcome = match what {
        Change::PublishNow => schedule::publish_now(&state.db, user.id, id)
            .await
            .map(|_| "published-now"),
        Change::Unschedule => schedule::unschedule(&state.db, user.id, id)
            .await
            .map(|_| "unscheduled"),
        Change::Move => {
            let at = DateTime::parse_from_rfc3339(form.at.trim())
                .map_err(|_| ApiError::Invalid("at: choose one of the free slots".into()))?
                .with_timezone(&Utc);
            schedule::move_to(&state.db, user.id, id, at)
                .await
                .map(|_| "moved")
        }
    };
    let done = match outcome {
        Ok(done) => done,
        Err(shared::Error::Conflict(m)) if m.contains("has started") => "started",
        Err(shared::Error::Conflict(_)) => "slot-taken",
        Err(e) => return Err(e.into()),
    };
    // Back at the post acted on: on a phone the list sits below the slots' form, and a page
    // that comes back at its top hides what just changed.
    Ok(redirect(&format!("/schedule?done={done}#post-{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_reads_in_her_language_and_time_zone() {
        let at: DateTime<Utc> = "2026-12-01T08:00:00Z".parse().unwrap_or_default();
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(slot_label(at, paris, Lang::En), "Tue 1 Dec, 9:00");
        assert_eq!(slot_label(at, paris, Lang::Fr), "mar. 1 déc., 9:00");
        let montreal = chrono_tz::America::Montreal;
        assert_eq!(slot_label(at, montreal, Lang::En), "Tue 1 Dec, 3:00");
    }

    #[test]
    fn a_refusal_names_its_field_for_the_page() {
        assert_eq!(
            refused_field("time_zone: \"Mars\" is not an IANA time zone name"),
            Some("time-zone")
        );
        assert_eq!(refused_field("per_day: 0 is out of range"), Some("per-day"));
        assert_eq!(refused_field("something else"), None);
    }
}
