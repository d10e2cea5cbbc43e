//! One campaign: its status and counters, its leads with their scores (and why), its
//! contents; and the page the wizard ends on. Another owner's campaign is a 404 page, as
//! in the API. While the campaign runs, the page also listens to its live events
//! (`live.rs`), which re-send the parts built here.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::Serialize;
use shared::db::campaigns::{self, Campaign, CampaignStatus};
use shared::db::contents::{self, Content};
use shared::db::leads::{self, Lead, LeadStage};
use tera::Context;

use super::home::{CampaignRow, Kpi};
use super::i18n::Lang;
use super::post_counts;
use super::schedule;
use super::score::{self, Breakdown};
use super::{PageCtx, Shown};
use crate::error::ApiResult;
use crate::state::AppState;

/// Rows shown; the API pages through the rest.
pub(super) const ROWS: i64 = 100;
/// How much of a post the list shows.
const EXCERPT_CHARS: usize = 220;

#[derive(Debug, Serialize)]
pub(super) struct LeadRow {
    pub id: i64,
    pub name: String,
    city: Option<String>,
    website: Option<String>,
    rating: Option<String>,
    score: Option<i16>,
    /// Ended without a content.
    failed: bool,
    /// Why, as stored (the page shows the owner's sentence for it and this as detail).
    error: Option<String>,
    breakdown: Option<Breakdown>,
}

impl LeadRow {
    pub(super) fn new(l: &Lead, lang: Lang) -> Self {
        Self {
            id: l.id,
            name: l.business_name.clone(),
            city: l.city.clone(),
            website: l.website.clone(),
            rating: l.rating.map(|r| lang.decimal(r)),
            score: l.lead_score,
            failed: l.stage == LeadStage::Failed,
            error: l.error.clone().filter(|_| l.stage == LeadStage::Failed),
            breakdown: score::read(l.score_breakdown.as_ref(), lang),
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct ContentRow {
    id: i64,
    excerpt: String,
    score: i16,
    status: &'static str,
    /// Why it failed, or why its publication's outcome is unknown, as stored.
    error: Option<String>,
    breakdown: Option<Breakdown>,
    /// The slot it waits for, in the owner's words and time zone.
    scheduled: Option<String>,
}

impl ContentRow {
    pub(super) fn new(c: &Content, lang: Lang, slots: &HashMap<i64, String>) -> Self {
        let mut excerpt: String = c.text.chars().take(EXCERPT_CHARS).collect();
        if c.text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        Self {
            id: c.id,
            excerpt,
            score: c.quality_score,
            status: c.status.as_str(),
            error: c.error.clone(),
            breakdown: score::read(Some(&c.score_breakdown), lang),
            scheduled: slots.get(&c.id).cloned(),
        }
    }
}

/// The counters as cards: `kpi-<name>` labels them, `#kpi-<name>` holds the figure.
pub(super) fn kpis(c: &Campaign, lang: Lang) -> [Kpi; 4] {
    let card = |name, n: i32| Kpi {
        name,
        value: lang.integer(n.into()),
    };
    [
        card("leads", c.leads_count),
        card("enriched", c.enriched_count),
        card("contents", c.contents_count),
        card("published", c.published_count),
    ]
}

/// Whether anything can still happen to the campaign without the owner launching it:
/// only then does the page open a live stream.
pub(super) fn runs(status: CampaignStatus) -> bool {
    matches!(
        status,
        CampaignStatus::Scraping
            | CampaignStatus::Enriching
            | CampaignStatus::Generating
            | CampaignStatus::Ready
    )
}

pub async fn show(ctx: PageCtx, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    ctx.respond(campaign(&ctx, &state, *id).await)
}

async fn campaign(ctx: &PageCtx, state: &AppState, id: i64) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let campaign = campaigns::get(&state.db, user.id, id).await?;
    let (leads, contents) = tokio::try_join!(
        leads::list_for_campaign(&state.db, campaign.id, ROWS),
        contents::list_for_campaign(&state.db, campaign.id, ROWS),
    )?;
    let slots = schedule::labels(state, user.id, &contents, *ctx.lang).await?;
    let ui = ctx.ui();
    let counts = post_counts::view(
        state,
        user.id,
        Some(campaign.id),
        *ctx.lang,
        ui.catalog(*ctx.lang),
    )
    .await?;
    let mut context = Context::new();
    context.insert("counts", &counts);
    context.insert("kpis", &kpis(&campaign, *ctx.lang));
    context.insert("campaign", &CampaignRow::from(&campaign));
    // Why the campaign could not get its leads (only an `error` campaign has one).
    let campaign_error = campaign
        .error_details
        .as_ref()
        .and_then(|d| d.get("campaign"))
        .and_then(|r| r.as_str());
    context.insert("campaign_error", &campaign_error);
    context.insert("live", &runs(campaign.status));
    context.insert(
        "leads",
        &leads
            .iter()
            .map(|l| LeadRow::new(l, *ctx.lang))
            .collect::<Vec<_>>(),
    );
    context.insert(
        "contents",
        &contents
            .iter()
            .map(|c| ContentRow::new(c, *ctx.lang, &slots))
            .collect::<Vec<_>>(),
    );
    ctx.render(
        "campaign.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}

pub async fn launched(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> HttpResponse {
    ctx.respond(launched_page(&ctx, &state, *id).await)
}

async fn launched_page(ctx: &PageCtx, state: &AppState, id: i64) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let campaign = campaigns::get(&state.db, user.id, id).await?;
    let mut context = Context::new();
    context.insert("campaign", &CampaignRow::from(&campaign));
    ctx.render(
        "launched.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}
