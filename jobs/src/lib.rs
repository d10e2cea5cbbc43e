//! The durable queue engine of AstroGrowth, on Redis Streams with consumer groups.
//!
//! Producers use [`Client`]; workers run [`runtime::start`] with a [`Registry`] of
//! handlers. Delivery is at least once: a job is acked only after its handler returned,
//! and a job whose worker died is taken back and run again. Handlers make effects
//! exactly-once (see design.md §5).

pub mod ack;
pub mod admin;
pub mod backend;
pub mod connection;
pub mod delivery;
pub mod enqueue;
pub mod envelope;
pub mod error;
pub mod fetch;
pub mod heartbeat;
pub mod job;
pub mod keys;
pub mod kinds;
pub mod outcome;
mod queue_state;
pub mod reclaim;
pub mod registry;
pub mod retry;
pub mod runtime;
pub mod scheduler;
mod scripts;
pub mod stats;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use connection::{Settings, connect, now_ms};
pub use enqueue::{Client, EnqueueOptions, Enqueued};
pub use envelope::Envelope;
pub use error::Error;
pub use job::{Job, JobError};
pub use keys::QueueName;
pub use registry::{JobContext, Registry};
pub use retry::Backoff;
pub use runtime::{QueueSpec, Running, parse_queues};

/// The kind under which a stream entry that was not a job envelope sits in the dead set.
pub const MALFORMED_KIND: &str = "malformed";
