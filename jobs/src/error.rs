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
    #[error(
        "the enqueue reached the master but only {got} of {wanted} replicas confirmed it in time"
    )]
    NotReplicated { wanted: u32, got: i64 },
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

/// Displays an error with every cause under it, once: `outer: cause: root`. A cause whose
/// text the level above already shows (thiserror's `"redis: {0}"` with `#[from]`) is not
/// repeated. Log sites use it where the error is handled, so the root
/// cause of a failed keepalive or fetch reaches the log.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !shown.contains(&text) {
                write!(f, ": {text}")?;
                shown = text;
            }
            next = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("keepalive of queue scrape")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_shows_every_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        // A cause the message does not show is appended.
        assert_eq!(
            Chain(&Outer(io())).to_string(),
            "keepalive of queue scrape: reset by peer"
        );
        // A cause the message already shows is not repeated.
        let e = Error::Redis(redis::RedisError::from(io()));
        let text = Chain(&e).to_string();
        assert_eq!(text.matches("reset by peer").count(), 1, "{text}");
    }
}
