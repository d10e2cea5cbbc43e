//! Noticing that Redis lost its data: a FLUSHALL, a restart without persistence, a
//! failover to an empty replica. Redis is only a cache of work (PostgreSQL is the truth),
//! so a loss is healed rather than survived: what processes wrote once at startup (the
//! queue registry, the consumer groups) is written again, and the jobs PostgreSQL says
//! were in flight are enqueued again, within one heartbeat instead of after the
//! reconciler's stall age.
//!
//! The marker is a key holding a random token, `{prefix}epoch`. Whoever finds it missing
//! writes a new one (`SET NX`); every process remembers the token it last saw, so a
//! different token means Redis forgot everything since that look.
//!
//! On a Redis Cluster each master holds only its slots' keys, and one master can lose its
//! data alone (a failover to an empty replica, a flush): the one marker would live on one
//! master and say nothing of the others. There each queue a process serves has a marker
//! of its own in the queue's hash slot (`{prefix}{q}:epoch`), so whichever master held a
//! queue's jobs, losing them changes a marker the workers of that queue look at.

use crate::connection::Conn;
use tokio::sync::watch;

use crate::error::Error;
use crate::keys::{GlobalKeys, QueueKeys};

/// What one look at the marker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look {
    /// This watcher's first look (at startup). `won`: the marker was missing and this
    /// process wrote it.
    First { epoch: String, won: bool },
    /// The same token as last time: nothing was lost.
    Unchanged,
    /// The token changed since the last look: Redis lost its data meanwhile. `won`: this
    /// process wrote the new token (one process per loss).
    Lost { epoch: String, won: bool },
}

/// One process's view of its markers.
#[derive(Debug)]
pub struct EpochWatch {
    /// Each marker's key and the token last seen there; the global marker first.
    markers: Vec<(String, Option<String>)>,
}

impl EpochWatch {
    /// The global marker only: one server, where a loss takes every key at once.
    pub fn new(keys: &GlobalKeys) -> Self {
        Self {
            markers: vec![(keys.epoch.clone(), None)],
        }
    }

    /// The global marker and, on a Redis Cluster, each of `queues`' own (see the module
    /// doc): one look per marker, each on the master that holds the queue.
    pub fn for_queues<'a>(
        keys: &GlobalKeys,
        queues: impl IntoIterator<Item = &'a QueueKeys>,
        cluster: bool,
    ) -> Self {
        let mut watch = Self::new(keys);
        if cluster {
            watch
                .markers
                .extend(queues.into_iter().map(|q| (q.epoch.clone(), None)));
        }
        watch
    }

    /// Writes each marker that is missing and compares it with the last look. On one
    /// server a single round trip, so every heartbeat can afford it.
    pub async fn look(&mut self, conn: &mut Conn) -> Result<Look, Error> {
        let mut found: Option<Look> = None;
        let mut failed = None;
        for (key, seen) in &mut self.markers {
            // A marker that could not be read is looked at again next time; the others
            // are still read, so a loss one of them shows is reported now, not dropped.
            let look = match look_at(conn, key, seen).await {
                Ok(look) => look,
                Err(e) => {
                    failed.get_or_insert(e);
                    continue;
                }
            };
            // The first loss found decides the epoch reported: every process looks at
            // its markers in the same order, so they report the same token.
            match (&found, &look) {
                (Some(Look::Lost { .. }), _) => {}
                (None, _) | (_, Look::Lost { .. }) => found = Some(look),
                _ => {}
            }
        }
        match (found, failed) {
            (Some(lost @ Look::Lost { .. }), _) => Ok(lost),
            (_, Some(e)) => Err(e),
            (found, None) => Ok(found.unwrap_or(Look::Unchanged)),
        }
    }
}

/// One marker: `SET NX` then `GET`, atomic, so the token read back is the one the SET
/// saw (a flush between the two would otherwise read nothing).
async fn look_at(conn: &mut Conn, key: &str, seen: &mut Option<String>) -> Result<Look, Error> {
    let candidate = uuid::Uuid::now_v7().to_string();
    let (set, current): (Option<String>, Option<String>) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(key)
        .arg(&candidate)
        .arg("NX")
        .cmd("GET")
        .arg(key)
        .query_async(conn)
        .await?;
    let won = set.is_some();
    let current = current.unwrap_or(candidate);
    let previous = seen.replace(current.clone());
    Ok(match previous {
        None => Look::First {
            epoch: current,
            won,
        },
        Some(p) if p == current => Look::Unchanged,
        Some(_) => Look::Lost {
            epoch: current,
            won,
        },
    })
}

/// Tells tasks of a process (the periodic schedule) that Redis lost its data, with the
/// epoch that began then. Cheap to clone; every clone sees every later loss.
#[derive(Debug, Clone)]
pub struct Losses(watch::Receiver<Option<String>>);

impl Losses {
    pub(crate) fn channel() -> (watch::Sender<Option<String>>, Self) {
        let (tx, rx) = watch::channel(None);
        (tx, Self(rx))
    }

    /// For a process that watches nothing: never reports a loss.
    pub fn never() -> Self {
        Self::channel().1
    }

    /// Waits for the next loss and returns its epoch; `None` once nothing watches any
    /// more (the worker stopped), after which it returns `None` at once.
    pub async fn next(&mut self) -> Option<String> {
        loop {
            self.0.changed().await.ok()?;
            if let Some(epoch) = self.0.borrow_and_update().clone() {
                return Some(epoch);
            }
        }
    }
}
