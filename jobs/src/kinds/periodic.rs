use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Job;

/// Re-enqueues pipeline work whose PostgreSQL state says a job should exist but that has
/// not moved for a while (its job was lost with Redis's data). `period` is the schedule's
/// period number, so one run is enqueued per period across all workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconcile {
    pub period: u64,
    /// Enqueued the moment a process noticed that Redis lost its data: every in-flight
    /// row is taken, whatever its age, because none of their jobs survived. A routine run
    /// only takes rows older than the stall age, so work that is merely slow is left be.
    #[serde(default)]
    pub after_redis_loss: bool,
}

impl Job for Reconcile {
    const KIND: &'static str = "reconcile";
    const QUEUE: &'static str = "periodic";
    const MAX_ATTEMPTS: u32 = 2;
    const TIMEOUT: Duration = Duration::from_secs(300);

    /// One at a time across all processes, whatever the period. An after-loss run has a
    /// key of its own, so a routine run already queued cannot swallow it.
    fn unique_key(&self) -> Option<String> {
        Some(if self.after_redis_loss {
            "reconcile:after-redis-loss".to_owned()
        } else {
            "reconcile".to_owned()
        })
    }
}

/// Refreshes the Instagram tokens that are over 24 h old and expire within the configured
/// margin (Instagram's long-lived tokens live 60 days and are refreshed, not re-consented).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshInstagramTokens {
    pub period: u64,
}

impl Job for RefreshInstagramTokens {
    const KIND: &'static str = "refresh_instagram_tokens";
    const QUEUE: &'static str = "periodic";
    const MAX_ATTEMPTS: u32 = 3;
    const TIMEOUT: Duration = Duration::from_secs(600);

    fn unique_key(&self) -> Option<String> {
        Some("refresh_instagram_tokens".to_owned())
    }
}

/// Refreshes likes, comments, shares and impressions of recent publications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncAnalytics {
    pub period: u64,
}

impl Job for SyncAnalytics {
    const KIND: &'static str = "sync_analytics";
    const QUEUE: &'static str = "periodic";
    const MAX_ATTEMPTS: u32 = 3;
    const TIMEOUT: Duration = Duration::from_secs(1800);

    fn unique_key(&self) -> Option<String> {
        Some("sync_analytics".to_owned())
    }
}
