//! The workers crate's one error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("queue engine: {0}")]
    Jobs(#[from] jobs::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}
