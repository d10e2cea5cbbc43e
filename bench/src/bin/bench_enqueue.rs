//! `bench-enqueue`: the benchmark's producer, driven by `bench-run` (W1–W5). Times only the enqueue calls.
//!
//! ```text
//! bench-enqueue noop N | sleep N           bulk enqueue, batches of 1,000
//! bench-enqueue lat N INTERVAL_MS          one call per job on a fixed grid
//! bench-enqueue noop-scheduled N DELAY_MS  bulk enqueue of noops due DELAY_MS from now (W4)
//! ```
//!
//! `BENCH_QUEUES=q1,q2,...` spreads the bulk batches over those queues in turn instead of
//! queue `bench` (on a Redis Cluster, `bench-run` picks one queue per master).
//! `BENCH_ENQUEUE_REPLICAS=N` makes every enqueue wait for N replicas (`WAIT`, the
//! engine's `enqueue_replicas`), to measure what that durability costs.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use bench::jobs::{Lat, Noop, Sleep};
use jobs::{Client, EnqueueOptions, Job};

const BATCH: usize = 1_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6390/0".into());
    let client = Client::connect(&url, settings()?)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let number = |i: usize, what: &str| -> Result<u64> {
        args.get(i)
            .with_context(|| format!("missing {what}"))?
            .parse()
            .with_context(|| format!("{what} must be a whole number"))
    };
    let seconds = match args.first().map(String::as_str) {
        Some("noop") => bulk(&client, &Noop, number(1, "N")?, None).await?,
        Some("sleep") => bulk(&client, &Sleep, number(1, "N")?, None).await?,
        Some("noop-scheduled") => {
            let delay = Duration::from_millis(number(2, "DELAY_MS")?);
            bulk(&client, &Noop, number(1, "N")?, Some(delay)).await?
        }
        Some("lat") => lat(&client, number(1, "N")?, number(2, "INTERVAL_MS")?).await?,
        _ => bail!(
            "usage: bench-enqueue noop|sleep N | lat N INTERVAL_MS | noop-scheduled N DELAY_MS"
        ),
    };
    println!("enqueue_seconds={seconds:.6}");
    Ok(())
}

async fn bulk<J: Job + Clone>(
    client: &Client,
    job: &J,
    n: u64,
    delay: Option<Duration>,
) -> Result<f64> {
    let n = usize::try_from(n).context("N too large")?;
    let batch = vec![job.clone(); BATCH.min(n.max(1))];
    let queues = bench_queues()?;
    let options = EnqueueOptions {
        run_at: delay.map(|d| SystemTime::now() + d),
        ..EnqueueOptions::default()
    };
    let per_queue: Vec<EnqueueOptions> = queues
        .iter()
        .map(|q| EnqueueOptions {
            queue: Some(q.clone()),
            ..options.clone()
        })
        .collect();
    let start = Instant::now();
    let mut left = n;
    let mut turn = 0usize;
    while left > 0 {
        let take = left.min(BATCH);
        let options = match per_queue.get(turn % per_queue.len().max(1)) {
            Some(o) => o.clone(),
            None => options.clone(),
        };
        turn += 1;
        client
            .enqueue_bulk_with(&batch[..take], options)
            .await
            .context("bulk enqueue")?;
        left -= take;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The engine's defaults, with `BENCH_ENQUEUE_REPLICAS` replicas to wait for.
fn settings() -> Result<jobs::Settings> {
    let replicas = match std::env::var("BENCH_ENQUEUE_REPLICAS") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .context("BENCH_ENQUEUE_REPLICAS must be a whole number")?,
        _ => 0,
    };
    Ok(jobs::Settings {
        enqueue_replicas: replicas,
        ..jobs::Settings::default()
    })
}

/// The queues of `BENCH_QUEUES` (comma-separated); none when it is unset.
fn bench_queues() -> Result<Vec<jobs::QueueName>> {
    let Ok(list) = std::env::var("BENCH_QUEUES") else {
        return Ok(Vec::new());
    };
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| jobs::QueueName::new(s.trim()).context("BENCH_QUEUES"))
        .collect()
}

async fn lat(client: &Client, n: u64, interval_ms: u64) -> Result<f64> {
    let start = Instant::now();
    let mut enqueue_time = Duration::ZERO;
    for i in 0..n {
        let at = start + Duration::from_millis(i * interval_ms);
        tokio::time::sleep_until(at.into()).await;
        let enqueued_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("clock before 1970")?
            .as_secs_f64()
            * 1000.0;
        let t = Instant::now();
        client
            .enqueue(&Lat { enqueued_at_ms })
            .await
            .context("enqueue lat")?;
        enqueue_time += t.elapsed();
    }
    Ok(enqueue_time.as_secs_f64())
}
