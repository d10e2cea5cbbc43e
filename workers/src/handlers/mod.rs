//! One module per job kind: the pipeline's four (scrape, enrich, generate, publish), the
//! periodic ones (reconcile, analytics), and the diagnostic `probe` every worker runs on
//! every queue it consumes (`workers bench` runs the benchmark's jobs instead).

pub mod analytics;
pub mod enrich;
pub mod generate;
pub mod probe;
pub mod publish;
pub mod reconcile;
pub mod scrape;

use redis::aio::ConnectionManager;

use crate::pipeline::Pipeline;

/// The registry of a production worker: the probe, and the pipeline's handlers.
pub fn production(redis: ConnectionManager, prefix: &str, pipeline: Pipeline) -> jobs::Registry {
    let registry = probe::register(jobs::Registry::new(), redis, prefix);
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| scrape::run(p.clone(), job, ctx));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| enrich::run(p.clone(), job, ctx));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| generate::run(p.clone(), job, ctx));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| publish::run(p.clone(), job, ctx));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| reconcile::run(p.clone(), job, ctx));
    let p = pipeline;
    registry.register(move |job, ctx| analytics::run(p.clone(), job, ctx))
}
