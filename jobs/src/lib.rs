//! The durable queue engine of AstroGrowth, on Redis Streams with consumer groups.
//!
//! Producers use [`Client`]; workers run [`runtime::start`] with a [`Registry`] of
//! handlers. Delivery is at least once: a job is acked only after its handler returned,
//! and a job whose worker died is taken back and run again. Handlers make effects
//! exactly-once (docs/pipeline.md, "Jobs").

pub mod admin;
pub mod connection;
pub mod enqueue;
pub mod envelope;
pub mod epoch;
pub mod error;
pub mod gauges;
pub mod heartbeat;
mod holdings;
pub mod job;
pub mod keys;
pub mod kinds;
mod lease;
mod maintenance;
pub mod metrics;
pub mod periodic;
mod queue_state;
pub mod registry;
pub mod retry;
pub mod runtime;
mod scripts;
mod shutdown;
pub mod stats;

/// The engine's internals: crate-private, so the public API is what a user needs
/// (`Client`, `Job`, `Registry`, `runtime`, `admin::Admin`, errors, keys, stats,
/// heartbeats). The `test-support` feature makes them public for the engine's own
/// integration tests (the interleavings proptest drives them one step at a time).
macro_rules! internal {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(feature = "test-support")]
            pub mod $module;
            #[cfg(not(feature = "test-support"))]
            pub(crate) mod $module;
        )*
    };
}

internal!(
    ack, backend, delivery, fetch, outcome, reclaim, scheduler, settle, stream
);

pub use connection::{Conn, Settings, connect, now_ms};
pub use enqueue::{Client, EnqueueOptions, Enqueued, JobParts};
pub use envelope::Envelope;
pub use error::Error;
pub use job::{Job, JobError};
pub use keys::QueueName;
pub use registry::{JobContext, Registry};
pub use retry::Backoff;
pub use runtime::{QueueSpec, Running, parse_queues};
pub use shutdown::ShutdownReport;

/// The kind under which a stream entry that was not a job envelope sits in the dead set.
pub const MALFORMED_KIND: &str = "malformed";
