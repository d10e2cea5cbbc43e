//! `bench-fairness`: does one owner's backlog hold another owner's few jobs behind it?
//!
//! Against the private redis-server of `just bench-fairness` (`REDIS_URL`, default
//! `redis://127.0.0.1:6390/0`; every run starts with FLUSHALL, so port 6379 is refused), with
//! the engine's production runtime in this process: `--workers` workers of `--concurrency`
//! slots each on one queue, whose jobs sleep `--job-ms` like a GenerateContent call that
//! waits on its provider. For owners taking turns and for first come, first served:
//!
//! * small alone: the small owner's `--small` jobs in an idle queue, enqueue to last done;
//! * backlog alone: the big owner's `--big` jobs, enqueue to drained, and jobs/s;
//! * both: the big backlog, then, once it drains, the small owner's jobs: the small owner's
//!   enqueue to last done, and jobs/s of the whole drain.
//!
//! It prints one table of medians over `--reps` runs (raw numbers on stderr), then the two
//! figures that matter: the small owner's time beside the backlog over its time alone, and
//! the drain's throughput with turns against first come, first served. With `--noop`, the
//! engine's own cost of the turns: one owner's no-op jobs drained by one worker of 10 slots.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bench::report::{Align, table};
use clap::Parser;
use jobs::{Client, EnqueueOptions, Job, JobContext, QueueName, QueueSpec, Registry, Settings};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    big: usize,
    #[arg(long, default_value_t = 10)]
    small: usize,
    #[arg(long, default_value_t = 2)]
    workers: usize,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 50)]
    job_ms: u64,
    /// The small owner enqueues once the backlog has been draining this long.
    #[arg(long, default_value_t = 1_000)]
    small_after_ms: u64,
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Also measure the turns' cost on no-op jobs: this many, one owner, one worker.
    #[arg(long, default_value_t = 0)]
    noop: usize,
}

/// One job of an owner: sleeps `ms`, then records its owner's completion.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Work {
    owner: i64,
    ms: u64,
}

impl Job for Work {
    const KIND: &'static str = "fair_work";
    const QUEUE: &'static str = "fairness";
}

const QUEUE: &str = "fairness";
const BIG: i64 = 1;
const SMALL: i64 = 2;

/// Completions per owner, and when each owner's count last changed.
#[derive(Default)]
struct Tally {
    done: Mutex<HashMap<i64, (usize, Instant)>>,
    changed: Notify,
}

impl Tally {
    fn record(&self, owner: i64) {
        if let Ok(mut done) = self.done.lock() {
            let e = done.entry(owner).or_insert((0, Instant::now()));
            e.0 += 1;
            e.1 = Instant::now();
        }
        self.changed.notify_waiters();
    }

    fn count(&self, owner: i64) -> (usize, Option<Instant>) {
        self.done
            .lock()
            .ok()
            .and_then(|d| d.get(&owner).map(|(n, at)| (*n, Some(*at))))
            .unwrap_or((0, None))
    }

    fn reset(&self) {
        if let Ok(mut done) = self.done.lock() {
            done.clear();
        }
    }

    /// Waits until `owner` completed `n` jobs; returns when the last one completed.
    async fn wait_for(&self, owner: i64, n: usize, timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if let (done, Some(at)) = self.count(owner)
                && done >= n
            {
                return Ok(at);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "owner {owner}: {} of {n} jobs done after {timeout:?}",
                    self.count(owner).0
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }
}

fn registry(tally: Arc<Tally>) -> Registry {
    Registry::new().register(move |job: Work, _: JobContext| {
        let tally = tally.clone();
        async move {
            if job.ms > 0 {
                bench::precise_sleep::sleep(Duration::from_millis(job.ms))
                    .await
                    .map_err(jobs::JobError::retryable)?;
            }
            tally.record(job.owner);
            Ok(())
        }
    })
}

struct Bench {
    url: String,
    args: Args,
    tally: Arc<Tally>,
}

/// One scenario's numbers, seconds and jobs/s.
#[derive(Debug, Default, Clone, Copy)]
struct Run {
    small_alone: f64,
    big_alone: f64,
    big_alone_rate: f64,
    small_beside: f64,
    both_rate: f64,
}

impl Bench {
    fn settings(turns: bool) -> Settings {
        Settings {
            owner_turns: turns,
            ..Settings::default()
        }
    }

    async fn flush(&self) -> Result<()> {
        let client = redis::Client::open(self.url.as_str())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let () = redis::cmd("FLUSHALL").query_async(&mut conn).await?;
        Ok(())
    }

    async fn start_workers(
        &self,
        turns: bool,
        concurrency: usize,
        n: usize,
    ) -> Result<Vec<jobs::Running>> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(
                jobs::runtime::start(
                    &self.url,
                    Self::settings(turns),
                    registry(self.tally.clone()),
                    vec![QueueSpec {
                        queue: QueueName::new(QUEUE)?,
                        concurrency,
                    }],
                )
                .await?,
            );
        }
        Ok(out)
    }

    async fn enqueue(&self, client: &Client, owner: i64, n: usize, ms: u64) -> Result<()> {
        let options = EnqueueOptions {
            user_id: Some(owner),
            ..EnqueueOptions::default()
        };
        let jobs: Vec<Work> = (0..n).map(|_| Work { owner, ms }).collect();
        for chunk in jobs.chunks(1_000) {
            client.enqueue_bulk_with(chunk, options.clone()).await?;
        }
        Ok(())
    }

    async fn once(&self, turns: bool) -> Result<Run> {
        let a = &self.args;
        let patience = Duration::from_secs(600);
        self.flush().await?;
        self.tally.reset();
        let client = Client::connect(&self.url, Self::settings(turns)).await?;
        let workers = self.start_workers(turns, a.concurrency, a.workers).await?;
        let mut run = Run::default();

        let t = Instant::now();
        self.enqueue(&client, SMALL, a.small, a.job_ms).await?;
        run.small_alone = (self.tally.wait_for(SMALL, a.small, patience).await? - t).as_secs_f64();

        self.tally.reset();
        let t = Instant::now();
        self.enqueue(&client, BIG, a.big, a.job_ms).await?;
        let end = self.tally.wait_for(BIG, a.big, patience).await?;
        run.big_alone = (end - t).as_secs_f64();
        run.big_alone_rate = a.big as f64 / run.big_alone;

        self.tally.reset();
        let t = Instant::now();
        self.enqueue(&client, BIG, a.big, a.job_ms).await?;
        tokio::time::sleep(Duration::from_millis(a.small_after_ms)).await;
        let (big_done, _) = self.tally.count(BIG);
        if big_done >= a.big {
            bail!("the backlog drained before the small owner came: raise --big");
        }
        let ts = Instant::now();
        self.enqueue(&client, SMALL, a.small, a.job_ms).await?;
        run.small_beside =
            (self.tally.wait_for(SMALL, a.small, patience).await? - ts).as_secs_f64();
        let end = self.tally.wait_for(BIG, a.big, patience).await?;
        run.both_rate = (a.big + a.small) as f64 / (end - t).as_secs_f64();

        for w in workers {
            w.shutdown(Duration::from_secs(10)).await;
        }
        Ok(run)
    }

    /// One owner's no-op jobs drained by one worker of 10 slots: jobs/s.
    async fn noop(&self, turns: bool) -> Result<f64> {
        let n = self.args.noop;
        self.flush().await?;
        self.tally.reset();
        let client = Client::connect(&self.url, Self::settings(turns)).await?;
        self.enqueue(&client, BIG, n, 0).await?;
        let t = Instant::now();
        let workers = self.start_workers(turns, 10, 1).await?;
        let end = self
            .tally
            .wait_for(BIG, n, Duration::from_secs(600))
            .await?;
        for w in workers {
            w.shutdown(Duration::from_secs(10)).await;
        }
        Ok(n as f64 / (end - t).as_secs_f64())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    bench::report::quantile(&v, 0.5).unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6390/0".into());
    if url.contains(":6379") && std::env::var("BENCH_ALLOW_PORT_6379").is_err() {
        bail!("refusing to FLUSHALL the Redis on port 6379 (set BENCH_ALLOW_PORT_6379=1)");
    }
    let reps = args.reps.max(1);
    let bench = Bench {
        url,
        args,
        tally: Arc::new(Tally::default()),
    };
    let a = &bench.args;
    eprintln!(
        "fairness: {} workers × {} slots, jobs of {} ms; big owner {} jobs, small owner {} jobs \
         {} ms into the drain; {reps} reps",
        a.workers, a.concurrency, a.job_ms, a.big, a.small, a.small_after_ms
    );
    let mut runs: HashMap<bool, Vec<Run>> = HashMap::new();
    // Alternate the two modes, so a slow moment of the machine hits both alike.
    for rep in 0..reps {
        for turns in [true, false] {
            let run = bench.once(turns).await.context("a fairness run")?;
            eprintln!("rep {rep} turns={turns}: {run:?}");
            runs.entry(turns).or_default().push(run);
        }
    }
    let med = |turns: bool, f: fn(&Run) -> f64| median(runs[&turns].iter().map(f).collect());
    let row = |name: &str, f: fn(&Run) -> f64, fmt: fn(f64) -> String| {
        vec![name.to_owned(), fmt(med(true, f)), fmt(med(false, f))]
    };
    let secs = |v: f64| format!("{v:.3} s");
    let rate = |v: f64| format!("{v:.0}/s");
    let rows = vec![
        row("small owner alone", |r| r.small_alone, secs),
        row("backlog alone", |r| r.big_alone, secs),
        row("backlog alone, throughput", |r| r.big_alone_rate, rate),
        row("small owner beside the backlog", |r| r.small_beside, secs),
        row("backlog + small, throughput", |r| r.both_rate, rate),
    ];
    println!(
        "{}",
        table(
            &["median", "owners take turns", "first come first served"],
            &[Align::Left, Align::Right, Align::Right],
            &rows,
        )
    );
    let ratio = med(true, |r| r.small_beside) / med(true, |r| r.small_alone);
    let fifo_ratio = med(false, |r| r.small_beside) / med(false, |r| r.small_alone);
    let kept = med(true, |r| r.both_rate) / med(false, |r| r.both_rate);
    println!(
        "small owner beside the backlog / alone: {ratio:.2}× with turns (target ≤ 2×), \
         {fifo_ratio:.1}× first come first served"
    );
    println!(
        "throughput of the drain with turns / first come first served: {:.1}% (target ≥ 90%)",
        kept * 100.0
    );
    if bench.args.noop > 0 {
        let mut on = Vec::new();
        let mut off = Vec::new();
        for _ in 0..reps {
            on.push(bench.noop(true).await?);
            off.push(bench.noop(false).await?);
        }
        eprintln!("noop turns on {on:?}, off {off:?}");
        println!(
            "no-op jobs of one owner, one worker of 10 slots: {:.0}/s with turns, {:.0}/s without",
            median(on),
            median(off)
        );
    }
    Ok(())
}
