use serde::{Deserialize, Serialize};

use crate::Job;

/// Finds the campaign's businesses (Places Text Search) and stores them as leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScrapeCampaign {
    pub campaign_id: i64,
}

impl Job for ScrapeCampaign {
    const KIND: &'static str = "scrape_campaign";
    const QUEUE: &'static str = "scrape";

    /// One scrape per campaign at a time: a double launch must not search twice.
    fn unique_key(&self) -> Option<String> {
        Some(format!("scrape_campaign:{}", self.campaign_id))
    }
}
