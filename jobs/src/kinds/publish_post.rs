use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Job;
use crate::retry::Backoff;

/// Publishes an approved content on LinkedIn, exactly once, in its slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPost {
    pub content_id: i64,
    /// The slot (unix seconds) this job was enqueued for. A content moved to another slot
    /// gets a new job for the new slot; the old one, when it comes due, finds the
    /// content's slot changed and does nothing. `None`: whatever the content's slot is
    /// (a reconnect, "publish again", a job queued before schedules existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<i64>,
}

impl PublishPost {
    /// A job for the content's current slot, whatever it is.
    pub fn new(content_id: i64) -> Self {
        Self {
            content_id,
            slot: None,
        }
    }

    /// A job for one slot (unix seconds).
    pub fn for_slot(content_id: i64, slot: i64) -> Self {
        Self {
            content_id,
            slot: Some(slot),
        }
    }
}

impl Job for PublishPost {
    const KIND: &'static str = "publish_post";
    const QUEUE: &'static str = "publish";
    const MAX_ATTEMPTS: u32 = 8;
    /// LinkedIn outages last minutes, not seconds: start at 5 s, cap at 2 h.
    const BACKOFF: Backoff = Backoff {
        base: Duration::from_secs(5),
        cap: Duration::from_secs(7200),
    };

    /// A double click on "approve" must enqueue one publication; a job per slot, so the
    /// job of a content's new slot is not refused while its old slot's job still waits.
    fn unique_key(&self) -> Option<String> {
        Some(match self.slot {
            Some(slot) => format!("publish_post:{}@{slot}", self.content_id),
            None => format!("publish_post:{}", self.content_id),
        })
    }
}
