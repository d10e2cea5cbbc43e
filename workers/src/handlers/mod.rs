//! One module per job kind: the pipeline's four (scrape, enrich, generate, publish), the
//! periodic ones (reconcile, analytics, the notice scan), mail, and the diagnostic `probe` every worker runs on
//! every queue it consumes (`workers bench` runs the benchmark's jobs instead).

pub mod analytics;
pub mod enrich;
pub mod generate;
pub mod instagram_tokens;
pub mod mail;
pub mod probe;
pub mod publish;
pub mod reconcile;
pub mod scrape;

use std::future::Future;
use std::time::Duration;

use jobs::{Conn, Job, JobContext, JobError, Registry};

use crate::pipeline::Pipeline;
use crate::pipeline::ending::step;

/// The registry of a production worker: the probe, the pipeline's steps and the periodic
/// and mail kinds, each listed once here.
pub fn production(redis: Conn, prefix: &str, pipeline: Pipeline) -> Registry {
    let kinds = Kinds {
        retry_base_ms: pipeline.config.retry_base_ms,
        registry: probe::register(Registry::new(), redis, prefix),
        pipeline,
    };
    kinds
        .step(scrape::run, scrape::end)
        .step(enrich::run, enrich::end)
        .step(generate::run, generate::end)
        .step(publish::run, publish::end)
        .plain(reconcile::run)
        .plain(analytics::run)
        .plain(instagram_tokens::run)
        .plain(mail::send)
        .plain(mail::scan)
        .registry
}

/// A registry being filled, with what every handler is given.
struct Kinds {
    registry: Registry,
    pipeline: Pipeline,
    /// `pipeline.retry_base_ms`: the first retry delay of every pipeline step, in place of
    /// the kind's own (a deployment or a test that wants retries sooner).
    retry_base_ms: Option<u64>,
}

impl Kinds {
    /// A pipeline step, whose kind is that of `run`'s job. It goes through [`step`], so a
    /// job that ends (refused for good, out of attempts, waiting past the bound) ends its
    /// row with the reason first; with `retry_base_ms` its backoff starts there and keeps
    /// the kind's cap.
    fn step<J, Run, RunFut, End, EndFut>(self, run: Run, end: End) -> Self
    where
        J: Job + Clone,
        Run: Fn(Pipeline, J, JobContext) -> RunFut + Copy + Send + Sync + 'static,
        RunFut: Future<Output = Result<(), JobError>> + Send + 'static,
        End: Fn(Pipeline, J, String) -> EndFut + Copy + Send + Sync + 'static,
        EndFut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let p = self.pipeline.clone();
        let registry = self
            .registry
            .register(move |job: J, ctx| step(p.clone(), job, ctx, run, end));
        let registry = match self.retry_base_ms {
            Some(ms) => registry.with_backoff::<J>(jobs::Backoff {
                base: Duration::from_millis(ms.max(1)),
                cap: J::BACKOFF.cap,
            }),
            None => registry,
        };
        Self { registry, ..self }
    }

    /// A kind that is not a pipeline step (periodic, mail): its handler as it is, with the
    /// kind's own backoff.
    fn plain<J, Run, RunFut>(self, run: Run) -> Self
    where
        J: Job,
        Run: Fn(Pipeline, J, JobContext) -> RunFut + Send + Sync + 'static,
        RunFut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let p = self.pipeline.clone();
        let registry = self
            .registry
            .register(move |job: J, ctx| run(p.clone(), job, ctx));
        Self { registry, ..self }
    }
}
