use serde::{Deserialize, Serialize};

use crate::Job;

/// Fetches a lead's website, extracts contacts and scores the lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichLead {
    pub lead_id: i64,
}

impl Job for EnrichLead {
    const KIND: &'static str = "enrich_lead";
    const QUEUE: &'static str = "enrich";

    /// The reconciler may enqueue a lead the scrape already enqueued: one run at a time.
    fn unique_key(&self) -> Option<String> {
        Some(format!("enrich_lead:{}", self.lead_id))
    }
}
