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
use shared::db::progress;
use shared::events::{Event, EventKind};

use crate::pipeline::limits::Resource;
use crate::pipeline::scoring::{self, LeadFacts};
use crate::pipeline::{Pipeline, internal};

pub async fn run(p: Pipeline, job: EnrichLead, ctx: JobContext) -> Result<(), JobError> {
    let Some(lead) = sqlx::query!(
        r#"SELECT l.campaign_id, l.stage, l.website, l.email, l.phone, l.rating,
                  l.review_count, l.address, l.city, l.postal_code,
                  c.user_id, c.status AS campaign_status
           FROM leads l JOIN campaigns c ON c.id = l.campaign_id
           WHERE l.id = $1"#,
        job.lead_id
    )
    .fetch_optional(&p.db)
    .await
    .map_err(internal)?
    else {
        // Deleted with its campaign: nothing left to do.
        return Ok(());
    };
    if lead.stage != "found" || !active(&lead.campaign_status) {
        return Ok(());
    }
    let (user_id, campaign_id) = (lead.user_id, lead.campaign_id);
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
pub async fn end(p: Pipeline, job: EnrichLead, reason: String) -> Result<(), JobError> {
    end_lead(&p, job.lead_id, &reason).await
}

/// Fails the lead (and a content it had started) with the reason; for every step whose
/// job belongs to a lead.
pub async fn end_lead(p: &Pipeline, lead_id: i64, reason: &str) -> Result<(), JobError> {
    let owner = sqlx::query!(
        r#"SELECT l.campaign_id, c.user_id FROM leads l JOIN campaigns c ON c.id = l.campaign_id
           WHERE l.id = $1"#,
        lead_id
    )
    .fetch_optional(&p.db)
    .await
    .map_err(internal)?;
    match owner {
        Some(o) => fail(p, lead_id, o.campaign_id, o.user_id, reason).await,
        None => Ok(()),
    }
}

/// The campaign still wants work done on its leads.
pub fn active(status: &str) -> bool {
    matches!(status, "enriching" | "generating" | "ready")
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
    let done = sqlx::query!(
        r#"UPDATE leads
           SET email = $2, phone = $3, lead_score = $4, score_breakdown = $5,
               stage = 'enriched', enriched_at = now(), updated_at = now()
           WHERE id = $1 AND stage = 'found' AND enriched_at IS NULL"#,
        lead_id,
        email.as_deref(),
        phone.as_deref(),
        score.total,
        score.breakdown(),
    )
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE campaigns SET enriched_count = enriched_count + 1, updated_at = now() WHERE id = $1",
        campaign_id
    )
    .execute(&mut *tx)
    .await
    .map_err(internal)?;
    shared::outbox::push(&mut tx, &GenerateContent { lead_id }, Some(user_id))
        .await
        .map_err(internal)?;
    let moved = progress::advance(&mut tx, campaign_id)
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
    let failed = progress::fail_lead(&mut tx, lead_id, reason)
        .await
        .map_err(internal)?;
    let moved = progress::advance(&mut tx, campaign_id)
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
