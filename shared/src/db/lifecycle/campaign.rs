//! The campaign's transitions. Each is one conditional UPDATE (or runs under a lock on the
//! campaign's row), so two requests, or a request and a worker, can never both make it.

use sqlx::{PgConnection, PgPool};

use crate::db::campaigns::{Campaign, CampaignStatus, get};
use crate::error::Error;
use crate::outbox;

/// `draft` (or `error`, to try again) → `scraping`, with its ScrapeCampaign in the outbox
/// in the same commit: a launch is never half done. At most `max_running` campaigns of the
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
           SET status = 'scraping', launched_at = now(), error_details = NULL,
               scrape_pages = 0, scrape_page_token = NULL, updated_at = now()
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

/// Any state but `completed` and `cancelled` → `cancelled`: the campaign's jobs find it so
/// and do nothing, and its approved posts leave the owner's schedule in the same commit
/// (they will never go out, so their slots are free for her other posts).
pub async fn cancel(db: &PgPool, user_id: i64, id: i64) -> Result<Campaign, Error> {
    let mut tx = db.begin().await?;
    // The owner's schedule lock first, then the contents, then the campaign: the order of
    // every placement, and of a publication's end (content, then campaign).
    super::schedule::lock_owner(&mut tx, user_id).await?;
    super::schedule::release_cancelled(&mut tx, id).await?;
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
    .fetch_optional(&mut *tx)
    .await?;
    match cancelled {
        Some(c) => {
            tx.commit().await?;
            Ok(c)
        }
        None => {
            // Nothing changed: the transaction rolls back, slots and all.
            drop(tx);
            let current = get(db, user_id, id).await?;
            Err(Error::Conflict(format!(
                "campaign is already {}",
                current.status
            )))
        }
    }
}

/// What the scrape job needs of its campaign, with how far its paging got.
#[derive(Debug, Clone)]
pub struct ScrapeTarget {
    pub user_id: i64,
    pub industry: String,
    pub location: String,
    pub status: CampaignStatus,
    /// Places pages read so far; with no `page_token` past zero, the last one was read.
    pub pages: i16,
    pub page_token: Option<String>,
    /// Leads stored so far.
    pub leads: i64,
}

pub async fn scrape_target(db: &PgPool, id: i64) -> Result<Option<ScrapeTarget>, Error> {
    Ok(sqlx::query_as!(
        ScrapeTarget,
        r#"SELECT user_id, industry, location, status AS "status: CampaignStatus",
                  scrape_pages AS pages, scrape_page_token AS page_token,
                  (SELECT count(*) FROM leads WHERE campaign_id = $1) AS "leads!"
           FROM campaigns WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// The campaign's owner, `None` once the campaign is gone.
pub async fn owner(db: &PgPool, id: i64) -> Result<Option<i64>, Error> {
    Ok(
        sqlx::query_scalar!("SELECT user_id FROM campaigns WHERE id = $1", id)
            .fetch_optional(db)
            .await?,
    )
}

/// One more Places page read (its leads stored in the same transaction), and the token of
/// the next one, `None` after the last; `false` when the campaign is no longer `scraping`
/// (cancelled meanwhile), and then the caller keeps nothing.
pub async fn page_scraped(
    conn: &mut PgConnection,
    id: i64,
    next_page_token: Option<&str>,
) -> Result<bool, Error> {
    let moved = sqlx::query!(
        r#"UPDATE campaigns
           SET scrape_pages = scrape_pages + 1, scrape_page_token = $2, updated_at = now()
           WHERE id = $1 AND status = 'scraping'"#,
        id,
        next_page_token
    )
    .execute(conn)
    .await?;
    Ok(moved.rows_affected() > 0)
}

/// Places no longer takes the stored page token (it expired): paging starts over; the
/// leads already stored stay, and the first pages' places find them there.
pub async fn restart_pages(db: &PgPool, id: i64) -> Result<(), Error> {
    sqlx::query!(
        r#"UPDATE campaigns SET scrape_pages = 0, scrape_page_token = NULL, updated_at = now()
           WHERE id = $1 AND status = 'scraping'"#,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// `scraping → enriching` with every lead the pages stored; returns those leads (each
/// wants its EnrichLead, in the same commit), or `None` when the campaign is no longer
/// `scraping` (cancelled, or a re-delivered job after the move).
pub async fn leads_found(conn: &mut PgConnection, id: i64) -> Result<Option<Vec<i64>>, Error> {
    let moved = sqlx::query!(
        r#"UPDATE campaigns
           SET status = 'enriching', scrape_page_token = NULL, updated_at = now(),
               leads_count = (SELECT count(*) FROM leads WHERE campaign_id = $1)
           WHERE id = $1 AND status = 'scraping'"#,
        id
    )
    .execute(&mut *conn)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    let leads = sqlx::query_scalar!(
        "SELECT id FROM leads WHERE campaign_id = $1 AND stage = 'found' ORDER BY id",
        id
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(leads))
}

/// `scraping → error` with the reason, for the owner to read; the leads its pages stored
/// go (no job was ever queued for them, and a launch again starts the paging over).
/// `false` when the campaign had already left `scraping`.
pub async fn scrape_failed(db: &PgPool, id: i64, reason: &str) -> Result<bool, Error> {
    let mut tx = db.begin().await?;
    let moved = sqlx::query!(
        r#"UPDATE campaigns
           SET status = 'error', error_details = jsonb_build_object('campaign', $2::text),
               scrape_pages = 0, scrape_page_token = NULL, updated_at = now()
           WHERE id = $1 AND status = 'scraping'"#,
        id,
        reason
    )
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!(
        "DELETE FROM leads WHERE campaign_id = $1 AND stage = 'found'",
        id
    )
    .execute(&mut *tx)
    .await?;
    // The owner hears of it by mail, committed with the failure (once per campaign).
    let owner: i64 = sqlx::query_scalar("SELECT user_id FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    crate::mail::notify(
        &mut tx,
        owner,
        crate::mail::MailKind::CampaignError,
        Some(id),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// `enriching → generating → ready` as far as the counters allow, then `completed` if
/// nothing waits any more; returns the status it reached, if it moved. Call it in the
/// transaction that changed a lead's or a content's state.
///
/// - `enriching`: the leads are stored, some are still being enriched;
/// - `generating`: every lead has left enrichment, some contents are still being written;
/// - `ready`: every lead has its content or failed with a reason; contents may wait for
///   the owner's approval or for publishing.
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
/// Called wherever a content ends: published, failed, rejected, settled by the owner.
///
/// The decision is taken under a lock on the campaign's row. Without it, two transactions
/// that each end one of the last two contents (a publication failing while the owner
/// rejects the other) each read the other's content as still waiting, under their own
/// snapshots, and neither completes the campaign. With it the second one waits for the
/// first to commit, and its check (a new snapshot) sees both ends. `FOR NO KEY UPDATE`,
/// not `FOR UPDATE`: the rows that reference the campaign hold key-share locks on it, and
/// a full lock would deadlock against them.
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
