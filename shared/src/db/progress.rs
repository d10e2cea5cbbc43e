//! The campaign's state machine past the launch (design.md §5):
//! `scraping → enriching → generating → ready → completed`, or `error`, or `cancelled`.
//!
//! - `enriching`: the leads are stored, some are still being enriched;
//! - `generating`: every lead has left enrichment, some contents are still being written;
//! - `ready`: every lead has its content or failed with a reason; contents may wait for
//!   the owner's approval or for publishing;
//! - `completed`: ready, and no content waits for anything (each is published, rejected or
//!   failed, or its publication's outcome was settled by the owner).
//!
//! Each move is one conditional UPDATE on the counters, run inside the transaction that
//! changed them, so two workers finishing the last two leads at once cannot both (or
//! neither) move the campaign.

use sqlx::PgConnection;

use crate::db::campaigns::CampaignStatus;
use crate::error::Error;

/// Moves the campaign as far as its counters allow; returns the status it reached, if it
/// moved. Call it in the transaction that changed a lead's or a content's state.
pub async fn advance(
    conn: &mut PgConnection,
    campaign_id: i64,
) -> Result<Option<CampaignStatus>, Error> {
    let moved = sqlx::query_scalar!(
        r#"UPDATE campaigns
           SET status = CASE
                   WHEN contents_count + failed_count >= leads_count THEN 'ready'
                   ELSE 'generating' END,
               updated_at = now()
           WHERE id = $1 AND status IN ('enriching', 'generating')
             AND enriched_count >= leads_count
             AND (status = 'enriching' OR contents_count + failed_count >= leads_count)
           RETURNING status AS "status: CampaignStatus""#,
        campaign_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    let completed = complete(conn, campaign_id).await?;
    Ok(completed.or(moved))
}

/// `ready → completed` once no content of the campaign waits for generation, approval or
/// publishing. A content whose publication's outcome is `unknown` waits for nothing the
/// pipeline can do: the owner settles it when she likes, and the campaign is over meanwhile.
/// Also called when the owner rejects a content or settles a publication.
///
/// The decision is taken under a lock on the campaign's row. Without it, two transactions
/// that each end one of the last two contents (a publication failing while the owner
/// rejects the other) each read the other's content as still waiting, under their own
/// snapshots, and neither completes the campaign. With it the second one waits for the
/// first to commit, and its check (a new snapshot) sees both ends.
pub async fn complete(
    conn: &mut PgConnection,
    campaign_id: i64,
) -> Result<Option<CampaignStatus>, Error> {
    sqlx::query!(
        "SELECT id FROM campaigns WHERE id = $1 FOR NO KEY UPDATE",
        campaign_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar!(
        r#"UPDATE campaigns SET status = 'completed', completed_at = now(), updated_at = now()
           WHERE id = $1 AND status = 'ready'
             AND NOT EXISTS (
                 SELECT 1 FROM contents c
                 LEFT JOIN publications pb ON pb.content_id = c.id
                 WHERE c.campaign_id = $1
                   AND (c.status IN ('generating', 'pending')
                        OR (c.status = 'approved'
                            AND (pb.state IS NULL OR pb.state = 'publishing'))))
           RETURNING status AS "status: CampaignStatus""#,
        campaign_id
    )
    .fetch_optional(conn)
    .await?)
}

/// Records why a lead ended without a content, in the lead and in the campaign's
/// `error_details` (`{"lead 311": "Gemini blocked the prompt (SAFETY)"}`), and counts it.
/// Does nothing if the lead already ended. Returns whether it did.
pub async fn fail_lead(conn: &mut PgConnection, lead_id: i64, reason: &str) -> Result<bool, Error> {
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
    // A content whose text was saved but that never finished (its image kept failing,
    // the last attempt ran out) ends with its lead, or the campaign would wait for it.
    sqlx::query!(
        r#"UPDATE contents SET status = 'failed', error = $2, updated_at = now()
           WHERE lead_id = $1 AND status = 'generating'"#,
        lead_id,
        reason
    )
    .execute(&mut *conn)
    .await?;
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
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// Adds one note to the campaign's `error_details` without failing anything (an image that
/// could not be made: the content goes on without one).
pub async fn note(
    conn: &mut PgConnection,
    campaign_id: i64,
    key: &str,
    reason: &str,
) -> Result<(), Error> {
    sqlx::query!(
        r#"UPDATE campaigns
           SET error_details = COALESCE(error_details, '{}'::jsonb) || jsonb_build_object($2::text, $3::text)
           WHERE id = $1"#,
        campaign_id,
        key,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}
