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
}
