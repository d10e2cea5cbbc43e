//! EnrichLead: reads the lead's website for an e-mail and a phone, scores the lead with a
//! breakdown, and in the same commit marks it enriched and puts its GenerateContent in the
//! outbox, so a lead's content is written as soon as that lead is ready (not after the
//! whole campaign).
//!
//! Idempotent: the update is conditional on the lead still being `found`; a re-delivery
//! after the commit finds it `enriched` and does nothing. A website that cannot be read is
//! not a failure of the lead: it costs the lead its website points, with the reason.

use jobs::kinds::{EnrichLead, GenerateContent};
use jobs::{JobContext, JobError};
use shared::db::campaigns::CampaignStatus;
use shared::db::leads::LeadStage;
use shared::db::lifecycle::campaign;
use shared::db::lifecycle::lead::{self, Enrichment};
use shared::events::{Event, EventKind};

use crate::pipeline::limits::Resource;
use crate::pipeline::scoring::{self, LeadFacts};
use crate::pipeline::{Pipeline, internal};

#[tracing::instrument(name = "pipeline.enrich", skip_all, fields(lead.id = job.lead_id, campaign.id = tracing::field::Empty, attempt = ctx.attempt))]
pub async fn run(p: Pipeline, job: EnrichLead, ctx: JobContext) -> Result<(), JobError> {
    let Some(lead) = lead::to_enrich(&p.db, job.lead_id)
        .await
        .map_err(internal)?
    else {
        // Deleted with its campaign: nothing left to do.
        return Ok(());
    };
    if lead.stage != LeadStage::Found || !active(lead.campaign_status) {
        return Ok(());
    }
    let (user_id, campaign_id) = (lead.user_id, lead.campaign_id);
    tracing::Span::current().record("campaign.id", campaign_id);
    let spent = p
        .admit(Resource::Lead, user_id, campaign_id, &ctx.id)
        .await?;
    let (contacts, website_error) = match lead.website.as_deref() {
        Some(url) => match p.website.fetch_contacts(url).await {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e.to_string())),
        },
        None => (None, None),
    };
    let email = lead
        .email
        .clone()
        .or_else(|| contacts.as_ref().and_then(|c| c.emails.first().cloned()));
    let phone = lead
        .phone
        .clone()
        .or_else(|| contacts.as_ref().and_then(|c| c.phones.first().cloned()));
    let score = scoring::lead(&LeadFacts {
        website: lead.website.as_deref(),
        website_error: website_error.as_deref(),
        email: email.as_deref(),
        phone: phone.as_deref(),
        rating: lead.rating,
        review_count: lead.review_count,
        has_full_address: lead.address.is_some()
            && lead.city.is_some()
            && lead.postal_code.is_some(),
    });
    let saved = save(
        &p,
        job.lead_id,
        campaign_id,
        user_id,
        &email,
        &phone,
        &score,
    )
    .await?;
    if !saved {
        // Someone else enriched it meanwhile: our unit paid for nothing.
        p.refund(spent).await;
        return Ok(());
    }
    tracing::info!(lead.id = job.lead_id, score = score.total, "lead enriched");
    p.emit(
        user_id,
        Event::new(EventKind::LeadEnriched, campaign_id)
            .lead(job.lead_id)
            .score(score.total),
    )
    .await;
    Ok(())
}

/// The job ends (out of attempts, refused): the lead fails with the reason, and the
/// campaign moves on without it.
#[tracing::instrument(name = "pipeline.enrich.end", skip_all, fields(lead.id = job.lead_id))]
pub async fn end(p: Pipeline, job: EnrichLead, reason: String) -> Result<(), JobError> {
    end_lead(&p, job.lead_id, &reason).await
}

/// Fails the lead (and a content it had started) with the reason; for every step whose
/// job belongs to a lead.
pub async fn end_lead(p: &Pipeline, lead_id: i64, reason: &str) -> Result<(), JobError> {
    let owner = lead::owner(&p.db, lead_id).await.map_err(internal)?;
    match owner {
        Some((campaign_id, user_id)) => fail(p, lead_id, campaign_id, user_id, reason).await,
        None => Ok(()),
    }
}

/// The campaign still wants work done on its leads.
pub fn active(status: CampaignStatus) -> bool {
    matches!(
        status,
        CampaignStatus::Enriching | CampaignStatus::Generating | CampaignStatus::Ready
    )
}

async fn save(
    p: &Pipeline,
    lead_id: i64,
    campaign_id: i64,
    user_id: i64,
    email: &Option<String>,
    phone: &Option<String>,
    score: &scoring::Score,
) -> Result<bool, JobError> {
    let mut tx = p.db.begin().await.map_err(internal)?;
    let found = Enrichment {
        email: email.as_deref(),
        phone: phone.as_deref(),
        score: score.total,
        breakdown: score.breakdown(),
    };
    if !lead::enriched(&mut tx, lead_id, campaign_id, &found)
        .await
        .map_err(internal)?
    {
        return Ok(false);
    }
    shared::outbox::push(&mut tx, &GenerateContent { lead_id }, Some(user_id))
        .await
        .map_err(internal)?;
    let moved = campaign::advance(&mut tx, campaign_id)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    p.moved(user_id, campaign_id, moved).await;
    Ok(true)
}

/// The lead ends without a content, with the reason; the campaign moves on without it.
pub async fn fail(
    p: &Pipeline,
    lead_id: i64,
    campaign_id: i64,
    user_id: i64,
    reason: &str,
) -> Result<(), JobError> {
    let mut tx = p.db.begin().await.map_err(internal)?;
    let failed = lead::fail(&mut tx, lead_id, reason)
        .await
        .map_err(internal)?;
    let moved = campaign::advance(&mut tx, campaign_id)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    if failed {
        p.emit(
            user_id,
            Event::new(EventKind::Failed, campaign_id)
                .lead(lead_id)
                .reason(reason),
        )
        .await;
    }
    p.moved(user_id, campaign_id, moved).await;
    Ok(())
}
