//! The owner's home: a new owner's first steps (until done), where her posts stand, KPI
//! cards, the last 30 days as charts, recent campaigns, and what needs her (posts to
//! approve, LinkedIn not connected, to reconnect or about to expire, failed posts, posts
//! held past their slot, publications whose outcome is unknown with the forms that settle
//! them), each with a link to what it names.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use shared::db::campaigns::{self, Campaign};
use shared::db::contents;
use shared::db::lifecycle::schedule;
use shared::db::publications::{self, Publication, PublicationState};
use shared::db::{Page, metrics, profiles};
use tera::Context;

use super::chart::{self, DAYS};
use super::post_counts::{self, CountsView};
use super::profile::{DateView, LinkedInView};
use super::{PageCtx, Shown};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

/// Enough to see what is going on; the full list is paged elsewhere.
const RECENT: u32 = 5;
/// Unknown publications shown at once; settling one brings the next.
const UNKNOWN_SHOWN: u32 = 5;
/// How much of a post the owner sees to recognise it on LinkedIn.
const EXCERPT_CHARS: usize = 160;

/// What a resolve did, shown once on the home page (`home-done-<name>`).
pub const NOTICES: [&str; 3] = ["marked-published", "published-again", "already-resolved"];

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    done: Option<String>,
}

/// A resolve form that came back with a problem: shown next to that publication's field,
/// with what was typed.
#[derive(Debug)]
pub struct ResolveProblem {
    pub id: i64,
    pub url: String,
    /// The message id (`resolve-url-*`).
    pub key: &'static str,
}

/// One day of the charts' text alternative (a table for screen readers).
#[derive(Debug, Serialize)]
struct DayRow {
    date: chart::Day,
    leads: i64,
    contents: i64,
    published: i64,
}

/// A publication whose outcome is unknown, as its card shows it.
#[derive(Debug, Serialize)]
struct UnknownRow {
    id: i64,
    excerpt: String,
    since: DateView,
    url: String,
    error: Option<&'static str>,
}

impl UnknownRow {
    fn new(p: &Publication, text: &str, problem: Option<&ResolveProblem>) -> Self {
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        let problem = problem.filter(|r| r.id == p.id);
        Self {
            id: p.id,
            excerpt,
            since: p.created_at.into(),
            url: problem.map(|r| r.url.clone()).unwrap_or_default(),
            error: problem.map(|r| r.key),
        }
    }
}

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

/// A new owner's way to her first post, in order; the list goes once every step is done.
#[derive(Debug, Serialize)]
struct FirstSteps {
    /// `(name, done, link)`: `onboarding-<name>` says the step.
    steps: Vec<(&'static str, bool, &'static str)>,
    done: usize,
    all: usize,
}

impl FirstSteps {
    fn new(
        profile: Option<&profiles::Profile>,
        schedule_set: bool,
        campaigns: i64,
        counts: &CountsView,
    ) -> Option<Self> {
        let c = &counts.counts;
        let filled = |f: fn(&profiles::Profile) -> &Option<String>| {
            profile
                .and_then(|p| f(p).as_deref())
                .is_some_and(|v| !v.trim().is_empty())
        };
        let steps = vec![
            (
                "linkedin",
                profile.is_some_and(|p| p.linkedin.connected),
                "/profile#linkedin-heading",
            ),
            (
                "business",
                filled(|p| &p.business_name) && filled(|p| &p.business_type),
                "/profile#details-heading",
            ),
            ("schedule", schedule_set, "/schedule"),
            ("campaign", campaigns > 0, "/campaigns/new"),
            (
                "approved",
                c.scheduled + c.unscheduled + c.late + c.unknown + c.published > 0,
                "/contents?status=pending",
            ),
        ];
        let done = steps.iter().filter(|s| s.1).count();
        let all = steps.len();
        (done < all).then_some(Self { all, done, steps })
    }
}

pub async fn show(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<HomeQuery>,
) -> HttpResponse {
    let notice = query
        .done
        .as_deref()
        .and_then(|d| NOTICES.iter().find(|n| **n == d).copied());
    let page = async {
        let user = ctx.user().await?;
        home(&ctx, &state, &user, notice, None).await
    };
    ctx.respond(page.await)
}

/// The home page for `user` (authenticated by the caller: a form post that comes back here
/// has checked its token already); `problem` is a resolve form to show again with its
/// message (a 422).
pub async fn home(
    ctx: &PageCtx,
    state: &AppState,
    user: &CurrentUser,
    notice: Option<&str>,
    problem: Option<ResolveProblem>,
) -> ApiResult<HttpResponse> {
    let recent_page = Page::new(Some(1), Some(RECENT))?;
    let ui = ctx.ui();
    let catalog = ui.catalog(*ctx.lang);
    let (totals, recent, counts, schedule_set, profile, days, unknown) = tokio::try_join!(
        // The totals only: the per-campaign figures of one campaign are enough.
        metrics::for_user(&state.db, user.id, Page::new(Some(1), Some(1))?),
        campaigns::list(&state.db, user.id, recent_page),
        post_counts::view(state, user.id, None, *ctx.lang, catalog),
        schedule::is_set(&state.db, user.id),
        async {
            match profiles::get(&state.db, user.id).await {
                Ok(p) => Ok(Some(p)),
                Err(shared::Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        },
        metrics::per_day(&state.db, user.id, DAYS),
        publications::list(
            &state.db,
            user.id,
            Some(PublicationState::Unknown),
            Page::new(Some(1), Some(UNKNOWN_SHOWN))?
        ),
    )?;
    // The posts' texts, so the owner can look for them on LinkedIn. Usually none; at most
    // UNKNOWN_SHOWN primary-key reads, side by side.
    let texts = futures::future::try_join_all(
        unknown
            .items
            .iter()
            .map(|p| contents::get(&state.db, user.id, p.content_id)),
    )
    .await?;
    let unknown_rows: Vec<UnknownRow> = unknown
        .items
        .iter()
        .zip(&texts)
        .map(|(p, c)| UnknownRow::new(p, &c.text, problem.as_ref()))
        .collect();
    let steps = FirstSteps::new(
        profile.as_ref(),
        schedule_set,
        totals.campaign_count,
        &counts,
    );
    let linkedin = profile.map(|p| LinkedInView::new(&p.linkedin, Utc::now()));
    let not_connected = linkedin.as_ref().is_none_or(|l| l.state == "disconnected");
    let reconnect = linkedin.as_ref().is_some_and(|l| l.state == "reconnect");
    let expiring = linkedin.as_ref().and_then(LinkedInView::expiring_in);
    let no_analytics = linkedin.as_ref().is_some_and(|l| l.no_analytics);
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
    context.insert("pending", &counts.counts.to_approve);
    context.insert("counts", &counts);
    context.insert("steps", &steps);
    context.insert("not_connected", &not_connected);
    // Approved posts that cannot go out until she connects.
    let c = &counts.counts;
    context.insert(
        "waiting_for_linkedin",
        &(c.scheduled + c.late + c.unscheduled),
    );
    context.insert("reconnect", &reconnect);
    context.insert("expiring_days", &expiring);
    context.insert("no_analytics", &no_analytics);
    context.insert(
        "unknown_more",
        &(unknown.total - unknown_rows.len() as i64).max(0),
    );
    context.insert("unknown", &unknown_rows);
    context.insert("charts", &chart::charts(&days, *ctx.lang));
    let day_rows: Vec<DayRow> = days
        .iter()
        .map(|d| DayRow {
            date: d.day.into(),
            leads: d.leads,
            contents: d.contents,
            published: d.published,
        })
        .collect();
    context.insert("day_rows", &day_rows);
    context.insert("chart_width", &chart::WIDTH);
    context.insert("chart_height", &chart::HEIGHT);
    context.insert("notice", &notice);
    let status = match problem {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    ctx.render(
        "home.html",
        context,
        Shown {
            user: Some(user),
            status: Some(status),
            ..Shown::default()
        },
    )
}
