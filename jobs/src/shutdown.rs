//! Stopping a worker: stop fetching, let running jobs finish until the deadline, write
//! the last acks, hand back entries read ahead but never started, and leave jobs still
//! running at the deadline pending for crash recovery.

use std::time::Duration;

use crate::error::Error;
use crate::heartbeat;
use crate::keys::GlobalKeys;
use crate::queue_state::QueueState;
use crate::reclaim;
use crate::runtime::Running;

/// What a shutdown did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Jobs still running at the deadline, left pending for crash recovery.
    pub abandoned: usize,
}

impl Running {
    /// Stops fetching at once, lets running jobs finish until `deadline`, acks them, and
    /// hands back what was fetched but not started. Jobs still running at the deadline
    /// stay pending and another worker reclaims them after the visibility timeout.
    pub async fn shutdown(self, deadline: Duration) -> ShutdownReport {
        let mut report = ShutdownReport::default();
        for run in &self.queues {
            let _ = run.fetch_stop.send(true);
            let _ = run.ctx.stop();
        }
        let until = tokio::time::Instant::now() + deadline;
        for run in self.queues {
            let mut worker = run.worker;
            let finished = tokio::time::timeout_at(until, &mut worker).await.is_ok();
            if !finished {
                worker.abort();
                let _ = worker.await;
                let running = run.state.running().len();
                report.abandoned += running;
                tracing::warn!(queue = %run.state.keys.queue, running,
                    "shutdown deadline passed; unfinished jobs are left for crash recovery");
                if let Err(e) = close(&run.state).await {
                    tracing::warn!(error = %crate::error::Chain(&e), "could not hand back unstarted jobs; they will be reclaimed");
                }
            }
            if !run.state.acker.flush_within(LAST_ACKS_WAIT).await {
                tracing::warn!(queue = %run.state.keys.queue, "could not write the last acks; those jobs will run again");
            }
            let _ = run.maintenance_stop.send(true);
            for task in run.background {
                task.abort();
            }
            run.acker.abort();
        }
        let _ = self.heartbeat_stop.send(true);
        let _ = self.heartbeat.await;
        let mut conn = self.conn.clone();
        let globals = GlobalKeys::new(&self.settings.prefix);
        if let Err(e) = heartbeat::deregister(&mut conn, &globals, &self.id).await {
            tracing::warn!(error = %crate::error::Chain(&e), "could not remove the worker from the registry");
        }
        report
    }
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
