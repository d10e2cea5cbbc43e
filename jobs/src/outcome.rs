//! The backend's tower layer: the only place that decides a job's fate.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::error::{BoxDynError, DeferredError, RetryAfterError};
use apalis_core::task::Task;
use futures::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::PollSemaphore;
use tracing::Instrument;

use crate::ack::Completion;
use crate::connection::{now_ms, to_ms};
use crate::delivery::{Delivery, Settled};
use crate::envelope::Envelope;
use crate::job::JobError;
use crate::queue_state::QueueState;

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
        state.start(&entry_id);
        let span = tracing::info_span!("job", job.id = %envelope.id, job.kind = %envelope.kind,
            queue = %envelope.queue, user.id = ?envelope.user_id, attempt = envelope.attempt + 1);
        // A handler can panic while building its future, before any `.await`: that
        // panic must become this job's failure too, not escape with the entry "running".
        let call = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(task)));
        Box::pin(
            async move {
                let result = match call {
                    Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
                    Err(panic) => Err(panic),
                };
                let (fate, response) = match result {
                    Ok(Ok(r)) => (Fate::Ack, Ok(Some(r))),
                    Ok(Err(e)) => {
                        let e: BoxDynError = e.into();
                        (fate_of_error(&state, &envelope, &*e), Err(e))
                    }
                    Err(panic) => {
                        let message = format!("handler panicked: {}", panic_message(&*panic));
                        (
                            fate_of_error(&state, &envelope, &JobError::Retryable(message.clone())),
                            Err(message.into()),
                        )
                    }
                };
                settle(&state, &entry_id, &envelope, fate).await;
                state.finish(&entry_id);
                drop(slot);
                drop(permit);
                response
            }
            .instrument(span),
        )
    }
}

/// Maps an error to a fate: our `JobError` first, then apalis's own deferral types, and
/// anything else (a timeout layer, a tower error) as a retryable failure.
fn fate_of_error(
    state: &QueueState,
    envelope: &Envelope,
    e: &(dyn std::error::Error + 'static),
) -> Fate {
    let mut rng = fastrand::Rng::new();
    let backoff = state.registry.backoff(&envelope.kind);
    if let Some(e) = e.downcast_ref::<JobError>() {
        return match e {
            JobError::Retryable(m) => Fate::Retry {
                delay: backoff.delay(envelope.attempt + 1, &mut rng),
                message: m.clone(),
            },
            JobError::RetryAfter { delay, message } => Fate::Retry {
                delay: *delay,
                message: message.clone(),
            },
            JobError::Permanent(m) => Fate::Bury { message: m.clone() },
            JobError::Defer { until, reason } => Fate::Defer {
                until_ms: to_ms(*until),
                reason: reason.clone(),
            },
        };
    }
    if let Some(e) = e.downcast_ref::<RetryAfterError>() {
        return Fate::Defer {
            until_ms: now_ms() + u64::try_from(e.get_duration().as_millis()).unwrap_or(0),
            reason: e.to_string(),
        };
    }
    if let Some(e) = e.downcast_ref::<DeferredError>() {
        return Fate::Defer {
            until_ms: now_ms() + u64::try_from(DEFAULT_DEFER.as_millis()).unwrap_or(0),
            reason: e.to_string(),
        };
    }
    Fate::Retry {
        delay: backoff.delay(envelope.attempt + 1, &mut rng),
        message: e.to_string(),
    }
}

/// Writes the fate. A write that fails (Redis down) is retried for a while; if it still
/// fails the entry stays pending and crash recovery takes it back later, so the job is
/// run again rather than lost.
async fn settle(state: &QueueState, entry_id: &Arc<str>, envelope: &Envelope, fate: Fate) {
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
            tracing::error!(error = %e, "job succeeded but could not be acked; it will run again");
        }
        return;
    }
    let mut pause = Duration::from_millis(50);
    for _ in 0..10 {
        let res = match &fate {
            Fate::Ack => return,
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
                return;
            }
            Ok(Settled::Buried) => {
                tracing::error!(
                    error = envelope.last_error().unwrap_or_default(),
                    ?fate,
                    "job moved to the dead set"
                );
                return;
            }
            Ok(settled) => {
                tracing::info!(?settled, ?fate, "job not completed");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not record the job's outcome, retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
    tracing::error!("gave up recording the job's outcome; crash recovery will run it again");
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
