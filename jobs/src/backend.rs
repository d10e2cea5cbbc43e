//! Our Redis Streams queue as an apalis `Backend`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use apalis_core::backend::codec::Codec;
use apalis_core::backend::finalize::Ephemeral;
use apalis_core::backend::{Backend, BackendConfig, WireFormatBackend};
use apalis_core::task::Task;
use apalis_core::task::task_id::RandomId;
use apalis_core::worker::context::WorkerContext;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::connection::Settings;
use crate::delivery::Delivery;
use crate::envelope::Envelope;
use crate::error::Error;
use crate::outcome::OutcomeLayer;
use crate::queue_state::QueueState;

type Closing = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// One queue, seen from one apalis worker. The Redis work happens in background tasks
/// (fetch, ack, maintenance); `poll_next` only takes from the fetch task's channel, so a
/// job is handed out the moment its read returns, with no polling.
pub struct StreamsBackend {
    state: Arc<QueueState>,
    rx: mpsc::Receiver<Task<Delivery>>,
    /// The queue's share of the worker's stop signal: closing cancels it, so fetching ends.
    stop: CancellationToken,
    closing: Option<Closing>,
    codec: JsonCodec,
    slots: Arc<tokio::sync::Semaphore>,
}

impl StreamsBackend {
    pub(crate) fn new(
        state: Arc<QueueState>,
        rx: mpsc::Receiver<Task<Delivery>>,
        stop: CancellationToken,
        concurrency: usize,
    ) -> Self {
        Self {
            state,
            rx,
            stop,
            closing: None,
            codec: JsonCodec,
            slots: Arc::new(tokio::sync::Semaphore::new(concurrency)),
        }
    }
}

impl Backend for StreamsBackend {
    type Task = Task<Delivery>;
    type Error = Error;

    /// Always ready: Redis trouble is handled inside the fetch task. apalis ends the
    /// worker on a `poll_ready` error, and a Redis restart must not end a worker.
    fn poll_ready(&mut self, _: &mut Context<'_>, _: &WorkerContext) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        _: &WorkerContext,
    ) -> Poll<Option<Result<Self::Task, Error>>> {
        self.rx.poll_recv(cx).map(|t| t.map(Ok))
    }

    /// Runs once every in-flight job has settled: stops fetching, writes the pending
    /// acks, and hands back entries that were read but never started.
    fn poll_close(&mut self, cx: &mut Context<'_>, _: &WorkerContext) -> Poll<Result<(), Error>> {
        if self.closing.is_none() {
            self.stop.cancel();
            self.rx.close();
            // Tasks still buffered hold worker slots; dropping them frees the slots.
            while self.rx.try_recv().is_ok() {}
            let state = self.state.clone();
            self.closing = Some(Box::pin(async move { crate::shutdown::close(&state).await }));
        }
        match self.closing.as_mut() {
            Some(f) => f.as_mut().poll(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl BackendConfig for StreamsBackend {
    type Args = Delivery;
    type Id = RandomId;
    type Kind = Ephemeral;
    type Config = Settings;
    type Layer = OutcomeLayer;

    fn config(&self) -> &Settings {
        &self.state.settings
    }

    fn middleware(&mut self, _: &mut WorkerContext) -> OutcomeLayer {
        OutcomeLayer::new(self.state.clone(), self.slots.clone())
    }
}

/// The wire format: one JSON envelope per stream entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonCodec;

impl Codec<Envelope> for JsonCodec {
    type Error = Error;
    type Compact = Vec<u8>;

    fn encode(&self, val: &Envelope) -> Result<Vec<u8>, Error> {
        val.encode().map(String::into_bytes)
    }

    fn decode(&self, val: &Vec<u8>) -> Result<Envelope, Error> {
        Envelope::decode(val)
    }
}

impl WireFormatBackend for StreamsBackend {
    type Codec = JsonCodec;
    type Compact = Vec<u8>;

    fn codec(&self) -> &JsonCodec {
        &self.codec
    }
}

/// Live workers through apalis's own trait, read from our heartbeat registry: one row per
/// worker process and queue.
impl apalis_core::backend::ListWorkers for StreamsBackend {
    fn list_workers(
        &self,
    ) -> impl Future<Output = Result<Vec<apalis_core::backend::RunningWorker>, Error>> + Send {
        let queue = self.state.keys.queue.to_string();
        let all = self.list_all_workers();
        async move {
            Ok(all
                .await?
                .into_iter()
                .filter(|w| w.queue == queue)
                .collect())
        }
    }

    fn list_all_workers(
        &self,
    ) -> impl Future<Output = Result<Vec<apalis_core::backend::RunningWorker>, Error>> + Send {
        let mut conn = self.state.conn.clone();
        let settings = self.state.settings.clone();
        async move {
            let globals = crate::keys::GlobalKeys::new(&settings.prefix);
            let live =
                crate::heartbeat::live_workers(&mut conn, &globals, settings.heartbeat_interval)
                    .await?;
            Ok(live
                .into_iter()
                .flat_map(|w| {
                    w.queues
                        .iter()
                        .map(|(queue, concurrency)| apalis_core::backend::RunningWorker {
                            id: w.id.clone(),
                            queue: queue.clone(),
                            backend: "redis-streams".to_owned(),
                            started_at: w.started_at,
                            last_heartbeat: w.last_beat,
                            layers: format!("concurrency={concurrency}"),
                        })
                        .collect::<Vec<_>>()
                })
                .collect())
        }
    }
}
