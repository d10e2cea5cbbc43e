//! What the pipeline's handlers share: the database, the provider clients, the limits, the
//! events channel and the image storage, built once per worker process.

pub mod ending;
pub mod foreign;
pub mod grant;
pub mod limits;
pub mod scoring;

use std::sync::Arc;

use jobs::Conn;
use jobs::JobError;
use jobs::error::Chain;
use shared::config::PipelineConfig;
use shared::events::{Event, EventKind, Events};
use shared::providers::gemini::GeminiClient;
use shared::providers::images::ImageClient;
use shared::providers::linkedin::LinkedInClient;
use shared::providers::places::PlacesClient;
use shared::rate_limit::RateLimiter;
use shared::storage::Storage;
use shared::vault::Vault;
use shared::website::SiteFetcher;
use sqlx::PgPool;

use crate::error::Error;

/// Cheap to clone (`Arc` inside): every handler call gets one.
#[derive(Clone)]
pub struct Pipeline(Arc<Inner>);

pub struct Inner {
    pub db: PgPool,
    pub queue: jobs::Client,
    pub limiter: RateLimiter,
    pub events: Events,
    /// Where a misconfigured provider is raised for `/admin` (shared/src/misconfigured.rs),
    /// under the deployment's key prefix.
    pub redis: Conn,
    pub key_prefix: String,
    pub places: PlacesClient,
    pub gemini: GeminiClient,
    pub images: ImageClient,
    pub linkedin: LinkedInClient,
    /// Instagram's Graph API (refreshing tokens, publishing, insights).
    pub instagram: shared::providers::instagram::InstagramClient,
    /// Instagram's settings (the refresh margin, ...).
    pub instagram_config: shared::config::InstagramConfig,
    /// Opens the owners' LinkedIn tokens; only workers that publish or sync analytics
    /// need a key (see [`Pipeline::from_config`]).
    pub vault: Option<Vault>,
    pub storage: Storage,
    pub website: SiteFetcher,
    pub config: PipelineConfig,
    /// The SMTP client of the `mail` queue's handler, and where its links lead.
    pub mailer: shared::mail::Mailer,
    pub mail_public_url: String,
}

impl std::ops::Deref for Pipeline {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Pipeline {
    /// Everything from configuration; fails at startup on a bad value (no key for a
    /// provider, an S3 bucket that cannot be configured), not at the first job.
    /// `needs_vault`: this worker consumes a queue whose jobs open LinkedIn tokens, so a
    /// missing vault key stops it now rather than failing those jobs.
    pub fn from_config(
        config: &shared::Config,
        db: PgPool,
        redis: Conn,
        needs_vault: bool,
    ) -> Result<Self, Error> {
        let vault = match Vault::from_config(&config.vault) {
            Ok(v) => Some(v),
            Err(e) if needs_vault => return Err(e.into()),
            Err(_) => None,
        };
        let prefix = &config.queue.prefix;
        let google = &config.providers.google;
        Ok(Self(Arc::new(Inner {
            db,
            queue: jobs::Client::with_connection(redis.clone(), config.queue_settings()),
            limiter: RateLimiter::new(redis.clone(), prefix),
            events: Events::new(redis.clone(), prefix),
            redis,
            key_prefix: prefix.clone(),
            places: PlacesClient::from_config(google)?,
            gemini: GeminiClient::from_config(google)?,
            images: ImageClient::from_config(google)?,
            linkedin: LinkedInClient::from_config(&config.linkedin)?,
            instagram: shared::providers::instagram::InstagramClient::from_config(
                &config.instagram,
            )?,
            instagram_config: config.instagram.clone(),
            vault,
            storage: Storage::from_config(&config.storage)?,
            website: SiteFetcher::new(&config.website)?,
            config: config.pipeline.clone(),
            mailer: shared::mail::Mailer::from_config(&config.mail)?,
            mail_public_url: config.mail.public_url.clone(),
        })))
    }

    /// The vault, or why this worker cannot open tokens.
    pub fn vault(&self) -> Result<&Vault, JobError> {
        self.vault.as_ref().ok_or_else(|| {
            JobError::retryable(
                "this worker has no vault key (AG_VAULT__KEY): another worker must run this job",
            )
        })
    }

    pub async fn emit(&self, user_id: i64, event: Event) {
        self.events.publish(user_id, &event).await;
    }

    /// Announces the campaign's new status, when a step moved it.
    pub async fn moved(
        &self,
        user_id: i64,
        campaign_id: i64,
        status: Option<shared::db::campaigns::CampaignStatus>,
    ) {
        if let Some(status) = status {
            self.emit(
                user_id,
                Event::new(EventKind::CampaignStatus, campaign_id).status(status.as_str()),
            )
            .await;
        }
    }
}

/// A database or Redis failure inside a handler: transient ones are retried with backoff,
/// anything else (a constraint the code should have respected) is a bug to look at.
pub fn internal(e: impl Into<shared::Error>) -> JobError {
    let e = e.into();
    // The job's last error (shown in `/admin`) keeps the causes, not only the outer text.
    if e.is_transient() {
        JobError::retryable(Chain(&e))
    } else {
        JobError::Retryable(format!("internal: {}", Chain(&e)))
    }
}

/// Whether this run is the job's last (a step that can still give the owner something
/// without the failing part, such as a content without its image, does so then).
pub fn last_attempt(ctx: &jobs::JobContext) -> bool {
    ctx.attempt >= ctx.max_attempts
}
