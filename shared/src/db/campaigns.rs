//! Campaigns and their lifecycle. Every transition is one conditional UPDATE, so two
//! requests (or a request and a worker) can never both make it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged};
use crate::error::Error;
use crate::outbox;

text_enum! {
    /// `draft → scraping → enriching → generating → ready → completed`, or `error`, or
    /// `cancelled`.
    pub enum CampaignStatus {
        Draft => "draft",
        Scraping => "scraping",
        Enriching => "enriching",
        Generating => "generating",
        Ready => "ready",
        Completed => "completed",
        Error => "error",
        Cancelled => "cancelled",
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub industry: String,
    pub location: String,
    pub status: CampaignStatus,
    pub leads_count: i32,
    /// Leads past enrichment (with their contacts and score, or failed there).
    pub enriched_count: i32,
    /// Leads that ended without a content; why is in `error_details`.
    pub failed_count: i32,
    pub contents_count: i32,
    pub published_count: i32,
    /// Why the campaign is in `error`: which step failed and the provider's answer.
    #[schema(value_type = Option<Object>)]
    pub error_details: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Already validated and trimmed by the caller.
pub struct NewCampaign<'a> {
    pub name: &'a str,
    pub industry: &'a str,
    pub location: &'a str,
}

pub async fn create(db: &PgPool, user_id: i64, new: &NewCampaign<'_>) -> Result<Campaign, Error> {
    Ok(sqlx::query_as!(
        Campaign,
        r#"INSERT INTO campaigns (user_id, name, industry, location) VALUES ($1, $2, $3, $4)
           RETURNING id, name, industry, location, status AS "status: CampaignStatus",
                     leads_count, enriched_count, failed_count, contents_count, published_count,
                     error_details,
                     created_at, launched_at, completed_at"#,
        user_id,
        new.name,
        new.industry,
        new.location,
    )
    .fetch_one(db)
    .await?)
}

pub async fn list(db: &PgPool, user_id: i64, page: Page) -> Result<Paged<Campaign>, Error> {
    let items = sqlx::query_as!(
        Campaign,
        r#"SELECT id, name, industry, location, status AS "status: CampaignStatus",
                  leads_count, enriched_count, failed_count, contents_count, published_count,
                     error_details,
                  created_at, launched_at, completed_at
           FROM campaigns WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"#,
        user_id,
        page.limit(),
        page.offset(),
    )
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM campaigns WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await?;
    Ok(Paged::new(items, page, total))
}

pub async fn get(db: &PgPool, user_id: i64, id: i64) -> Result<Campaign, Error> {
    sqlx::query_as!(
        Campaign,
        r#"SELECT id, name, industry, location, status AS "status: CampaignStatus",
                  leads_count, enriched_count, failed_count, contents_count, published_count,
                     error_details,
                  created_at, launched_at, completed_at
           FROM campaigns WHERE id = $1 AND user_id = $2"#,
        id,
        user_id,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("campaign"))
}

/// `draft` (or `error`, to try again) → `scraping`, and a ScrapeCampaign job in the outbox
/// in the same commit: a launch is never half done.
/// Launches a draft (or a failed campaign again). At most `max_running` campaigns of the
/// owner run at once: the count is taken under a lock on the owner's row, so two launches
/// at the same moment cannot both pass it.
pub async fn launch(
    db: &PgPool,
    user_id: i64,
    id: i64,
    max_running: u32,
) -> Result<Campaign, Error> {
    let mut tx = db.begin().await?;
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let running: i64 = sqlx::query_scalar(
        r#"SELECT count(*) FROM campaigns
           WHERE user_id = $1 AND status IN ('scraping', 'enriching', 'generating')"#,
    )
    .bind(user_id)
    .fetch_one(&mut *tx)
    .await?;
    if running >= i64::from(max_running) {
        return Err(Error::Conflict(format!(
            "{running} of your campaigns are running already (at most {max_running} at once): \
             launch this one when one of them is ready"
        )));
    }
    let launched = sqlx::query_as!(
        Campaign,
        r#"UPDATE campaigns
           SET status = 'scraping', launched_at = now(), error_details = NULL, updated_at = now()
           WHERE id = $1 AND user_id = $2 AND status IN ('draft', 'error')
           RETURNING id, name, industry, location, status AS "status: CampaignStatus",
                     leads_count, enriched_count, failed_count, contents_count, published_count,
                     error_details,
                     created_at, launched_at, completed_at"#,
        id,
        user_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(campaign) = launched else {
        let current = get(db, user_id, id).await?;
        return Err(Error::Conflict(format!(
            "campaign is {}; only a draft or a failed campaign can be launched",
            current.status
        )));
    };
    outbox::push(
        &mut tx,
        &jobs::kinds::ScrapeCampaign {
            campaign_id: campaign.id,
        },
        Some(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(campaign)
}

/// Stops the pipeline for this campaign: its jobs find it `cancelled` and do nothing.
pub async fn cancel(db: &PgPool, user_id: i64, id: i64) -> Result<Campaign, Error> {
    let cancelled = sqlx::query_as!(
        Campaign,
        r#"UPDATE campaigns SET status = 'cancelled', completed_at = now()
           WHERE id = $1 AND user_id = $2 AND status NOT IN ('completed', 'cancelled')
           RETURNING id, name, industry, location, status AS "status: CampaignStatus",
                     leads_count, enriched_count, failed_count, contents_count, published_count,
                     error_details,
                     created_at, launched_at, completed_at"#,
        id,
        user_id,
    )
    .fetch_optional(db)
    .await?;
    match cancelled {
        Some(c) => Ok(c),
        None => {
            let current = get(db, user_id, id).await?;
            Err(Error::Conflict(format!(
                "campaign is already {}",
                current.status
            )))
        }
    }
}
