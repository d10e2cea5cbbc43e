//! Mail to an owner, and the periodic scan that finds the notices nobody's action causes
//! (posts left waiting for approval, a LinkedIn grant about to expire).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Job;

/// Sends one row of the `mails` table. The job carries the row's id only: what to say is
/// read when it runs (a reset link is made then), so nothing secret sits in Redis or in
/// the dead set an admin reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMail {
    pub mail_id: i64,
}

impl Job for SendMail {
    const KIND: &'static str = "send_mail";
    const QUEUE: &'static str = "mail";
    /// An SMTP server down for a while (a relay being restarted) is waited out: with the
    /// default backoff (doubling from 1 s), ten attempts span about a quarter of an hour.
    const MAX_ATTEMPTS: u32 = 10;
    const TIMEOUT: Duration = Duration::from_secs(120);

    /// One job per mail in the queue at a time.
    fn unique_key(&self) -> Option<String> {
        Some(format!("send_mail:{}", self.mail_id))
    }
}

/// Finds campaigns whose posts wait for the owner's approval and LinkedIn grants that
/// expire within a week, and enqueues their notices (each at most once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendNotices {
    pub period: u64,
}

impl Job for SendNotices {
    const KIND: &'static str = "send_notices";
    const QUEUE: &'static str = "periodic";
    const MAX_ATTEMPTS: u32 = 3;
    const TIMEOUT: Duration = Duration::from_secs(300);

    fn unique_key(&self) -> Option<String> {
        Some("send_notices".to_owned())
    }
}
