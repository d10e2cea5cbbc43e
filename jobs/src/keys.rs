//! Queue names and the Redis keys of one queue.
//!
//! Every key of a queue carries the queue name as a hash tag (`ag:{scrape}:stream`), so under
//! Redis Cluster all of a queue's keys live on one shard and the Lua scripts stay single-slot.

use std::fmt;

/// The consumer group every worker of a queue joins.
pub const GROUP: &str = "workers";
/// The stream entry field that holds the job envelope.
pub const ENVELOPE_FIELD: &str = "e";

/// Why a queue name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?}: {reason}")]
pub struct QueueNameError {
    pub name: String,
    pub reason: &'static str,
}

/// A validated queue name: 1–64 characters of `a-z`, `0-9`, `-` and `_`.
///
/// Validated because it becomes part of Redis keys and URLs; a space or a brace would break
/// the hash tag and an ops typo would silently create a queue nobody consumes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueName(String);

impl QueueName {
    pub fn new(name: &str) -> Result<Self, QueueNameError> {
        let err = |reason| QueueNameError {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(err("must not be empty"));
        }
        if name.len() > 64 {
            return Err(err("must be at most 64 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(err("may contain only a-z, 0-9, '-' and '_'"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueueName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for QueueName {
    type Err = QueueNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The keys of one queue under a prefix (default `ag:`).
#[derive(Debug, Clone)]
pub struct QueueKeys {
    pub queue: QueueName,
    pub stream: String,
    pub scheduled: String,
    pub dead: String,
    /// Hash job id → dead envelope; the `dead` zset orders it by time of death.
    pub dead_jobs: String,
    /// Counter of dead jobs dropped by the dead-set cap, oldest first (never expires).
    pub dead_dropped: String,
    pub paused: String,
    /// Set of the dead-set secondary index keys that exist (by kind, by user), so
    /// emptying the dead set can drop them all without a key scan.
    pub dead_indexes: String,
    /// Zset job id → run-at ms of the scheduled jobs that wait for a retry's backoff; with
    /// [`Self::deferred`], lets the overview count both without reading the scheduled set.
    pub retrying: String,
    /// Zset job id → run-at ms of the scheduled jobs that were deferred.
    pub deferred: String,
    /// What a kind's or a user's dead index key starts with (`bury.lua` builds the keys of
    /// the jobs the cap drops from these).
    pub dead_kind_prefix: String,
    pub dead_user_prefix: String,
    /// Zset owner (user id) → turn, of the owners whose jobs wait for their turn to enter
    /// the stream; the lowest turn goes next (see `fair`).
    pub fair_owners: String,
    /// What an owner's list of jobs waiting for their turn starts with (`fair:held:7`).
    pub fair_held_prefix: String,
    /// One marker per job waiting in any owner's list, so the overview counts them in O(1).
    /// A list rather than a counter: KEDA's `redis` scaler reads a list's length (LLEN), so
    /// an autoscaler sees the jobs waiting for a turn, which the stream's length does not
    /// hold.
    pub fair_waiting: String,
    /// The turn of the owner admitted last: an owner that starts waiting gets this turn,
    /// so it goes before every owner already served past it.
    pub fair_clock: String,
    /// This queue's loss marker, in the queue's hash slot: on a Redis Cluster, a master
    /// that loses its data loses the markers of the queues it holds (see `epoch`).
    pub epoch: String,
    stats: String,
    unique: String,
}

impl QueueKeys {
    pub fn new(prefix: &str, queue: &QueueName) -> Self {
        let base = format!("{prefix}{{{queue}}}");
        Self {
            queue: queue.clone(),
            stream: format!("{base}:stream"),
            scheduled: format!("{base}:scheduled"),
            dead: format!("{base}:dead"),
            dead_jobs: format!("{base}:dead:jobs"),
            dead_dropped: format!("{base}:dead:dropped"),
            paused: format!("{base}:paused"),
            dead_indexes: format!("{base}:dead:indexes"),
            retrying: format!("{base}:scheduled:retrying"),
            deferred: format!("{base}:scheduled:deferred"),
            stats: format!("{base}:stats"),
            dead_kind_prefix: format!("{base}:dead:kind:"),
            dead_user_prefix: format!("{base}:dead:user:"),
            fair_owners: format!("{base}:fair:owners"),
            fair_held_prefix: format!("{base}:fair:held:"),
            fair_waiting: format!("{base}:fair:waiting"),
            fair_clock: format!("{base}:fair:clock"),
            epoch: format!("{base}:epoch"),
            unique: format!("{base}:unique:"),
        }
    }

    /// Per-minute counters: one hash per minute (`processed`, `failed`, `retried`, `dead`,
    /// `deferred`), expiring after a day.
    pub fn stats_minute(&self, minute: u64) -> String {
        format!("{}:{minute}", self.stats)
    }

    pub fn unique(&self, key: &str) -> String {
        format!("{}{key}", self.unique)
    }

    /// Zset job id → died-at ms of the dead jobs of one kind (a secondary index of the
    /// dead set, kept by the bury, revive and discard writes).
    pub fn dead_kind(&self, kind: &str) -> String {
        format!("{}{kind}", self.dead_kind_prefix)
    }

    /// List of one owner's jobs waiting for their turn, oldest first.
    pub fn fair_held(&self, user_id: i64) -> String {
        format!("{}{user_id}", self.fair_held_prefix)
    }

    /// Zset job id → died-at ms of the dead jobs of one user.
    pub fn dead_user(&self, user_id: i64) -> String {
        format!("{}{user_id}", self.dead_user_prefix)
    }
}

/// Keys shared by all queues.
#[derive(Debug, Clone)]
pub struct GlobalKeys {
    /// Zset worker id → last heartbeat (ms).
    pub workers: String,
    /// Set of every queue ever enqueued to, for the admin UI.
    pub queues: String,
    /// A random token written once per life of Redis's data: when it changes or goes
    /// missing, Redis lost everything (see `epoch`).
    pub epoch: String,
    prefix: String,
}

impl GlobalKeys {
    pub fn new(prefix: &str) -> Self {
        Self {
            workers: format!("{prefix}workers"),
            queues: format!("{prefix}queues"),
            epoch: format!("{prefix}epoch"),
            prefix: prefix.to_owned(),
        }
    }

    /// A worker's record. It carries the registry zset's name as its hash tag, so under Redis
    /// Cluster the record and the zset share a slot: one heartbeat pipeline writes both and
    /// one MGET reads every record. (A prefix that already holds a hash tag puts every global
    /// key in that tag's slot, so the record then needs none of its own.)
    pub fn worker(&self, id: &str) -> String {
        if has_hash_tag(&self.prefix) {
            format!("{}worker:{id}", self.prefix)
        } else {
            format!("{}worker:{{{}}}:{id}", self.prefix, self.workers)
        }
    }
}

/// True if Redis Cluster would hash only part of a key starting with `s`: a `{` followed,
/// later, by a `}` with something between them.
fn has_hash_tag(s: &str) -> bool {
    s.find('{')
        .and_then(|open| s[open + 1..].find('}'))
        .is_some_and(|len| len > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_are_validated() {
        assert!(QueueName::new("scrape").is_ok());
        assert!(QueueName::new("bench_2-x").is_ok());
        assert!(QueueName::new("").is_err());
        assert!(QueueName::new("has space").is_err());
        assert!(QueueName::new("Upper").is_err());
        assert!(QueueName::new("brace{").is_err());
        assert!(QueueName::new(&"a".repeat(65)).is_err());
    }

    #[test]
    fn keys_share_a_hash_tag() {
        let keys = QueueKeys::new("ag:", &QueueName::new("scrape").unwrap());
        assert_eq!(keys.stream, "ag:{scrape}:stream");
        assert_eq!(keys.dead_jobs, "ag:{scrape}:dead:jobs");
        assert_eq!(keys.unique("publish:7"), "ag:{scrape}:unique:publish:7");
        assert_eq!(keys.dead_kind("scrape"), "ag:{scrape}:dead:kind:scrape");
        assert_eq!(keys.dead_user(7), "ag:{scrape}:dead:user:7");
        assert_eq!(keys.fair_held(7), "ag:{scrape}:fair:held:7");
        assert_eq!(keys.fair_owners, "ag:{scrape}:fair:owners");
    }

    #[test]
    fn a_worker_record_shares_the_registry_slot() {
        let g = GlobalKeys::new("ag:");
        assert_eq!(g.worker("w1"), "ag:worker:{ag:workers}:w1");
        let tagged = GlobalKeys::new("{env}:");
        assert_eq!(tagged.worker("w1"), "{env}:worker:w1");
        assert!(!has_hash_tag("ag:{}"));
    }
}
