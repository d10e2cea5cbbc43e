//! ScrapeCampaign: finds the campaign's businesses with Places Text Search (every page, up
//! to 60) and stores them as leads; in the same commit the campaign moves to `enriching`
//! and one EnrichLead per new lead goes to the outbox.
//!
//! Idempotent: leads are unique on (campaign, place id), only newly inserted leads are
//! enqueued, and the move is conditional on `scraping`, so a re-delivered job after the
//! commit finds the campaign past `scraping` and does nothing.

use jobs::kinds::{EnrichLead, ScrapeCampaign};
use jobs::{JobContext, JobError};
use serde_json::json;
use shared::db::campaigns::CampaignStatus;
use shared::events::{Event, EventKind};
use shared::providers::places::{MAX_RESULTS, Place, PlaceQuery};

use crate::pipeline::limits::Resource;
use crate::pipeline::{Pipeline, internal};

pub async fn run(p: Pipeline, job: ScrapeCampaign, ctx: JobContext) -> Result<(), JobError> {
    let Some(campaign) = sqlx::query!(
        r#"SELECT user_id, industry, location, status FROM campaigns WHERE id = $1"#,
        job.campaign_id
    )
    .fetch_optional(&p.db)
    .await
    .map_err(internal)?
    else {
        return Err(JobError::permanent(format!(
            "campaign {} does not exist",
            job.campaign_id
        )));
    };
    // Cancelled, already scraped, or failed: nothing to do (a re-delivery, a stale job).
    if campaign.status != CampaignStatus::Scraping.as_str() {
        return Ok(());
    }
    let user_id = campaign.user_id;
    let query = PlaceQuery {
        text_query: format!("{} in {}", campaign.industry, campaign.location),
        ..PlaceQuery::default()
    };
    // A refusal or the last attempt ends the campaign in `error` through `end`; a wait
    // (a provider's delay, our rate gates) never does.
    let places = search(&p, &query, user_id, job.campaign_id, &ctx.id).await?;
    if places.is_empty() {
        let reason = format!("Google Places found no business for {:?}", query.text_query);
        give_up(&p, job.campaign_id, user_id, &reason).await?;
        return Ok(());
    }
    store(&p, job.campaign_id, user_id, &places).await
}

/// Every page, each one through the Places gates.
async fn search(
    p: &Pipeline,
    query: &PlaceQuery,
    user_id: i64,
    campaign_id: i64,
    job_id: &str,
) -> Result<Vec<Place>, JobError> {
    let limit = p.config.max_leads.min(MAX_RESULTS);
    let mut places: Vec<Place> = Vec::new();
    let mut token: Option<String> = None;
    while places.len() < limit {
        let spent = p
            .admit(Resource::Places, user_id, campaign_id, job_id)
            .await?;
        let page = match p.places.page(query, token.as_deref()).await {
            Ok(page) => page,
            Err(e) => {
                if !e.is_retryable() {
                    p.refund(spent).await;
                }
                return Err(p
                    .provider_failed(Resource::Places, user_id, campaign_id, e)
                    .await);
            }
        };
        drop(spent);
        places.extend(page.places);
        match page.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    places.truncate(limit);
    Ok(places)
}

/// One commit: the leads, the campaign's move and count, the EnrichLead jobs.
async fn store(
    p: &Pipeline,
    campaign_id: i64,
    user_id: i64,
    places: &[Place],
) -> Result<(), JobError> {
    let mut tx = p.db.begin().await.map_err(internal)?;
    let mut new_ids = Vec::with_capacity(places.len());
    for place in places {
        let raw = json!({
            "country": place.country,
            "international_phone": place.international_phone,
            "latitude": place.latitude,
            "longitude": place.longitude,
        });
        let id = sqlx::query_scalar!(
            r#"INSERT INTO leads (campaign_id, place_id, business_name, address, city, province,
                                  postal_code, phone, website, rating, review_count, raw_data)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               ON CONFLICT (campaign_id, place_id) DO NOTHING
               RETURNING id"#,
            campaign_id,
            place.place_id,
            place.business_name,
            place.address,
            place.city,
            place.province,
            place.postal_code,
            place.phone,
            place.website,
            place.rating.filter(|r| (0.0..=5.0).contains(r)),
            place.review_count.filter(|n| *n >= 0),
            raw,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(internal)?;
        new_ids.extend(id);
    }
    let moved = sqlx::query!(
        r#"UPDATE campaigns
           SET status = 'enriching', leads_count = leads_count + $2, updated_at = now()
           WHERE id = $1 AND status = 'scraping'"#,
        campaign_id,
        i32::try_from(new_ids.len()).unwrap_or(i32::MAX),
    )
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    if moved.rows_affected() == 0 {
        // Cancelled while we searched: keep nothing.
        return Ok(());
    }
    for lead_id in &new_ids {
        shared::outbox::push(&mut tx, &EnrichLead { lead_id: *lead_id }, Some(user_id))
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    tracing::info!(
        campaign.id = campaign_id,
        leads = new_ids.len(),
        "leads stored"
    );
    p.emit(
        user_id,
        Event::new(EventKind::LeadsFound, campaign_id).count(new_ids.len() as i64),
    )
    .await;
    p.emit(
        user_id,
        Event::new(EventKind::CampaignStatus, campaign_id).status("enriching"),
    )
    .await;
    Ok(())
}

/// The job ends without leads (refused for good, out of attempts, waited too long): the
/// campaign is in `error` with the reason.
pub async fn end(p: Pipeline, job: ScrapeCampaign, reason: String) -> Result<(), JobError> {
    let user_id = sqlx::query_scalar!(
        "SELECT user_id FROM campaigns WHERE id = $1",
        job.campaign_id
    )
    .fetch_optional(&p.db)
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
    let moved = sqlx::query!(
        r#"UPDATE campaigns
           SET status = 'error', error_details = jsonb_build_object('campaign', $2::text),
               updated_at = now()
           WHERE id = $1 AND status = 'scraping'"#,
        campaign_id,
        reason
    )
    .execute(&p.db)
    .await
    .map_err(internal)?;
    if moved.rows_affected() > 0 {
        p.emit(
            user_id,
            Event::new(EventKind::CampaignStatus, campaign_id)
                .status("error")
                .reason(reason),
        )
        .await;
    }
    Ok(())
}
