//! The content gallery: the owner's posts, filtered by status, campaign and minimum score
//! (a GET form, kept in the paging links), each with its image, its quality score and
//! why; approve, reject, or edit the text of the ones waiting. A change posts a form and
//! comes back to the same list with a notice (post/redirect/get: a reload does not do it
//! twice); a text that breaks the rules comes back with the message next to the field.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::campaigns::{self, Campaign};
use shared::db::contents::{self, Content, ContentFilter, ContentStatus};
use shared::db::{Page, lifecycle};
use tera::Context;

use std::collections::HashMap;

use shared::db::post_counts::PostCounts;

use super::account::FieldError;
use super::post_counts;
use super::preview::{self, Preview};
use super::score::{self, Breakdown};
use super::{PageCtx, Shown, redirect};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::routes::contents::POST_MAX_CHARS;
use crate::state::AppState;
use crate::validation::{self, Problem};

/// Posts per page: a phone scrolls through this many comfortably.
const PER_PAGE: u32 = 24;
/// Campaigns offered in the filter: the newest; older ones are reached from their page.
const CAMPAIGN_CHOICES: u32 = 100;

/// The filters offered, in order; `all` is no filter.
pub const FILTERS: [&str; 6] = [
    "pending",
    "approved",
    "published",
    "rejected",
    "failed",
    "all",
];

/// What a change did, shown once on the list it returns to.
pub const NOTICES: [&str; 9] = [
    "approved",
    "approved-waiting",
    "rejected",
    "edited",
    "already-decided",
    "bulk-approved",
    "bulk-rejected",
    "unrejected",
    "cannot-unreject",
];

/// The most posts one bulk change decides: a page's worth for the ticked ones, and for
/// "approve all at or above" more than a campaign makes (a second click takes the rest).
const BULK_MAX: usize = 200;

/// The gallery's query, all text: a hand-edited URL gets the page with a message, not a
/// 400.
#[derive(Debug, Default, Deserialize)]
pub struct GalleryQuery {
    status: Option<String>,
    campaign: Option<String>,
    min_score: Option<String>,
    page: Option<String>,
    done: Option<String>,
    /// The post a rejection just decided: its toast offers to undo it.
    undo: Option<String>,
    /// How many posts a bulk change decided.
    count: Option<String>,
}

/// A change's form (approve, reject, edit): the token, the new text for an edit, and the
/// filters of the list to come back to.
#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    status: Option<String>,
    campaign: Option<String>,
    min_score: Option<String>,
    page: Option<String>,
}

impl ChangeForm {
    fn back(&self) -> GalleryQuery {
        GalleryQuery {
            status: self.status.clone(),
            campaign: self.campaign.clone(),
            min_score: self.min_score.clone(),
            page: self.page.clone(),
            done: None,
            undo: None,
            count: None,
        }
    }
}

/// The list's filters, as understood.
#[derive(Debug, Clone, Serialize)]
struct Filters {
    status: &'static str,
    campaign: Option<i64>,
    /// As typed, so the field shows it back.
    min_score_text: String,
    #[serde(skip)]
    min_score: Option<i16>,
    page: u32,
}

impl Filters {
    /// The filters and, when the minimum score is not a number from 0 to 100, its problem
    /// (the list is then shown without that filter).
    fn read(q: &GalleryQuery) -> (Self, Option<FieldError>) {
        let min_score_text = q.min_score.as_deref().unwrap_or("").trim().to_owned();
        let (min_score, problem) = match min_score_text.as_str() {
            "" => (None, None),
            text => match text.parse::<i16>() {
                Ok(n) if (0..=100).contains(&n) => (Some(n), None),
                _ => (
                    None,
                    Some(FieldError {
                        key: "gallery-min-score-invalid",
                        max: None,
                        min: None,
                    }),
                ),
            },
        };
        let filters = Self {
            status: filter_name(q.status.as_deref()),
            campaign: q.campaign.as_deref().and_then(|c| c.trim().parse().ok()),
            min_score_text,
            min_score,
            page: q
                .page
                .as_deref()
                .and_then(|p| p.trim().parse().ok())
                .filter(|p| (1..=Page::MAX_PAGE).contains(p))
                .unwrap_or(1),
        };
        (filters, problem)
    }

    /// The query string of this list at `page` (empty filters left out).
    fn query(&self, page: u32) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("status", self.status);
        if let Some(c) = self.campaign {
            q.append_pair("campaign", &c.to_string());
        }
        if let Some(s) = self.min_score {
            q.append_pair("min_score", &s.to_string());
        }
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        q.finish()
    }
}

#[derive(Debug, Serialize)]
struct ContentCard {
    id: i64,
    campaign_id: i64,
    campaign_name: Option<String>,
    text: String,
    hashtags: Vec<String>,
    score: i16,
    breakdown: Option<Breakdown>,
    status: &'static str,
    created: String,
    error: Option<String>,
    /// The post as LinkedIn will show it.
    preview: Preview,
    /// The slot it waits for, in the owner's words and time zone.
    scheduled: Option<String>,
}

impl ContentCard {
    fn new(
        c: Content,
        campaigns: &[Campaign],
        lang: super::i18n::Lang,
        slots: &std::collections::HashMap<i64, String>,
    ) -> Self {
        Self {
            scheduled: slots.get(&c.id).cloned(),
            id: c.id,
            campaign_id: c.campaign_id,
            campaign_name: campaigns
                .iter()
                .find(|k| k.id == c.campaign_id)
                .map(|k| k.name.clone()),
            breakdown: score::read(Some(&c.score_breakdown), lang),
            // The API's route: same session cookie, owner only, privately cached.
            preview: Preview::linkedin(
                &c.text,
                &c.hashtags,
                c.image_key
                    .as_ref()
                    .map(|_| format!("/api/contents/{}/image", c.id)),
            ),
            text: c.text,
            hashtags: c.hashtags,
            score: c.quality_score,
            status: c.status.as_str(),
            created: c.created_at.format("%Y-%m-%d").to_string(),
            error: c.error,
        }
    }
}

/// A text the owner sent back that breaks a rule: shown again with its message.
struct Editing {
    id: i64,
    text: String,
    error: FieldError,
}

fn status_filter(name: &str) -> Option<ContentStatus> {
    match name {
        "pending" => Some(ContentStatus::Pending),
        "approved" => Some(ContentStatus::Approved),
        "published" => Some(ContentStatus::Published),
        "rejected" => Some(ContentStatus::Rejected),
        "failed" => Some(ContentStatus::Failed),
        _ => None,
    }
}

/// A filter name we offer, else `pending` (what an owner comes here for).
fn filter_name(raw: Option<&str>) -> &'static str {
    known_filter(raw).unwrap_or("pending")
}

fn known_filter(raw: Option<&str>) -> Option<&'static str> {
    raw.and_then(|r| FILTERS.iter().find(|f| **f == r).copied())
}

/// How many posts each filter shows (the minimum score aside), from the one count every
/// page uses.
fn per_filter(c: &PostCounts) -> HashMap<&'static str, i64> {
    HashMap::from([
        ("pending", c.to_approve),
        ("approved", c.scheduled + c.unscheduled + c.late + c.unknown),
        ("published", c.published),
        ("rejected", c.rejected),
        ("failed", c.failed),
        ("all", c.total()),
    ])
}

/// The list the gallery opens on when she did not pick one: the first, in the order she
/// acts on them, that has posts. Opening on an empty "waiting for you" while fifty posts
/// sat approved in the schedule told her there was nothing.
fn opening_filter(counts: &HashMap<&'static str, i64>) -> &'static str {
    ["pending", "approved", "published", "failed"]
        .into_iter()
        .find(|f| counts.get(f).copied().unwrap_or(0) > 0)
        .unwrap_or("all")
}

pub async fn gallery(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<GalleryQuery>,
) -> HttpResponse {
    let shown = async {
        let user = ctx.user().await?;
        gallery_page(&ctx, &state, &user, &query, None).await
    };
    ctx.respond(shown.await)
}

/// The list for `user`, who the caller authenticated (a GET, or the form post whose text
/// comes back).
async fn gallery_page(
    ctx: &PageCtx,
    state: &AppState,
    user: &CurrentUser,
    query: &GalleryQuery,
    editing: Option<Editing>,
) -> ApiResult<HttpResponse> {
    let (mut filters, score_problem) = Filters::read(query);
    let ui = ctx.ui();
    let counts = post_counts::view(
        state,
        user.id,
        filters.campaign,
        *ctx.lang,
        ui.catalog(*ctx.lang),
    )
    .await?;
    let filter_counts = per_filter(&counts.counts);
    if known_filter(query.status.as_deref()).is_none() {
        filters.status = opening_filter(&filter_counts);
    }
    let page = Page::new(Some(filters.page), Some(PER_PAGE))?;
    let wanted = ContentFilter {
        status: status_filter(filters.status),
        campaign_id: filters.campaign,
        min_score: filters.min_score,
    };
    let (found, choices) = tokio::try_join!(
        contents::list(&state.db, user.id, &wanted, page),
        campaigns::list(
            &state.db,
            user.id,
            Page::new(Some(1), Some(CAMPAIGN_CHOICES))?
        ),
    )?;
    let slots = super::schedule::labels(state, user.id, &found.items, *ctx.lang).await?;
    let pages = (found.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE);
    let cards: Vec<ContentCard> = found
        .items
        .into_iter()
        .map(|c| ContentCard::new(c, &choices.items, *ctx.lang, &slots))
        .collect();
    let campaign_choices: Vec<(i64, &str)> = choices
        .items
        .iter()
        .map(|c| (c.id, c.name.as_str()))
        .collect();
    let notice = query
        .done
        .as_deref()
        .and_then(|d| NOTICES.iter().find(|n| **n == d));
    let undo: Option<i64> = query
        .undo
        .as_deref()
        .and_then(|u| u.parse().ok())
        .filter(|_| notice == Some(&"rejected"));
    let count: i64 = query
        .count
        .as_deref()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let author = preview::author(state, user.id).await?;
    let mut context = Context::new();
    context.insert("author", &author);
    context.insert("undo", &undo);
    context.insert("count", &count);
    context.insert("bulk_max", &BULK_MAX);
    context.insert("filters", &FILTERS);
    context.insert("filter", &filters);
    context.insert("counts", &counts);
    // Per-filter figures count by status and campaign: with a minimum score they would
    // not match the list, so they are left out then.
    context.insert(
        "filter_counts",
        &filters.min_score.is_none().then_some(&filter_counts),
    );
    context.insert("min_score", &filters.min_score);
    context.insert("campaigns", &campaign_choices);
    context.insert("score_error", &score_problem);
    context.insert("contents", &cards);
    context.insert("total", &found.total);
    context.insert("page", &page.page);
    context.insert("pages", &pages);
    context.insert(
        "previous_query",
        &filters.query(page.page.saturating_sub(1)),
    );
    context.insert("next_query", &filters.query(page.page + 1));
    context.insert("here_query", &filters.query(page.page));
    context.insert("notice", &notice);
    context.insert("post_max", &POST_MAX_CHARS);
    let status = editing.as_ref().map(|_| StatusCode::UNPROCESSABLE_ENTITY);
    // Always there (null when no text came back), so the template can compare them.
    context.insert("editing_id", &editing.as_ref().map(|e| e.id));
    context.insert("editing_text", &editing.as_ref().map(|e| e.text.as_str()));
    context.insert("editing_error", &editing.as_ref().map(|e| &e.error));
    ctx.render(
        "contents.html",
        context,
        Shown {
            user: Some(user),
            status,
            ..Shown::default()
        },
    )
}

pub async fn approve(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(decide(&ctx, &state, *id, &form, true).await)
}

pub async fn reject(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(decide(&ctx, &state, *id, &form, false).await)
}

/// Where a change comes back to: the list it was made from, with its notice.
fn back_to(back: &GalleryQuery, done: &str, anchor: Option<i64>) -> HttpResponse {
    let (filters, _) = Filters::read(back);
    let anchor = anchor
        .map(|id| format!("#content-{id}"))
        .unwrap_or_default();
    redirect(&format!(
        "/contents?{}&done={done}{anchor}",
        filters.query(filters.page)
    ))
}

/// A content decided meanwhile (in another tab, or approved by itself) is not an error
/// page: the list says so.
#[tracing::instrument(name = "page_decide", skip_all, fields(content.id = id, approve))]
async fn decide(
    ctx: &PageCtx,
    state: &AppState,
    id: i64,
    form: &ChangeForm,
    approve: bool,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let outcome = if approve {
        lifecycle::content::approve(&state.db, user.id, id)
            .await
            .map(|a| match a.queued_for_publishing {
                true => "approved",
                false => "approved-waiting",
            })
    } else {
        lifecycle::content::reject(&state.db, user.id, id)
            .await
            .map(|_| "rejected")
    };
    let done = match outcome {
        Ok(done) => done,
        Err(shared::Error::Conflict(_)) => "already-decided",
        Err(e) => return Err(ApiError::from(e)),
    };
    if done == "rejected" {
        // Its toast offers to take the rejection back.
        let (filters, _) = Filters::read(&form.back());
        return Ok(redirect(&format!(
            "/contents?{}&done=rejected&undo={id}",
            filters.query(filters.page)
        )));
    }
    Ok(back_to(&form.back(), done, None))
}

/// `POST /contents/{id}/unreject`: the toast's "Undo" after a rejection.
pub async fn unreject(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    let done = async {
        let user = ctx.user_posting(&form.csrf).await?;
        let done = match lifecycle::content::unreject(&state.db, user.id, *id).await {
            Ok(()) => "unrejected",
            Err(shared::Error::Conflict(_)) => "cannot-unreject",
            Err(e) => return Err(ApiError::from(e)),
        };
        Ok::<_, crate::error::ApiError>(back_to(&form.back(), done, Some(*id)))
    };
    ctx.respond(done.await)
}

/// `POST /contents/approve-at-least`: approves every pending post scored at least
/// `at_least` (of the campaign the list shows, if one). Posts decided meanwhile are
/// skipped, so sending it twice approves nothing more.
pub async fn approve_at_least(
    ctx: PageCtx,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    ctx.respond(bulk_at_least(&ctx, &state, &body).await)
}

async fn bulk_at_least(ctx: &PageCtx, state: &AppState, body: &[u8]) -> ApiResult<HttpResponse> {
    let form = BulkForm::read(body);
    let user = ctx.user_posting(&form.csrf).await?;
    let Some(min) = form
        .at_least
        .trim()
        .parse::<i16>()
        .ok()
        .filter(|n| (0..=100).contains(n))
    else {
        return Err(ApiError::Invalid(
            "at_least: a quality score from 0 to 100".into(),
        ));
    };
    let campaign = form
        .back
        .campaign
        .as_deref()
        .and_then(|c| c.trim().parse().ok());
    let ids =
        lifecycle::content::pending_at_least(&state.db, user.id, min, campaign, BULK_MAX as i64)
            .await?;
    let n = decide_all(state, user.id, &ids, true).await?;
    Ok(back_counted(&form.back, "bulk-approved", n))
}

/// `POST /contents/bulk`: approves or rejects the ticked posts (`id`, repeated;
/// `action` = `approve` or `reject`). Those no longer pending are skipped.
pub async fn bulk(ctx: PageCtx, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    ctx.respond(bulk_ticked(&ctx, &state, &body).await)
}

async fn bulk_ticked(ctx: &PageCtx, state: &AppState, body: &[u8]) -> ApiResult<HttpResponse> {
    let form = BulkForm::read(body);
    let user = ctx.user_posting(&form.csrf).await?;
    let approve = match form.action.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::Invalid(
                "action: approve or reject the ticked posts".into(),
            ));
        }
    };
    if form.ids.len() > BULK_MAX {
        return Err(ApiError::Invalid(format!(
            "id: at most {BULK_MAX} posts at once"
        )));
    }
    let n = decide_all(state, user.id, &form.ids, approve).await?;
    let done = if approve {
        "bulk-approved"
    } else {
        "bulk-rejected"
    };
    Ok(back_counted(&form.back, done, n))
}

/// Decides each post in turn with the single decision's function (each in its own
/// transaction, so a slot is taken per approval in order); one decided meanwhile, or not
/// hers, is skipped. Returns how many this call decided.
async fn decide_all(
    state: &AppState,
    user_id: i64,
    ids: &[i64],
    approve: bool,
) -> Result<usize, ApiError> {
    let mut decided = 0;
    for id in ids {
        let outcome = if approve {
            lifecycle::content::approve(&state.db, user_id, *id)
                .await
                .map(drop)
        } else {
            lifecycle::content::reject(&state.db, user_id, *id)
                .await
                .map(drop)
        };
        match outcome {
            Ok(()) => decided += 1,
            Err(shared::Error::Conflict(_) | shared::Error::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(decided)
}

fn back_counted(back: &GalleryQuery, done: &str, n: usize) -> HttpResponse {
    let (filters, _) = Filters::read(back);
    redirect(&format!(
        "/contents?{}&done={done}&count={n}",
        filters.query(filters.page)
    ))
}

/// A bulk form, read by hand: the ticked boxes repeat one name (`id=1&id=2`).
struct BulkForm {
    csrf: String,
    action: String,
    at_least: String,
    ids: Vec<i64>,
    back: GalleryQuery,
}

impl BulkForm {
    fn read(body: &[u8]) -> Self {
        let field = |name: &str| {
            url::form_urlencoded::parse(body)
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let mut ids: Vec<i64> = url::form_urlencoded::parse(body)
            .filter(|(k, _)| k == "id")
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect();
        ids.dedup();
        Self {
            csrf: field("csrf").unwrap_or_default(),
            action: field("action").unwrap_or_default(),
            at_least: field("at_least").unwrap_or_default(),
            ids,
            back: GalleryQuery {
                status: field("status"),
                campaign: field("campaign"),
                min_score: field("min_score"),
                page: field("page"),
                done: None,
                undo: None,
                count: None,
            },
        }
    }
}

/// `POST /contents/{id}/edit`: the owner's text replaces the generated one, with the rules
/// and the database function of `PUT /api/contents/{id}` (pending contents only).
pub async fn edit(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> HttpResponse {
    ctx.respond(edit_text(&ctx, &state, *id, form.into_inner()).await)
}

#[tracing::instrument(name = "page_edit", skip_all, fields(content.id = id))]
async fn edit_text(
    ctx: &PageCtx,
    state: &AppState,
    id: i64,
    form: ChangeForm,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let text = match validation::multiline_text(&form.text, POST_MAX_CHARS) {
        Ok(text) => text,
        Err(problem) => return show_problem(ctx, state, &user, id, form, problem).await,
    };
    match contents::edit(&state.db, user.id, id, &text, None).await {
        Ok(_) => Ok(back_to(&form.back(), "edited", Some(id))),
        Err(shared::Error::Conflict(_)) => Ok(back_to(&form.back(), "already-decided", None)),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// The list again, with the text as sent and the problem next to it.
async fn show_problem(
    ctx: &PageCtx,
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    form: ChangeForm,
    problem: Problem,
) -> ApiResult<HttpResponse> {
    let back = form.back();
    let editing = Editing {
        id,
        text: form.text,
        error: FieldError::from(problem),
    };
    gallery_page(ctx, state, user, &back, Some(editing)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(status: &str, campaign: &str, min_score: &str, page: &str) -> GalleryQuery {
        GalleryQuery {
            status: Some(status.into()),
            campaign: Some(campaign.into()),
            min_score: Some(min_score.into()),
            page: Some(page.into()),
            done: None,
            undo: None,
            count: None,
        }
    }

    #[test]
    fn filters_survive_paging_and_bad_values_fall_back() {
        let (f, problem) = Filters::read(&query("approved", "7", "70", "2"));
        assert!(problem.is_none());
        assert_eq!(f.query(3), "status=approved&campaign=7&min_score=70&page=3");
        assert_eq!(f.query(1), "status=approved&campaign=7&min_score=70");
        let (f, problem) = Filters::read(&query("nope", "x", "101", "-1"));
        assert_eq!(problem.map(|p| p.key), Some("gallery-min-score-invalid"));
        assert_eq!(f.query(f.page), "status=pending");
        assert_eq!(f.min_score_text, "101", "the field shows what was typed");
    }
}
