//! PublishPost: puts an approved content on the owner's LinkedIn, exactly once.
//!
//! 1. A publication row `publishing` exists before anything is sent; it keeps the exact
//!    commentary, the uploaded image's URN and how many POSTs went out without an answer.
//! 2. The image is uploaded once; its URN is stored as soon as LinkedIn gave it.
//! 3. The POST is counted as "uncertain" before it is sent. An answer that says nothing was
//!    created (401, 429, 4xx) takes the count back; a created post or 422 DUPLICATE_POST
//!    (LinkedIn already has this exact post: its URN is ours) records success; a timeout or
//!    5xx leaves it. One identical retry is safe, because LinkedIn refuses an identical
//!    second post with the first one's URN; after two uncertain POSTs the publication is
//!    `unknown`, for the owner to settle (`/api/publications?state=unknown`), never a blind
//!    third post.
//! 4. An expired or revoked token sets the profile's "reconnect needed" and waits; the
//!    owner's reconnect re-queues it. It is never a failed post (unless the owner does not
//!    reconnect within `pipeline.give_up_waiting_secs`).
//! 5. Only one job per content is ever past the decision to POST: the run takes the
//!    publication's send lease (its job id, for five minutes) before it decides, and gives
//!    it back when it ends without an outcome. A second job for the same content (the
//!    queue's uniqueness lost with Redis's data, a reconciler's copy) waits; once the
//!    lease is free, it finds the outcome. A retry of the same job carries the same id and
//!    goes on at once; a crashed run's lease runs out. No connection is held meanwhile.
//! 6. A retry of an uncertain POST relies on LinkedIn refusing the copy, which it does
//!    for a day (`pipeline.duplicate_window_secs`): past that window, or with a duplicate
//!    that names no post, or a refusal after an uncertain POST, the publication is
//!    `unknown`, never `failed` and never a second post.

use std::time::Duration;

use jobs::kinds::PublishPost;
use jobs::{JobContext, JobError};
use shared::db::campaigns::CampaignStatus;
use shared::db::contents::ContentStatus;
use shared::db::lifecycle::publication::{self, Sending};
use shared::db::lifecycle::{content, schedule};
use shared::db::profiles;
use shared::db::publications::PublicationState;
use shared::events::{Event, EventKind};
use shared::providers::ProviderError;
use shared::providers::linkedin::{self, NewPost};
use shared::vault::Field;

use crate::pipeline::grant;
use crate::pipeline::limits::{self, Resource};
use crate::pipeline::{Pipeline, internal};

/// How long a publication waits for the owner to reconnect LinkedIn before it looks again
/// (the reconnect also re-queues it at once).
const RECONNECT_WAIT: Duration = Duration::from_secs(600);
/// How long a job held by the owner's pause waits before it looks again (her resume
/// queues a new job, so this only bounds how long a stale one stays).
const PAUSE_RECHECK: Duration = Duration::from_secs(900);
/// How long a job waits while another job of the same content holds its send lease.
const BUSY_WAIT: Duration = Duration::from_secs(5);
/// How long a send lease lasts: far beyond one run's calls (upload, image processing,
/// POST, each with its timeout), so only a run that crashed lets it run out.
const LEASE: Duration = Duration::from_secs(300);

struct Context {
    /// The running job's id: a reserved rate slot is kept under it.
    job_id: String,
    content_id: i64,
    user_id: i64,
    campaign_id: i64,
}

#[tracing::instrument(name = "pipeline.publish", skip_all, fields(content.id = job.content_id, campaign.id = tracing::field::Empty, slot = job.slot, attempt = job_ctx.attempt))]
pub async fn run(p: Pipeline, job: PublishPost, job_ctx: JobContext) -> Result<(), JobError> {
    let Some(row) = publication::to_publish(&p.db, job.content_id)
        .await
        .map_err(internal)?
    else {
        return Ok(());
    };
    tracing::Span::current().record("campaign.id", row.campaign_id);
    let ctx = Context {
        job_id: job_ctx.id,
        content_id: job.content_id,
        user_id: row.user_id,
        campaign_id: row.campaign_id,
    };
    if row.status != ContentStatus::Approved || row.campaign_status == CampaignStatus::Cancelled {
        return Ok(());
    }
    // Its slot in the owner's schedule: a job that comes before it, or for a slot the
    // content left, does nothing (the start of its publication checks again, under a lock).
    let slot = schedule::slot_of(&p.db, job.content_id)
        .await
        .map_err(internal)?;
    match when(slot, job.slot, chrono::Utc::now()) {
        When::Due => {}
        When::NotMine => return Ok(()),
        When::Early(wait) => {
            return Err(JobError::defer_for(
                wait,
                format!("content {} waits for its slot", job.content_id),
            ));
        }
    }
    // The owner paused her publishing: a wait, not a failure (no attempt spent). Her
    // resume gives the content a slot to come with a job of its own; this one then finds
    // the content moved and does nothing.
    if schedule::held_by_pause(&p.db, ctx.user_id, ctx.content_id)
        .await
        .map_err(internal)?
    {
        return Err(JobError::defer_for(
            PAUSE_RECHECK,
            format!("user {} paused publishing", ctx.user_id),
        ));
    }
    let (Some(true), Some(false), Some(sealed), Some(author)) = (
        row.connected,
        row.reconnect_needed,
        row.access_token,
        row.member_urn,
    ) else {
        return Err(reconnect_wait(&p, &ctx, "LinkedIn is not connected").await);
    };
    // A grant about to run out is refreshed first when LinkedIn gave a refresh token:
    // the owner is sent to reconnect only when that cannot be done.
    let (sealed, expires_at) = if grant::expires_soon(row.expires_at) {
        match grant::refresh(&p, ctx.user_id, ctx.campaign_id).await? {
            Some(fresh) => (fresh.access_token, fresh.expires_at),
            None => (sealed, row.expires_at),
        }
    } else {
        (sealed, row.expires_at)
    };
    if expires_at.is_some_and(|t| t <= chrono::Utc::now()) {
        return Err(reconnect(&p, &ctx, "the LinkedIn token expired").await);
    }
    let token = p
        .vault()?
        .open(ctx.user_id, Field::LinkedInAccessToken, &sealed)
        .map_err(|e| {
            JobError::permanent(format!(
                "the stored LinkedIn grant cannot be opened ({e}): reconnect LinkedIn and \
                 publish again"
            ))
        })?;
    let commentary = linkedin::commentary(&row.text, &row.hashtags);
    let Some(publication) = start(&p, &ctx, &commentary).await? else {
        return Ok(());
    };
    // The lease is this run's, not the job's: a job taken over while its first run still
    // goes on (a stalled worker's entry, reclaimed) keeps its id, and both runs would pass.
    let run = uuid::Uuid::now_v7().to_string();
    if !take_lease(&p, publication.id, &run).await? {
        return Err(JobError::defer_for(
            BUSY_WAIT,
            format!(
                "another run is publishing content {} right now",
                ctx.content_id
            ),
        ));
    }
    let publication_id = publication.id;
    let result = send(
        &p,
        &ctx,
        row.image_key,
        &row.business_name,
        &token,
        &author,
        publication,
    )
    .await;
    // Given back whatever the end: with an outcome written the lease guards nothing any
    // more (the owner's "publish again" starts a new job), and without one another job
    // need not wait for it to run out.
    release_lease(&p, publication_id, &run).await;
    result
}

/// What a job does with its content's slot.
#[derive(Debug, PartialEq, Eq)]
enum When {
    /// The slot has come.
    Due,
    /// This job's own slot, not come yet (the queue's clock is a little ahead): wait.
    Early(Duration),
    /// Taken out of the schedule, or moved to a slot that has another job: nothing to do.
    NotMine,
}

fn when(
    slot: Option<chrono::DateTime<chrono::Utc>>,
    job_slot: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> When {
    let Some(slot) = slot else {
        return When::NotMine;
    };
    let early = (slot - now).to_std().unwrap_or_default();
    if early <= publication::DUE_EARLY {
        When::Due
    } else if job_slot == Some(slot.timestamp()) {
        When::Early(early)
    } else {
        When::NotMine
    }
}

/// From the decision to POST to the outcome written; runs under the publication's lease.
async fn send(
    p: &Pipeline,
    ctx: &Context,
    image_key: Option<String>,
    business_name: &str,
    token: &str,
    author: &str,
    publication: Sending,
) -> Result<(), JobError> {
    if publication.uncertain_sends >= 2 {
        return unknown(
            p,
            ctx,
            publication.id,
            "two POSTs went out without an answer",
        )
        .await;
    }
    if publication.uncertain_sends > 0 && !publication.copy_is_refused {
        return unknown(
            p,
            ctx,
            publication.id,
            "the last POST went out without an answer longer ago than LinkedIn refuses a \
             copy, so sending it again could post it twice",
        )
        .await;
    }
    let image_urn = match (publication.image_urn, image_key) {
        (Some(urn), _) => Some(urn),
        (None, Some(key)) => Some(upload(p, ctx, publication.id, token, author, &key).await?),
        (None, None) => None,
    };
    if let Some(urn) = &image_urn
        && let Err(e) = p.linkedin.wait_image_available(token, urn).await
    {
        return Err(refused(p, ctx, Resource::LinkedInCall, e).await);
    }
    let spent = p
        .admit(
            Resource::LinkedInPost,
            ctx.user_id,
            ctx.campaign_id,
            &ctx.job_id,
        )
        .await?;
    let sends = count_send(p, publication.id).await?;
    let post = NewPost {
        author_urn: author,
        commentary: &publication.commentary,
        image_urn: image_urn.as_deref(),
        image_alt_text: Some(business_name),
    };
    match p.linkedin.create_post(token, &post).await {
        Ok(urn) => published(p, ctx, publication.id, &urn, Created::Now).await,
        Err(ProviderError::Duplicate { urn }) => {
            published(p, ctx, publication.id, &urn, Created::Earlier).await
        }
        Err(ProviderError::DuplicateUnnamed { reason }) => {
            unknown(p, ctx, publication.id, &reason).await
        }
        Err(ProviderError::OutcomeUnknown { reason }) => {
            if sends >= 2 || p.config.duplicate_window_secs == 0 {
                unknown(p, ctx, publication.id, &reason).await
            } else {
                // One identical retry: it creates the post or is refused as a duplicate
                // naming the first one.
                Err(JobError::Retryable(format!(
                    "LinkedIn: outcome unknown, retrying once with the identical post: {reason}"
                )))
            }
        }
        Err(e) => {
            // An answer: nothing was created.
            uncount_send(p, publication.id).await?;
            p.refund(spent).await;
            match e {
                ProviderError::Reconnect { reason } => Err(reconnect(p, ctx, &reason).await),
                ProviderError::Permanent { reason } => {
                    failed(
                        p,
                        ctx,
                        publication.id,
                        &format!("LinkedIn refused the post: {reason}"),
                    )
                    .await
                }
                // A version LinkedIn does not serve (426), a limit, an outage: the
                // pipeline decides (an operator's wait for `Misconfigured`), never a
                // failed publication from here.
                other => Err(refused(p, ctx, Resource::LinkedInPost, other).await),
            }
        }
    }
}

/// Takes the publication's send lease for this run; `false` when another run holds it.
async fn take_lease(p: &Pipeline, publication_id: i64, run: &str) -> Result<bool, JobError> {
    publication::take_lease(&p.db, publication_id, run, LEASE)
        .await
        .map_err(internal)
}

/// Gives the lease back when the run ends (only if this run still holds it).
async fn release_lease(p: &Pipeline, publication_id: i64, run: &str) {
    if let Err(e) = publication::release_lease(&p.db, publication_id, run).await {
        tracing::warn!(error = %jobs::error::Chain(&e), "publication lease not given back; it runs out by itself");
    }
}

/// The `publishing` row, made once; `None` when the publication already ended.
async fn start(p: &Pipeline, ctx: &Context, commentary: &str) -> Result<Option<Sending>, JobError> {
    let window = Duration::from_secs(p.config.duplicate_window_secs);
    publication::start(&p.db, ctx.content_id, ctx.user_id, commentary, window)
        .await
        .map_err(internal)
}

/// Uploads the stored image and keeps its URN, so a retry does not upload it again.
async fn upload(
    p: &Pipeline,
    ctx: &Context,
    publication_id: i64,
    token: &str,
    author: &str,
    key: &str,
) -> Result<String, JobError> {
    let Some(object) = p.storage.get(key).await.map_err(internal)? else {
        return Err(JobError::permanent(format!(
            "the image {key} is not in storage"
        )));
    };
    let spent = p
        .admit(
            Resource::LinkedInCall,
            ctx.user_id,
            ctx.campaign_id,
            &ctx.job_id,
        )
        .await?;
    let upload = match p.linkedin.init_image_upload(token, author).await {
        Ok(u) => u,
        Err(e) => {
            p.refund(spent).await;
            return Err(refused(p, ctx, Resource::LinkedInCall, e).await);
        }
    };
    if let Err(e) = p
        .linkedin
        .upload_image(
            token,
            &upload.upload_url,
            object.bytes.to_vec(),
            object.content_type,
        )
        .await
    {
        return Err(refused(p, ctx, Resource::LinkedInCall, e).await);
    }
    publication::image_uploaded(&p.db, publication_id, &upload.image)
        .await
        .map_err(internal)?;
    Ok(upload.image)
}

/// Counts the POST about to be sent as uncertain, committed before it is sent: a crash
/// during the POST leaves it counted. Returns the count.
async fn count_send(p: &Pipeline, publication_id: i64) -> Result<i16, JobError> {
    publication::count_send(&p.db, publication_id)
        .await
        .map_err(internal)
}

async fn uncount_send(p: &Pipeline, publication_id: i64) -> Result<(), JobError> {
    publication::uncount_send(&p.db, publication_id)
        .await
        .map_err(internal)
}

/// How LinkedIn gave the post's URN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Created {
    /// A 201 to this POST: LinkedIn says it created this post now.
    Now,
    /// A DUPLICATE_POST naming the post an earlier POST created.
    Earlier,
}

/// One commit: the publication, the content, the campaign's count and move.
async fn published(
    p: &Pipeline,
    ctx: &Context,
    publication_id: i64,
    urn: &str,
    created: Created,
) -> Result<(), JobError> {
    let url = format!("https://www.linkedin.com/feed/update/{urn}/");
    let owner = publication::held_by_another(&p.db, urn, publication_id)
        .await
        .map_err(internal)?;
    // LinkedIn just answered 201 with a URN another content's publication already holds:
    // it says this post is new, our records say it is an older one. Neither can be taken
    // as true without looking (a LinkedIn that handed an id out twice, a row written for
    // the wrong content), so a person settles it, with both contents named. The post was
    // created: never `failed`.
    if let (Some(other), Created::Now) = (owner, created) {
        let reason = format!(
            "LinkedIn answered that it created post {urn} for content {}, but our records \
             already hold that post as content {other}'s; check both on LinkedIn",
            ctx.content_id
        );
        return unknown_because(p, ctx, publication_id, &reason).await;
    }
    // A DUPLICATE_POST naming a post another content already has: this content's text is
    // the same as that one's (two businesses of the same name, say). That post is not ours.
    if let Some(other) = owner {
        // LinkedIn names the first post with this text, and it is another content's: no
        // POST of this publication created one (LinkedIn would have named ours), so none
        // of them is uncertain any more.
        publication::no_send_created(&p.db, publication_id)
            .await
            .map_err(internal)?;
        let reason = format!(
            "LinkedIn already has this exact text as the post of content {other}: edit the \
             text and publish again"
        );
        return failed(p, ctx, publication_id, &reason).await;
    }
    let mut tx = p.db.begin().await.map_err(internal)?;
    let ended = publication::published(
        &mut tx,
        publication_id,
        ctx.content_id,
        ctx.campaign_id,
        urn,
        &url,
    )
    .await
    .map_err(internal)?;
    let Some(ended) = ended else {
        return Ok(());
    };
    tx.commit().await.map_err(internal)?;
    tracing::info!(content.id = ctx.content_id, post.urn = urn, "published");
    p.emit(
        ctx.user_id,
        Event::new(EventKind::Published, ctx.campaign_id)
            .content(ctx.content_id)
            .post_url(&url),
    )
    .await;
    announce(p, ctx, ended.campaign).await;
    Ok(())
}

async fn announce(
    p: &Pipeline,
    ctx: &Context,
    moved: Option<shared::db::campaigns::CampaignStatus>,
) {
    if let Some(status) = moved {
        p.emit(
            ctx.user_id,
            Event::new(EventKind::CampaignStatus, ctx.campaign_id).status(status.as_str()),
        )
        .await;
    }
}

/// Nobody knows whether the post exists: the owner settles it. The campaign does not
/// wait for her (its other contents may complete it); the reason is in its details.
async fn unknown(
    p: &Pipeline,
    ctx: &Context,
    publication_id: i64,
    reason: &str,
) -> Result<(), JobError> {
    let reason = format!("LinkedIn did not say whether the post was created: {reason}");
    unknown_because(p, ctx, publication_id, &reason).await
}

/// The publication is `unknown` for the owner to settle, with `reason` as she reads it.
async fn unknown_because(
    p: &Pipeline,
    ctx: &Context,
    publication_id: i64,
    reason: &str,
) -> Result<(), JobError> {
    let reason = reason.to_owned();
    let mut tx = p.db.begin().await.map_err(internal)?;
    let ended = publication::unknown(
        &mut tx,
        publication_id,
        ctx.content_id,
        ctx.campaign_id,
        &reason,
    )
    .await
    .map_err(internal)?;
    let Some(ended) = ended else {
        return Ok(());
    };
    tx.commit().await.map_err(internal)?;
    p.emit(
        ctx.user_id,
        Event::new(EventKind::Failed, ctx.campaign_id)
            .content(ctx.content_id)
            .status(PublicationState::Unknown.as_str())
            .reason(reason),
    )
    .await;
    announce(p, ctx, ended.campaign).await;
    Ok(())
}

/// LinkedIn refused the post for good: the publication and the content failed, with why.
/// After a POST that went out without an answer, a refusal does not say that post does
/// not exist: the publication is `unknown` instead, for the owner to settle.
async fn failed(
    p: &Pipeline,
    ctx: &Context,
    publication_id: i64,
    reason: &str,
) -> Result<(), JobError> {
    let uncertain = publication::uncertain_sends(&p.db, publication_id)
        .await
        .map_err(internal)?;
    if uncertain.is_some_and(|n| n > 0) {
        return unknown(p, ctx, publication_id, reason).await;
    }
    let mut tx = p.db.begin().await.map_err(internal)?;
    let ended = publication::failed(
        &mut tx,
        publication_id,
        ctx.content_id,
        ctx.campaign_id,
        reason,
    )
    .await
    .map_err(internal)?;
    let Some(ended) = ended else {
        return Ok(());
    };
    tx.commit().await.map_err(internal)?;
    p.emit(
        ctx.user_id,
        Event::new(EventKind::Failed, ctx.campaign_id)
            .content(ctx.content_id)
            .reason(reason),
    )
    .await;
    announce(p, ctx, ended.campaign).await;
    Ok(())
}

/// The job ends without a post (refused for good, out of attempts, waited too long for a
/// reconnect or a limit): the publication fails with the reason (or is `unknown` after an
/// uncertain POST), and the content with it, so the campaign can complete.
#[tracing::instrument(name = "pipeline.publish.end", skip_all, fields(content.id = job.content_id))]
pub async fn end(p: Pipeline, job: PublishPost, reason: String) -> Result<(), JobError> {
    let Some(row) = content::owner(&p.db, job.content_id)
        .await
        .map_err(internal)?
    else {
        return Ok(());
    };
    if row.status != ContentStatus::Approved {
        return Ok(());
    }
    let ctx = Context {
        job_id: String::new(),
        content_id: job.content_id,
        user_id: row.user_id,
        campaign_id: row.campaign_id,
    };
    // A job can end before its publication row exists (the grant cannot be opened).
    let publication_id = publication::ensure(&p.db, job.content_id, row.user_id)
        .await
        .map_err(internal)?;
    failed(&p, &ctx, publication_id, &reason).await
}

/// A LinkedIn answer that is not about this post: the token (reconnect), a limit (wait),
/// or an outage (retry). A 429 is the member's own limit unless LinkedIn says it is the
/// application's: then only this member waits, and every other owner goes on publishing.
async fn refused(p: &Pipeline, ctx: &Context, resource: Resource, e: ProviderError) -> JobError {
    if let Some(delay) = limits::member_limit(&e) {
        let message = format!(
            "LinkedIn limit of user {} reached, resumes after {}s: {e}",
            ctx.user_id,
            delay.as_secs()
        );
        return p
            .member_wait(ctx.user_id, ctx.campaign_id, delay, message)
            .await;
    }
    match e {
        ProviderError::Reconnect { reason } => reconnect(p, ctx, &reason).await,
        other => {
            p.provider_failed(resource, ctx.user_id, ctx.campaign_id, other)
                .await
        }
    }
}

/// The token no longer works: the owner must reconnect. Sets the flag the dashboard shows
/// and waits; the reconnect re-queues this content.
async fn reconnect(p: &Pipeline, ctx: &Context, reason: &str) -> JobError {
    if let Err(e) = profiles::reconnect_needed(&p.db, ctx.user_id).await {
        return internal(e);
    }
    reconnect_wait(p, ctx, reason).await
}

async fn reconnect_wait(p: &Pipeline, ctx: &Context, reason: &str) -> JobError {
    let reason = format!(
        "LinkedIn reconnect needed for user {} ({reason}); publishing resumes when the owner reconnects",
        ctx.user_id
    );
    p.emit(
        ctx.user_id,
        Event::new(EventKind::Deferred, ctx.campaign_id)
            .content(ctx.content_id)
            .reason(&reason),
    )
    .await;
    // A wait on LinkedIn's word: bounded by `pipeline.give_up_waiting_secs`.
    JobError::RetryAfter {
        delay: RECONNECT_WAIT,
        message: reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{When, when};
    use chrono::{DateTime, Utc};
    use std::time::Duration;

    #[test]
    fn a_job_publishes_only_in_its_contents_slot() {
        let now: DateTime<Utc> = "2026-12-01T08:00:00Z".parse().unwrap();
        let later: DateTime<Utc> = "2026-12-03T08:00:00Z".parse().unwrap();
        // Due: whichever job (the slot's own, a reconnect's, a reconciler's copy).
        assert_eq!(when(Some(now), Some(now.timestamp()), now), When::Due);
        assert_eq!(when(Some(now), None, now), When::Due);
        // The job of an old slot, after a move to a later one: nothing.
        assert_eq!(when(Some(later), Some(now.timestamp()), now), When::NotMine);
        assert_eq!(when(Some(later), None, now), When::NotMine);
        // Its own slot, not come yet: it waits for it.
        assert_eq!(
            when(Some(later), Some(later.timestamp()), now),
            When::Early(Duration::from_secs(2 * 86_400))
        );
        // Taken out of the schedule.
        assert_eq!(when(None, Some(now.timestamp()), now), When::NotMine);
    }
}
