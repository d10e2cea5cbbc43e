//! The owner's publishing schedule page: the posts waiting for their slots, as a list by
//! day (what a phone shows) or a week or month calendar, in her time zone, each with
//! "publish now", "move to" (a free slot: a menu, or a drag in the calendar) and "take out
//! of the schedule"; those taken out can be put back with a move. Then her slots and time
//! zone (a form), and one switch that pauses all her publishing.
//!
//! "Publish now" and "take out" come back with an undo in their toast: "publish now" gives
//! the post a slot a few seconds ahead (`PUBLISH_NOW_GRACE`) and its job waits for it, so
//! the undo is an ordinary move back to the slot it had, refused once the job started the
//! publication. Nothing is undone on the queue's side: the job finds its content moved
//! and does nothing, as with any move.
//!
//! The forms go through the same functions as the JSON API; a change comes back to the page
//! with a notice (post/redirect/get), a bad schedule with the message next to the form.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use shared::db::contents::Content;
use shared::db::lifecycle::schedule;
use shared::schedule::ScheduleSpec;
use tera::Context;

use super::i18n::Lang;
use super::preview::{self, Preview};
use super::{PageCtx, redirect};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::routes::schedule::upcomings;
use crate::state::AppState;

/// What a change did, shown once on the page it returns to.
pub const NOTICES: [&str; 11] = [
    "saved",
    "published-now",
    "moved",
    "unscheduled",
    "started",
    "slot-taken",
    "undone",
    "paused",
    "resumed",
    "is-paused",
    "too-late",
];

/// The schedule's views: `list` by day (and on a phone), `week` and `month` calendars.
pub const VIEWS: [&str; 3] = ["list", "week", "month"];

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    view: Option<String>,
    /// A day of the week or month to show, `YYYY-MM-DD` (today in her time zone if none).
    from: Option<String>,
    /// The post a "publish now" or "take out" just changed: its toast offers an undo.
    undo: Option<String>,
    /// Its slot before the change (RFC 3339; empty: it was out of the schedule).
    was: Option<String>,
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
    /// Its slot (RFC 3339), for the calendar's drag and the undo.
    at: String,
    started: bool,
    preview: Preview,
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

/// A day of the calendar: its slots to come (free or not) and its posts.
#[derive(Debug, Serialize)]
struct CalendarDay {
    /// `YYYY-MM-DD`.
    date: String,
    label: String,
    /// "9": the day of the month, for the month grid.
    number: u32,
    today: bool,
    /// Outside the month shown (the month grid's first and last weeks).
    outside: bool,
    entries: Vec<Entry>,
}

/// One line of a calendar day: a post in its slot, or a slot to come.
#[derive(Debug, Serialize)]
struct Entry {
    time: String,
    /// RFC 3339.
    at: String,
    /// The post in it.
    post: Option<CalendarPost>,
    /// A slot a post can move into.
    free: bool,
}

#[derive(Debug, Serialize)]
struct CalendarPost {
    id: i64,
    business_name: String,
    started: bool,
}

/// The calendar shown: its days, and the links to the periods before and after.
#[derive(Debug, Serialize)]
struct Calendar {
    title: String,
    days: Vec<CalendarDay>,
    previous: String,
    next: String,
    today: String,
}

/// What the page shows besides the schedule's form.
struct Shown {
    view: &'static str,
    from: Option<NaiveDate>,
    notice: Option<&'static str>,
    undo: Option<(i64, String)>,
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
        let undo = match (notice, query.undo.as_deref()) {
            (Some("published-now" | "unscheduled"), Some(id)) => id
                .parse::<i64>()
                .ok()
                .map(|id| (id, query.was.clone().unwrap_or_default())),
            _ => None,
        };
        let shown = Shown {
            view: view_name(query.view.as_deref()),
            from: query
                .from
                .as_deref()
                .and_then(|f| NaiveDate::parse_from_str(f.trim(), "%Y-%m-%d").ok()),
            notice,
            undo,
        };
        page(&ctx, &state, &user, shown, None).await
    };
    ctx.respond(page.await)
}

fn view_name(raw: Option<&str>) -> &'static str {
    raw.and_then(|r| VIEWS.iter().find(|v| **v == r).copied())
        .unwrap_or("list")
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
    shown: Shown,
    refused: Option<Refused>,
) -> ApiResult<HttpResponse> {
    let lang = *ctx.lang;
    let mut conn = state.db.acquire().await.map_err(shared::Error::from)?;
    let current = schedule::load(&mut conn, user.id).await?;
    let paused = schedule::paused_since(&mut conn, user.id).await?;
    drop(conn);
    let author = preview::author(state, user.id).await?;
    let set = schedule::is_set(&state.db, user.id).await?;
    let tz = current.time_zone;
    let list = upcomings(state, user.id).await?;
    let mut days: Vec<Day> = Vec::new();
    let mut unscheduled = Vec::new();
    let mut last_date = None;
    let mut placed: HashMap<DateTime<Utc>, CalendarPost> = HashMap::new();
    for item in list.items {
        if let Some(at) = item.scheduled_at {
            placed.insert(
                at,
                CalendarPost {
                    id: item.content_id,
                    business_name: item.business_name.clone(),
                    started: item.started,
                },
            );
        }
        let line = |time: String| Line {
            id: item.content_id,
            campaign_id: item.campaign_id,
            campaign_name: item.campaign_name.clone(),
            business_name: item.business_name.clone(),
            text: excerpt(&item.text),
            time,
            at: item
                .scheduled_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            started: item.started,
            preview: Preview::linkedin(
                &item.text,
                &item.hashtags,
                item.has_image
                    .then(|| format!("/api/contents/{}/image", item.content_id)),
            ),
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
    let calendar = match shown.view {
        "list" => None,
        view => Some(calendar(state, user.id, tz, lang, view, shown.from, placed).await?),
    };
    let mut context = Context::new();
    context.insert("view", shown.view);
    context.insert(
        "start",
        &shown
            .from
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    );
    context.insert("views", &VIEWS);
    context.insert("calendar", &calendar);
    context.insert("author", &author);
    context.insert("paused", &paused.is_some());
    context.insert("paused_since", &paused.map(|at| slot_label(at, tz, lang)));
    context.insert("undo_id", &shown.undo.as_ref().map(|u| u.0));
    context.insert("undo_was", &shown.undo.as_ref().map(|u| u.1.as_str()));
    context.insert("time_zone", tz.name());
    context.insert(
        "calendar_js_url",
        &ctx.ui().assets().url(super::assets::CALENDAR_JS),
    );
    context.insert("schedule", &spec);
    context.insert("schedule_error_field", &error_field);
    context.insert("times_text", &spec.times.join(", "));
    context.insert("schedule_set", &set);
    context.insert("schedule_error", &error);
    context.insert("days", &days);
    context.insert("unscheduled", &unscheduled);
    context.insert("free_slots", &free);
    context.insert("notice", &shown.notice);
    let status = error
        .as_ref()
        .map(|_| actix_web::http::StatusCode::UNPROCESSABLE_ENTITY);
    ctx.render(
        "schedule.html",
        context,
        super::Shown {
            user: Some(user),
            status,
            ..super::Shown::default()
        },
    )
}

/// The week (from its Monday) or the month (from its first Monday's week to its last
/// Sunday) holding `from`, today in her time zone if none.
async fn calendar(
    state: &AppState,
    user_id: i64,
    tz: Tz,
    lang: Lang,
    view: &str,
    from: Option<NaiveDate>,
    mut placed: HashMap<DateTime<Utc>, CalendarPost>,
) -> Result<Calendar, shared::Error> {
    let today = Utc::now().with_timezone(&tz).date_naive();
    let day = from.unwrap_or(today);
    let monday_of =
        |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    let (first, last, month, previous, next, title) = if view == "month" {
        let start = day.with_day(1).unwrap_or(day);
        let end = (start + Duration::days(31)).with_day(1).unwrap_or(start) - Duration::days(1);
        let first = monday_of(start);
        let last = monday_of(end) + Duration::days(6);
        let previous = (start - Duration::days(1)).with_day(1).unwrap_or(start);
        let next = end + Duration::days(1);
        let title = format!("{} {}", month_long(start.month(), lang), start.year());
        (first, last, Some(start.month()), previous, next, title)
    } else {
        let first = monday_of(day);
        let last = first + Duration::days(6);
        let title = format!("{} – {}", day_label(first, lang), day_label(last, lang));
        (
            first,
            last,
            None,
            first - Duration::days(7),
            first + Duration::days(7),
            title,
        )
    };
    let slots = schedule::slots_between(&state.db, user_id, first, last).await?;
    let mut by_day: HashMap<NaiveDate, Vec<Entry>> = HashMap::new();
    for (at, free) in slots {
        let local = at.with_timezone(&tz);
        by_day.entry(local.date_naive()).or_default().push(Entry {
            time: local.format("%-H:%M").to_string(),
            at: at.to_rfc3339(),
            post: placed.remove(&at),
            free,
        });
    }
    // Posts at an instant that is not a slot to come (published now, a slot already
    // passed while waiting for a reconnect): on their day, at their time.
    for (at, post) in placed {
        let local = at.with_timezone(&tz);
        let date = local.date_naive();
        if date < first || date > last {
            continue;
        }
        by_day.entry(date).or_default().push(Entry {
            time: local.format("%-H:%M").to_string(),
            at: at.to_rfc3339(),
            post: Some(post),
            free: false,
        });
    }
    let days = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|date| {
            let mut entries = by_day.remove(&date).unwrap_or_default();
            entries.sort_by(|a, b| a.at.cmp(&b.at));
            CalendarDay {
                date: date.format("%Y-%m-%d").to_string(),
                label: day_label(date, lang),
                number: date.day(),
                today: date == today,
                outside: month.is_some_and(|m| m != date.month()),
                entries,
            }
        })
        .collect();
    let link = |d: NaiveDate| format!("/schedule?view={view}&from={}", d.format("%Y-%m-%d"));
    Ok(Calendar {
        title,
        days,
        previous: link(previous),
        next: link(next),
        today: format!("/schedule?view={view}"),
    })
}

/// "Tue 9 Dec": a day as the calendar heads it.
fn day_label(date: NaiveDate, lang: Lang) -> String {
    format!(
        "{} {} {}",
        weekday(date.weekday().number_from_monday(), lang),
        date.day(),
        month(date.month(), lang)
    )
}

fn month_long(n: u32, lang: Lang) -> &'static str {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let i = (n.clamp(1, 12) - 1) as usize;
    match lang {
        Lang::En => EN[i],
        Lang::Fr => FR[i],
    }
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
            let shown = Shown {
                view: "list",
                from: None,
                notice: None,
                undo: None,
            };
            page(ctx, state, &user, shown, Some(refused)).await
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
    /// The view to come back to.
    view: Option<String>,
    from: Option<String>,
}

impl ChangeForm {
    /// The page a change comes back to: the same view and period.
    fn back(&self, done: &str) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("done", done);
        let view = view_name(self.view.as_deref());
        if view != "list" {
            q.append_pair("view", view);
        }
        if let Some(from) = self
            .from
            .as_deref()
            .and_then(|f| NaiveDate::parse_from_str(f.trim(), "%Y-%m-%d").ok())
        {
            q.append_pair("from", &from.format("%Y-%m-%d").to_string());
        }
        format!("/schedule?{}", q.finish())
    }
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

/// `POST /schedule/{id}/undo`: the toast's undo after "publish now" or "take out": the
/// post goes back to the slot it had (`at`, empty: out of the schedule). Too late once its
/// publication started; a slot taken meanwhile leaves it out of the schedule, waiting.
pub async fn undo(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(change(&ctx, &state, *id, &form, Change::Undo).await)
}

/// `POST /schedule/pause`: pauses all her publishing.
pub async fn pause(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    let done = async {
        let user = ctx.user_posting(&form.csrf).await?;
        schedule::pause(&state.db, user.id).await?;
        Ok::<_, crate::error::ApiError>(redirect(&form.back("paused")))
    };
    ctx.respond(done.await)
}

/// `POST /schedule/resume`: resumes it; the waiting posts take the slots to come.
pub async fn resume(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    let done = async {
        let user = ctx.user_posting(&form.csrf).await?;
        schedule::resume(&state.db, user.id).await?;
        Ok::<_, crate::error::ApiError>(redirect(&form.back("resumed")))
    };
    ctx.respond(done.await)
}

#[derive(Debug, Clone, Copy)]
enum Change {
    PublishNow,
    Move,
    Unschedule,
    Undo,
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
    // The slot it had, for the undo of "publish now" and "take out".
    let was = match what {
        Change::PublishNow | Change::Unschedule => schedule::slot_of(&state.db, id)
            .await?
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let outcome = match what {
        Change::PublishNow => schedule::publish_now(&state.db, user.id, id)
            .await
            .map(|_| "published-now"),
        Change::Unschedule => schedule::unschedule(&state.db, user.id, id)
            .await
            .map(|_| "unscheduled"),
        Change::Undo => undo_to(state, user.id, id, form.at.trim()).await,
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
        Err(shared::Error::Conflict(m)) if m.contains("has started") => match what {
            Change::Undo => "too-late",
            _ => "started",
        },
        Err(shared::Error::Conflict(m)) if m.contains("paused") => "is-paused",
        Err(shared::Error::Conflict(_)) => "slot-taken",
        Err(e) => return Err(e.into()),
    };
    let mut back = form.back(done);
    if matches!(done, "published-now" | "unscheduled") {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("undo", &id.to_string());
        q.append_pair("was", &was);
        back = format!("{back}&{}", q.finish());
    }
    // Back at the post acted on: a page that comes back at its top hides what just changed.
    Ok(redirect(&format!("{back}#post-{id}")))
}

/// Puts the post back where it was before "publish now" or "take out".
async fn undo_to(
    state: &AppState,
    user_id: i64,
    id: i64,
    was: &str,
) -> Result<&'static str, shared::Error> {
    let Ok(at) = DateTime::parse_from_rfc3339(was) else {
        return schedule::unschedule(&state.db, user_id, id)
            .await
            .map(|_| "undone");
    };
    match schedule::move_to(&state.db, user_id, id, at.with_timezone(&Utc)).await {
        Ok(_) => Ok("undone"),
        // Its slot passed or was taken meanwhile: out of the schedule, waiting for her.
        Err(shared::Error::Invalid(_)) => schedule::unschedule(&state.db, user_id, id)
            .await
            .map(|_| "undone"),
        Err(shared::Error::Conflict(m)) if !m.contains("has started") => {
            schedule::unschedule(&state.db, user_id, id)
                .await
                .map(|_| "undone")
        }
        Err(e) => Err(e),
    }
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
