//! A worker's lease on the entries it holds, and the fence that keeps a worker cut off from
//! Redis from starting a job another worker may have taken over.
//!
//! Other workers take a worker's entries once its heartbeat is older than the lapse
//! ([`MISSED_BEATS`] beats) and the entries sat idle past the visibility timeout (see
//! `reclaim`). A worker on the wrong side of a network partition cannot see that happen,
//! and its read-ahead is still in memory: started after the link heals, those jobs would
//! run a second time, though they never ran here before. So the worker counts its lease
//! from its own last heartbeat that reached Redis. [`FENCE_BEATS`] beats without one and it
//! starts nothing more: one beat before the others may judge it dead, a margin for the
//! hosts' clocks and for the start itself. A heartbeat that gets through again renews the
//! lease under a new term; an entry read under an older term may have been taken over
//! meanwhile, so before starting it the worker asks Redis whether the entry is still in
//! its own pending list, and lets it go if not.
//!
//! Jobs already running when the lease lapses run on. What they write at the end is
//! fenced by Redis itself: the ack and every settle act only on an entry XACK still finds
//! pending, so the outcome of an entry taken over is dropped, and the job's second run
//! elsewhere is the engine's at-least-once contract. Cancelling them instead would also
//! cancel every running job whenever Redis stalls for all workers at once, a case in which
//! nobody takes anything over.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::connection::Conn;
use tokio::sync::Notify;

use crate::error::Error;
use crate::keys::{GROUP, QueueKeys};
use crate::stream::is_no_group;

/// A worker that missed this many heartbeats is no longer listed as live.
pub const MISSED_BEATS: u32 = 3;

/// Beats without a heartbeat reaching Redis after which a worker starts nothing more.
pub const FENCE_BEATS: u32 = MISSED_BEATS - 1;

/// One process's lease, renewed by its heartbeat, shared by all its queues.
#[derive(Debug)]
pub(crate) struct Lease {
    state: Mutex<State>,
    fence: Duration,
    renewed: Notify,
}

#[derive(Debug)]
struct State {
    /// When the last heartbeat that reached Redis was sent: the time other workers judge.
    last: Instant,
    /// Goes up each time the lease is renewed after it had lapsed.
    term: u64,
}

impl Lease {
    /// A lease held from now on (the worker has just reached Redis).
    pub fn new(heartbeat_interval: Duration) -> Self {
        Self {
            state: Mutex::new(State {
                last: Instant::now(),
                term: 0,
            }),
            fence: heartbeat_interval * FENCE_BEATS,
            renewed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Two plain fields, always left consistent: a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The term entries read now are read under; taken before the read is sent.
    pub fn term(&self) -> u64 {
        self.lock().term
    }

    /// A heartbeat sent at `sent` reached Redis. If the lease had lapsed by now, a new
    /// term begins: what was read before may have been taken over.
    pub fn renewed(&self, sent: Instant) {
        {
            let mut s = self.lock();
            if Instant::now() >= s.last + self.fence {
                s.term += 1;
            }
            s.last = s.last.max(sent);
        }
        self.renewed.notify_waiters();
    }

    fn holds(s: &State, fence: Duration) -> bool {
        Instant::now() < s.last + fence
    }

    /// Whether an entry read under `term` may start at once: the lease holds and has not
    /// lapsed since the read. Otherwise [`confirm`] decides.
    pub fn admits(&self, term: u64) -> bool {
        let s = self.lock();
        s.term == term && Self::holds(&s, self.fence)
    }

    /// Returns once the lease holds (at once if it does).
    pub(crate) async fn held(&self) {
        loop {
            let renewed = self.renewed.notified();
            tokio::pin!(renewed);
            renewed.as_mut().enable();
            if Self::holds(&self.lock(), self.fence) {
                return;
            }
            renewed.await;
        }
    }
}

/// `XPENDING … entry entry 1 consumer`: the entry is pending and `consumer` holds it.
pub(crate) async fn owns(
    conn: &mut Conn,
    keys: &QueueKeys,
    consumer: &str,
    entry: &str,
) -> Result<bool, Error> {
    let reply: Result<Vec<redis::Value>, _> = redis::cmd("XPENDING")
        .arg(&keys.stream)
        .arg(GROUP)
        .arg(entry)
        .arg(entry)
        .arg(1)
        .arg(consumer)
        .query_async(conn)
        .await;
    match reply {
        Ok(rows) => Ok(!rows.is_empty()),
        // The group is gone (Redis lost its data): nothing is pending, nothing is ours.
        Err(e) if is_no_group(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_lapses_after_the_fence_and_renews_under_a_new_term() {
        let beat = Duration::from_millis(20);
        let lease = Lease::new(beat);
        let term = lease.term();
        assert!(lease.admits(term));
        // Renewed in time: same term, still admitted.
        std::thread::sleep(beat);
        lease.renewed(Instant::now());
        assert!(lease.admits(term));
        // No renewal for longer than the fence: lapsed.
        std::thread::sleep(beat * FENCE_BEATS + Duration::from_millis(5));
        assert!(!lease.admits(term));
        // A beat that was sent during the lapse and got through late renews nothing.
        lease.renewed(Instant::now() - beat * (FENCE_BEATS + 1));
        assert!(!lease.admits(lease.term()));
        // A fresh beat: the lease holds again, under a new term; what was read under the
        // old term needs a check, what is read from now on does not.
        lease.renewed(Instant::now());
        assert_ne!(lease.term(), term);
        assert!(!lease.admits(term));
        assert!(lease.admits(lease.term()));
    }
}
