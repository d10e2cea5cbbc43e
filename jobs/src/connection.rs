//! Redis connections and the engine's settings.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::Error;

/// Tunables shared by producers and workers. Defaults are production values.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Key prefix, so several environments can share one Redis.
    pub prefix: String,
    /// A delivered entry idle this long belongs to a dead worker and is taken back.
    pub visibility_timeout: Duration,
    /// How long one XREADGROUP blocks; also bounds how late a pause is noticed.
    pub block: Duration,
    /// Most scheduled jobs moved by one Lua call.
    pub mover_batch: usize,
    /// Longest sleep of the scheduled-jobs mover when nothing is due sooner.
    pub mover_interval: Duration,
    /// The dead set keeps at most this many jobs per queue, dropping the oldest.
    pub dead_max: u64,
    /// Per-minute counters live this long.
    pub stats_ttl: Duration,
    /// Most completions one XACK/XDEL pipeline carries.
    pub ack_batch: usize,
    pub heartbeat_interval: Duration,
    /// Entries a worker may hold beyond its concurrency, so the next job starts the
    /// moment a slot frees instead of one read later. `None`: as many as the
    /// concurrency, at most 100. Read-ahead entries are handed back on shutdown.
    pub read_ahead: Option<usize>,
    /// How long a job of a kind this worker has no handler for waits before it is
    /// offered again: during a rolling deploy an old worker must
    /// not bury a new kind, so it defers it for a worker that knows it.
    pub unknown_kind_wait: Duration,
}

impl Settings {
    pub fn read_ahead_for(&self, concurrency: usize) -> usize {
        self.read_ahead.unwrap_or(concurrency.min(100))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            prefix: "ag:".to_owned(),
            visibility_timeout: Duration::from_secs(30),
            block: Duration::from_secs(2),
            mover_batch: 1_000,
            mover_interval: Duration::from_millis(500),
            dead_max: 100_000,
            stats_ttl: Duration::from_secs(24 * 3600),
            ack_batch: 1_000,
            unknown_kind_wait: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(5),
            read_ahead: None,
        }
    }
}

/// A self-reconnecting multiplexed connection. Commands issued while Redis is down fail
/// fast; callers that must not give up (the fetch loop, the acker) retry with a backoff.
pub async fn connect(url: &str, response_timeout: Duration) -> Result<ConnectionManager, Error> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_secs(1));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}

/// Wall-clock milliseconds since the epoch: the unit of every score and timestamp.
pub fn now_ms() -> u64 {
    to_ms(SystemTime::now())
}

pub fn to_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
