//! The publication's transitions: `publishing → published | failed | unknown`, and the
//! owner's `unknown → published` (she found the post) or `unknown → publishing` (publish
//! again). Around the POST, the row also keeps what makes it exactly-once: the exact
//! commentary, the uploaded image's URN, the count of POSTs sent without an answer and
//! when the last went out, and the send lease that lets one job at a time past the
//! decision to POST.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{campaign, content};
use crate::db::campaigns::CampaignStatus;
use crate::db::contents::ContentStatus;
use crate::db::publications::{Publication, PublicationState, Resolution, get, post_urn};
use crate::error::{Error, unique_violation};
use crate::outbox;

/// A publication that ended: the campaign's new status, if that completed it.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    pub campaign: Option<CampaignStatus>,
}

/// What the publishing job reads of its content, campaign, lead and the owner's grant.
#[derive(Debug, Clone)]
pub struct ToPublish {
    pub user_id: i64,
    pub campaign_id: i64,
    pub status: ContentStatus,
    pub campaign_status: CampaignStatus,
    pub text: String,
    pub hashtags: Vec<String>,
    pub image_key: Option<String>,
    pub business_name: String,
    pub connected: Option<bool>,
    pub reconnect_needed: Option<bool>,
    /// Sealed by the vault.
    pub access_token: Option<Vec<u8>>,
    pub member_urn: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn to_publish(db: &PgPool, content_id: i64) -> Result<Option<ToPublish>, Error> {
    Ok(sqlx::query_as!(
        ToPublish,
        r#"SELECT c.user_id, c.campaign_id, c.status AS "status: ContentStatus", c.text,
                  c.hashtags, c.image_key, cp.status AS "campaign_status: CampaignStatus",
                  l.business_name,
                  pr.linkedin_connected AS "connected?",
                  pr.linkedin_reconnect_needed AS "reconnect_needed?",
                  pr.linkedin_access_token AS "access_token?",
                  pr.linkedin_member_urn AS "member_urn?",
                  pr.linkedin_token_expires_at AS "expires_at?"
           FROM contents c
           JOIN campaigns cp ON cp.id = c.campaign_id
           JOIN leads l ON l.id = c.lead_id
           LEFT JOIN user_profiles pr ON pr.user_id = c.user_id
           WHERE c.id = $1"#,
        content_id
    )
    .fetch_optional(db)
    .await?)
}

/// A `publishing` row, as the run that sends it reads it.
#[derive(Debug, Clone)]
pub struct Sending {
    pub id: i64,
    /// Kept from the first run: a retry sends exactly what the first POST sent.
    pub commentary: String,
    pub image_urn: Option<String>,
    pub uncertain_sends: i16,
    /// The last uncertain POST is recent enough that LinkedIn would refuse a copy of it.
    pub copy_is_refused: bool,
}

/// The `publishing` row, made once with the commentary about to be sent; `None` when the
/// publication already ended, or when there is none and the content is not due (moved to
/// a later slot or taken out of the schedule since the job looked). `duplicate_window` is
/// how long LinkedIn refuses a copy.
///
/// The row is made only while the content is approved and its slot has come, in one
/// statement that share-locks the content's row: a move (which locks it for update, then
/// looks for this row) either commits first, and this finds the content not due, or waits
/// for this commit and is refused. See `lifecycle::schedule`.
pub async fn start(
    db: &PgPool,
    content_id: i64,
    user_id: i64,
    commentary: &str,
    duplicate_window: Duration,
) -> Result<Option<Sending>, Error> {
    sqlx::query(
        r#"INSERT INTO publications (content_id, user_id, state, commentary)
           SELECT c.id, $2, 'publishing', $3 FROM contents c
           WHERE c.id = $1 AND c.status = 'approved'
             AND c.scheduled_at <= now() + make_interval(secs => $4)
           FOR SHARE OF c
           ON CONFLICT (content_id, platform) DO NOTHING"#,
    )
    .bind(content_id)
    .bind(user_id)
    .bind(commentary)
    .bind(DUE_EARLY.as_secs_f64())
    .execute(db)
    .await?;
    let row = sqlx::query!(
        r#"SELECT id, state AS "state: PublicationState", commentary, image_urn, uncertain_sends,
                  COALESCE(last_sent_at > now() - make_interval(secs => $2), false)
                      AS "copy_is_refused!"
           FROM publications WHERE content_id = $1"#,
        content_id,
        duplicate_window.as_secs_f64()
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.state != PublicationState::Publishing {
        return Ok(None);
    }
    Ok(Some(Sending {
        id: row.id,
        commentary: row.commentary.unwrap_or_else(|| commentary.to_owned()),
        image_urn: row.image_urn,
        uncertain_sends: row.uncertain_sends,
        copy_is_refused: row.copy_is_refused,
    }))
}

/// How early a job may find its content due: the queue promotes a scheduled job when its
/// time has come by the Redis clock, and the database's clock may be a little behind.
pub const DUE_EARLY: Duration = Duration::from_secs(5);

/// The `publishing` row of a job that ends before it made one (the grant cannot be
/// opened), so the end has a row to write its reason in. Returns its id.
pub async fn ensure(db: &PgPool, content_id: i64, user_id: i64) -> Result<i64, Error> {
    // The LinkedIn row (the platform's default): one row per content and platform.
    Ok(sqlx::query_scalar(
        r#"INSERT INTO publications (content_id, user_id, state)
           VALUES ($1, $2, 'publishing')
           ON CONFLICT (content_id, platform) DO UPDATE SET content_id = EXCLUDED.content_id
           RETURNING id"#,
    )
    .bind(content_id)
    .bind(user_id)
    .fetch_one(db)
    .await?)
}

/// Takes the publication's send lease for one run (`run`: a token of that run alone) for
/// `lease`: the only run allowed past the decision to POST, until the lease runs out.
/// `false` when another run holds it. Keyed on the run, not on the job: a job taken over
/// while its first run still goes on keeps its id, so a job's id would let both runs in.
/// A run that crashed holding it blocks the next run until the lease runs out.
pub async fn take_lease(
    db: &PgPool,
    publication_id: i64,
    run: &str,
    lease: Duration,
) -> Result<bool, Error> {
    let taken = sqlx::query(
        r#"UPDATE publications
           SET send_lease_job = $2, send_lease_until = now() + make_interval(secs => $3)
           WHERE id = $1 AND state = 'publishing'
             AND (send_lease_job IS NULL OR send_lease_job = $2 OR send_lease_until < now())"#,
    )
    .bind(publication_id)
    .bind(run)
    .bind(lease.as_secs_f64())
    .execute(db)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Gives the lease back (only if this run still holds it).
pub async fn release_lease(db: &PgPool, publication_id: i64, run: &str) -> Result<(), Error> {
    sqlx::query(
        r#"UPDATE publications SET send_lease_job = NULL, send_lease_until = NULL
           WHERE id = $1 AND send_lease_job = $2"#,
    )
    .bind(publication_id)
    .bind(run)
    .execute(db)
    .await?;
    Ok(())
}

/// Keeps the uploaded image's URN, so a retry does not upload it again.
pub async fn image_uploaded(db: &PgPool, publication_id: i64, urn: &str) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE publications SET image_urn = $2, updated_at = now() WHERE id = $1",
        publication_id,
        urn
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Counts the POST about to be sent as uncertain, committed before it is sent: a crash
/// during the POST leaves it counted. Returns the count.
pub async fn count_send(db: &PgPool, publication_id: i64) -> Result<i16, Error> {
    Ok(sqlx::query_scalar!(
        r#"UPDATE publications
           SET uncertain_sends = uncertain_sends + 1, last_sent_at = now(), updated_at = now()
           WHERE id = $1 RETURNING uncertain_sends"#,
        publication_id
    )
    .fetch_one(db)
    .await?)
}

/// Takes the count back: LinkedIn answered, and the answer says nothing was created.
pub async fn uncount_send(db: &PgPool, publication_id: i64) -> Result<(), Error> {
    sqlx::query!(
        r#"UPDATE publications SET uncertain_sends = GREATEST(uncertain_sends - 1, 0)
           WHERE id = $1 AND state = 'publishing'"#,
        publication_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// POSTs that went out without an answer; `None` when the row is gone.
pub async fn uncertain_sends(db: &PgPool, publication_id: i64) -> Result<Option<i16>, Error> {
    Ok(sqlx::query_scalar!(
        "SELECT uncertain_sends FROM publications WHERE id = $1",
        publication_id
    )
    .fetch_optional(db)
    .await?)
}

/// The content of another publication that holds this post, if one does.
pub async fn held_by_another(
    db: &PgPool,
    urn: &str,
    publication_id: i64,
) -> Result<Option<i64>, Error> {
    Ok(sqlx::query_scalar!(
        "SELECT content_id FROM publications WHERE post_urn = $1 AND id <> $2",
        urn,
        publication_id
    )
    .fetch_optional(db)
    .await?)
}

/// None of this publication's POSTs created a post (LinkedIn named another publication's
/// as the original), so none of them is uncertain any more.
pub async fn no_send_created(db: &PgPool, publication_id: i64) -> Result<(), Error> {
    sqlx::query("UPDATE publications SET uncertain_sends = 0 WHERE id = $1")
        .bind(publication_id)
        .execute(db)
        .await?;
    Ok(())
}

/// `publishing → published` with the post, and the content with it; `None` when the
/// publication had already ended.
pub async fn published(
    conn: &mut PgConnection,
    publication_id: i64,
    content_id: i64,
    campaign_id: i64,
    urn: &str,
    url: &str,
) -> Result<Option<Ended>, Error> {
    let done = sqlx::query!(
        r#"UPDATE publications
           SET state = 'published', post_urn = $2, post_url = $3, published_at = now(),
               error = NULL, updated_at = now()
           WHERE id = $1 AND state = 'publishing'"#,
        publication_id,
        urn,
        url
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let moved = content::settled(conn, content_id, campaign_id, ContentStatus::Published).await?;
    Ok(Some(Ended { campaign: moved }))
}

/// `publishing → failed | unknown` with the reason the owner reads; `false` when the
/// publication had already ended.
async fn ended_with(
    conn: &mut PgConnection,
    publication_id: i64,
    state: PublicationState,
    reason: &str,
) -> Result<bool, Error> {
    let done = sqlx::query(
        r#"UPDATE publications SET state = $2, error = $3, updated_at = now()
           WHERE id = $1 AND state = 'publishing'"#,
    )
    .bind(publication_id)
    .bind(state)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// `publishing → failed` with the reason, and the content with it; `None` when the
/// publication had already ended.
pub async fn failed(
    conn: &mut PgConnection,
    publication_id: i64,
    content_id: i64,
    campaign_id: i64,
    reason: &str,
) -> Result<Option<Ended>, Error> {
    if !ended_with(conn, publication_id, PublicationState::Failed, reason).await? {
        return Ok(None);
    }
    content::explain(conn, content_id, reason).await?;
    let moved = content::settled(conn, content_id, campaign_id, ContentStatus::Failed).await?;
    Ok(Some(Ended { campaign: moved }))
}

/// `publishing → unknown`: nobody knows whether the post exists, and the owner settles it.
/// The content stays `approved` with the reason, which is also noted in the campaign's
/// details; the campaign does not wait for her (its other contents may complete it).
/// `None` when the publication had already ended.
pub async fn unknown(
    conn: &mut PgConnection,
    publication_id: i64,
    content_id: i64,
    campaign_id: i64,
    reason: &str,
) -> Result<Option<Ended>, Error> {
    if !ended_with(conn, publication_id, PublicationState::Unknown, reason).await? {
        return Ok(None);
    }
    content::explain(conn, content_id, reason).await?;
    campaign::note(conn, campaign_id, &format!("content {content_id}"), reason).await?;
    // Only the owner can settle it: she is told by mail (once per campaign).
    let owner: i64 = sqlx::query_scalar("SELECT user_id FROM publications WHERE id = $1")
        .bind(publication_id)
        .fetch_one(&mut *conn)
        .await?;
    crate::mail::notify(
        conn,
        owner,
        crate::mail::MailKind::PublicationUnknown,
        Some(campaign_id),
    )
    .await?;
    let moved = campaign::complete(conn, campaign_id).await?;
    Ok(Some(Ended { campaign: moved }))
}

/// The owner settles an `unknown` publication: `unknown → published` with the address she
/// found (the content with it), or `unknown → publishing` with a PublishPost in the same
/// commit. 404 for another user's, 409 for one that is not `unknown`, 400 for an address
/// that is not a LinkedIn post's.
pub async fn resolve(
    db: &PgPool,
    user_id: i64,
    id: i64,
    resolution: &Resolution,
) -> Result<Publication, Error> {
    let mut tx = db.begin().await?;
    let current = sqlx::query!(
        "SELECT content_id, state FROM publications WHERE id = $1 AND user_id = $2 FOR UPDATE",
        id,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("publication"))?;
    if current.state != PublicationState::Unknown.as_str() {
        return Err(Error::Conflict(format!(
            "publication is {}; only one whose outcome is unknown can be resolved",
            current.state
        )));
    }
    match resolution {
        Resolution::MarkPublished { url } => {
            let urn = post_urn(url).ok_or_else(|| {
                Error::Invalid(
                    "url must be the LinkedIn post's address, \
                     https://www.linkedin.com/feed/update/urn:li:share:… (or :ugcPost:…)"
                        .to_owned(),
                )
            })?;
            let marked = sqlx::query!(
                r#"UPDATE publications
                   SET state = 'published', post_urn = $2, post_url = $3, published_at = now(),
                       resolved_by = 'owner_marked', updated_at = now()
                   WHERE id = $1"#,
                id,
                urn,
                url
            )
            .execute(&mut *tx)
            .await;
            // One post is one publication: the URN is unique, and the owner pasting the
            // address of a post another publication holds is told so.
            if let Err(e) = &marked
                && unique_violation(e) == Some("publications_post_urn_key")
            {
                return Err(Error::Conflict(format!(
                    "{urn} is already recorded for another publication; \
                     paste the address of this publication's own post"
                )));
            }
            marked?;
            let campaign_id = sqlx::query_scalar!(
                "SELECT campaign_id FROM contents WHERE id = $1",
                current.content_id
            )
            .fetch_one(&mut *tx)
            .await?;
            content::settled(
                &mut tx,
                current.content_id,
                campaign_id,
                ContentStatus::Published,
            )
            .await?;
        }
        Resolution::PublishAgain => {
            sqlx::query!(
                r#"UPDATE publications
                   SET state = 'publishing', uncertain_sends = 0, error = NULL,
                       resolved_by = 'owner_republished', updated_at = now()
                   WHERE id = $1"#,
                id
            )
            .execute(&mut *tx)
            .await?;
            outbox::push(
                &mut tx,
                &jobs::kinds::PublishPost::new(current.content_id),
                Some(user_id),
            )
            .await?;
        }
    }
    tx.commit().await?;
    get(db, user_id, id).await
}
