//! Redis connections and the engine's settings.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::error::Error;

/// The URL scheme that names a Redis Cluster by some of its nodes:
/// `redis+cluster://[user:password@]host:port,host:port,...`. One URL setting then serves
/// both deployments, so nothing that passes `redis.url` around needs a second option.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

/// The same over TLS, as `rediss://` is to `redis://`: every node is reached with
/// `rediss://`, so the AUTH, the sessions and the job payloads never cross in clear. The
/// nodes' certificates are checked against the system's roots (`SSL_CERT_FILE` names a
/// PEM file to use instead, for a private CA).
pub const TLS_CLUSTER_SCHEME: &str = "rediss+cluster://";

/// Whether `url` names a Redis Cluster (in clear or over TLS).
pub fn is_cluster_url(url: &str) -> bool {
    url.starts_with(CLUSTER_SCHEME) || url.starts_with(TLS_CLUSTER_SCHEME)
}

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
    /// Replicas that must hold an enqueued job before `enqueue` returns (0: the master's
    /// reply is enough). Redis replicates asynchronously, so a master that dies right after
    /// acknowledging a write can take it along when its replica is promoted; with this set,
    /// the write and a `WAIT n` travel in one pipeline (one round trip), and an enqueue
    /// that fewer replicas confirmed within [`Self::enqueue_replicas_timeout`] fails with
    /// [`Error::NotReplicated`] (the job may still be there: retrying it is at-least-once).
    pub enqueue_replicas: u32,
    pub enqueue_replicas_timeout: Duration,
    /// Owners take turns in every queue: a job with a user id enters the stream at once
    /// only while nobody waits, else it waits in its owner's list and workers let jobs in
    /// one owner at a time as slots free up (`lua/fair.lua`). So one owner's backlog does
    /// not hold another owner's few jobs behind it. Off: every job goes straight into the
    /// stream, first come first served.
    pub owner_turns: bool,
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
            enqueue_replicas: 0,
            enqueue_replicas_timeout: Duration::from_millis(500),
            owner_turns: true,
        }
    }
}

/// A connection to one Redis server or to a Redis Cluster. Both variants are multiplexed,
/// cheap to clone and reconnect on their own; the engine only ever sends commands, pipelines
/// and scripts whose keys share one hash tag, so the cluster variant routes each of them to
/// the one master that owns the slot. On one node the enum costs a branch per command and
/// nothing else: no allocation, no round trip.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Conn {
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// A self-reconnecting multiplexed connection to `url`: a `redis://` or `rediss://` URL (one
/// server) or a `redis+cluster://` or `rediss+cluster://` URL (see [`CLUSTER_SCHEME`]). Commands issued while Redis is down
/// fail fast; callers that must not give up (the fetch loop, the acker) retry with a
/// backoff. Each call opens connections of its own, which is what keeps a blocking read
/// (XREADGROUP BLOCK on the fetch connection) from stalling the commands of others: on a
/// cluster too, every call gets its own connection to each node.
pub async fn connect(url: &str, response_timeout: Duration) -> Result<Conn, Error> {
    if let Some(nodes) = cluster_nodes(url)? {
        let client = ClusterClientBuilder::new(nodes)
            .connection_timeout(Duration::from_secs(5))
            .response_timeout(response_timeout)
            // A failover takes the cluster's node timeout plus an election; requests wait
            // for it through the client's retries (MOVED, refreshed slots) up to this.
            .overall_response_timeout(Some(response_timeout + Duration::from_secs(10)))
            .retries(8)
            .max_retry_wait(1_000)
            .build()?;
        return Ok(Conn::Cluster(client.get_async_connection().await?));
    }
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_secs(1));
    Ok(Conn::Single(
        ConnectionManager::new_with_config(client, config).await?,
    ))
}

/// The URL of each seed node of a cluster URL: `redis://` for `redis+cluster://`,
/// `rediss://` for `rediss+cluster://`; `None` for any other URL. A bad cluster URL is a
/// configuration error, said with the part that is wrong.
pub fn cluster_nodes(url: &str) -> Result<Option<Vec<String>>, Error> {
    let (node_scheme, rest) = if let Some(rest) = url.strip_prefix(CLUSTER_SCHEME) {
        ("redis://", rest)
    } else if let Some(rest) = url.strip_prefix(TLS_CLUSTER_SCHEME) {
        ("rediss://", rest)
    } else {
        return Ok(None);
    };
    let bad = |why: &str| Error::Config(format!("redis cluster URL: {why}"));
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    if !(path.is_empty() || path == "0") {
        return Err(bad("a cluster has only database 0"));
    }
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let mut nodes = Vec::new();
    for host in hosts.split(',') {
        let Some((name, port)) = host.rsplit_once(':') else {
            return Err(bad("each node must be host:port"));
        };
        if name.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad("each node must be host:port"));
        }
        nodes.push(match userinfo {
            Some(u) => format!("{node_scheme}{u}@{host}"),
            None => format!("{node_scheme}{host}"),
        });
    }
    Ok(Some(nodes))
}

/// URLs to subscribe on: on a cluster, PUBLISH reaches every node, so a subscription on any
/// one node hears it (callers try them in turn); on one server, the URL itself.
pub fn pubsub_urls(url: &str) -> Result<Vec<String>, Error> {
    Ok(cluster_nodes(url)?.unwrap_or_else(|| vec![url.to_owned()]))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_name_their_seed_nodes() {
        assert_eq!(cluster_nodes("redis://127.0.0.1:6379/0").unwrap(), None);
        assert_eq!(
            cluster_nodes("redis+cluster://a:7000,b:7001/").unwrap(),
            Some(vec![
                "redis://a:7000".to_owned(),
                "redis://b:7001".to_owned()
            ])
        );
        assert_eq!(
            cluster_nodes("redis+cluster://u:p@a:7000").unwrap(),
            Some(vec!["redis://u:p@a:7000".to_owned()])
        );
        assert!(cluster_nodes("redis+cluster://a:7000/3").is_err());
        assert!(cluster_nodes("redis+cluster://a").is_err());
        assert!(cluster_nodes("redis+cluster://a:70000").is_err());
        assert!(cluster_nodes("redis+cluster://").is_err());
        // Over TLS, every node over TLS: nothing is rewritten to a clear connection.
        assert_eq!(
            cluster_nodes("rediss+cluster://u:p@a:7000,b:7001").unwrap(),
            Some(vec![
                "rediss://u:p@a:7000".to_owned(),
                "rediss://u:p@b:7001".to_owned()
            ])
        );
        assert!(cluster_nodes("rediss+cluster://a:7000/2").is_err());
        assert!(is_cluster_url("rediss+cluster://a:1") && !is_cluster_url("rediss://a:1"));
        assert_eq!(
            pubsub_urls("redis://h:1/0").unwrap(),
            vec!["redis://h:1/0".to_owned()]
        );
    }
}
