//! Writing a job's fate: retry, defer, requeue after a crash, or bury. Every write is one
//! atomic script that first acks the entry and does nothing if it was no longer pending.

use std::sync::Arc;
use std::time::Duration;

use crate::connection::Conn;

use crate::connection::{Settings, now_ms};
use crate::enqueue::unique_ttl_ms;
use crate::envelope::{Deferral, Envelope, Malformed, truncate};
use crate::error::Error;
use crate::keys::{GROUP, QueueKeys};
use crate::scripts::SCRIPTS;

/// The unique window of a job whose envelope does not carry its kind's (enqueued by an
/// older producer): `Job::UNIQUE_FOR`'s default.
pub(crate) const DEFAULT_UNIQUE_FOR_MS: u64 = 24 * 3600 * 1000;

/// How a settle went: `Stale` means the entry was no longer ours (another worker
/// reclaimed it after our visibility timeout), so we wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Retried,
    Deferred,
    Buried,
    Requeued,
    Stale,
}

/// Writes a job's fate for one queue. Every write is one atomic script that first acks
/// the entry and does nothing if the ack finds it already acked, so a job is never both
/// retried and completed, or retried twice.
#[derive(Clone)]
pub struct Settler {
    conn: Conn,
    keys: Arc<QueueKeys>,
    settings: Arc<Settings>,
}

impl Settler {
    pub fn new(conn: Conn, keys: Arc<QueueKeys>, settings: Arc<Settings>) -> Self {
        Self {
            conn,
            keys,
            settings,
        }
    }

    pub fn keys(&self) -> &QueueKeys {
        &self.keys
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// A failed attempt with attempts left (the outcome layer decided so): back to the
    /// scheduled set after `delay`.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = %self.keys.queue, job = %envelope.id, kind = %envelope.kind))]
    pub async fn retry(
        &self,
        entry_id: &str,
        envelope: &Envelope,
        delay: Duration,
        message: &str,
    ) -> Result<Settled, Error> {
        let now = now_ms();
        let mut next = envelope.clone();
        next.record_error(now, message);
        next.deferred = None;
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let run_at = now.saturating_add(delay_ms.max(1));
        next.run_at = Some(run_at);
        let done = self.settle(entry_id, &next, run_at, "retried").await?;
        Ok(if done {
            Settled::Retried
        } else {
            Settled::Stale
        })
    }

    /// Not now, not a failure: back to the scheduled set without using an attempt.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = %self.keys.queue, job = %envelope.id, kind = %envelope.kind))]
    pub async fn defer(
        &self,
        entry_id: &str,
        envelope: &Envelope,
        until_ms: u64,
        reason: &str,
    ) -> Result<Settled, Error> {
        let mut next = envelope.clone();
        let count = envelope.deferred.as_ref().map_or(0, |d| d.count) + 1;
        next.deferred = Some(Deferral {
            until: until_ms,
            reason: truncate(reason, 500),
            count,
        });
        next.run_at = Some(until_ms);
        let run_at = until_ms.max(1);
        let done = self.settle(entry_id, &next, run_at, "deferred").await?;
        Ok(if done {
            Settled::Deferred
        } else {
            Settled::Stale
        })
    }

    /// An entry whose worker died while running it, with attempts left: back to the
    /// stream at once with one attempt used.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = %self.keys.queue, job = %envelope.id, kind = %envelope.kind))]
    pub async fn requeue_orphan(
        &self,
        entry_id: &str,
        envelope: &Envelope,
        message: &str,
    ) -> Result<Settled, Error> {
        let now = now_ms();
        let mut next = envelope.clone();
        next.record_error(now, message);
        next.run_at = None;
        let done = self.settle(entry_id, &next, 0, "retried").await?;
        Ok(if done {
            Settled::Requeued
        } else {
            Settled::Stale
        })
    }

    /// Crash recovery's return of an entry a dead worker read but never started: back to
    /// the stream with no attempt used and no error recorded.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = %self.keys.queue, job = %envelope.id, kind = %envelope.kind))]
    pub async fn return_unstarted(
        &self,
        entry_id: &str,
        envelope: &Envelope,
    ) -> Result<Settled, Error> {
        let mut next = envelope.clone();
        next.returned += 1;
        next.run_at = None;
        let done = self.settle(entry_id, &next, 0, "returned").await?;
        Ok(if done {
            Settled::Requeued
        } else {
            Settled::Stale
        })
    }

    /// Retrying cannot help: the dead set now, with the reason.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = %self.keys.queue, job = %envelope.id, kind = %envelope.kind))]
    pub async fn bury(
        &self,
        entry_id: Option<&str>,
        envelope: &Envelope,
        message: &str,
    ) -> Result<Settled, Error> {
        let now = now_ms();
        let mut dead = envelope.clone();
        dead.record_error(now, message);
        self.bury_envelope(entry_id, dead, now).await
    }

    /// A stream entry that is not a job envelope (garbage bytes, a missing field): the
    /// dead set keeps it verbatim with the parse error, under a synthetic id.
    #[tracing::instrument(level = "debug", skip_all, fields(queue = %self.keys.queue, entry = %entry_id))]
    pub async fn bury_malformed(
        &self,
        entry_id: &str,
        raw: &[u8],
        error: &str,
    ) -> Result<Settled, Error> {
        let now = now_ms();
        let record = Malformed {
            id: format!("entry-{entry_id}"),
            queue: self.keys.queue.as_str().to_owned(),
            raw: truncate(&String::from_utf8_lossy(raw), 10_000),
            error: error.to_owned(),
            died_at: now,
        };
        let args = serde_json::value::to_raw_value(&record.raw).map_err(|e| Error::Encode {
            kind: "malformed".into(),
            source: e,
        })?;
        let mut dead = Envelope {
            id: record.id,
            kind: crate::MALFORMED_KIND.to_owned(),
            queue: record.queue,
            args,
            attempt: 0,
            max_attempts: 1,
            user_id: None,
            enqueued_at: now,
            run_at: None,
            due_at: None,
            unique_key: None,
            unique_for: None,
            trace: None,
            errors: Vec::new(),
            deferred: None,
            died_at: None,
            returned: 0,
        };
        dead.record_error(now, &format!("malformed envelope: {}", record.error));
        self.bury_envelope(Some(entry_id), dead, now).await
    }

    async fn bury_envelope(
        &self,
        entry_id: Option<&str>,
        mut dead: Envelope,
        now: u64,
    ) -> Result<Settled, Error> {
        dead.died_at = Some(now);
        dead.deferred = None;
        let encoded = dead.encode()?;
        let unique = dead.unique_key.as_deref().map(|k| self.keys.unique(k));
        let by_user = dead.user_id.map(|u| self.keys.dead_user(u));
        let mut conn = self.conn.clone();
        let (done, dropped): (i64, u64) = SCRIPTS
            .bury
            .key(&self.keys.stream)
            .key(&self.keys.dead)
            .key(&self.keys.dead_jobs)
            .key(self.keys.stats_minute(now / 60_000))
            .key(unique.as_deref().unwrap_or(&self.keys.stream))
            .key(&self.keys.dead_dropped)
            .key(self.keys.dead_kind(&dead.kind))
            .key(by_user.as_deref().unwrap_or(&self.keys.dead))
            .key(&self.keys.dead_indexes)
            .arg(GROUP)
            .arg(entry_id.unwrap_or(""))
            .arg(&dead.id)
            .arg(&encoded)
            .arg(now)
            .arg(self.settings.dead_max)
            .arg(self.settings.stats_ttl.as_secs())
            .arg(if unique.is_some() { "1" } else { "0" })
            .arg(if by_user.is_some() { "1" } else { "0" })
            .arg(&self.keys.dead_kind_prefix)
            .arg(&self.keys.dead_user_prefix)
            .invoke_async(&mut conn)
            .await?;
        if dropped > 0 {
            tracing::warn!(queue = %self.keys.queue, dropped, dead_max = self.settings.dead_max,
                "the dead set is full: its oldest jobs were dropped (counted in dead:dropped)");
        }
        Ok(if done == 1 {
            Settled::Buried
        } else {
            Settled::Stale
        })
    }

    async fn settle(
        &self,
        entry_id: &str,
        next: &Envelope,
        run_at: u64,
        stat: &str,
    ) -> Result<bool, Error> {
        let encoded = next.encode()?;
        let now = now_ms();
        let unique = next.unique_key.as_deref().map(|k| self.keys.unique(k));
        let unique_ttl = match &unique {
            Some(_) => unique_ttl_ms(run_at, now, next.unique_for.unwrap_or(DEFAULT_UNIQUE_FOR_MS)),
            None => 0,
        };
        let mut conn = self.conn.clone();
        let done: i64 = SCRIPTS
            .settle
            .key(&self.keys.stream)
            .key(&self.keys.scheduled)
            .key(self.keys.stats_minute(now / 60_000))
            .key(&self.keys.retrying)
            .key(&self.keys.deferred)
            .key(unique.as_deref().unwrap_or(&self.keys.stream))
            .arg(GROUP)
            .arg(entry_id)
            .arg(&encoded)
            .arg(run_at)
            .arg(stat)
            .arg(self.settings.stats_ttl.as_secs())
            .arg(&next.id)
            .arg(unique_ttl)
            .invoke_async(&mut conn)
            .await?;
        Ok(done == 1)
    }
}
