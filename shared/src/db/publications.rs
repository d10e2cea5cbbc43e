//! What was published, and its engagement as last synced from LinkedIn.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged};
use crate::error::Error;

text_enum! {
    pub enum PublicationState {
        /// Written before the POST: a retry finds it and does not post blindly again.
        Publishing => "publishing",
        Published => "published",
        /// The POST may or may not have created a post; a human looks.
        Unknown => "unknown",
        Failed => "failed",
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Publication {
    pub id: i64,
    pub content_id: i64,
    pub platform: String,
    pub state: PublicationState,
    pub post_urn: Option<String>,
    pub post_url: Option<String>,
    pub error: Option<String>,
    pub likes: i32,
    pub comments: i32,
    pub shares: i32,
    pub impressions: i32,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

pub async fn list(db: &PgPool, user_id: i64, page: Page) -> Result<Paged<Publication>, Error> {
    let items = sqlx::query_as!(
        Publication,
        r#"SELECT id, content_id, platform, state AS "state: PublicationState", post_urn,
                  post_url, error, likes, comments, shares, impressions, created_at,
                  published_at, last_synced_at
           FROM publications WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"#,
        user_id,
        page.limit(),
        page.offset(),
    )
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM publications WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await?;
    Ok(Paged::new(items, page, total))
}
