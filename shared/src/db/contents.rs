//! Generated posts as the owner reads and edits them. Their transitions (the owner's
//! approval and rejection, the pipeline's moves) are in `db::lifecycle::content`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged};
use crate::error::Error;
use crate::outbox;

text_enum! {
    pub enum ContentStatus {
        /// The text is saved, the image is being made: not shown for approval yet.
        Generating => "generating",
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
        Published => "published",
        Failed => "failed",
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Content {
    pub id: i64,
    pub lead_id: i64,
    pub campaign_id: i64,
    pub text: String,
    /// Storage key of the generated image; the dashboard serves it.
    pub image_key: Option<String>,
    /// Why something went wrong with this content (no image could be made, LinkedIn
    /// refused the post), in words the owner can act on.
    pub error: Option<String>,
    pub hashtags: Vec<String>,
    /// 0–100; at 70 or more with LinkedIn connected the content approves itself.
    pub quality_score: i16,
    #[schema(value_type = Object)]
    pub score_breakdown: serde_json::Value,
    pub status: ContentStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ContentFilter {
    pub status: Option<ContentStatus>,
    pub campaign_id: Option<i64>,
    pub min_score: Option<i16>,
}

/// What an approval did.
#[derive(Debug, Clone)]
pub struct Approval {
    pub content: Content,
    /// False when LinkedIn is not connected: the content waits, approved, and is queued
    /// when the owner connects.
    pub queued_for_publishing: bool,
    /// Its slot in the owner's schedule.
    pub scheduled_at: Option<DateTime<Utc>>,
}

pub async fn list(
    db: &PgPool,
    user_id: i64,
    filter: &ContentFilter,
    page: Page,
) -> Result<Paged<Content>, Error> {
    let status = filter.status.map(ContentStatus::as_str);
    let items = sqlx::query_as!(
        Content,
        r#"SELECT id, lead_id, campaign_id, text, image_key, error, hashtags, quality_score,
                  score_breakdown, status AS "status: ContentStatus", created_at, updated_at,
                  approved_at
           FROM contents
           WHERE user_id = $1
             AND ($2::text IS NULL OR status = $2)
             AND ($3::bigint IS NULL OR campaign_id = $3)
             AND ($4::smallint IS NULL OR quality_score >= $4)
           ORDER BY id DESC LIMIT $5 OFFSET $6"#,
        user_id,
        status,
        filter.campaign_id,
        filter.min_score,
        page.limit(),
        page.offset(),
    )
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM contents
           WHERE user_id = $1
             AND ($2::text IS NULL OR status = $2)
             AND ($3::bigint IS NULL OR campaign_id = $3)
             AND ($4::smallint IS NULL OR quality_score >= $4)"#,
        user_id,
        status,
        filter.campaign_id,
        filter.min_score,
    )
    .fetch_one(db)
    .await?;
    Ok(Paged::new(items, page, total))
}

pub async fn get(db: &PgPool, user_id: i64, id: i64) -> Result<Content, Error> {
    sqlx::query_as!(
        Content,
        r#"SELECT id, lead_id, campaign_id, text, image_key, error, hashtags, quality_score,
                  score_breakdown, status AS "status: ContentStatus", created_at, updated_at,
                  approved_at
           FROM contents WHERE id = $1 AND user_id = $2"#,
        id,
        user_id,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("content"))
}

/// The owner's own words replace the generated ones, only while the content is pending:
/// an approved text may already be on its way to LinkedIn.
pub async fn edit(
    db: &PgPool,
    user_id: i64,
    id: i64,
    text: &str,
    hashtags: Option<&[String]>,
) -> Result<Content, Error> {
    let edited = sqlx::query_as!(
        Content,
        r#"UPDATE contents SET text = $3, hashtags = COALESCE($4, hashtags), updated_at = now()
           WHERE id = $1 AND user_id = $2 AND status = 'pending'
           RETURNING id, lead_id, campaign_id, text, image_key, error, hashtags, quality_score,
                     score_breakdown, status AS "status: ContentStatus", created_at,
                     updated_at, approved_at"#,
        id,
        user_id,
        text,
        hashtags,
    )
    .fetch_optional(db)
    .await?;
    match edited {
        Some(content) => Ok(content),
        None => Err(super::lifecycle::content::not_pending(db, user_id, id, "edited").await),
    }
}

/// The contents of one campaign, newest first, for the campaign page.
pub async fn list_for_campaign(
    db: &PgPool,
    campaign_id: i64,
    limit: i64,
) -> Result<Vec<Content>, Error> {
    Ok(sqlx::query_as!(
        Content,
        r#"SELECT id, lead_id, campaign_id, text, image_key, error, hashtags, quality_score,
                  score_breakdown, status AS "status: ContentStatus", created_at, updated_at,
                  approved_at
           FROM contents WHERE campaign_id = $1 ORDER BY id DESC LIMIT $2"#,
        campaign_id,
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// Queues PublishPost for every approved content of a user not published yet, inside the
/// connect transaction: those whose publishing waited for a reconnect (an expired or
/// revoked token) go now, as they were already due; those approved while LinkedIn was not
/// connected take slots of her schedule again (a slot that passed meanwhile is replaced by
/// one to come, so a reconnect does not publish a backlog all at once).
pub async fn queue_waiting_approvals(
    conn: &mut sqlx::PgConnection,
    user_id: i64,
) -> Result<u64, Error> {
    use crate::db::lifecycle::schedule;
    schedule::lock_owner(&mut *conn, user_id).await?;
    let waiting: Vec<i64> = sqlx::query_scalar(
        r#"SELECT c.id FROM contents c
           JOIN publications p ON p.content_id = c.id AND p.state = 'publishing'
           WHERE c.user_id = $1 AND c.status = 'approved'
           ORDER BY c.id"#,
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    for content_id in &waiting {
        outbox::push(
            &mut *conn,
            &jobs::kinds::PublishPost::new(*content_id),
            Some(user_id),
        )
        .await?;
    }
    let plan = schedule::load(&mut *conn, user_id).await?;
    let placed = schedule::reflow(&mut *conn, user_id, &plan).await?;
    Ok(waiting.len() as u64 + placed)
}
