//! `bench-run`: the benchmark driver behind `just bench`.
//!
//! It runs the workloads W1–W5 listed below (the benchmark contract) against the
//! private redis-server that the `just bench` recipe starts (`REDIS_URL`, default
//! `redis://127.0.0.1:6390/0`), and prints one plain-text table of medians on stdout.
//! Per-repetition raw numbers and progress go to stderr.
//!
//! It drives two release binaries that live next to this executable (override the directory
//! with `BENCH_BIN_DIR`):
//!
//! * `bench-enqueue noop N`, `bench-enqueue sleep N`, `bench-enqueue lat N INTERVAL_MS` and
//!   `bench-enqueue noop-scheduled N DELAY_MS`, each printing `enqueue_seconds=S` on stdout;
//! * `workers bench --concurrency C`, a worker on queue `bench` that runs until SIGTERM
//!   (started with `RUST_LOG=warn`; its stdout and stderr are sent to our stderr).
//!
//! Workloads (N, C and timings exactly as in the contract):
//!
//! * W1: FLUSHALL, enqueue 20,000 `noop`, start one worker at C = 10, poll `GET bench:done`
//!   every 5 ms: enqueue/s, drain/s (spawn to done = N) and steady/s (from the first poll that
//!   saw done > 0).
//! * W2: the same with 5,000 `sleep` (20 ms) jobs at C = 50: efficiency against the ideal 2.0 s.
//! * W3: pickup latency of 500 `lat` jobs sent 10 ms apart to an idle worker: p50 / p99
//!   (inclusive quantiles, linear interpolation).
//! * W4: backlog of 1,000,000 `noop` plus 100,000 scheduled 1 s ahead, drained by 2 workers at
//!   C = 50: lost jobs, worker RSS (peak, at 25 % and at 100 % progress) and Redis
//!   `used_memory` against the post-FLUSHALL baseline. Run once (it is long).
//! * W5: W1 with 1, 2 and 4 worker processes at C = 10 each: steady/s and the 2w/1w ratio.
//!
//! W1, W2, W3 and W5 run `--reps` times (default 3) and report medians. Every wait has a
//! timeout, worker liveness is checked while waiting, and workers are stopped (SIGTERM, then
//! SIGKILL after 10 s) on every exit path, including errors and SIGINT/SIGTERM of the driver.
//! Because every repetition starts with FLUSHALL, the driver refuses to run against a server
//! listening on port 6379 unless `BENCH_ALLOW_PORT_6379=1` is set.
//!
//! Usage: `bench-run [W1 W2 W3 W4 W5 ...] [--reps N]` (no workload given: all of them).
//! The exit status is non-zero if a workload failed (a target missed is not a failure).

use std::collections::BTreeSet;
use std::fmt;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bench::report::{quantile, table};
use tokio::process::{Child, Command};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::MissedTickBehavior;

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6390/0";
const DONE_KEY: &str = "bench:done";
const LAT_KEY: &str = "bench:lat";
const ENQUEUE_BIN: &str = "bench-enqueue";
const WORKER_BIN: &str = "workers";

const W1_N: u64 = 20_000;
const W1_C: u32 = 10;
const W2_N: u64 = 5_000;
const W2_C: u32 = 50;
const W2_IDEAL_SECONDS: f64 = 2.0;
const W3_C: u32 = 10;
const W3_N: u64 = 500;
const W3_INTERVAL_MS: u64 = 10;
const W4_N: u64 = 1_000_000;
const W4_SCHEDULED: u64 = 100_000;
const W4_DELAY_MS: u64 = 1_000;
const W4_WORKERS: usize = 2;
const W4_C: u32 = 50;
const W5_C: u32 = 10;
const W5_WORKERS: [usize; 3] = [1, 2, 4];

const TARGET_W1_ENQUEUE: f64 = 150_000.0;
const TARGET_W1_STEADY: f64 = 45_000.0;
const TARGET_W2_STEADY_EFF: f64 = 0.97;
const TARGET_W3_P50_MS: f64 = 0.5;
const TARGET_W3_P99_MS: f64 = 1.0;
const TARGET_W5_RATIO: f64 = 1.6;
/// RSS counts as flat when RSS at 100 % ≤ this factor × RSS at 25 % (+ `RSS_SLACK_KIB`).
const RSS_FLAT_FACTOR: f64 = 1.2;
const RSS_SLACK_KIB: u64 = 4 * 1024;
/// Redis memory counts as back to baseline within this many KiB.
const MEM_TOLERANCE_KIB: u64 = 512;

const POLL_EVERY: Duration = Duration::from_millis(5);
const RSS_EVERY: Duration = Duration::from_millis(100);
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(120);
const W4_ENQUEUE_TIMEOUT: Duration = Duration::from_secs(300);
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);
const W3_WAIT_TIMEOUT: Duration = Duration::from_secs(30);
const W3_IDLE: Duration = Duration::from_secs(1);
const W4_DRAIN_TIMEOUT: Duration = Duration::from_secs(300);
const W4_MEM_SETTLE: Duration = Duration::from_secs(5);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

const USAGE: &str = "usage: bench-run [W1 W2 W3 W4 W5 ...] [--reps N]

Runs the AstroGrowth queue workloads W1–W5 (default: all) and prints a table
of medians on stdout (per-rep numbers on stderr).

environment:
  REDIS_URL       Redis to benchmark against (default redis://127.0.0.1:6390/0); it is FLUSHed
  BENCH_BIN_DIR   directory holding bench-enqueue and workers (default: next to bench-run)
  BENCH_ALLOW_PORT_6379=1  allow running against a server on port 6379
  BENCH_W1_N      jobs per W1/W5 repetition (default 20000; fewer only to check a setup runs,
                  the targets are for 20000)
  On a Redis Cluster (REDIS_URL=redis+cluster://...) only W1 and W5 run, spread over one
  queue per master.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let cfg = match parse_args(std::env::args().skip(1))? {
        Some(cfg) => cfg,
        None => {
            println!("{USAGE}");
            return Ok(());
        }
    };
    check_binaries(&cfg)?;
    let mut sigterm = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;

    let mut bench = Bench::connect(cfg).await?;
    let mut report = Report::default();
    let interrupted = tokio::select! {
        () = bench.run_all(&mut report) => None,
        _ = sigterm.recv() => Some("SIGTERM"),
        _ = sigint.recv() => Some("SIGINT"),
    };
    // Leaving the select dropped any running workload, and with it its workers
    // (spawned with kill_on_drop).
    if let Some(sig) = interrupted {
        eprintln!("bench-run: interrupted by {sig}; workers killed, partial results below");
    }
    report.print(&bench.header());
    if let Some(sig) = interrupted {
        bail!("interrupted by {sig}");
    }
    if report.failures > 0 {
        bail!(
            "{} workload(s) failed (see the table and stderr)",
            report.failures
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Workload {
    W1,
    W2,
    W3,
    W4,
    W5,
}

impl Workload {
    const ALL: [Workload; 5] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|w| w.name().eq_ignore_ascii_case(s))
    }

    fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
        }
    }
}

struct Config {
    redis_url: String,
    bin_dir: PathBuf,
    reps: usize,
    workloads: BTreeSet<Workload>,
}

/// Parses the command line; `None` means help was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Config>> {
    let mut workloads = BTreeSet::new();
    let mut reps = 3usize;
    while let Some(arg) = args.next() {
        let reps_value = if arg == "--reps" {
            Some(
                args.next()
                    .ok_or_else(|| anyhow!("--reps needs a value\n{USAGE}"))?,
            )
        } else {
            arg.strip_prefix("--reps=").map(str::to_owned)
        };
        if let Some(v) = reps_value {
            reps = v
                .parse()
                .with_context(|| format!("--reps expects a positive integer, got {v:?}"))?;
            if reps == 0 {
                bail!("--reps must be at least 1");
            }
        } else if arg == "-h" || arg == "--help" {
            return Ok(None);
        } else if let Some(w) = Workload::parse(&arg) {
            workloads.insert(w);
        } else {
            bail!("unknown argument {arg:?}\n{USAGE}");
        }
    }
    if workloads.is_empty() {
        workloads.extend(Workload::ALL);
    }
    let redis_url = std::env::var("REDIS_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned());
    let bin_dir = match std::env::var_os("BENCH_BIN_DIR").filter(|s| !s.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()
            .context("locating the bench-run executable")?
            .parent()
            .ok_or_else(|| anyhow!("the bench-run executable has no parent directory"))?
            .to_path_buf(),
    };
    Ok(Some(Config {
        redis_url,
        bin_dir,
        reps,
        workloads,
    }))
}

fn check_binaries(cfg: &Config) -> Result<()> {
    for bin in [ENQUEUE_BIN, WORKER_BIN] {
        let path = cfg.bin_dir.join(bin);
        if !path.is_file() {
            bail!(
                "{} not found (build with `cargo build --release`, or set BENCH_BIN_DIR)",
                path.display()
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The driver

struct Bench {
    cfg: Config,
    con: jobs::Conn,
    redis_version: String,
    /// `BENCH_QUEUES` for the producer and the workers: on a Redis Cluster one queue per
    /// master, so the load spreads over all of them; empty (queue `bench`) on one server.
    queues: String,
}

/// What a poll loop waits on.
#[derive(Clone, Copy)]
enum Probe {
    /// `GET bench:done`
    Done,
    /// `LLEN bench:lat`
    LatLen,
}

enum Outcome {
    Reached,
    TimedOut,
    WorkerExited(String),
}

struct PollResult {
    outcome: Outcome,
    /// Last value seen.
    count: u64,
    /// Seconds since t0 of the last poll.
    last_t: f64,
    /// First poll that saw a count > 0: (seconds since t0, count).
    first_nonzero: Option<(f64, u64)>,
}

impl PollResult {
    /// Turns anything but `Reached` into an error.
    fn reached(self, what: &str, target: u64) -> Result<Self> {
        match &self.outcome {
            Outcome::Reached => Ok(self),
            Outcome::TimedOut => bail!(
                "{what}: timed out at {}/{target} after {:.1} s",
                self.count,
                self.last_t
            ),
            Outcome::WorkerExited(msg) => bail!(
                "{what}: {msg} (count {}/{target} at {:.1} s)",
                self.count,
                self.last_t
            ),
        }
    }
}

/// One repetition of a throughput workload (W1, W2, W5).
struct ThroughputRep {
    n: u64,
    enqueue_seconds: f64,
    drain_seconds: f64,
    /// Jobs/s from the first poll that saw done > 0 until done = N; `None` if that first poll
    /// already saw N.
    steady_rate: Option<f64>,
}

impl ThroughputRep {
    fn enqueue_rate(&self) -> Option<f64> {
        rate(self.n as f64, self.enqueue_seconds)
    }

    fn drain_rate(&self) -> Option<f64> {
        rate(self.n as f64, self.drain_seconds)
    }
}

impl Bench {
    async fn connect(cfg: Config) -> Result<Self> {
        let cluster = jobs::connection::cluster_nodes(&cfg.redis_url)
            .with_context(|| format!("bad REDIS_URL {:?}", cfg.redis_url))?
            .is_some();
        if cluster
            && let Some(w) = cfg
                .workloads
                .iter()
                .find(|w| !matches!(w, Workload::W1 | Workload::W5))
        {
            bail!(
                "{} needs one server (it reads INFO memory or one list of latencies); on a \
                 Redis Cluster bench-run runs W1 and W5",
                w.name()
            );
        }
        let mut con = jobs::connect(&cfg.redis_url, REDIS_RESPONSE_TIMEOUT)
            .await
            .with_context(|| format!("connecting to {}", cfg.redis_url))?;
        // INFO from one node (the server itself, or the first seed of a cluster): a cluster
        // connection would fan it out to every node.
        let first = jobs::connection::pubsub_urls(&cfg.redis_url)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("REDIS_URL names no node"))?;
        let mut node = redis::Client::open(first.as_str())
            .with_context(|| format!("bad REDIS_URL {:?}", cfg.redis_url))?
            .get_multiplexed_async_connection()
            .await
            .with_context(|| format!("connecting to {first}"))?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut node)
            .await
            .context("INFO server")?;
        let redis_version = info_field(&info, "redis_version").unwrap_or("?").to_owned();
        if info_field(&info, "tcp_port") == Some("6379")
            && std::env::var("BENCH_ALLOW_PORT_6379").as_deref() != Ok("1")
        {
            bail!(
                "{} is a server on port 6379; bench-run FLUSHALLs it, so it refuses to run \
                 there (set BENCH_ALLOW_PORT_6379=1 to override)",
                cfg.redis_url
            );
        }
        let queues = if cluster {
            let queues = one_queue_per_master(&mut con).await?;
            eprintln!("  cluster: bench queues {queues} (one per master)");
            queues
        } else {
            String::new()
        };
        Ok(Self {
            cfg,
            con,
            redis_version,
            queues,
        })
    }

    fn header(&self) -> String {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        format!(
            "AstroGrowth bench: redis {} at {}, {cpus} CPUs, medians of {} rep(s) (W4 runs once)",
            self.redis_version, self.cfg.redis_url, self.cfg.reps
        )
    }

    async fn run_all(&mut self, report: &mut Report) {
        let workloads: Vec<Workload> = self.cfg.workloads.iter().copied().collect();
        for w in workloads {
            eprintln!("== {} ==", w.name());
            let started = Instant::now();
            let result = match w {
                Workload::W1 => self.w1(report).await,
                Workload::W2 => self.w2(report).await,
                Workload::W3 => self.w3(report).await,
                Workload::W4 => self.w4(report).await,
                Workload::W5 => self.w5(report).await,
            };
            match result {
                Ok(()) => eprintln!(
                    "== {} done in {:.1} s ==",
                    w.name(),
                    started.elapsed().as_secs_f64()
                ),
                Err(e) => {
                    eprintln!("== {} FAILED: {e:#}", w.name());
                    report.error(w.name(), &e);
                }
            }
        }
    }

    // --- W1 ----------------------------------------------------------------------------------

    async fn w1(&mut self, report: &mut Report) -> Result<()> {
        let mut results = Vec::new();
        for rep in 1..=self.cfg.reps {
            let r = self
                .throughput_rep("W1", rep, "noop", w1_n(), 1, W1_C)
                .await;
            results.push(r);
        }
        let reps = collect_reps(report, "W1", results)?;
        let enqueue = median(reps.iter().filter_map(ThroughputRep::enqueue_rate));
        let drain = median(reps.iter().filter_map(ThroughputRep::drain_rate));
        let steady = median(reps.iter().filter_map(|r| r.steady_rate));
        report.row(
            "W1",
            "enqueue/s",
            fmt_opt(enqueue, fmt_count),
            format!(">= {}", fmt_count(TARGET_W1_ENQUEUE)),
            Verdict::at_least(enqueue, TARGET_W1_ENQUEUE),
        );
        report.row(
            "W1",
            "drain/s",
            fmt_opt(drain, fmt_count),
            "-".into(),
            Verdict::Info,
        );
        report.row(
            "W1",
            "steady/s",
            fmt_opt(steady, fmt_count),
            format!(">= {}", fmt_count(TARGET_W1_STEADY)),
            Verdict::at_least(steady, TARGET_W1_STEADY),
        );
        Ok(())
    }

    // --- W2 ----------------------------------------------------------------------------------

    async fn w2(&mut self, report: &mut Report) -> Result<()> {
        let mut results = Vec::new();
        for rep in 1..=self.cfg.reps {
            let r = self.throughput_rep("W2", rep, "sleep", W2_N, 1, W2_C).await;
            if let Ok(r) = &r {
                eprintln!(
                    "  W2 rep {rep}: eff {}, steady eff {}",
                    fmt_pct(W2_IDEAL_SECONDS / r.drain_seconds),
                    fmt_opt(r.steady_rate.map(|s| w2_steady_eff(s, r.n)), fmt_pct)
                );
            }
            results.push(r);
        }
        let reps = collect_reps(report, "W2", results)?;
        let eff = median(reps.iter().map(|r| W2_IDEAL_SECONDS / r.drain_seconds));
        let steady_eff = median(
            reps.iter()
                .filter_map(|r| r.steady_rate.map(|s| w2_steady_eff(s, r.n))),
        );
        report.row(
            "W2",
            "drain eff",
            fmt_opt(eff, fmt_pct),
            "-".into(),
            Verdict::Info,
        );
        report.row(
            "W2",
            "steady eff",
            fmt_opt(steady_eff, fmt_pct),
            format!(">= {:.0}%", TARGET_W2_STEADY_EFF * 100.0),
            Verdict::at_least(steady_eff, TARGET_W2_STEADY_EFF),
        );
        Ok(())
    }

    // --- W3 ----------------------------------------------------------------------------------

    async fn w3(&mut self, report: &mut Report) -> Result<()> {
        let mut results = Vec::new();
        for rep in 1..=self.cfg.reps {
            let r = self.w3_rep(rep).await;
            results.push(r);
        }
        let reps = collect_reps(report, "W3", results)?;
        let p50 = median(reps.iter().map(|r| r.0));
        let p99 = median(reps.iter().map(|r| r.1));
        report.row(
            "W3",
            "p50 ms",
            fmt_opt(p50, fmt_ms),
            format!("<= {TARGET_W3_P50_MS:.1}"),
            Verdict::at_most(p50, TARGET_W3_P50_MS),
        );
        report.row(
            "W3",
            "p99 ms",
            fmt_opt(p99, fmt_ms),
            format!("<= {TARGET_W3_P99_MS:.1}"),
            Verdict::at_most(p99, TARGET_W3_P99_MS),
        );
        Ok(())
    }

    /// One W3 repetition: returns (p50 ms, p99 ms).
    async fn w3_rep(&mut self, rep: usize) -> Result<(f64, f64)> {
        self.flushall().await?;
        let t0 = Instant::now();
        let mut workers = self.spawn_workers(1, W3_C)?;
        let measured = self.w3_measure(t0, &mut workers).await;
        workers.stop().await;
        let mut lat = measured?;
        lat.sort_by(f64::total_cmp);
        let p50 = quantile(&lat, 0.50).ok_or_else(|| anyhow!("no latencies"))?;
        let p99 = quantile(&lat, 0.99).ok_or_else(|| anyhow!("no latencies"))?;
        let min = lat.first().copied().unwrap_or(f64::NAN);
        let max = lat.last().copied().unwrap_or(f64::NAN);
        eprintln!(
            "  W3 rep {rep}: p50 {} ms, p99 {} ms (min {} ms, max {} ms, n = {})",
            fmt_ms(p50),
            fmt_ms(p99),
            fmt_ms(min),
            fmt_ms(max),
            lat.len()
        );
        Ok((p50, p99))
    }

    async fn w3_measure(&mut self, t0: Instant, workers: &mut Workers) -> Result<Vec<f64>> {
        self.enqueue(&["noop", "1"], ENQUEUE_TIMEOUT).await?;
        self.poll_until(Probe::Done, 1, t0, W3_WAIT_TIMEOUT, workers, &mut |_, _| {})
            .await?
            .reached("W3 warm-up job", 1)?;
        tokio::time::sleep(W3_IDLE).await;
        workers.check_alive()?;
        let n = W3_N.to_string();
        let interval = W3_INTERVAL_MS.to_string();
        self.enqueue(&["lat", &n, &interval], ENQUEUE_TIMEOUT)
            .await?;
        let t_lat = Instant::now();
        self.poll_until(
            Probe::LatLen,
            W3_N,
            t_lat,
            W3_WAIT_TIMEOUT,
            workers,
            &mut |_, _| {},
        )
        .await?
        .reached("W3 lat jobs", W3_N)?;
        let raw: Vec<String> = redis::cmd("LRANGE")
            .arg(LAT_KEY)
            .arg(0)
            .arg(-1)
            .query_async(&mut self.con)
            .await
            .context("LRANGE bench:lat")?;
        if raw.len() as u64 != W3_N {
            eprintln!(
                "  WARN: {LAT_KEY} holds {} entries, expected {W3_N} (duplicate execution?)",
                raw.len()
            );
        }
        raw.iter()
            .map(|s| {
                s.trim()
                    .parse::<f64>()
                    .with_context(|| format!("{LAT_KEY} entry {s:?} is not a number"))
            })
            .collect()
    }

    // --- W4 ----------------------------------------------------------------------------------

    async fn w4(&mut self, report: &mut Report) -> Result<()> {
        let expected = W4_N + W4_SCHEDULED;
        self.flushall().await?;
        let mem_base = self.used_memory().await?;
        eprintln!("  W4 redis used_memory baseline: {} KiB", mem_base / 1024);

        let n = W4_N.to_string();
        let enq = self.enqueue(&["noop", &n], W4_ENQUEUE_TIMEOUT).await?;
        eprintln!(
            "  W4 enqueued {} noop in {enq:.3} s ({}/s)",
            fmt_count(W4_N as f64),
            fmt_opt(rate(W4_N as f64, enq), fmt_count)
        );
        let ns = W4_SCHEDULED.to_string();
        let delay = W4_DELAY_MS.to_string();
        let enq_s = self
            .enqueue(&["noop-scheduled", &ns, &delay], W4_ENQUEUE_TIMEOUT)
            .await?;
        eprintln!(
            "  W4 enqueued {} noop scheduled {W4_DELAY_MS} ms ahead in {enq_s:.3} s",
            fmt_count(W4_SCHEDULED as f64)
        );
        let mem_full = self.used_memory().await?;
        eprintln!(
            "  W4 redis used_memory with backlog: {} KiB",
            mem_full / 1024
        );

        let t0 = Instant::now();
        let mut workers = self.spawn_workers(W4_WORKERS, W4_C)?;
        let mut rss = RssTracker::new(workers.pids(), expected);
        let polled = self
            .poll_until(
                Probe::Done,
                expected,
                t0,
                W4_DRAIN_TIMEOUT,
                &mut workers,
                &mut |t, c| rss.on_poll(t, c),
            )
            .await;
        let polled = match polled {
            Ok(p) => p,
            Err(e) => {
                workers.stop().await;
                return Err(e);
            }
        };
        let at_end = rss.sample();
        let reached = matches!(polled.outcome, Outcome::Reached);
        let drain_seconds = polled.last_t;

        // Memory back to baseline? Measured with the workers still running (idle).
        let mut mem_after = None;
        if reached {
            let settle = Instant::now();
            loop {
                let m = match self.used_memory().await {
                    Ok(m) => m,
                    Err(e) => {
                        workers.stop().await;
                        return Err(e);
                    }
                };
                mem_after = Some(m);
                if m <= mem_base + MEM_TOLERANCE_KIB * 1024 || settle.elapsed() >= W4_MEM_SETTLE {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let done_final = match self.get_done().await {
            Ok(d) => d,
            Err(e) => {
                workers.stop().await;
                return Err(e);
            }
        };
        if let Err(e) = self.log_leftover_keys().await {
            eprintln!("  W4 could not list leftover keys: {e:#}");
        }
        workers.stop().await;
        match self.used_memory().await {
            Ok(m) => eprintln!(
                "  W4 redis used_memory after stopping workers: {} KiB",
                m / 1024
            ),
            Err(e) => eprintln!("  W4 INFO memory failed: {e:#}"),
        }

        // Report.
        let status = match &polled.outcome {
            Outcome::Reached => None,
            Outcome::TimedOut => Some(format!("timed out after {} s", W4_DRAIN_TIMEOUT.as_secs())),
            Outcome::WorkerExited(msg) => Some(msg.clone()),
        };
        eprintln!(
            "  W4 drain: done {done_final}/{expected} after {drain_seconds:.2} s{}",
            status
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        );
        if let Some(s) = &status {
            report.row(
                "W4",
                "drain",
                format!("FAILED: {s}"),
                "completes".into(),
                Verdict::Fail,
            );
            report.failures += 1;
        } else {
            report.row(
                "W4",
                "drain s (jobs/s)",
                format!(
                    "{drain_seconds:.1} ({})",
                    fmt_opt(rate(expected as f64, drain_seconds), fmt_count)
                ),
                "-".into(),
                Verdict::Info,
            );
        }
        let (lost_text, lost_ok) = if done_final > expected {
            (
                format!("0 (+{} executed twice)", done_final - expected),
                false,
            )
        } else {
            let lost = expected - done_final;
            (fmt_count(lost as f64), lost == 0)
        };
        report.row(
            "W4",
            "lost",
            lost_text,
            "0".into(),
            if lost_ok {
                Verdict::Pass
            } else {
                Verdict::Miss
            },
        );
        report.row(
            "W4",
            "peak RSS MiB (w1/w2)",
            rss.peak
                .iter()
                .map(|&k| fmt_mib(k))
                .collect::<Vec<_>>()
                .join(" / "),
            "flat".into(),
            Verdict::Info,
        );
        let flat = rss.is_flat(&at_end);
        report.row(
            "W4",
            "RSS MiB 25%->100%",
            rss.describe_25_100(&at_end),
            format!("<= {RSS_FLAT_FACTOR}x"),
            match flat {
                Some(true) => Verdict::Pass,
                Some(false) => Verdict::Miss,
                None => Verdict::Info,
            },
        );
        let mem_ok = mem_after.map(|m| m <= mem_base + MEM_TOLERANCE_KIB * 1024);
        report.row(
            "W4",
            "redis mem KiB base/after",
            format!(
                "{} / {}",
                fmt_count((mem_base / 1024) as f64),
                mem_after.map_or_else(|| "n/a".to_owned(), |m| fmt_count((m / 1024) as f64))
            ),
            format!("<= base+{MEM_TOLERANCE_KIB}"),
            match mem_ok {
                Some(true) => Verdict::Pass,
                Some(false) => Verdict::Miss,
                None => Verdict::Info,
            },
        );
        Ok(())
    }

    async fn log_leftover_keys(&mut self) -> Result<()> {
        let dbsize: u64 = redis::cmd("DBSIZE")
            .query_async(&mut self.con)
            .await
            .context("DBSIZE")?;
        let (_cursor, keys): (String, Vec<String>) = redis::cmd("SCAN")
            .arg(0)
            .arg("COUNT")
            .arg(100)
            .query_async(&mut self.con)
            .await
            .context("SCAN")?;
        let shown: Vec<&str> = keys.iter().take(20).map(String::as_str).collect();
        eprintln!(
            "  W4 at end: {dbsize} key(s) in db, e.g. {}",
            shown.join(", ")
        );
        Ok(())
    }

    // --- W5 ----------------------------------------------------------------------------------

    async fn w5(&mut self, report: &mut Report) -> Result<()> {
        let mut per_count: Vec<Vec<Result<ThroughputRep>>> =
            W5_WORKERS.iter().map(|_| Vec::new()).collect();
        // Interleave worker counts within each repetition so drift hits them all alike.
        for rep in 1..=self.cfg.reps {
            for (i, &k) in W5_WORKERS.iter().enumerate() {
                let label = format!("W5 {k}w");
                let r = self
                    .throughput_rep(&label, rep, "noop", w1_n(), k, W5_C)
                    .await;
                if let Some(v) = per_count.get_mut(i) {
                    v.push(r);
                }
            }
        }
        let mut steady = Vec::new();
        for (results, &k) in per_count.into_iter().zip(W5_WORKERS.iter()) {
            let reps = collect_reps(report, &format!("W5 {k}w"), results)?;
            steady.push(median(reps.iter().filter_map(|r| r.steady_rate)));
        }
        report.row(
            "W5",
            "steady/s 1w/2w/4w",
            steady
                .iter()
                .map(|s| fmt_opt(*s, fmt_count))
                .collect::<Vec<_>>()
                .join(" / "),
            "-".into(),
            Verdict::Info,
        );
        let one = steady.first().copied().flatten();
        let two = steady.get(1).copied().flatten();
        let four = steady.get(2).copied().flatten();
        let ratio2 = one.zip(two).and_then(|(a, b)| rate(b, a));
        let ratio4 = one.zip(four).and_then(|(a, b)| rate(b, a));
        report.row(
            "W5",
            "2w/1w",
            fmt_opt(ratio2, fmt_ratio),
            format!(">= {TARGET_W5_RATIO:.1}x"),
            Verdict::at_least(ratio2, TARGET_W5_RATIO),
        );
        report.row(
            "W5",
            "4w/1w",
            fmt_opt(ratio4, fmt_ratio),
            "-".into(),
            Verdict::Info,
        );
        Ok(())
    }

    // --- shared pieces -------------------------------------------------------------------------

    /// FLUSHALL, enqueue `n` jobs of `kind`, start `workers` workers at concurrency `c` and
    /// time the drain by polling `GET bench:done` every 5 ms.
    async fn throughput_rep(
        &mut self,
        label: &str,
        rep: usize,
        kind: &str,
        n: u64,
        workers: usize,
        c: u32,
    ) -> Result<ThroughputRep> {
        self.flushall().await?;
        let n_arg = n.to_string();
        let enqueue_seconds = self.enqueue(&[kind, &n_arg], ENQUEUE_TIMEOUT).await?;
        let t0 = Instant::now();
        let mut procs = self.spawn_workers(workers, c)?;
        let polled = self
            .poll_until(
                Probe::Done,
                n,
                t0,
                DRAIN_TIMEOUT,
                &mut procs,
                &mut |_, _| {},
            )
            .await;
        procs.stop().await;
        let polled = polled?.reached(&format!("{label} drain"), n)?;
        let done_after = self.get_done().await?;
        if done_after > n {
            eprintln!(
                "  WARN {label} rep {rep}: {DONE_KEY} = {done_after} > {n} (jobs executed twice)"
            );
        }
        let drain_seconds = polled.last_t;
        let steady_rate = polled.first_nonzero.and_then(|(t1, c1)| {
            if c1 >= n {
                None
            } else {
                rate((n - c1) as f64, drain_seconds - t1)
            }
        });
        let r = ThroughputRep {
            n,
            enqueue_seconds,
            drain_seconds,
            steady_rate,
        };
        let (t1, c1) = polled.first_nonzero.unwrap_or((f64::NAN, 0));
        eprintln!(
            "  {label} rep {rep}: enqueue {enqueue_seconds:.3} s ({}/s), drain {drain_seconds:.3} s \
             ({}/s), steady {}/s (first done = {c1} at {t1:.3} s)",
            fmt_opt(r.enqueue_rate(), fmt_count),
            fmt_opt(r.drain_rate(), fmt_count),
            fmt_opt(steady_rate, fmt_count),
        );
        Ok(r)
    }

    /// Polls `probe` every 5 ms until it reaches `target`, the timeout passes or a worker dies.
    /// `on_poll` sees (seconds since `t0`, count) after every poll.
    async fn poll_until(
        &mut self,
        probe: Probe,
        target: u64,
        t0: Instant,
        timeout: Duration,
        workers: &mut Workers,
        on_poll: &mut dyn FnMut(f64, u64),
    ) -> Result<PollResult> {
        let started = Instant::now();
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut first_nonzero = None;
        loop {
            tick.tick().await;
            let count = match probe {
                Probe::Done => self.get_done().await?,
                Probe::LatLen => self.llen(LAT_KEY).await?,
            };
            let t = t0.elapsed().as_secs_f64();
            on_poll(t, count);
            if count > 0 && first_nonzero.is_none() {
                first_nonzero = Some((t, count));
            }
            let outcome = if count >= target {
                Some(Outcome::Reached)
            } else if let Err(e) = workers.check_alive() {
                Some(Outcome::WorkerExited(format!("{e:#}")))
            } else if started.elapsed() >= timeout {
                Some(Outcome::TimedOut)
            } else {
                None
            };
            if let Some(outcome) = outcome {
                return Ok(PollResult {
                    outcome,
                    count,
                    last_t: t,
                    first_nonzero,
                });
            }
        }
    }

    async fn enqueue(&self, args: &[&str], timeout: Duration) -> Result<f64> {
        let exe = self.cfg.bin_dir.join(ENQUEUE_BIN);
        let shown = format!("{ENQUEUE_BIN} {}", args.join(" "));
        let child = Command::new(&exe)
            .args(args)
            .env("REDIS_URL", &self.cfg.redis_url)
            .env("BENCH_QUEUES", &self.queues)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(timeout, child)
            .await
            .map_err(|_| anyhow!("`{shown}` timed out after {} s", timeout.as_secs()))?
            .with_context(|| format!("running {}", exe.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "`{shown}` failed ({}); stdout: {:?}",
                out.status,
                stdout.trim()
            );
        }
        parse_enqueue_seconds(&stdout).with_context(|| format!("output of `{shown}`"))
    }

    fn spawn_workers(&self, count: usize, concurrency: u32) -> Result<Workers> {
        let exe = self.cfg.bin_dir.join(WORKER_BIN);
        let mut workers = Workers { procs: Vec::new() };
        for _ in 0..count {
            // The worker's stdout goes to our stderr: stdout is reserved for the table.
            let stdout = std::io::stderr()
                .as_fd()
                .try_clone_to_owned()
                .context("duplicating stderr")?;
            let child = Command::new(&exe)
                .arg("bench")
                .arg("--concurrency")
                .arg(concurrency.to_string())
                .env("REDIS_URL", &self.cfg.redis_url)
                .env("BENCH_QUEUES", &self.queues)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::from(stdout))
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .with_context(|| format!("starting {}", exe.display()))?;
            let pid = child
                .id()
                .ok_or_else(|| anyhow!("worker exited before its pid was read"))?;
            workers.procs.push(WorkerProc { pid, child });
        }
        Ok(workers)
    }

    async fn flushall(&mut self) -> Result<()> {
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut self.con)
            .await
            .context("FLUSHALL")
    }

    async fn get_done(&mut self) -> Result<u64> {
        let v: Option<i64> = redis::cmd("GET")
            .arg(DONE_KEY)
            .query_async(&mut self.con)
            .await
            .with_context(|| format!("GET {DONE_KEY}"))?;
        Ok(v.unwrap_or(0).max(0) as u64)
    }

    async fn llen(&mut self, key: &str) -> Result<u64> {
        redis::cmd("LLEN")
            .arg(key)
            .query_async(&mut self.con)
            .await
            .with_context(|| format!("LLEN {key}"))
    }

    /// `used_memory` from `INFO memory`, in bytes.
    async fn used_memory(&mut self) -> Result<u64> {
        let info: String = redis::cmd("INFO")
            .arg("memory")
            .query_async(&mut self.con)
            .await
            .context("INFO memory")?;
        info_field(&info, "used_memory")
            .ok_or_else(|| anyhow!("INFO memory has no used_memory"))?
            .parse()
            .context("parsing used_memory")
    }
}

/// Queue names `bench-N`, the first whose keys (`ag:{bench-N}:...`) land on each master of
/// the cluster, comma-separated: the cluster's own slot map decides, not a guess.
async fn one_queue_per_master(con: &mut jobs::Conn) -> Result<String> {
    let slots: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(con)
        .await
        .context("CLUSTER SLOTS")?;
    // (first slot, last slot, master port) per range.
    let mut ranges = Vec::new();
    for range in &slots {
        let (Some(redis::Value::Int(a)), Some(redis::Value::Int(b)), Some(redis::Value::Array(m))) =
            (range.first(), range.get(1), range.get(2))
        else {
            bail!("unexpected CLUSTER SLOTS reply: {range:?}");
        };
        let Some(redis::Value::Int(port)) = m.get(1) else {
            bail!("unexpected CLUSTER SLOTS master: {m:?}");
        };
        ranges.push((*a, *b, *port));
    }
    let mut masters: Vec<i64> = ranges.iter().map(|r| r.2).collect();
    masters.sort_unstable();
    masters.dedup();
    let mut chosen: Vec<(i64, String)> = Vec::new();
    for i in 0..1_000 {
        let name = format!("bench-{i}");
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(format!("ag:{{{name}}}:stream"))
            .query_async(con)
            .await
            .context("CLUSTER KEYSLOT")?;
        let Some(&(_, _, port)) = ranges.iter().find(|r| r.0 <= slot && slot <= r.1) else {
            continue;
        };
        if !chosen.iter().any(|(p, _)| *p == port) {
            chosen.push((port, name));
        }
        if chosen.len() == masters.len() {
            break;
        }
    }
    Ok(chosen
        .into_iter()
        .map(|(_, q)| q)
        .collect::<Vec<_>>()
        .join(","))
}

/// Jobs per W1/W5 repetition: `BENCH_W1_N` or the contract's 20,000.
fn w1_n() -> u64 {
    std::env::var("BENCH_W1_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(W1_N)
}

fn w2_steady_eff(steady_rate: f64, n: u64) -> f64 {
    // 2.0 / (N / steady_rate)
    steady_rate * W2_IDEAL_SECONDS / n as f64
}

fn parse_enqueue_seconds(stdout: &str) -> Result<f64> {
    let values: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("enqueue_seconds="))
        .collect();
    let value = match values.as_slice() {
        [v] => *v,
        [] => bail!("no `enqueue_seconds=S` line in {:?}", stdout.trim()),
        more => bail!("{} `enqueue_seconds=` lines, expected one", more.len()),
    };
    let secs: f64 = value
        .trim()
        .parse()
        .with_context(|| format!("enqueue_seconds={value:?} is not a number"))?;
    if !secs.is_finite() || secs < 0.0 {
        bail!("enqueue_seconds={secs} is out of range");
    }
    Ok(secs)
}

fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// Logs the failed repetitions and returns the good ones; fails if none succeeded.
fn collect_reps<T>(report: &mut Report, workload: &str, results: Vec<Result<T>>) -> Result<Vec<T>> {
    let total = results.len();
    let mut ok = Vec::new();
    let mut first_err = None;
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => {
                eprintln!("  {workload} rep {} FAILED: {e:#}", i + 1);
                first_err.get_or_insert(e);
            }
        }
    }
    if ok.is_empty() {
        return Err(first_err
            .unwrap_or_else(|| anyhow!("no repetitions ran"))
            .context(format!("{workload}: all {total} repetition(s) failed")));
    }
    if ok.len() < total {
        report.row(
            workload,
            "reps ok",
            format!("{}/{total}", ok.len()),
            format!("{total}/{total}"),
            Verdict::Fail,
        );
        report.failures += 1;
    }
    Ok(ok)
}

// ---------------------------------------------------------------------------------------------
// Worker processes

struct WorkerProc {
    pid: u32,
    child: Child,
}

/// Running worker processes. Dropping this kills them (SIGKILL, via `kill_on_drop`);
/// `stop` shuts them down gracefully.
struct Workers {
    procs: Vec<WorkerProc>,
}

impl Workers {
    fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|p| p.pid).collect()
    }

    /// Errors if any worker has exited.
    fn check_alive(&mut self) -> Result<()> {
        for (i, p) in self.procs.iter_mut().enumerate() {
            if let Some(status) = p
                .child
                .try_wait()
                .with_context(|| format!("checking worker pid {}", p.pid))?
            {
                bail!("worker {} (pid {}) exited early: {status}", i + 1, p.pid);
            }
        }
        Ok(())
    }

    /// SIGTERM every worker, wait up to 10 s for all of them, SIGKILL the rest.
    async fn stop(mut self) {
        let started = Instant::now();
        for p in &mut self.procs {
            if matches!(p.child.try_wait(), Ok(Some(_))) {
                continue;
            }
            if let Err(e) = send_sigterm(p.pid).await {
                eprintln!(
                    "  WARN: SIGTERM to worker pid {} failed ({e:#}); killing it",
                    p.pid
                );
                if let Err(e) = p.child.start_kill() {
                    eprintln!("  WARN: SIGKILL to worker pid {} failed: {e}", p.pid);
                }
            }
        }
        let deadline = started + STOP_TIMEOUT;
        let mut statuses = Vec::new();
        for p in &mut self.procs {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, p.child.wait()).await {
                Ok(Ok(status)) => statuses.push(status.to_string()),
                Ok(Err(e)) => statuses.push(format!("wait failed: {e}")),
                Err(_) => {
                    eprintln!(
                        "  WARN: worker pid {} still running {} s after SIGTERM; sending SIGKILL",
                        p.pid,
                        STOP_TIMEOUT.as_secs()
                    );
                    match p.child.kill().await {
                        Ok(()) => statuses.push("SIGKILLed".to_owned()),
                        Err(e) => statuses.push(format!("SIGKILL failed: {e}")),
                    }
                }
            }
        }
        eprintln!(
            "  stopped {} worker(s) in {:.2} s ({})",
            self.procs.len(),
            started.elapsed().as_secs_f64(),
            statuses.join(", ")
        );
    }
}

async fn send_sigterm(pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .status()
        .await
        .context("running kill")?;
    if !status.success() {
        bail!("kill -TERM {pid} exited with {status}");
    }
    Ok(())
}

/// Samples the workers' VmRSS every 100 ms during the W4 drain.
struct RssTracker {
    pids: Vec<u32>,
    /// Peak RSS per worker, KiB.
    peak: Vec<u64>,
    quarter: u64,
    expected: u64,
    at_25: Option<Vec<Option<u64>>>,
    last_sample_t: Option<f64>,
    next_decile: u64,
}

impl RssTracker {
    fn new(pids: Vec<u32>, expected: u64) -> Self {
        let peak = vec![0; pids.len()];
        Self {
            pids,
            peak,
            quarter: expected.div_ceil(4),
            expected,
            at_25: None,
            last_sample_t: None,
            next_decile: 1,
        }
    }

    fn sample(&mut self) -> Vec<Option<u64>> {
        let now: Vec<Option<u64>> = self.pids.iter().map(|&pid| read_rss_kib(pid)).collect();
        for (peak, v) in self.peak.iter_mut().zip(&now) {
            if let Some(v) = v {
                *peak = (*peak).max(*v);
            }
        }
        now
    }

    fn on_poll(&mut self, t: f64, count: u64) {
        let due = self
            .last_sample_t
            .is_none_or(|last| t - last >= RSS_EVERY.as_secs_f64());
        if !due {
            return;
        }
        self.last_sample_t = Some(t);
        let now = self.sample();
        if self.at_25.is_none() && count >= self.quarter {
            self.at_25 = Some(now.clone());
        }
        if self.next_decile < 10 && count * 10 >= self.expected * self.next_decile {
            while self.next_decile < 10 && count * 10 >= self.expected * self.next_decile {
                self.next_decile += 1;
            }
            eprintln!(
                "  W4 {:>3}% done ({count}) at {t:.1} s, RSS MiB {}",
                count * 100 / self.expected.max(1),
                fmt_rss_list(&now)
            );
        }
    }

    fn is_flat(&self, at_end: &[Option<u64>]) -> Option<bool> {
        let at_25 = self.at_25.as_ref()?;
        let mut flat = true;
        for (a, b) in at_25.iter().zip(at_end) {
            let (a, b) = ((*a)?, (*b)?);
            flat &= b as f64 <= a as f64 * RSS_FLAT_FACTOR + RSS_SLACK_KIB as f64;
        }
        Some(flat)
    }

    fn describe_25_100(&self, at_end: &[Option<u64>]) -> String {
        let none = vec![None; self.pids.len()];
        let at_25 = self.at_25.as_deref().unwrap_or(&none);
        at_25
            .iter()
            .zip(at_end)
            .map(|(a, b)| format!("{}->{}", fmt_rss(*a), fmt_rss(*b)))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// VmRSS of a process in KiB, `None` if it is gone.
fn read_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

fn rate(amount: f64, seconds: f64) -> Option<f64> {
    (seconds > 0.0 && seconds.is_finite()).then(|| amount / seconds)
}

/// Median of the finite values; `None` if there are none.
fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return None;
    }
    let hi = v.get(n / 2).copied()?;
    if n % 2 == 1 {
        Some(hi)
    } else {
        let lo = v.get(n / 2 - 1).copied()?;
        Some((lo + hi) / 2.0)
    }
}

fn fmt_opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map_or_else(|| "n/a".to_owned(), f)
}

/// 163201.4 -> "163,201"
fn fmt_count(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let r = v.round();
    let digits = format!("{:.0}", r.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if r < 0.0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn fmt_pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn fmt_ms(v: f64) -> String {
    format!("{v:.2}")
}

fn fmt_ratio(v: f64) -> String {
    format!("{v:.2}x")
}

fn fmt_mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".to_owned(), fmt_mib)
}

fn fmt_rss_list(v: &[Option<u64>]) -> String {
    v.iter()
        .map(|k| fmt_rss(*k))
        .collect::<Vec<_>>()
        .join(" / ")
}

// ---------------------------------------------------------------------------------------------
// The table

#[derive(Clone, Copy)]
enum Verdict {
    Pass,
    Miss,
    Fail,
    Info,
}

impl Verdict {
    fn at_least(v: Option<f64>, min: f64) -> Self {
        match v {
            Some(v) if v >= min => Verdict::Pass,
            Some(_) => Verdict::Miss,
            None => Verdict::Info,
        }
    }

    fn at_most(v: Option<f64>, max: f64) -> Self {
        match v {
            Some(v) if v <= max => Verdict::Pass,
            Some(_) => Verdict::Miss,
            None => Verdict::Info,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "ok",
            Verdict::Miss => "MISS",
            Verdict::Fail => "FAIL",
            Verdict::Info => "",
        })
    }
}

struct Row {
    workload: String,
    metric: String,
    value: String,
    target: String,
    verdict: Verdict,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    failures: usize,
}

impl Report {
    fn row(
        &mut self,
        workload: &str,
        metric: &str,
        value: String,
        target: String,
        verdict: Verdict,
    ) {
        self.rows.push(Row {
            workload: workload.to_owned(),
            metric: metric.to_owned(),
            value,
            target,
            verdict,
        });
    }

    fn error(&mut self, workload: &str, err: &anyhow::Error) {
        self.failures += 1;
        let msg = format!("{err:#}");
        let mut short: String = msg.chars().take(70).collect();
        if short.len() < msg.len() {
            short.push_str("...");
        }
        self.row(workload, "error", short, "-".into(), Verdict::Fail);
    }

    fn print(&self, header: &str) {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.workload.clone(),
                    r.metric.clone(),
                    r.value.clone(),
                    r.target.clone(),
                    r.verdict.to_string(),
                ]
            })
            .collect();
        println!();
        println!("{header}");
        println!(
            "{}",
            table(
                &["workload", "metric", "value", "target", "result"],
                &[],
                &cells
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), Some(2.0));
        assert_eq!(median([4.0, 1.0].into_iter()), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_count(163_201.4), "163,201");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_count(1_000.0), "1,000");
        assert_eq!(fmt_pct(0.981), "98.1%");
    }

    #[test]
    fn enqueue_output() {
        assert!(matches!(parse_enqueue_seconds("enqueue_seconds=0.125\n"), Ok(s) if s == 0.125));
        assert!(parse_enqueue_seconds("hello\n").is_err());
    }
}
