//! Live progress events (docs/pipeline.md): every pipeline step publishes one small JSON message
//! on its owner's Redis channel, so the dashboard can stream it to the browser (SSE) without
//! polling PostgreSQL.
//!
//! Channel: `{prefix}events:user:{user_id}` (`ag:events:user:42`). Message, one JSON object:
//!
//! ```json
//! {"type": "lead_enriched", "campaign_id": 7, "lead_id": 311, "score": 72, "at": "2026-11-29T10:00:00Z"}
//! ```
//!
//! `type` is one of `campaign_status` (with `status`), `leads_found` (with `count`),
//! `lead_enriched` (`lead_id`, `score`), `content_generated` (`lead_id`, `content_id`,
//! `score`, `status`, and `scheduled_at`, the slot of an auto-approved one), `published` (`content_id`, `post_url`), `failed` (`lead_id` or
//! `content_id`, `reason`), `deferred` (`reason`, `until`). Fields that do not apply are left
//! out. Pub/sub keeps nothing: a page that was not listening reads the state from the API.
//! Publishing is best effort: a lost event never fails or repeats the step that caused it.

use chrono::{DateTime, Utc};
use jobs::Conn;
use serde::Serialize;

/// One step's news. Built with [`Event::new`] and the `with_*` setters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub campaign_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The slot an approved content waits for in the owner's schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    CampaignStatus,
    LeadsFound,
    LeadEnriched,
    ContentGenerated,
    Published,
    Failed,
    Deferred,
}

impl Event {
    pub fn new(kind: EventKind, campaign_id: i64) -> Self {
        Self {
            kind,
            campaign_id,
            lead_id: None,
            content_id: None,
            status: None,
            score: None,
            count: None,
            reason: None,
            post_url: None,
            until: None,
            scheduled_at: None,
            at: Utc::now(),
        }
    }

    pub fn lead(mut self, id: i64) -> Self {
        self.lead_id = Some(id);
        self
    }

    pub fn content(mut self, id: i64) -> Self {
        self.content_id = Some(id);
        self
    }

    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    pub fn score(mut self, score: i16) -> Self {
        self.score = Some(score);
        self
    }

    pub fn count(mut self, count: i64) -> Self {
        self.count = Some(count);
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn post_url(mut self, url: impl Into<String>) -> Self {
        self.post_url = Some(url.into());
        self
    }

    pub fn until(mut self, until: DateTime<Utc>) -> Self {
        self.until = Some(until);
        self
    }

    pub fn scheduled_at(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.scheduled_at = at;
        self
    }
}

/// Publishes events. Cheap to clone: one multiplexed connection.
#[derive(Clone)]
pub struct Events {
    conn: Conn,
    prefix: String,
}

impl Events {
    pub fn new(conn: Conn, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
        }
    }

    /// The channel of one user's events.
    pub fn channel(prefix: &str, user_id: i64) -> String {
        format!("{prefix}events:user:{user_id}")
    }

    /// Best effort: a failure is logged, never returned (the step it reports has happened).
    pub async fn publish(&self, user_id: i64, event: &Event) {
        let payload = match serde_json::to_string(event) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %jobs::error::Chain(&e), "event not encoded");
                return;
            }
        };
        let mut conn = self.conn.clone();
        let sent: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(Self::channel(&self.prefix, user_id))
            .arg(payload)
            .query_async(&mut conn)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %jobs::error::Chain(&e), user.id = user_id, "event not published");
        }
    }
}
