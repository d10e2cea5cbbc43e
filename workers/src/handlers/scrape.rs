//! ScrapeCampaign: finds the campaign's businesses with Places Text Search (every page, up
//! to 60) and stores them as leads, page by page with the next page's token, so a run
//! that has to wait resumes where it stopped; after the last page, in one commit, the
//! campaign moves to `enriching` and one EnrichLead per lead goes to the outbox.
//!
//! Idempotent: leads are unique on (campaign, place id), a page's leads and the paging's
//! progress commit together, and the move is conditional on `scraping`, so a re-delivered
//! job after the commit finds the campaign past `scraping` and does nothing.

use jobs::kinds::{EnrichLead, ScrapeCampaign};
use jobs::{JobContext, JobError};
use serde_json::json;
use shared::db::campaigns::CampaignStatus;
use shared::db::lifecycle::campaign::{self, ScrapeTarget};
use shared::db::lifecycle::lead::{self, NewLead};
use shared::events::{Event, EventKind};
use shared::providers::ProviderError;
use shared::providers::places::{self, MAX_RESULTS, Place, PlaceQuery};

use crate::pipeline::limits::Resource;
use crate::pipeline::{Pipeline, internal};

#[tracing::instrument(name = "pipeline.scrape", skip_all, fields(campaign.id = job.campaign_id, attempt = ctx.attempt))]
pub async fn run(p: Pipeline, job: ScrapeCampaign, ctx: JobContext) -> Result<(), JobError> {
    let Some(campaign) = campaign::scrape_target(&p.db, job.campaign_id)
        .await
        .map_err(internal)?
    else {
        return Err(JobError::permanent(format!(
            "campaign {} does not exist",
            job.campaign_id
        )));
    };
    // Cancelled, already scraped, or failed: nothing to do (a re-delivery, a stale job).
    if campaign.status != CampaignStatus::Scraping {
        return Ok(());
    }
    let user_id = campaign.user_id;
    let query = PlaceQuery {
        text_query: format!("{} in {}", campaign.industry, campaign.location),
        ..PlaceQuery::default()
    };
    // A refusal or the last attempt ends the campaign in `error` through `end`; a wait
    // (a provider's delay, our rate gates) never does, and the next run resumes at the
    // page it stopped at.
    let Some(leads) = search(&p, &query, &campaign, job.campaign_id, &ctx.id).await? else {
        return Ok(());
    };
    if leads == 0 {
        let reason = format!("Google Places found no business for {:?}", query.text_query);
        give_up(&p, job.campaign_id, user_id, &reason).await?;
        return Ok(());
    }
    found(&p, job.campaign_id, user_id).await
}

/// Reads the pages not read yet, each through the Places gates and each stored as it
/// arrives, with the token of the next; returns how many leads the campaign has, or
/// `None` when it was cancelled meanwhile. A run that waits between pages leaves the
/// next page's token behind, so no page is paid for twice.
async fn search(
    p: &Pipeline,
    query: &PlaceQuery,
    campaign: &ScrapeTarget,
    campaign_id: i64,
    job_id: &str,
) -> Result<Option<usize>, JobError> {
    let limit = p.config.max_leads.min(MAX_RESULTS);
    let mut stored = usize::try_from(campaign.leads).unwrap_or(0);
    let mut token = campaign.page_token.clone();
    // Past the first page with no token: the last page was read (the run that read it
    // stopped before the move).
    let mut more = campaign.pages == 0 || token.is_some();
    // The token came from an earlier run: Places may no longer take it.
    let mut resumed = token.is_some();
    while more && stored < limit {
        let spent = p
            .admit(Resource::Places, campaign.user_id, campaign_id, job_id)
            .await?;
        let page = match p.places.page(query, token.as_deref()).await {
            Ok(page) => {
                p.answered(Resource::Places).await;
                page
            }
            Err(ProviderError::Permanent { reason }) if resumed => {
                // An expired token: only the paging starts over, at a page's cost.
                tracing::info!(campaign.id = campaign_id, %reason, "Places refused the stored page token");
                campaign::restart_pages(&p.db, campaign_id)
                    .await
                    .map_err(internal)?;
                p.refund(spent).await;
                (token, resumed) = (None, false);
                continue;
            }
            Err(e) => {
                if !e.is_retryable() {
                    p.refund(spent).await;
                }
                return Err(p
                    .provider_failed(Resource::Places, campaign.user_id, campaign_id, e)
                    .await);
            }
        };
        drop(spent);
        resumed = false;
        let Some(page) = store_page(p, campaign_id, page, limit - stored).await? else {
            return Ok(None);
        };
        stored += page.added;
        more = page.next.is_some();
        token = page.next;
    }
    Ok(Some(stored))
}

/// What storing a page did.
struct Stored {
    added: usize,
    /// The next page's token, `None` after the last page or once the campaign has all the
    /// leads it may take.
    next: Option<String>,
}

/// One page in one commit: its new leads (at most `room`) and the campaign's place in the
/// paging; `None` when the campaign is no longer `scraping`.
async fn store_page(
    p: &Pipeline,
    campaign_id: i64,
    page: places::Page,
    room: usize,
) -> Result<Option<Stored>, JobError> {
    let mut tx = p.db.begin().await.map_err(internal)?;
    let mut added = 0;
    for place in &page.places {
        if added == room {
            break;
        }
        let id = lead::found(&mut tx, campaign_id, &new_lead(place))
            .await
            .map_err(internal)?;
        added += usize::from(id.is_some());
    }
    let next = page.next_page_token.filter(|_| added < room);
    if !campaign::page_scraped(&mut tx, campaign_id, next.as_deref())
        .await
        .map_err(internal)?
    {
        return Ok(None);
    }
    tx.commit().await.map_err(internal)?;
    Ok(Some(Stored { added, next }))
}

fn new_lead(place: &Place) -> NewLead<'_> {
    NewLead {
        place_id: &place.place_id,
        business_name: &place.business_name,
        address: place.address.as_deref(),
        city: place.city.as_deref(),
        province: place.province.as_deref(),
        postal_code: place.postal_code.as_deref(),
        phone: place.phone.as_deref(),
        website: place.website.as_deref(),
        rating: place.rating,
        review_count: place.review_count,
        raw: json!({
            "country": place.country,
            "international_phone": place.international_phone,
            "latitude": place.latitude,
            "longitude": place.longitude,
        }),
    }
}

/// One commit: the campaign's move to `enriching` with its leads, and their EnrichLead jobs.
async fn found(p: &Pipeline, campaign_id: i64, user_id: i64) -> Result<(), JobError> {
    let mut tx = p.db.begin().await.map_err(internal)?;
    let Some(leads) = campaign::leads_found(&mut tx, campaign_id)
        .await
        .map_err(internal)?
    else {
        // Cancelled while we searched, or moved by an earlier delivery.
        return Ok(());
    };
    for lead_id in &leads {
        shared::outbox::push(&mut tx, &EnrichLead { lead_id: *lead_id }, Some(user_id))
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    tracing::info!(
        campaign.id = campaign_id,
        leads = leads.len(),
        "leads stored"
    );
    p.emit(
        user_id,
        Event::new(EventKind::LeadsFound, campaign_id).count(leads.len() as i64),
    )
    .await;
    p.emit(
        user_id,
        Event::new(EventKind::CampaignStatus, campaign_id)
            .status(CampaignStatus::Enriching.as_str()),
    )
    .await;
    Ok(())
}

/// The job ends without leads (refused for good, out of attempts, waited too long): the
/// campaign is in `error` with the reason.
#[tracing::instrument(name = "pipeline.scrape.end", skip_all, fields(campaign.id = job.campaign_id))]
pub async fn end(p: Pipeline, job: ScrapeCampaign, reason: String) -> Result<(), JobError> {
    let user_id = campaign::owner(&p.db, job.campaign_id)
        .await
        .map_err(internal)?;
    match user_id {
        Some(user_id) => give_up(&p, job.campaign_id, user_id, &reason).await,
        None => Ok(()),
    }
}

/// The campaign cannot get its leads: `error` with the reason, for the owner to read.
async fn give_up(
    p: &Pipeline,
    campaign_id: i64,
    user_id: i64,
    reason: &str,
) -> Result<(), JobError> {
    let moved = campaign::scrape_failed(&p.db, campaign_id, reason)
        .await
        .map_err(internal)?;
    if moved {
        p.emit(
            user_id,
            Event::new(EventKind::CampaignStatus, campaign_id)
                .status(CampaignStatus::Error.as_str())
                .reason(reason),
        )
        .await;
    }
    Ok(())
}
