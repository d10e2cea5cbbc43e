//! Campaigns as the owner creates and reads them. Their transitions (launch, cancel, the
//! pipeline's moves) are in `db::lifecycle::campaign`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged};
use crate::error::Error;

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
