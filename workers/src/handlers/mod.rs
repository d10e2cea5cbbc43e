//! One module per job kind. The pipeline's handlers (scrape, enrich, generate, publish)
//! arrive with their issues; until then a worker runs the diagnostic `probe` job on
//! every queue it consumes, and `workers bench` runs the benchmark's jobs.

pub mod probe;

use redis::aio::ConnectionManager;

/// The registry of a production worker.
pub fn production(redis: ConnectionManager, prefix: &str) -> jobs::Registry {
    probe::register(jobs::Registry::new(), redis, prefix)
}
