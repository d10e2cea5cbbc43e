//! The owner's home: KPI cards, recent campaigns, and what needs them.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use shared::db::campaigns::{self, Campaign};
use shared::db::contents::{self, ContentFilter, ContentStatus};
use shared::db::{Page, metrics, profiles};
use tera::Context;

use super::{PageCtx, Shown};
use crate::error::ApiResult;
use crate::state::AppState;

/// Enough to see what is going on; the full list is paged elsewhere.
const RECENT: u32 = 5;

/// One figure on a card: `kpi-<name>` is its label.
#[derive(Debug, Serialize)]
pub struct Kpi {
    pub name: &'static str,
    /// Already formatted for the reader (`Lang::integer`).
    pub value: String,
}

/// A campaign as the home and campaign pages show it.
#[derive(Debug, Serialize)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub industry: String,
    pub location: String,
    pub status: &'static str,
    pub leads: i32,
    pub contents: i32,
    pub published: i32,
    pub created: String,
}

impl From<&Campaign> for CampaignRow {
    fn from(c: &Campaign) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            industry: c.industry.clone(),
            location: c.location.clone(),
            status: c.status.as_str(),
            leads: c.leads_count,
            contents: c.contents_count,
            published: c.published_count,
            created: c.created_at.format("%Y-%m-%d").to_string(),
        }
    }
}

pub async fn show(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    ctx.respond(home(&ctx, &state).await)
}

async fn home(ctx: &PageCtx, state: &AppState) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let recent_page = Page::new(Some(1), Some(RECENT))?;
    let pending_filter = ContentFilter {
        status: Some(ContentStatus::Pending),
        ..ContentFilter::default()
    };
    let (totals, recent, pending, profile) = tokio::try_join!(
        // The totals only: the per-campaign figures of one campaign are enough.
        metrics::for_user(&state.db, user.id, Page::new(Some(1), Some(1))?),
        campaigns::list(&state.db, user.id, recent_page),
        contents::list(
            &state.db,
            user.id,
            &pending_filter,
            Page::new(Some(1), Some(1))?
        ),
        async {
            match profiles::get(&state.db, user.id).await {
                Ok(p) => Ok(Some(p)),
                Err(shared::Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        },
    )?;
    let reconnect = profile.is_some_and(|p| p.linkedin.reconnect_needed);
    let rows: Vec<CampaignRow> = recent.items.iter().map(CampaignRow::from).collect();
    let mut context = Context::new();
    let kpis = [
        Kpi {
            name: "leads",
            value: ctx.lang.integer(totals.leads),
        },
        Kpi {
            name: "contents",
            value: ctx.lang.integer(totals.contents),
        },
        Kpi {
            name: "published",
            value: ctx.lang.integer(totals.published),
        },
        Kpi {
            name: "engagement",
            value: ctx.lang.integer(totals.engagement.total),
        },
    ];
    context.insert("kpis", &kpis);
    context.insert("campaigns", &rows);
    context.insert("campaign_count", &totals.campaign_count);
    context.insert("pending", &pending.total);
    context.insert("reconnect", &reconnect);
    ctx.render(
        "home.html",
        context,
        Shown {
            user: Some(&user),
            ..Shown::default()
        },
    )
}
