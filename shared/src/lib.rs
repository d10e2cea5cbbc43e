//! What the api and the workers share. For now: configuration; the database, the token
//! vault, the provider clients, storage and rate limits follow with their issues.

pub mod config;
pub mod error;

pub use config::Config;
pub use error::Error;
