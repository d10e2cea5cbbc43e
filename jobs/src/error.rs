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

/// Displays an error with every cause under it, once, on one line: `outer: cause: root`.
/// A cause whose text the line already shows (thiserror's `"database: {0}"` with `#[from]`,
/// or a message that quotes its grandchild) is not repeated. This is the workspace's one
/// chain formatter: every log of an error writes `error = %Chain(&e)`, so the root cause of a
/// failed keepalive, fetch or request reaches the log, and an error stored as text (a job's
/// last error) can keep its causes with `Chain(&e).to_string()`.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Everything written so far: a cause is compared with the whole line, not only its
        // parent, so a text two levels up is not written twice either.
        let mut line = self.0.to_string();
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            next = cause.source();
        }
        f.write_str(&line)
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

    #[derive(Debug, thiserror::Error)]
    #[error("{0}: while sending")]
    struct Quoting(String, #[source] Outer);

    #[test]
    fn chain_skips_a_cause_any_level_above_already_shows() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        // The outer text quotes the root, not its direct cause: the root is still not
        // written a second time.
        let e = Quoting("reset by peer".into(), Outer(io));
        assert_eq!(
            Chain(&e).to_string(),
            "reset by peer: while sending: keepalive of queue scrape"
        );
    }
}
