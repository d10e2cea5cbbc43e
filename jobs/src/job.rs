//! The `Job` trait and what a handler may answer.

use std::time::{Duration, SystemTime};

use serde::{Serialize, de::DeserializeOwned};

use crate::retry::Backoff;

/// Carries ids only. The handler loads current state from PostgreSQL, so a retry
/// never works from stale data.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// #[derive(Serialize, Deserialize)]
/// struct Resize { image_id: i64 }
/// impl jobs::Job for Resize {
///     const KIND: &'static str = "resize";
///     const QUEUE: &'static str = "images";
/// }
/// ```
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Wire name: keep it when renaming the struct, or queued jobs are orphaned.
    const KIND: &'static str;
    /// The queue the job goes to unless the caller names another.
    const QUEUE: &'static str;
    /// Attempts before the dead set; a crash of the worker running it counts as one.
    const MAX_ATTEMPTS: u32 = 5;
    const BACKOFF: Backoff = Backoff::DEFAULT;
    /// A run taking longer is cut off and counts as a failed attempt. Without it a hung
    /// HTTP call would hold a worker slot, and its claim, forever.
    const TIMEOUT: Duration = Duration::from_secs(30 * 60);
    /// How long a unique key blocks a second enqueue past the moment its job is due, if
    /// the job never finishes (it is released as soon as the job succeeds or dies). Every
    /// delay, retry or deferral moves that moment, so the key lives as long as its job.
    const UNIQUE_FOR: Duration = Duration::from_secs(24 * 3600);

    /// Two jobs with the same key are one: the second enqueue returns the first's id.
    fn unique_key(&self) -> Option<String> {
        None
    }

    /// The user on whose behalf the job runs (rate limits, fairness, the admin UI).
    fn user_id(&self) -> Option<i64> {
        None
    }
}

/// What a handler returns instead of `Ok(())`. The engine turns it into the job's fate;
/// no handler ever acks, retries or buries by itself.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again after the kind's backoff; dead after `MAX_ATTEMPTS`.
    #[error("{0}")]
    Retryable(String),
    /// Wait the given delay (a provider's Retry-After), then run again. A wait the
    /// provider asked for is not a failure: it uses no attempt (a deferral).
    #[error("{message} (retry in {delay:?})")]
    RetryAfter { delay: Duration, message: String },
    /// Retrying cannot help (bad arguments, a row that no longer exists): dead set now.
    #[error("{0}")]
    Permanent(String),
    /// Not now, and not the job's fault (rate limited, dependency not ready): wait until
    /// `until` without using an attempt or holding a worker slot.
    #[error("deferred: {reason}")]
    Defer { until: SystemTime, reason: String },
}

impl JobError {
    pub fn retryable(e: impl std::fmt::Display) -> Self {
        Self::Retryable(e.to_string())
    }

    pub fn permanent(e: impl std::fmt::Display) -> Self {
        Self::Permanent(e.to_string())
    }

    pub fn defer_for(delay: Duration, reason: impl Into<String>) -> Self {
        Self::Defer {
            until: SystemTime::now() + delay,
            reason: reason.into(),
        }
    }
}
