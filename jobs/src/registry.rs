//! Job kinds a worker can run, and the apalis service that dispatches to them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use apalis_core::task::Task;

use crate::delivery::Delivery;
use crate::job::{Job, JobError};
use crate::retry::Backoff;

/// What a handler learns about the delivery besides its arguments.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub id: String,
    pub kind: String,
    pub queue: String,
    /// This attempt, from 1.
    pub attempt: u32,
    pub max_attempts: u32,
    pub user_id: Option<i64>,
    pub enqueued_at: u64,
    /// When the job became due ([`crate::Envelope::due_at`]): its slot for a job enqueued
    /// to run later. A bound on how long a job may wait counts from here.
    pub due_at: u64,
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

type Erased = Arc<dyn Fn(Delivery) -> HandlerFuture + Send + Sync>;

/// One registered kind.
#[derive(Clone)]
pub struct Entry {
    call: Erased,
    pub backoff: Backoff,
    /// `Job::QUEUE`.
    queue: &'static str,
}

/// Kind name → handler. Built once at startup and shared by every queue's worker.
#[derive(Clone, Default)]
pub struct Registry {
    kinds: HashMap<&'static str, Entry>,
    /// The queues of the registered kinds (`Job::QUEUE`).
    queues: std::collections::BTreeSet<&'static str>,
    /// Consume queues no registered kind belongs to (asked for explicitly).
    any_queue: bool,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of `J`. The handler owns what it needs (pools, clients)
    /// through its captures; it is called once per delivery.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize)] struct Ping;
    /// # impl jobs::Job for Ping { const KIND: &'static str = "ping"; const QUEUE: &'static str = "q"; }
    /// let registry = jobs::Registry::new().register(|_: Ping, _ctx| async { Ok(()) });
    /// assert!(registry.knows("ping"));
    /// ```
    #[must_use]
    pub fn register<J, F, Fut>(mut self, handler: F) -> Self
    where
        J: Job,
        F: Fn(J, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let call: Erased = Arc::new(move |delivery: Delivery| {
            let env = &delivery.envelope;
            let args = match serde_json::from_str::<J>(env.args.get()) {
                Ok(args) => args,
                Err(e) => {
                    let msg = format!("arguments do not match job kind {}: {e}", J::KIND);
                    return Box::pin(async move { Err(JobError::Permanent(msg)) });
                }
            };
            let ctx = JobContext {
                id: env.id.clone(),
                kind: env.kind.clone(),
                queue: env.queue.clone(),
                attempt: env.attempt + 1,
                max_attempts: env.max_attempts,
                user_id: env.user_id,
                enqueued_at: env.enqueued_at,
                due_at: env.due_at(),
            };
            let run = handler(args, ctx);
            Box::pin(async move {
                match tokio::time::timeout(J::TIMEOUT, run).await {
                    Ok(result) => result,
                    Err(_) => Err(JobError::Retryable(format!(
                        "timed out after {}s (job kind {})",
                        J::TIMEOUT.as_secs(),
                        J::KIND
                    ))),
                }
            })
        });
        self.queues.insert(J::QUEUE);
        self.kinds.insert(
            J::KIND,
            Entry {
                call,
                backoff: J::BACKOFF,
                queue: J::QUEUE,
            },
        );
        self
    }

    /// Replaces the backoff of the registered kind `J`: a deployment (or a test) that
    /// wants its retries sooner or later than the kind's own, without a build of its own.
    #[must_use]
    pub fn with_backoff<J: Job>(mut self, backoff: Backoff) -> Self {
        if let Some(entry) = self.kinds.get_mut(J::KIND) {
            entry.backoff = backoff;
        }
        self
    }

    /// Lets this worker consume queues that none of its kinds belongs to. Their jobs
    /// are deferred for a worker that knows them (see `Router`), so this is for probes
    /// sent to any queue and for draining, not the normal case.
    #[must_use]
    pub fn serve_any_queue(mut self) -> Self {
        self.any_queue = true;
        self
    }

    /// Whether a worker with this registry should consume `queue`: one of its kinds
    /// belongs there, or it was asked to consume any queue (a worker
    /// that reads a queue it has no handler for only defers what it reads).
    pub fn handles_queue(&self, queue: &str) -> bool {
        self.any_queue || self.queues.contains(queue)
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.kinds.contains_key(kind)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    /// The registered kinds whose own queue (`Job::QUEUE`) is `queue`.
    pub fn kinds_of<'a>(&'a self, queue: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.kinds
            .iter()
            .filter(move |(_, e)| e.queue == queue)
            .map(|(k, _)| *k)
    }

    pub fn backoff(&self, kind: &str) -> Backoff {
        self.kinds.get(kind).map_or(Backoff::DEFAULT, |e| e.backoff)
    }
}

/// The apalis service of a queue's worker: routes each delivery to its kind's handler.
/// Arguments that do not deserialize are permanent failures, so they reach the dead set
/// with the reason instead of looping through retries. A kind this worker does not know
/// is deferred, using no attempt: during a rolling deploy an older worker must leave a
/// newer kind for a worker that knows it rather than bury it.
#[derive(Clone)]
pub struct Router {
    registry: Arc<Registry>,
    unknown_kind_wait: std::time::Duration,
}

impl Router {
    pub fn new(registry: Arc<Registry>, unknown_kind_wait: std::time::Duration) -> Self {
        Self {
            registry,
            unknown_kind_wait,
        }
    }
}

impl tower_service::Service<Task<Delivery>> for Router {
    type Response = ();
    type Error = JobError;
    type Future = HandlerFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, task: Task<Delivery>) -> Self::Future {
        let delivery = task.args;
        match self.registry.kinds.get(delivery.envelope.kind.as_str()) {
            Some(entry) => {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    (entry.call)(delivery)
                })) {
                    Ok(fut) => fut,
                    // A handler that panics before returning its future: re-raised when
                    // the future is polled, so it travels the path of any other panic.
                    // apalis's task tracking (inside our outcome layer) sees the future
                    // end, and the outcome layer turns the panic into a failure.
                    Err(panic) => Box::pin(async move { std::panic::resume_unwind(panic) }),
                }
            }
            None => {
                let reason = format!(
                    "no worker here knows kind {:?} (queue {}); waiting for one that does",
                    delivery.envelope.kind, delivery.envelope.queue
                );
                let until = std::time::SystemTime::now() + self.unknown_kind_wait;
                Box::pin(async move { Err(JobError::Defer { until, reason }) })
            }
        }
    }
}
