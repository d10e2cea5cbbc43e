//! The content's transitions: `generating → pending | approved`, `pending → approved |
//! rejected`, `approved → published | failed`, and `generating → failed` with its lead.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::campaign;
use crate::db::campaigns::CampaignStatus;
use crate::db::contents::{Approval, Content, ContentStatus, get};
use crate::db::profiles;
use crate::error::Error;

/// A content as saved, for the run that finishes it.
#[derive(Debug, Clone)]
pub struct Saved {
    pub id: i64,
    pub status: ContentStatus,
    pub text: String,
    pub hashtags: Vec<String>,
    pub image_key: Option<String>,
    pub image_prompt: Option<String>,
}

/// The lead's content, if its text was saved.
pub async fn of_lead(db: &PgPool, lead_id: i64) -> Result<Option<Saved>, Error> {
    Ok(sqlx::query_as!(
        Saved,
        r#"SELECT id, status AS "status: ContentStatus", text, hashtags, image_key, image_prompt
           FROM contents WHERE lead_id = $1"#,
        lead_id
    )
    .fetch_optional(db)
    .await?)
}

/// The model's words, saved before anything else is paid for.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub lead_id: i64,
    pub campaign_id: i64,
    pub user_id: i64,
    pub text: &'a str,
    pub hashtags: &'a [String],
    pub image_prompt: &'a str,
}

/// A `generating` content with the draft's text; a concurrent run that saved first wins
/// (one content per lead). Returns the content as saved, whichever run saved it.
pub async fn drafted(db: &PgPool, draft: &Draft<'_>) -> Result<Option<Saved>, Error> {
    sqlx::query!(
        r#"INSERT INTO contents (lead_id, campaign_id, user_id, text, hashtags, image_prompt,
                                 quality_score, status)
           VALUES ($1, $2, $3, $4, $5, $6, 0, 'generating')
           ON CONFLICT (lead_id) DO NOTHING"#,
        draft.lead_id,
        draft.campaign_id,
        draft.user_id,
        draft.text,
        draft.hashtags,
        draft.image_prompt,
    )
    .execute(db)
    .await?;
    of_lead(db, draft.lead_id).await
}

/// How generation ends for a content.
#[derive(Debug, Clone)]
pub struct Generated<'a> {
    pub content_id: i64,
    pub lead_id: i64,
    pub campaign_id: i64,
    pub image_key: Option<&'a str>,
    pub score: i16,
    pub breakdown: Value,
    /// Why it has no image, or why it waits for the owner's look.
    pub note: Option<&'a str>,
    /// `Approved` (it publishes itself) or `Pending` (the owner decides).
    pub status: ContentStatus,
}

/// `generating → pending | approved`, the lead `enriched → generated` and the campaign's
/// content count, in the caller's transaction; `false` when another run finished it first
/// or the campaign was cancelled meanwhile.
pub async fn generated(conn: &mut PgConnection, done: &Generated<'_>) -> Result<bool, Error> {
    let moved = sqlx::query(
        r#"UPDATE contents
           SET image_key = $2, quality_score = $3, score_breakdown = $4, error = $5,
               status = $6, approved_at = CASE WHEN $6 = 'approved' THEN now() END,
               updated_at = now()
           WHERE id = $1 AND status = 'generating'
             AND EXISTS (SELECT 1 FROM campaigns
                         WHERE id = $7 AND status IN ('enriching', 'generating', 'ready'))"#,
    )
    .bind(done.content_id)
    .bind(done.image_key)
    .bind(done.score)
    .bind(&done.breakdown)
    .bind(done.note)
    .bind(done.status)
    .bind(done.campaign_id)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    super::lead::generated(conn, done.lead_id).await?;
    sqlx::query!(
        "UPDATE campaigns SET contents_count = contents_count + 1, updated_at = now() WHERE id = $1",
        done.campaign_id
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// `generating → failed`, when its lead fails with the reason.
pub(super) async fn abandoned(
    conn: &mut PgConnection,
    lead_id: i64,
    reason: &str,
) -> Result<(), Error> {
    sqlx::query!(
        r#"UPDATE contents SET status = 'failed', error = $2, updated_at = now()
           WHERE lead_id = $1 AND status = 'generating'"#,
        lead_id,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `pending → approved` by the owner, in the next free slot of her schedule; with LinkedIn
/// connected, a PublishPost for that slot in the same commit, so a second approval finds
/// it no longer pending and queues nothing.
pub async fn approve(db: &PgPool, user_id: i64, id: i64) -> Result<Approval, Error> {
    let mut tx = db.begin().await?;
    super::schedule::lock_owner(&mut tx, user_id).await?;
    let approved = sqlx::query_as!(
        Content,
        r#"UPDATE contents SET status = 'approved', approved_at = now(), updated_at = now()
           WHERE id = $1 AND user_id = $2 AND status = 'pending'
           RETURNING id, lead_id, campaign_id, text, image_key, error, hashtags, quality_score,
                     score_breakdown, status AS "status: ContentStatus", created_at,
                     updated_at, approved_at"#,
        id,
        user_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(content) = approved else {
        return Err(not_pending(db, user_id, id, "approved").await);
    };
    let ready = profiles::linkedin_ready(&mut tx, user_id).await?;
    let scheduled_at = super::schedule::place(&mut tx, user_id, id).await?;
    tx.commit().await?;
    Ok(Approval {
        content,
        queued_for_publishing: ready,
        scheduled_at: Some(scheduled_at),
    })
}

/// `pending → rejected` by the owner; the last content waiting on her may have been this
/// one, so the campaign may complete in the same commit.
pub async fn reject(db: &PgPool, user_id: i64, id: i64) -> Result<Content, Error> {
    let mut tx = db.begin().await?;
    let rejected = sqlx::query_as!(
        Content,
        r#"UPDATE contents SET status = 'rejected', updated_at = now()
           WHERE id = $1 AND user_id = $2 AND status = 'pending'
           RETURNING id, lead_id, campaign_id, text, image_key, error, hashtags, quality_score,
                     score_breakdown, status AS "status: ContentStatus", created_at,
                     updated_at, approved_at"#,
        id,
        user_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(content) = rejected else {
        return Err(not_pending(db, user_id, id, "rejected").await);
    };
    campaign::complete(&mut tx, content.campaign_id).await?;
    tx.commit().await?;
    Ok(content)
}

/// How long after a rejection the owner can take it back (the toast's "Undo").
pub const UNREJECT_WITHIN: std::time::Duration = std::time::Duration::from_secs(600);

/// `rejected → pending` again: the owner's undo of a rejection, within
/// [`UNREJECT_WITHIN`], while its campaign still waits for her (`ready`). A rejection that
/// completed its campaign cannot be undone: the completion was announced, and reopening
/// it would announce it twice. Undoing twice changes nothing the second time.
pub async fn unreject(db: &PgPool, user_id: i64, id: i64) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    let within = UNREJECT_WITHIN.as_secs_f64();
    let back = sqlx::query(
        r#"UPDATE contents c SET status = 'pending', updated_at = now()
           FROM campaigns cp
           WHERE c.id = $1 AND c.user_id = $2 AND c.status = 'rejected'
             AND cp.id = c.campaign_id AND cp.status = 'ready'
             AND c.updated_at > now() - make_interval(secs => $3)"#,
    )
    .bind(id)
    .bind(user_id)
    .bind(within)
    .execute(&mut *tx)
    .await?;
    if back.rows_affected() == 0 {
        let c = get(db, user_id, id).await?;
        if c.status == ContentStatus::Pending {
            return Ok(());
        }
        return Err(Error::Conflict(format!(
            "content is {}; only a post rejected a moment ago, in a campaign still waiting              for you, can be put back",
            c.status
        )));
    }
    tx.commit().await?;
    Ok(())
}

/// The owner's pending contents scored at least `min_score` (of one campaign, or all),
/// best first: what "approve all at or above" approves. At most `limit`.
pub async fn pending_at_least(
    db: &PgPool,
    user_id: i64,
    min_score: i16,
    campaign_id: Option<i64>,
    limit: i64,
) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar(
        r#"SELECT id FROM contents
           WHERE user_id = $1 AND status = 'pending' AND quality_score >= $2
             AND ($3::BIGINT IS NULL OR campaign_id = $3)
           ORDER BY quality_score DESC, id
           LIMIT $4"#,
    )
    .bind(user_id)
    .bind(min_score)
    .bind(campaign_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Why a pending-only change did not happen: the content is not the user's, or it is no
/// longer pending.
pub(crate) async fn not_pending(db: &PgPool, user_id: i64, id: i64, verb: &str) -> Error {
    match get(db, user_id, id).await {
        Ok(c) => Error::Conflict(format!(
            "content is {}; only a pending content can be {verb}",
            c.status
        )),
        Err(e) => e,
    }
}

/// Why the content did not (or may not) reach LinkedIn, for the owner's pages; its state
/// does not change.
pub async fn explain(conn: &mut PgConnection, content_id: i64, reason: &str) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE contents SET error = $2 WHERE id = $1",
        content_id,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// `approved → published | failed` as its publication ended, the campaign's published
/// count, and the campaign's completion if this was the last content it waited for.
pub async fn settled(
    conn: &mut PgConnection,
    content_id: i64,
    campaign_id: i64,
    status: ContentStatus,
) -> Result<Option<CampaignStatus>, Error> {
    debug_assert!(matches!(
        status,
        ContentStatus::Published | ContentStatus::Failed
    ));
    let moved = sqlx::query(
        r#"UPDATE contents SET status = $2, updated_at = now()
           WHERE id = $1 AND status = 'approved'"#,
    )
    .bind(content_id)
    .bind(status)
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() > 0 && status == ContentStatus::Published {
        sqlx::query!(
            "UPDATE campaigns SET published_count = published_count + 1, updated_at = now() WHERE id = $1",
            campaign_id
        )
        .execute(&mut *conn)
        .await?;
    }
    campaign::complete(conn, campaign_id).await
}

/// What ending a publishing job reads of its content.
#[derive(Debug, Clone)]
pub struct Owner {
    pub user_id: i64,
    pub campaign_id: i64,
    pub status: ContentStatus,
}

pub async fn owner(db: &PgPool, content_id: i64) -> Result<Option<Owner>, Error> {
    Ok(sqlx::query_as!(
        Owner,
        r#"SELECT user_id, campaign_id, status AS "status: ContentStatus"
           FROM contents WHERE id = $1"#,
        content_id
    )
    .fetch_optional(db)
    .await?)
}
