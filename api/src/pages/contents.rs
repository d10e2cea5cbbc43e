//! The content gallery: the owner's posts, filtered by status, with approve and reject on
//! the ones waiting for them. A decision posts a form and comes back to the same list with
//! a notice (post/redirect/get: a reload does not decide twice).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::Page;
use shared::db::contents::{self, Content, ContentFilter, ContentStatus};
use tera::Context;

use super::{PageCtx, Shown, redirect};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Posts per page: a phone scrolls through this many comfortably.
const PER_PAGE: u32 = 24;

/// The filters offered, in order; `all` is no filter.
pub const FILTERS: [&str; 6] = [
    "pending",
    "approved",
    "published",
    "rejected",
    "failed",
    "all",
];

/// What a decision did, shown once on the list it returns to.
pub const NOTICES: [&str; 4] = [
    "approved",
    "approved-waiting",
    "rejected",
    "already-decided",
];

#[derive(Debug, Deserialize)]
pub struct GalleryQuery {
    status: Option<String>,
    page: Option<u32>,
    done: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    #[serde(default)]
    csrf: String,
    /// The filter to come back to.
    #[serde(default)]
    back: String,
}

#[derive(Debug, Serialize)]
struct ContentCard {
    id: i64,
    campaign_id: i64,
    text: String,
    hashtags: Vec<String>,
    score: i16,
    status: &'static str,
    created: String,
}

impl From<Content> for ContentCard {
    fn from(c: Content) -> Self {
        Self {
            id: c.id,
            campaign_id: c.campaign_id,
            text: c.text,
            hashtags: c.hashtags,
            score: c.quality_score,
            status: c.status.as_str(),
            created: c.created_at.format("%Y-%m-%d").to_string(),
        }
    }
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
    raw.and_then(|r| FILTERS.iter().find(|f| **f == r).copied())
        .unwrap_or("pending")
}

pub async fn gallery(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<GalleryQuery>,
) -> HttpResponse {
    ctx.respond(gallery_page(&ctx, &state, &query).await)
}

async fn gallery_page(
    ctx: &PageCtx,
    state: &AppState,
    query: &GalleryQuery,
) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let filter = filter_name(query.status.as_deref());
    let page = Page::new(query.page, Some(PER_PAGE))?;
    let found = contents::list(
        &state.db,
        user.id,
        &ContentFilter {
            status: status_filter(filter),
            ..ContentFilter::default()
        },
        page,
    )
    .await?;
    let pages = (found.total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE);
    let cards: Vec<ContentCard> = found.items.into_iter().map(ContentCard::from).collect();
    let notice = query
        .done
        .as_deref()
        .and_then(|d| NOTICES.iter().find(|n| **n == d));
    let mut context = Context::new();
    context.insert("filters", &FILTERS);
    context.insert("filter", filter);
    context.insert("contents", &cards);
    context.insert("total", &found.total);
    context.insert("page", &page.page);
    context.insert("pages", &pages);
    context.insert("notice", &notice);
    ctx.render(
        "contents.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}

pub async fn approve(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<Decision>,
) -> HttpResponse {
    ctx.respond(decide(&ctx, &state, *id, &form, true).await)
}

pub async fn reject(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<Decision>,
) -> HttpResponse {
    ctx.respond(decide(&ctx, &state, *id, &form, false).await)
}

/// A content decided meanwhile (in another tab, or approved by itself) is not an error
/// page: the list says so.
#[tracing::instrument(name = "page_decide", skip_all, fields(content.id = id, approve))]
async fn decide(
    ctx: &PageCtx,
    state: &AppState,
    id: i64,
    form: &Decision,
    approve: bool,
) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let outcome = if approve {
        contents::approve(&state.db, user.id, id)
            .await
            .map(|a| match a.queued_for_publishing {
                true => "approved",
                false => "approved-waiting",
            })
    } else {
        contents::reject(&state.db, user.id, id)
            .await
            .map(|_| "rejected")
    };
    let done = match outcome {
        Ok(done) => done,
        Err(shared::Error::Conflict(_)) => "already-decided",
        Err(e) => return Err(ApiError::from(e)),
    };
    let back = filter_name(Some(&form.back));
    Ok(redirect(&format!("/contents?status={back}&done={done}")))
}
