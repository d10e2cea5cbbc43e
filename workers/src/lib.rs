//! The worker process: which handlers run on which queues.

pub mod handlers;
pub mod error;

pub use error::Error;
