//! The shared crate's one error type. `NotFound`, `Conflict` and `Invalid` are answers the
//! caller shows a user; the rest are failures of a dependency.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    /// The row does not exist or belongs to another user: the two are not told apart, so
    /// ids cannot be probed.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The row exists but its state forbids the change (launching a running campaign).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("queue: {0}")]
    Queue(#[from] jobs::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// An external API failed; `retryable` says whether asking again can help.
    #[error("{message}")]
    Provider { retryable: bool, message: String },
    /// The image store (local directory or S3) failed to `op` (put, get, read, head) the
    /// object `key`. The store's error is kept as the source, so a log shows its whole
    /// chain (the S3 answer, the connection error under it).
    #[error("storage: {op} {key}: {source}")]
    Storage {
        op: &'static str,
        key: String,
        #[source]
        source: object_store::Error,
    },
    /// The SMTP server did not take a mail; `permanent` when it refused it for good (a 5xx:
    /// no such mailbox, a sender it will not relay for), so sending again cannot help.
    /// `doing` says which step failed; the SMTP, address or message error is the source.
    #[error("mail: {doing}: {source}")]
    Mail {
        permanent: bool,
        doing: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// A sealed value did not open: wrong key, wrong owner or field, or tampering.
    #[error("token vault: {0}")]
    Vault(&'static str),
}

impl Error {
    /// True when the same call may succeed later (a database or Redis hiccup).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(e) => matches!(
                e,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed
            ),
            Self::Redis(_) => true,
            Self::Queue(e) => e.is_transient(),
            Self::Provider { retryable, .. } => *retryable,
            Self::Storage { .. } => true,
            Self::Mail { permanent, .. } => !*permanent,
            _ => false,
        }
    }
}

/// The unique-constraint name of a PostgreSQL error, if that is what it is.
pub(crate) fn unique_violation(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}
