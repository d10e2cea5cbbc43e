//! The backend's tower layer: the only place that decides a job's fate.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use apalis_core::error::{BoxDynError, DeferredError, RetryAfterError};
use apalis_core::task::Task;
use futures::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;
use tracing::Instrument;

use crate::ack::Completion;
use crate::connection::{now_ms, to_ms};
use crate::delivery::Delivery;
use crate::settle::Settled;
use crate::envelope::Envelope;
use crate::job::JobError;
use crate::metrics::{BusySlot, DeferReason, RunOutcome};
use crate::queue_state::QueueState;
use crate::retry::Backoff;

/// How long an apalis `DeferredError` (which carries no time) waits.
const DEFAULT_DEFER: Duration = Duration::from_secs(30);

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    Ack,
    Retry { delay: Duration, message: String },
    Defer { until_ms: u64, reason: String },
    Bury { message: String },
}

/// Sees every job's result with its real error type, after the user's layers, so it can
/// tell a deferral from a failure and a Retry-After from a plain error.
#[derive(Clone)]
pub struct OutcomeLayer {
    state: Arc<QueueState>,
    slots: Arc<Semaphore>,
}

impl OutcomeLayer {
    /// `slots` holds the queue's concurrency: a job starts only with one of them.
    pub(crate) fn new(state: Arc<QueueState>, slots: Arc<Semaphore>) -> Self {
        Self { state, slots }
    }
}

impl<S> tower_layer::Layer<S> for OutcomeLayer {
    type Service = OutcomeService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        OutcomeService {
            inner,
            state: self.state.clone(),
            slots: PollSemaphore::new(self.slots.clone()),
            slot: None,
        }
    }
}

pub struct OutcomeService<S> {
    inner: S,
    state: Arc<QueueState>,
    /// Not ready until a run slot is free, so apalis takes no job it cannot start:
    /// this is where the queue's concurrency is enforced.
    slots: PollSemaphore,
    slot: Option<OwnedSemaphorePermit>,
}

/// A clone starts without a slot of its own, like tower's `ConcurrencyLimit`.
impl<S: Clone> Clone for OutcomeService<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            state: self.state.clone(),
            slots: self.slots.clone(),
            slot: None,
        }
    }
}

impl<S, R> tower_service::Service<Task<Delivery>> for OutcomeService<S>
where
    S: tower_service::Service<Task<Delivery>, Response = R>,
    S::Future: Send + 'static,
    S::Error: Into<BoxDynError> + Send + 'static,
    R: Send + 'static,
{
    type Response = Option<R>;
    type Error = BoxDynError;
    type Future = Pin<Box<dyn Future<Output = Result<Option<R>, BoxDynError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.slot.is_none() {
            match self.slots.poll_acquire(cx) {
                Poll::Ready(Some(permit)) => self.slot = Some(permit),
                Poll::Ready(None) => return Poll::Ready(Err("worker slots closed".into())),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut task: Task<Delivery>) -> Self::Future {
        let permit = task.args.permit.take();
        let slot = self.slot.take();
        let entry_id = task.args.entry_id.clone();
        let envelope = task.args.envelope.clone();
        let state = self.state.clone();
        // This kind's counters, made at start: a map read and an `Arc` clone, no lock.
        let known = state.registry.knows(&envelope.kind);
        let metrics = state.metrics.kind(&envelope.kind, known);
        let busy = BusySlot::take(&state.metrics.busy);
        let running = crate::holdings::RunningJob {
            job_id: envelope.id.clone(),
            kind: envelope.kind.clone(),
            started_at: now_ms(),
            user_id: envelope.user_id,
        };
        // The fence (see `lease`): read before this worker's lease lapsed, the entry may
        // have been taken over; it starts only once Redis says it is still ours.
        let fenced = !state.lease.admits(task.args.lease_term);
        if !fenced {
            state.start(&entry_id, running.clone());
        }
        let span = tracing::info_span!("job", job.id = %envelope.id, job.kind = %envelope.kind,
            queue = %envelope.queue, user.id = ?envelope.user_id, attempt = envelope.attempt + 1);
        // A handler can panic while building its future, before any `.await`: that
        // panic must become this job's failure too, not escape with the entry "running".
        let call = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(task)));
        Box::pin(
            async move {
                if fenced {
                    if !confirm(&state, &entry_id).await {
                        tracing::warn!("not started: another worker took this job over while this worker's lease had lapsed");
                        // The handler's future is dropped unpolled: handlers act only when polled.
                        state.finish(&entry_id);
                        return Ok(None);
                    }
                    state.start(&entry_id, running);
                }
                let started = Instant::now();
                let result = match call {
                    Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
                    Err(panic) => Err(panic),
                };
                let backoff = state.registry.backoff(&envelope.kind);
                let mut rng = fastrand::Rng::new();
                let mut decide = |outcome| decide(outcome, &envelope, backoff, now_ms(), &mut rng);
                let mut reason = None;
                let (fate, response) = match result {
                    Ok(Ok(r)) => (decide(Outcome::Done), Ok(Some(r))),
                    Ok(Err(e)) => {
                        let e: BoxDynError = e.into();
                        let fate = decide(Outcome::Failed(&*e));
                        if matches!(fate, Fate::Defer { .. }) {
                            reason = Some(defer_reason(&*e, known));
                        }
                        (fate, Err(e))
                    }
                    Err(panic) => {
                        let message = panic_message(&*panic);
                        let fate = decide(Outcome::Panicked(&message));
                        (fate, Err(format!("handler panicked: {message}").into()))
                    }
                };
                let took = started.elapsed();
                state.note_run(took);
                let seconds = took.as_secs_f64();
                let ran = match &fate {
                    Fate::Ack => RunOutcome::Completed,
                    Fate::Retry { .. } => RunOutcome::Retried,
                    Fate::Defer { .. } => RunOutcome::Deferred,
                    Fate::Bury { .. } => RunOutcome::Dead,
                };
                let settled = if fate == Fate::Ack {
                    // Still held (kept alive) until the acker has written the ack.
                    state.holdings.completed(&entry_id);
                    settle(&state, &entry_id, &envelope, fate).await
                } else {
                    let settled = settle(&state, &entry_id, &envelope, fate).await;
                    state.finish(&entry_id);
                    settled
                };
                // Counted once the fate is written (an ack once it is queued to the
                // acker): a fate another worker's reclaim overtook is stale, not counted.
                match settled {
                    Some(Written::Done) => metrics.ran(seconds, ran, reason),
                    Some(Written::Stale) => state.metrics.stale(),
                    None => {}
                }
                drop(busy);
                drop(slot);
                drop(permit);
                response
            }
            .instrument(span),
        )
    }
}

/// What a run came to, before its fate is decided.
pub(crate) enum Outcome<'a> {
    Done,
    Failed(&'a (dyn std::error::Error + 'static)),
    Panicked(&'a str),
}

/// The one place a job's fate is decided: every handler outcome, and
/// crash recovery's "its worker stopped" through [`failure`], ends here.
///
/// - success → ack;
/// - a wait: `JobError::Defer`, `JobError::RetryAfter` (a provider asked us to wait),
///   apalis's `RetryAfterError` and `DeferredError` → defer, no attempt used;
/// - `JobError::Permanent` → dead set now;
/// - anything else (retryable errors, panics, timeouts) → one attempt used: retry after
///   the kind's backoff, or the dead set when that was the last attempt.
pub(crate) fn decide(
    outcome: Outcome<'_>,
    envelope: &Envelope,
    backoff: Backoff,
    now_ms: u64,
    rng: &mut fastrand::Rng,
) -> Fate {
    let e = match outcome {
        Outcome::Done => return Fate::Ack,
        Outcome::Panicked(message) => {
            let delay = backoff.delay(envelope.attempt + 1, rng);
            return failure(envelope, delay, format!("handler panicked: {message}"));
        }
        Outcome::Failed(e) => e,
    };
    let wait = |d: Duration, reason: String| Fate::Defer {
        until_ms: now_ms.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        reason,
    };
    if let Some(e) = e.downcast_ref::<JobError>() {
        return match e {
            JobError::Retryable(m) => failure(
                envelope,
                backoff.delay(envelope.attempt + 1, rng),
                m.clone(),
            ),
            JobError::RetryAfter { delay, message } => wait(*delay, message.clone()),
            JobError::Permanent(m) => Fate::Bury { message: m.clone() },
            JobError::Defer { until, reason } => Fate::Defer {
                until_ms: to_ms(*until),
                reason: reason.clone(),
            },
        };
    }
    if let Some(e) = e.downcast_ref::<RetryAfterError>() {
        return wait(e.get_duration(), e.to_string());
    }
    if let Some(e) = e.downcast_ref::<DeferredError>() {
        return wait(DEFAULT_DEFER, e.to_string());
    }
    failure(
        envelope,
        backoff.delay(envelope.attempt + 1, rng),
        e.to_string(),
    )
}

/// A failed attempt: retried after `delay` while attempts remain, else the dead set.
pub(crate) fn failure(envelope: &Envelope, delay: Duration, message: String) -> Fate {
    if envelope.attempt.saturating_add(1) >= envelope.max_attempts {
        Fate::Bury { message }
    } else {
        Fate::Retry { delay, message }
    }
}

/// Why a deferred run waits, in words fit for a metric label.
fn defer_reason(e: &(dyn std::error::Error + 'static), known_kind: bool) -> DeferReason {
    if !known_kind {
        return DeferReason::UnknownKind;
    }
    let provider = matches!(e.downcast_ref::<JobError>(), Some(JobError::RetryAfter { .. }))
        || e.downcast_ref::<RetryAfterError>().is_some();
    if provider {
        DeferReason::ProviderWait
    } else {
        DeferReason::HandlerWait
    }
}

/// Whether a fate was written: `Done` (an ack handed to the acker, or a retry, deferral
/// or burial written), `Stale` (the entry had been reclaimed by another worker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Done,
    Stale,
}

/// Writes the fate. A write that fails (Redis down) is retried for a while; if it still
/// fails the entry stays pending and crash recovery takes it back later, so the job is
/// run again rather than lost (`None`).
async fn settle(
    state: &QueueState,
    entry_id: &Arc<str>,
    envelope: &Envelope,
    fate: Fate,
) -> Option<Written> {
    if fate == Fate::Ack {
        let unique = envelope
            .unique_key
            .as_deref()
            .map(|k| (state.keys.unique(k), envelope.id.clone()));
        let completion = Completion {
            entry_id: entry_id.clone(),
            unique,
        };
        if let Err(e) = state.acker.ack(completion) {
            tracing::error!(error = %crate::error::Chain(&e), "job succeeded but could not be acked; it will run again");
            return None;
        }
        return Some(Written::Done);
    }
    let mut pause = Duration::from_millis(50);
    for _ in 0..10 {
        let res = match &fate {
            Fate::Ack => return None,
            Fate::Retry { delay, message } => {
                state
                    .settler
                    .retry(entry_id, envelope, *delay, message)
                    .await
            }
            Fate::Defer { until_ms, reason } => {
                state
                    .settler
                    .defer(entry_id, envelope, *until_ms, reason)
                    .await
            }
            Fate::Bury { message } => state.settler.bury(Some(entry_id), envelope, message).await,
        };
        match res {
            Ok(Settled::Stale) => {
                tracing::warn!(
                    "job was reclaimed by another worker while it ran; its outcome is dropped"
                );
                return Some(Written::Stale);
            }
            Ok(Settled::Buried) => {
                tracing::error!(
                    error = envelope.last_error().unwrap_or_default(),
                    ?fate,
                    "job moved to the dead set"
                );
                return Some(Written::Done);
            }
            Ok(settled) => {
                tracing::info!(?settled, ?fate, "job not completed");
                return Some(Written::Done);
            }
            Err(e) => {
                tracing::warn!(error = %crate::error::Chain(&e), "could not record the job's outcome, retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
    tracing::error!("gave up recording the job's outcome; crash recovery will run it again");
    None
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// For an entry [`Lease::admits`] refused: waits until the lease holds again, then asks
/// Redis whether `entry` is still in this worker's pending list. True: nobody took it,
/// it may start. False: another worker took it over while the lease had lapsed; it must
/// not start, and nothing may be written for it.
pub(crate) async fn confirm(state: &QueueState, entry: &str) -> bool {
    loop {
        state.lease.held().await;
        match crate::lease::owns(&mut state.conn.clone(), &state.keys, &state.consumer, entry).await {
            Ok(owned) => return owned,
            Err(e) => {
                tracing::debug!(queue = %state.keys.queue, entry, error = %crate::error::Chain(&e),
                    "could not check whether an entry is still ours; trying again");
                tokio::time::sleep(state.settings.heartbeat_interval).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(attempt: u32, max_attempts: u32) -> Envelope {
        Envelope {
            id: "j1".into(),
            kind: "k".into(),
            queue: "q".into(),
            args: serde_json::value::to_raw_value(&()).unwrap(),
            attempt,
            max_attempts,
            user_id: None,
            enqueued_at: 0,
            run_at: None,
            due_at: None,
            unique_key: None,
            unique_for: None,
            trace: None,
            errors: Vec::new(),
            deferred: None,
            died_at: None,
            returned: 0,
        }
    }

    #[derive(Debug, PartialEq)]
    enum Kind {
        Ack,
        Retry,
        Defer,
        Bury,
    }

    fn kind(f: &Fate) -> Kind {
        match f {
            Fate::Ack => Kind::Ack,
            Fate::Retry { .. } => Kind::Retry,
            Fate::Defer { .. } => Kind::Defer,
            Fate::Bury { .. } => Kind::Bury,
        }
    }

    /// Every outcome × attempts left → its fate. Waits never use an attempt, so they
    /// defer even on the last one; failures bury only on the last.
    #[test]
    fn fate_table() {
        let now = 1_000_000;
        let until = std::time::SystemTime::UNIX_EPOCH + Duration::from_millis(now + 5_000);
        let errors: Vec<(&str, Box<dyn std::error::Error + Send + Sync>, [Kind; 2])> = vec![
            (
                "retryable",
                Box::new(JobError::retryable("x")),
                [Kind::Retry, Kind::Bury],
            ),
            (
                "retry after",
                Box::new(JobError::RetryAfter {
                    delay: Duration::from_secs(3),
                    message: "429".into(),
                }),
                [Kind::Defer, Kind::Defer],
            ),
            (
                "permanent",
                Box::new(JobError::permanent("gone")),
                [Kind::Bury, Kind::Bury],
            ),
            (
                "defer",
                Box::new(JobError::Defer {
                    until,
                    reason: "quota".into(),
                }),
                [Kind::Defer, Kind::Defer],
            ),
            (
                "apalis retry after",
                Box::new(RetryAfterError::new("slow down", Duration::from_secs(2))),
                [Kind::Defer, Kind::Defer],
            ),
            (
                "other error",
                Box::new(std::io::Error::other("timeout")),
                [Kind::Retry, Kind::Bury],
            ),
        ];
        let backoff = Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_secs(1),
        };
        let mut rng = fastrand::Rng::with_seed(1);
        // attempts used before this run: 0 of 3 (attempts left), 2 of 3 (the last).
        for (i, env) in [envelope(0, 3), envelope(2, 3)].iter().enumerate() {
            for (name, e, expected) in &errors {
                let fate = decide(Outcome::Failed(&**e), env, backoff, now, &mut rng);
                assert_eq!(kind(&fate), expected[i], "{name}, attempt {}", env.attempt);
            }
            let ok = decide(Outcome::Done, env, backoff, now, &mut rng);
            assert_eq!(kind(&ok), Kind::Ack);
            let panic = decide(Outcome::Panicked("p"), env, backoff, now, &mut rng);
            assert_eq!(kind(&panic), [Kind::Retry, Kind::Bury][i], "panic");
        }
        // A provider's wait defers until now + its delay, with its message as the reason.
        let wait = JobError::RetryAfter {
            delay: Duration::from_secs(3),
            message: "429 from Gemini".into(),
        };
        assert_eq!(
            decide(
                Outcome::Failed(&wait),
                &envelope(0, 3),
                backoff,
                now,
                &mut rng
            ),
            Fate::Defer {
                until_ms: now + 3_000,
                reason: "429 from Gemini".into()
            }
        );
    }
}
