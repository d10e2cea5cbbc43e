//! `workers`: runs job handlers on Redis Streams queues until SIGTERM/SIGINT.
//!
//! ```text
//! workers --queues scrape,enrich=8,publish=2 --concurrency 4
//! workers bench --concurrency 10
//! ```

use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use jobs::QueueSpec;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(name = "workers", about = "Runs AstroGrowth job handlers")]
struct Cli {
    /// Queues to consume, each with an optional concurrency: `scrape,enrich=8`.
    #[arg(
        long,
        default_value = "scrape,enrich,generate,publish,periodic,mail,probe"
    )]
    queues: String,
    /// Jobs run at once per queue, for queues listed without `=N`.
    #[arg(long, default_value_t = 10)]
    concurrency: usize,
    /// Log as JSON lines (for log shippers) instead of text.
    #[arg(long)]
    json_logs: bool,
    /// Do not run an outbox relay in this process (docs/architecture.md: every api and worker
    /// process runs one, so launches reach Redis while any of them is up). For workers
    /// deployed without PostgreSQL access.
    #[arg(long)]
    no_outbox_relay: bool,
    /// Consume queues none of this worker's job kinds belongs to (their jobs are deferred
    /// for a worker that knows them): for probes sent to any queue, or draining.
    #[arg(long)]
    serve_any_queue: bool,
    /// Do not enqueue the periodic jobs (reconcile, analytics sync) from this process. Any
    /// number of processes may run the schedule: each period's job is enqueued once.
    #[arg(long)]
    no_schedule: bool,
    /// Serve Prometheus's `/metrics` on this address (`host:port`): this process's jobs,
    /// slots and provider calls (docs/operations.md, "Metrics and alerts"). The queues'
    /// contents are the api's to export, not each worker's.
    #[arg(long, value_name = "ADDR")]
    metrics_bind: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The benchmark worker (W1–W5, bench/src/bin/bench_run/main.rs): the bench jobs on queue `bench`, production runtime.
    Bench {
        #[arg(long, default_value_t = 10)]
        concurrency: usize,
    },
    /// Queue sizes, throughput and live workers.
    Status {
        /// Refresh every second.
        #[arg(long)]
        watch: bool,
    },
    /// Enqueue diagnostic probe jobs (a steady feed with --every-ms and --count 0).
    Probe {
        #[arg(long, default_value = "probe")]
        queue: String,
        #[arg(long, default_value_t = 1)]
        count: u64,
        #[arg(long, default_value_t = 0)]
        every_ms: u64,
        /// Mix in failures, deferrals and a few permanent failures.
        #[arg(long)]
        mix: bool,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    init_tracing(
        cli.json_logs,
        matches!(cli.command, Some(Command::Bench { .. })),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    let config = shared::Config::load().context("loading configuration")?;
    let settings = config.queue_settings();
    match &cli.command {
        Some(Command::Status { watch }) => {
            let client = client(&config, settings).await?;
            if *watch {
                workers::status::watch(&client).await?;
            } else {
                print!("{}", workers::status::render(&client).await?);
            }
            return Ok(());
        }
        Some(Command::Probe {
            queue,
            count,
            every_ms,
            mix,
        }) => {
            let queue = jobs::QueueName::new(queue).context("checking --queue")?;
            let client = client(&config, settings).await?;
            let n = workers::feed::run(
                &client,
                &queue,
                *count,
                Duration::from_millis(*every_ms),
                *mix,
            )
            .await
            .context("enqueueing probes")?;
            println!("enqueued {n} probe job(s) to queue {queue}");
            return Ok(());
        }
        _ => {}
    }
    // Check the command line before touching Redis, so a typo is reported as a typo.
    let queues = match cli.command {
        Some(Command::Bench { concurrency }) => bench_queues(concurrency)?,
        _ => jobs::parse_queues(&cli.queues, cli.concurrency).context("checking --queues")?,
    };
    // Installed before any job starts: a SIGTERM during startup must not kill the process
    // with jobs half run.
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    // Bound before Redis is touched: a busy address is a startup error, like a typo.
    let metrics_listener = match &cli.metrics_bind {
        Some(bind) => Some(shared::metrics::bind(bind).await?),
        None => None,
    };
    let handler_conn = jobs::connect(&config.redis.url, Duration::from_secs(10))
        .await
        .with_context(|| format!("connecting to redis at {}", config.redis.url))?;
    let bench = matches!(cli.command, Some(Command::Bench { .. }));
    let stop_background = CancellationToken::new();
    let mut background = Vec::new();
    // The schedule starts with the workers, whose heartbeat tells it of Redis losses.
    let mut schedule_client = None;
    let registry = if bench {
        let registry = bench_registry(handler_conn.clone())?;
        // The bench jobs belong to queue `bench`; spread over other queues, they are served
        // there on purpose.
        if queues.iter().any(|q| q.queue.as_str() != "bench") {
            registry.serve_any_queue()
        } else {
            registry
        }
    } else {
        let db = shared::db::pool(&config.database).context("configuring the database pool")?;
        let client = jobs::Client::with_connection(handler_conn.clone(), settings.clone());
        if !cli.no_outbox_relay {
            background.push(shared::outbox::spawn_relay(
                db.clone(),
                client.clone(),
                stop_background.clone(),
            ));
        }
        if !cli.no_schedule {
            schedule_client = Some(client.clone());
        }
        let needs_vault = queues
            .iter()
            .any(|q| matches!(q.queue.as_str(), "publish" | "periodic"));
        let pipeline = workers::pipeline::Pipeline::from_config(
            &config,
            db,
            handler_conn.clone(),
            needs_vault,
        )
        .context("configuring the pipeline (providers, vault, storage)")?;
        let registry = workers::handlers::production(handler_conn, &settings.prefix, pipeline);
        if cli.serve_any_queue {
            registry.serve_any_queue()
        } else {
            registry
        }
    };
    let mut running = jobs::runtime::start(&config.redis.url, settings, registry, queues.clone())
        .await
        .context("starting the workers")?;
    if let Some(listener) = metrics_listener {
        tracing::info!(addr = ?shared::metrics::local_addr(&listener), "serving /metrics");
        background.push(shared::metrics::serve(
            listener,
            metrics_render(),
            stop_background.clone(),
        ));
    }
    if let Some(client) = &schedule_client {
        background.extend(schedule(
            &config,
            client,
            &running.redis_losses(),
            &stop_background,
        ));
    }
    tracing::info!(worker = running.id(), queues = %describe(&queues), "ready");

    let failure = tokio::select! {
        _ = term.recv() => None,
        _ = int.recv() => None,
        reason = running.failed() => Some(reason),
    };
    let deadline = config.shutdown_deadline();
    tracing::info!(
        ?deadline,
        "shutting down: no new jobs, waiting for running ones"
    );
    let report = running.shutdown(deadline).await;
    stop_background.cancel();
    for task in background {
        let _ = task.await;
    }
    tracing::info!(abandoned = report.abandoned, "stopped");
    match failure {
        Some(reason) => anyhow::bail!("a worker stopped unexpectedly: {reason}"),
        None => Ok(()),
    }
}

/// The periodic jobs (reconciler, analytics sync, notice scan), enqueued once per period whatever the
/// number of processes running the schedule. When Redis loses its data, one process
/// enqueues at once a reconcile of every in-flight row (their jobs went with the data)
/// and the analytics sync the loss may have taken.
fn schedule(
    config: &shared::Config,
    client: &jobs::Client,
    losses: &jobs::epoch::Losses,
    stop: &CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let p = &config.pipeline;
    vec![
        jobs::periodic::spawn_with_losses(
            client.clone(),
            Duration::from_secs(p.reconcile_every_secs),
            |period| jobs::kinds::Reconcile {
                period,
                after_redis_loss: false,
            },
            losses.clone(),
            |period| jobs::kinds::Reconcile {
                period,
                after_redis_loss: true,
            },
            stop.clone(),
        ),
        jobs::periodic::spawn_with_losses(
            client.clone(),
            Duration::from_secs(p.analytics_every_secs),
            |period| jobs::kinds::SyncAnalytics { period },
            losses.clone(),
            |period| jobs::kinds::SyncAnalytics { period },
            stop.clone(),
        ),
        jobs::periodic::spawn_with_losses(
            client.clone(),
            Duration::from_secs(config.instagram.refresh_every_secs.max(1)),
            |period| jobs::kinds::RefreshInstagramTokens { period },
            losses.clone(),
            |period| jobs::kinds::RefreshInstagramTokens { period },
            stop.clone(),
        ),
        jobs::periodic::spawn_with_losses(
            client.clone(),
            Duration::from_secs(config.mail.notices_every_secs),
            |period| jobs::kinds::SendNotices { period },
            losses.clone(),
            |period| jobs::kinds::SendNotices { period },
            stop.clone(),
        ),
    ]
}

/// A worker's `/metrics`: what this process did (jobs by kind and fate, crash recovery,
/// slots, provider calls). Nothing read from Redis or PostgreSQL: the api exports those
/// once for the whole system.
fn metrics_render() -> shared::metrics::Render {
    let mut registry = shared::metrics::registry();
    jobs::metrics::register(&mut registry);
    shared::metrics::register_providers(&mut registry);
    let registry = std::sync::Arc::new(registry);
    std::sync::Arc::new(move || {
        let registry = registry.clone();
        Box::pin(async move { shared::metrics::encode(&registry) })
    })
}

/// Queue `bench` at `concurrency`, or the queues of `BENCH_QUEUES` (comma-separated, one
/// per master of a Redis Cluster) sharing it, rounded up: the benchmark's jobs spread over
/// the masters while the worker's total concurrency stays about the same.
fn bench_queues(concurrency: usize) -> Result<Vec<QueueSpec>> {
    let names: Vec<String> = std::env::var("BENCH_QUEUES")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return jobs::parse_queues(&format!("bench={concurrency}"), 1)
            .context("checking --concurrency");
    }
    let each = concurrency.div_ceil(names.len()).max(1);
    let spec: Vec<String> = names.iter().map(|q| format!("{q}={each}")).collect();
    jobs::parse_queues(&spec.join(","), 1).context("checking BENCH_QUEUES")
}

/// The benchmark's jobs, when this binary was built with them (the `bench` feature).
#[cfg(feature = "bench")]
fn bench_registry(redis: jobs::Conn) -> Result<jobs::Registry> {
    Ok(bench::handlers::registry(redis))
}

#[cfg(not(feature = "bench"))]
fn bench_registry(_: jobs::Conn) -> Result<jobs::Registry> {
    anyhow::bail!(
        "this worker was built without the benchmark's jobs: build it with \
         `cargo build --release -p workers --features bench` (as `just bench` does)"
    )
}

async fn client(config: &shared::Config, settings: jobs::Settings) -> Result<jobs::Client> {
    jobs::Client::connect(&config.redis.url, settings)
        .await
        .with_context(|| format!("connecting to redis at {}", config.redis.url))
}

fn describe(queues: &[QueueSpec]) -> String {
    queues
        .iter()
        .map(|q| format!("{}={}", q.queue, q.concurrency))
        .collect::<Vec<_>>()
        .join(",")
}

/// `RUST_LOG` wins; otherwise INFO, or WARN for the benchmark (no per-job lines while it measures).
fn init_tracing(json: bool, bench: bool) {
    let default = if bench { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
