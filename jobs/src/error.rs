//! The engine's one error type.

use crate::keys::QueueNameError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("invalid queue name: {0}")]
    QueueName(#[from] QueueNameError),
    #[error("could not encode job arguments of kind {kind}: {source}")]
    Encode {
        kind: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("malformed job envelope: {0}")]
    Envelope(String),
    #[error("invalid setting: {0}")]
    Config(String),
    #[error("no job {id} in queue {queue}")]
    NotFound { queue: String, id: String },
    #[error("job {id} cannot be retried: job {holder} with the same unique key {key:?} is queued")]
    UniqueHeld {
        id: String,
        key: String,
        holder: String,
    },
}

impl Error {
    /// A lost connection or a restarting Redis: the caller should wait and try again
    /// rather than give up, because Redis comes back (and the data with it, under AOF).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Redis(e) => {
                e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout()
                    || matches!(
                        e.kind(),
                        redis::ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
                            | redis::ErrorKind::Server(redis::ServerErrorKind::TryAgain)
                            | redis::ErrorKind::Server(redis::ServerErrorKind::ClusterDown)
                            | redis::ErrorKind::Server(redis::ServerErrorKind::MasterDown)
                    )
            }
            _ => false,
        }
    }
}
