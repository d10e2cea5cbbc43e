//! Noticing that Redis lost its data: a FLUSHALL, a restart without persistence, a
//! failover to an empty replica. Redis is only a cache of work (PostgreSQL is the truth),
//! so a loss is healed rather than survived: what processes wrote once at startup (the
//! queue registry, the consumer groups) is written again, and the jobs PostgreSQL says
//! were in flight are enqueued again, within one heartbeat instead of after the
//! reconciler's stall age.
//!
//! The marker is one key, `{prefix}epoch`, holding a random token. Whoever finds it
//! missing writes a new one (`SET NX`); every process remembers the token it last saw, so
//! a different token means Redis forgot everything since that look.

use crate::connection::Conn;
use tokio::sync::watch;

use crate::error::Error;
use crate::keys::GlobalKeys;

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

/// One process's view of the marker.
#[derive(Debug)]
pub struct EpochWatch {
    key: String,
    seen: Option<String>,
}

impl EpochWatch {
    pub fn new(keys: &GlobalKeys) -> Self {
        Self {
            key: keys.epoch.clone(),
            seen: None,
        }
    }

    /// Writes the marker if it is missing and compares it with the last look: one round
    /// trip, so every heartbeat can afford it.
    pub async fn look(&mut self, conn: &mut Conn) -> Result<Look, Error> {
        let candidate = uuid::Uuid::now_v7().to_string();
        // Atomic, so the token read back is the one the SET saw (a flush between the two
        // would otherwise read nothing).
        let (set, current): (Option<String>, Option<String>) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&self.key)
            .arg(&candidate)
            .arg("NX")
            .cmd("GET")
            .arg(&self.key)
            .query_async(conn)
            .await?;
        let won = set.is_some();
        let current = current.unwrap_or(candidate);
        let previous = self.seen.replace(current.clone());
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
