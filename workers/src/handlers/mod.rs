//! One module per job kind: the pipeline's four (scrape, enrich, generate, publish), the
//! periodic ones (reconcile, analytics, the notice scan), mail, and the diagnostic `probe` every worker runs on
//! every queue it consumes (`workers bench` runs the benchmark's jobs instead).

pub mod analytics;
pub mod enrich;
pub mod generate;
pub mod mail;
pub mod probe;
pub mod publish;
pub mod reconcile;
pub mod scrape;

use std::time::Duration;

use jobs::Conn;
use jobs::Job;
use jobs::kinds::{EnrichLead, GenerateContent, PublishPost, ScrapeCampaign};

use crate::pipeline::Pipeline;
use crate::pipeline::ending::step;

/// The registry of a production worker: the probe, and the pipeline's handlers. Each
/// pipeline step goes through [`step`], so a job that ends (refused for good, out of
/// attempts, waiting past the bound) ends its row with the reason first.
pub fn production(redis: Conn, prefix: &str, pipeline: Pipeline) -> jobs::Registry {
    let retry_base = pipeline.config.retry_base_ms;
    let registry = probe::register(jobs::Registry::new(), redis, prefix);
    let p = pipeline.clone();
    let registry =
        registry.register(move |job, ctx| step(p.clone(), job, ctx, scrape::run, scrape::end));
    let p = pipeline.clone();
    let registry =
        registry.register(move |job, ctx| step(p.clone(), job, ctx, enrich::run, enrich::end));
    let p = pipeline.clone();
    let registry =
        registry.register(move |job, ctx| step(p.clone(), job, ctx, generate::run, generate::end));
    let p = pipeline.clone();
    let registry =
        registry.register(move |job, ctx| step(p.clone(), job, ctx, publish::run, publish::end));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| reconcile::run(p.clone(), job, ctx));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| analytics::run(p.clone(), job, ctx));
    let p = pipeline.clone();
    let registry = registry.register(move |job, ctx| mail::send(p.clone(), job, ctx));
    let p = pipeline;
    let registry = registry.register(move |job, ctx| mail::scan(p.clone(), job, ctx));
    let Some(ms) = retry_base else {
        return registry;
    };
    let backoff = |cap| jobs::Backoff {
        base: Duration::from_millis(ms.max(1)),
        cap,
    };
    registry
        .with_backoff::<ScrapeCampaign>(backoff(ScrapeCampaign::BACKOFF.cap))
        .with_backoff::<EnrichLead>(backoff(EnrichLead::BACKOFF.cap))
        .with_backoff::<GenerateContent>(backoff(GenerateContent::BACKOFF.cap))
        .with_backoff::<PublishPost>(backoff(PublishPost::BACKOFF.cap))
}
