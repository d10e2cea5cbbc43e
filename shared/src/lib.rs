//! What the api and the workers share: configuration, the PostgreSQL repositories, the
//! outbox relay, the token vault and the rate limiter. Provider clients and storage follow
//! with their issues.

pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod mail;
pub mod metrics;
pub mod misconfigured;
pub mod outbox;
pub mod providers;
pub mod rate_limit;
pub mod schedule;
pub mod signed_url;
pub mod storage;
pub mod vault;
pub mod website;

pub use config::Config;
pub use error::Error;
