//! Stopping a worker: stop fetching, let running jobs finish until the deadline, write
//! the last acks, hand back entries read ahead but never started, and leave jobs still
//! running at the deadline pending for crash recovery.

use crate::error::Error;
use crate::queue_state::QueueState;
use crate::reclaim;

/// What a shutdown did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs still running at the deadline, left pending for crash recovery.
    pub abandoned: usize,
}

/// How long closing waits for the last batched acks to reach Redis.
pub(crate) const LAST_ACKS_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Flushes acks and releases unstarted entries; shared by a clean close and a shutdown
/// whose deadline passed (then the still-running entries are skipped and left pending).
#[tracing::instrument(skip_all, fields(queue = %state.keys.queue))]
pub(crate) async fn close(state: &QueueState) -> Result<(), Error> {
    state
        .wait_fetch_exit(state.settings.block + std::time::Duration::from_secs(2))
        .await;
    if !state.acker.flush_within(LAST_ACKS_WAIT).await {
        tracing::warn!(queue = %state.keys.queue, "could not write the last acks; those jobs will run again");
    }
    let keep = state.holdings.not_to_release();
    let mut conn = state.conn.clone();
    let released = reclaim::release(&mut conn, &state.keys, &state.consumer, &keep).await?;
    state.release_held();
    if released > 0 {
        tracing::info!(queue = %state.keys.queue, released, "handed back jobs fetched but not started");
    }
    Ok(())
}
