//! One campaign: its status and counters, its leads with their scores, its contents; and
//! the page the wizard ends on. Another owner's campaign is a 404 page, as in the API.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use shared::db::campaigns;
use shared::db::contents::{self, Content};
use shared::db::leads::{self, Lead};
use tera::Context;

use super::home::{CampaignRow, Kpi};
use super::i18n::Lang;
use super::{PageCtx, Shown};
use crate::error::ApiResult;
use crate::state::AppState;

/// Rows shown; the API pages through the rest.
const ROWS: i64 = 100;
/// How much of a post the list shows.
const EXCERPT_CHARS: usize = 220;

#[derive(Debug, Serialize)]
struct LeadRow {
    name: String,
    city: Option<String>,
    website: Option<String>,
    rating: Option<String>,
    score: Option<i16>,
}

impl LeadRow {
    fn new(l: &Lead, lang: Lang) -> Self {
        Self {
            name: l.business_name.clone(),
            city: l.city.clone(),
            website: l.website.clone(),
            rating: l.rating.map(|r| lang.decimal(r)),
            score: l.lead_score,
        }
    }
}

#[derive(Debug, Serialize)]
struct ContentRow {
    excerpt: String,
    score: i16,
    status: &'static str,
}

impl From<&Content> for ContentRow {
    fn from(c: &Content) -> Self {
        let mut excerpt: String = c.text.chars().take(EXCERPT_CHARS).collect();
        if c.text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        Self {
            excerpt,
            score: c.quality_score,
            status: c.status.as_str(),
        }
    }
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
    let mut context = Context::new();
    let row = CampaignRow::from(&campaign);
    let kpis = [
        Kpi {
            name: "leads",
            value: ctx.lang.integer(row.leads.into()),
        },
        Kpi {
            name: "contents",
            value: ctx.lang.integer(row.contents.into()),
        },
        Kpi {
            name: "published",
            value: ctx.lang.integer(row.published.into()),
        },
    ];
    context.insert("kpis", &kpis);
    context.insert("campaign", &row);
    context.insert(
        "leads",
        &leads
            .iter()
            .map(|l| LeadRow::new(l, *ctx.lang))
            .collect::<Vec<_>>(),
    );
    context.insert(
        "contents",
        &contents.iter().map(ContentRow::from).collect::<Vec<_>>(),
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
