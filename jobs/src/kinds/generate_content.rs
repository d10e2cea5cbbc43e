use serde::{Deserialize, Serialize};

use crate::Job;

/// Writes a post and an image for a lead and scores their quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateContent {
    pub lead_id: i64,
}

impl Job for GenerateContent {
    const KIND: &'static str = "generate_content";
    const QUEUE: &'static str = "generate";

    /// Model calls are billed: one generation per lead in flight.
    fn unique_key(&self) -> Option<String> {
        Some(format!("generate_content:{}", self.lead_id))
    }
}
