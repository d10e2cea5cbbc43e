//! Fetching: blocking batched reads, bounded by free worker slots plus the read-ahead.

use std::sync::Arc;
use std::time::Duration;

use apalis_core::task::{Task, builder::TaskBuilder, task_id::TaskId};
use crate::connection::Conn;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::delivery::Delivery;
use crate::envelope::Envelope;
use crate::error::Error;

use crate::queue_state::QueueState;

use crate::stream::{decode, ensure_group, is_no_group, read, read_with_turns};

/// Most entries one read asks for, whatever the free concurrency: keeps one reply small.
const MAX_READ: usize = 1_000;

/// How long a read blocks while owners wait for their turn. Another worker may read what
/// this one let in; a short block sends this one back to let in more before long.
const CROWDED_BLOCK: Duration = Duration::from_millis(100);

/// The fetch loop of one queue. Never returns on a Redis error: an outage or a restart
/// is waited out with a capped backoff and the loop goes on, on a fresh connection.
/// Stops when `stop` is cancelled; an entry read but not yet handed out stays in this
/// consumer's pending list, and closing the backend hands it back (see `release.lua`).
///
/// While owners take turns ([`crate::Settings::owner_turns`]), each read first lets waiting
/// owners' jobs into the stream for the slots it reads for. While some owner still waits,
/// most of the read-ahead (`read_ahead` of the budget) is left unused: jobs read ahead would
/// sit in this worker's buffer in the order they were let in, ahead of an owner whose turn
/// comes next. It keeps only about a millisecond of work ([`QueueState::turn_read_ahead`]):
/// none for slow jobs, whose slots then wait one round trip for their next job (nothing
/// beside a job of 50 ms), and the whole read-ahead for jobs of microseconds.
pub(crate) async fn run(
    state: Arc<QueueState>,
    conn: Conn,
    budget: Arc<Semaphore>,
    (concurrency, read_ahead): (usize, usize),
    tx: mpsc::Sender<Task<Delivery>>,
    stop: CancellationToken,
) {
    run_loop(&state, conn, budget, (concurrency, read_ahead), tx, stop).await;
    state.fetch_exited();
}

async fn run_loop(
    state: &Arc<QueueState>,
    mut conn: Conn,
    budget: Arc<Semaphore>,
    (concurrency, read_ahead): (usize, usize),
    tx: mpsc::Sender<Task<Delivery>>,
    stop: CancellationToken,
) {
    let mut pause = Duration::from_millis(50);
    let mut group_ready = false;
    let turns = state.settings.owner_turns;
    // Owners waited for their turn at the last read.
    let mut crowded = false;
    loop {
        if stop.is_cancelled() {
            return;
        }
        if !group_ready {
            match ensure_group(&mut conn, &state.keys).await {
                Ok(()) => group_ready = true,
                Err(e) => {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "cannot create the consumer group yet");
                    if sleep_or_stop(&stop, pause).await {
                        return;
                    }
                    pause = (pause * 2).min(Duration::from_secs(2));
                    continue;
                }
            }
        }
        if state.is_paused() {
            if sleep_or_stop(&stop, Duration::from_millis(250)).await {
                return;
            }
            continue;
        }
        // Wait for room in the budget (running jobs plus read-ahead) first: reading more
        // would strand jobs here while other workers idle. While owners wait for turns,
        // wait for a free slot: the read-ahead's share is set aside and handed back.
        let reserve = if crowded {
            read_ahead - state.turn_read_ahead(concurrency, read_ahead)
        } else {
            0
        };
        let first = tokio::select! {
            permit = budget.clone().acquire_many_owned(u32::try_from(reserve + 1).unwrap_or(1)) => match permit {
                Ok(p) => p,
                Err(_) => return,
            },
            () = stop.cancelled() => return,
        };
        let mut permits = first;
        let extra = budget.available_permits().min(MAX_READ - 1);
        if extra > 0
            && let Ok(more) = budget
                .clone()
                .try_acquire_many_owned(u32::try_from(extra).unwrap_or(1))
        {
            permits.merge(more);
        }
        if reserve > 0 {
            drop(permits.split(reserve));
        }
        let count = permits.num_permits();
        let lease_term = state.lease.term();
        // Not cancelled on stop: a read dropped mid-flight could still deliver entries
        // after closing handed back the rest. It returns within `block` anyway.
        let entries = if turns {
            let block = if crowded {
                state.settings.block.min(CROWDED_BLOCK)
            } else {
                state.settings.block
            };
            read_with_turns(&mut conn, &state.keys, &state.consumer, count, block, crowded)
                .await
                .map(|(entries, waiting)| {
                    crowded = waiting > 0;
                    entries
                })
        } else {
            read(
                &mut conn,
                &state.keys,
                &state.consumer,
                count,
                state.settings.block,
            )
            .await
        };
        let entries = match entries {
            Ok(entries) => {
                pause = Duration::from_millis(50);
                entries
            }
            Err(e) => {
                drop(permits);
                // The stream was deleted under us (UNBLOCKED) or its group is gone
                // (NOGROUP, e.g. a Redis restarted without persistence): recreate it.
                if let Error::Redis(re) = &e
                    && (is_no_group(re) || re.code() == Some("UNBLOCKED"))
                {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "consumer group missing, recreating it");
                    group_ready = false;
                    continue;
                }
                if e.is_transient() {
                    tracing::warn!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "redis unavailable, fetch waits");
                } else {
                    tracing::error!(queue = %state.keys.queue, error = %crate::error::Chain(&e), "fetch failed");
                }
                if sleep_or_stop(&stop, pause).await {
                    return;
                }
                pause = (pause * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        for entry in entries {
            let Some(permit) = permits.split(1) else {
                break;
            };
            match decode(&entry) {
                Ok(envelope) => {
                    if stop.is_cancelled() {
                        // Stopping: leave it pending; closing hands it back.
                        return;
                    }
                    let task = to_task(&entry.id, envelope, permit, lease_term);
                    state.hold(&task.args.entry_id);
                    if tx.send(task).await.is_err() {
                        return;
                    }
                }
                Err(reason) => {
                    drop(permit);
                    tracing::error!(queue = %state.keys.queue, entry = %entry.id, %reason, "malformed entry sent to the dead set");
                    if let Err(e) = state
                        .settler
                        .bury_malformed(&entry.id, &entry.raw, &reason)
                        .await
                    {
                        tracing::error!(queue = %state.keys.queue, entry = %entry.id, error = %crate::error::Chain(&e),
                            "could not bury a malformed entry; it stays pending and is reclaimed later");
                    }
                }
            }
        }
    }
}

fn to_task(
    entry_id: &str,
    envelope: Envelope,
    permit: tokio::sync::OwnedSemaphorePermit,
    lease_term: u64,
) -> Task<Delivery> {
    let id = envelope.id.clone();
    let attempt = envelope.attempt as usize;
    let mut delivery = Delivery::new(entry_id, envelope);
    delivery.permit = Some(Arc::new(permit));
    delivery.lease_term = lease_term;
    TaskBuilder::new(delivery)
        .task_id(TaskId::from_string(id))
        .attempt(attempt)
        .build()
}

/// Sleeps, or returns true at once if asked to stop.
async fn sleep_or_stop(stop: &CancellationToken, d: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => stop.is_cancelled(),
        () = stop.cancelled() => true,
    }
}

