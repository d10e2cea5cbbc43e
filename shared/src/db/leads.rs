//! Leads found for a campaign, as the owner's pages read them. The scrape job inserts them
//! and the pipeline moves them (`db::lifecycle::lead`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use crate::error::Error;

text_enum! {
    /// `found → enriched → generated`, or `failed` (see the lead's `error`).
    pub enum LeadStage {
        /// Stored by the scrape; waits for its enrichment.
        Found => "found",
        /// Contacts and score known; waits for its content.
        Enriched => "enriched",
        /// Its content exists.
        Generated => "generated",
        Failed => "failed",
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lead {
    pub id: i64,
    pub campaign_id: i64,
    pub place_id: String,
    pub business_name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub rating: Option<f64>,
    pub review_count: Option<i32>,
    /// 0–100, set when the lead is enriched.
    pub lead_score: Option<i16>,
    #[schema(value_type = Option<Object>)]
    pub score_breakdown: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub enriched_at: Option<DateTime<Utc>>,
    pub stage: LeadStage,
    pub error: Option<String>,
}

/// At most `limit` leads of a campaign the caller already checked belongs to the user.
pub async fn list_for_campaign(
    db: &PgPool,
    campaign_id: i64,
    limit: i64,
) -> Result<Vec<Lead>, Error> {
    Ok(sqlx::query_as!(
        Lead,
        r#"SELECT id, campaign_id, place_id, business_name, address, city, province, postal_code,
                  phone, email, website, rating, review_count, lead_score, score_breakdown,
                  created_at, enriched_at, stage AS "stage: LeadStage", error
           FROM leads WHERE campaign_id = $1 ORDER BY id LIMIT $2"#,
        campaign_id,
        limit,
    )
    .fetch_all(db)
    .await?)
}
