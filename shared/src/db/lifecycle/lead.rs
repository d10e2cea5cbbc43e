//! The lead's transitions: `found → enriched → generated`, or `failed` from either of the
//! first two. Each changes the campaign's counters in the same statement's transaction, so
//! the counters `campaign::advance` reads always match the leads.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::db::campaigns::CampaignStatus;
use crate::db::leads::LeadStage;
use crate::error::Error;

/// A business as the directory gave it, about to become a `found` lead.
#[derive(Debug, Clone, Default)]
pub struct NewLead<'a> {
    pub place_id: &'a str,
    pub business_name: &'a str,
    pub address: Option<&'a str>,
    pub city: Option<&'a str>,
    pub province: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub website: Option<&'a str>,
    pub rating: Option<f64>,
    pub review_count: Option<i32>,
    pub raw: Value,
}

/// Stores a `found` lead; `None` when the campaign already has this place (a re-run of the
/// scrape), so only new leads get an EnrichLead.
pub async fn found(
    conn: &mut PgConnection,
    campaign_id: i64,
    lead: &NewLead<'_>,
) -> Result<Option<i64>, Error> {
    Ok(sqlx::query_scalar!(
        r#"INSERT INTO leads (campaign_id, place_id, business_name, address, city, province,
                              postal_code, phone, website, rating, review_count, raw_data)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (campaign_id, place_id) DO NOTHING
           RETURNING id"#,
        campaign_id,
        lead.place_id,
        lead.business_name,
        lead.address,
        lead.city,
        lead.province,
        lead.postal_code,
        lead.phone,
        lead.website,
        lead.rating.filter(|r| (0.0..=5.0).contains(r)),
        lead.review_count.filter(|n| *n >= 0),
        lead.raw,
    )
    .fetch_optional(conn)
    .await?)
}

/// What enrichment reads of a lead and its campaign.
#[derive(Debug, Clone)]
pub struct ToEnrich {
    pub campaign_id: i64,
    pub user_id: i64,
    pub stage: LeadStage,
    pub campaign_status: CampaignStatus,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub rating: Option<f64>,
    pub review_count: Option<i32>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
}

pub async fn to_enrich(db: &PgPool, lead_id: i64) -> Result<Option<ToEnrich>, Error> {
    Ok(sqlx::query_as!(
        ToEnrich,
        r#"SELECT l.campaign_id, c.user_id, l.stage AS "stage: LeadStage",
                  c.status AS "campaign_status: CampaignStatus",
                  l.website, l.email, l.phone, l.rating, l.review_count, l.address, l.city,
                  l.postal_code
           FROM leads l JOIN campaigns c ON c.id = l.campaign_id
           WHERE l.id = $1"#,
        lead_id
    )
    .fetch_optional(db)
    .await?)
}

/// What enrichment found.
#[derive(Debug, Clone)]
pub struct Enrichment<'a> {
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub score: i16,
    pub breakdown: Value,
}

/// `found → enriched` and the campaign's enriched count; `false` when the lead had already
/// left `found` (another run enriched it, or it failed).
pub async fn enriched(
    conn: &mut PgConnection,
    lead_id: i64,
    campaign_id: i64,
    found: &Enrichment<'_>,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        r#"UPDATE leads
           SET email = $2, phone = $3, lead_score = $4, score_breakdown = $5,
               stage = 'enriched', enriched_at = now(), updated_at = now()
           WHERE id = $1 AND stage = 'found' AND enriched_at IS NULL"#,
        lead_id,
        found.email,
        found.phone,
        found.score,
        found.breakdown,
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE campaigns SET enriched_count = enriched_count + 1, updated_at = now() WHERE id = $1",
        campaign_id
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// What generation reads of a lead, its campaign and the campaign owner's profile.
#[derive(Debug, Clone)]
pub struct ToGenerate {
    pub campaign_id: i64,
    pub user_id: i64,
    pub stage: LeadStage,
    pub campaign_status: CampaignStatus,
    pub business_name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub location: String,
    pub industry: String,
    pub owner_business: Option<String>,
    pub owner_type: Option<String>,
    /// The owner's own website: links to it may go out without her look.
    pub owner_site: Option<String>,
}

pub async fn to_generate(db: &PgPool, lead_id: i64) -> Result<Option<ToGenerate>, Error> {
    Ok(sqlx::query_as!(
        ToGenerate,
        r#"SELECT l.campaign_id, c.user_id, l.stage AS "stage: LeadStage",
                  c.status AS "campaign_status: CampaignStatus",
                  l.business_name, l.address, l.city, c.location, c.industry,
                  pr.business_name AS "owner_business?", pr.business_type AS "owner_type?",
                  pr.website AS "owner_site?"
           FROM leads l
           JOIN campaigns c ON c.id = l.campaign_id
           LEFT JOIN user_profiles pr ON pr.user_id = c.user_id
           WHERE l.id = $1"#,
        lead_id
    )
    .fetch_optional(db)
    .await?)
}

/// `enriched → generated`, in the transaction that finishes its content.
pub async fn generated(conn: &mut PgConnection, lead_id: i64) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE leads SET stage = 'generated', updated_at = now() WHERE id = $1 AND stage = 'enriched'",
        lead_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The lead's campaign and that campaign's owner, `None` once the lead is gone.
pub async fn owner(db: &PgPool, lead_id: i64) -> Result<Option<(i64, i64)>, Error> {
    let row = sqlx::query!(
        r#"SELECT l.campaign_id, c.user_id FROM leads l JOIN campaigns c ON c.id = l.campaign_id
           WHERE l.id = $1"#,
        lead_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.campaign_id, r.user_id)))
}

/// `found | enriched → failed`: records why the lead ended without a content, in the lead
/// and in the campaign's `error_details` (`{"lead 311": "Gemini blocked the prompt
/// (SAFETY)"}`), and counts it. A content whose text was saved but never finished ends
/// with it. Does nothing if the lead already ended; returns whether it did.
pub async fn fail(conn: &mut PgConnection, lead_id: i64, reason: &str) -> Result<bool, Error> {
    // The old stage, read in the same statement: a lead failing before its enrichment
    // also leaves enrichment, which the `generating` step counts.
    let failed = sqlx::query!(
        r#"WITH old AS (
               SELECT id, stage FROM leads
               WHERE id = $1 AND stage IN ('found', 'enriched') FOR UPDATE)
           UPDATE leads l SET stage = 'failed', error = $2, updated_at = now()
           FROM old WHERE l.id = old.id
           RETURNING l.campaign_id, (old.stage = 'found') AS "was_found!""#,
        lead_id,
        reason
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(failed) = failed else {
        return Ok(false);
    };
    // Its image kept failing, or the last attempt ran out: the campaign would wait for
    // this content forever.
    super::content::abandoned(conn, lead_id, reason).await?;
    sqlx::query!(
        r#"UPDATE campaigns
           SET failed_count = failed_count + 1,
               enriched_count = enriched_count + CASE WHEN $4 THEN 1 ELSE 0 END,
               error_details = COALESCE(error_details, '{}'::jsonb)
                               || jsonb_build_object('lead ' || $2::bigint, $3::text),
               updated_at = now()
           WHERE id = $1"#,
        failed.campaign_id,
        lead_id,
        reason,
        failed.was_found,
    )
    .execute(conn)
    .await?;
    Ok(true)
}
