//! Everything the sandbox remembers between calls, behind one lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::Options;
use crate::faults::Fault;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One request as `GET /_sandbox/log` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogEntry {
    pub route: &'static str,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub at_ms: u64,
    pub fault: Option<String>,
}

/// A post LinkedIn stored, as `GET /_sandbox/posts` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Post {
    pub urn: String,
    pub author: String,
    pub commentary: String,
    pub image: Option<String>,
    pub created_at_ms: u64,
    /// Whether `memberCreatorPostAnalytics` was asked about it yet (the first answer has
    /// no data, as for a post LinkedIn has not counted yet).
    #[serde(skip)]
    pub analytics_seen: bool,
}

pub(crate) struct Code {
    pub redirect_uri: String,
    pub scope: String,
    pub member: String,
    pub used: bool,
}

pub(crate) struct Token {
    pub member: String,
    pub scope: String,
    pub expires_at_ms: u64,
    pub revoked: bool,
}

pub(crate) struct Image {
    pub owner: String,
    pub uploaded: bool,
    pub status_reads: u32,
}

#[derive(Default)]
pub(crate) struct Data {
    pub faults: Vec<Fault>,
    pub next_fault: u64,
    pub log: Vec<LogEntry>,
    pub posts: Vec<Post>,
    pub codes: HashMap<String, Code>,
    pub tokens: HashMap<String, Token>,
    /// refresh token → member and scope.
    pub refresh: HashMap<String, (String, String)>,
    pub images: HashMap<String, Image>,
    /// Members whose tokens were revoked, and when their tokens were expired by hand.
    pub counter: u64,
    /// Posts and images created since start: the per-run part of their ids.
    pub posts_made: u64,
    pub images_made: u64,
    pub instagram: crate::instagram::State,
    /// The OpenID Connect provider's codes and keys.
    pub oidc: crate::oidc::State,
}

pub(crate) struct Shared {
    pub options: Options,
    /// This start's own part of every post and image id: drawn at start (the clock and a
    /// process-wide count), or `linkedin_id_epoch` when a test wants ids to repeat.
    pub run: u64,
    data: Mutex<Data>,
}

impl Shared {
    pub fn new(options: Options) -> Self {
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let run = options.linkedin_id_epoch.unwrap_or_else(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            nanos ^ (u64::from(std::process::id()) << 32) ^ STARTS.fetch_add(1, Ordering::Relaxed)
        });
        Self {
            options,
            run,
            data: Mutex::new(Data::default()),
        }
    }

    /// The state; a handler that panicked while holding it leaves nothing half-written
    /// that matters to a fake, so a poisoned lock is used as is.
    pub fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Data {
    /// A fresh number for ids and tokens, deterministic in call order.
    pub fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
}
