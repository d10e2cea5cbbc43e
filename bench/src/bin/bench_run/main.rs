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

use std::time::Duration;

use anyhow::Context;
use anyhow::Result;
use anyhow::bail;
use tokio::signal::unix::SignalKind;
use tokio::signal::unix::signal;

use crate::cli::USAGE;
use crate::cli::check_binaries;
use crate::cli::parse_args;
use crate::report::Report;
use crate::workloads::Bench;

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

mod cli;
mod process;
mod report;
mod rss;
mod workloads;

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
