use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Job;
use crate::retry::Backoff;

/// Publishes an approved content on LinkedIn, exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishPost {
    pub content_id: i64,
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

    /// A double click on "approve" must enqueue one publication.
    fn unique_key(&self) -> Option<String> {
        Some(format!("publish_post:{}", self.content_id))
    }
}
