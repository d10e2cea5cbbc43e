//! The notices no single change causes, found by the periodic SendNotices job: posts left
//! waiting for the owner's approval, LinkedIn grants that expire within a week. Each is
//! queued at most once ([`super::notify`]); a LinkedIn notice is forgotten once the grant
//! is healthy again, so the next expiry gets one too.

use sqlx::PgPool;

use super::{MailKind, compose::EXPIRY_NOTICE_DAYS, notify};
use crate::error::Error;

/// Notices queued per scan and kind at most: the rest wait for the next period.
const BATCH: i64 = 500;

/// Runs one scan; returns how many notices it queued.
pub async fn run(db: &PgPool) -> Result<usize, Error> {
    // A grant reconnected (or refreshed far ahead) re-arms its notice.
    sqlx::query(
        "DELETE FROM notices_sent n
         USING user_profiles p
         WHERE n.kind = $1 AND n.campaign_id IS NULL AND p.user_id = n.user_id
           AND p.linkedin_connected AND NOT p.linkedin_reconnect_needed
           AND p.linkedin_token_expires_at > now() + make_interval(days => $2)",
    )
    .bind(MailKind::LinkedInReconnect.as_str())
    .bind(EXPIRY_NOTICE_DAYS as i32)
    .execute(db)
    .await?;

    let expiring: Vec<i64> = sqlx::query_scalar(
        "SELECT p.user_id FROM user_profiles p
         WHERE p.linkedin_connected AND NOT p.linkedin_reconnect_needed
           AND p.linkedin_token_expires_at <= now() + make_interval(days => $2)
           AND NOT EXISTS (SELECT 1 FROM notices_sent n
                           WHERE n.user_id = p.user_id AND n.campaign_id IS NULL AND n.kind = $1)
         ORDER BY p.user_id LIMIT $3",
    )
    .bind(MailKind::LinkedInReconnect.as_str())
    .bind(EXPIRY_NOTICE_DAYS as i32)
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    let mut queued = 0;
    for user_id in expiring {
        let mut tx = db.begin().await?;
        queued += usize::from(notify(&mut tx, user_id, MailKind::LinkedInReconnect, None).await?);
        tx.commit().await?;
    }

    // Posts waiting once the campaign has written them all, or for an hour already.
    let waiting: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT c.user_id, c.id FROM campaigns c
         WHERE EXISTS (SELECT 1 FROM contents t
                       WHERE t.campaign_id = c.id AND t.status = 'pending'
                         AND (c.status = 'ready' OR t.created_at < now() - interval '1 hour'))
           AND NOT EXISTS (SELECT 1 FROM notices_sent n
                           WHERE n.user_id = c.user_id AND n.campaign_id = c.id AND n.kind = $1)
         ORDER BY c.id LIMIT $2",
    )
    .bind(MailKind::ApprovalsWaiting.as_str())
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    for (user_id, campaign_id) in waiting {
        let mut tx = db.begin().await?;
        queued += usize::from(
            notify(
                &mut tx,
                user_id,
                MailKind::ApprovalsWaiting,
                Some(campaign_id),
            )
            .await?,
        );
        tx.commit().await?;
    }
    Ok(queued)
}
