//! The worker process: which handlers run on which queues, and the ops subcommands.

pub mod error;
pub mod feed;
pub mod handlers;
pub mod pipeline;
pub mod status;

pub use error::Error;
