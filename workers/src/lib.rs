//! The worker process: which handlers run on which queues.

pub mod error;
pub mod handlers;

pub use error::Error;
