//! The workers crate's one error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("queue engine: {0}")]
    Jobs(#[from] jobs::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Configuration, database, vault, storage: what `shared` reports.
    #[error("{0}")]
    Shared(#[from] shared::Error),
    #[error("provider client: {0}")]
    Provider(#[from] shared::providers::ProviderError),
}
