//! What the tests of the real `workers` binary on the `probe` queue share: a private Redis
//! per test with its producer and admin handles, probe workers (the processes themselves are
//! `test_support::worker_process`), and readers for the run logs the `probe` job writes.
#![allow(
    dead_code,
    reason = "each test file uses a different part of the harness"
)]

use std::time::Duration;

use jobs::Conn;
use jobs::admin::{Admin, QueueSizes};
use jobs::kinds::probe::Probe;
use jobs::{Client, QueueName, Settings};
use test_support::TestRedis;
pub use test_support::worker_process::WorkerProcess;

/// The queue the production registry serves the `probe` job on in these tests.
pub const QUEUE: &str = "probe";
/// The key prefix the worker uses when nothing overrides it.
pub const PREFIX: &str = "ag:";

/// Engine settings a worker process gets through its environment.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub concurrency: usize,
    /// Short, so a killed worker's job is reclaimed within seconds.
    pub visibility_ms: u64,
    /// Below the visibility timeout, as the config requires.
    pub block_ms: u64,
    pub shutdown_deadline_ms: u64,
    pub heartbeat_ms: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 10,
            visibility_ms: 2_000,
            block_ms: 500,
            shutdown_deadline_ms: 10_000,
            heartbeat_ms: 500,
        }
    }
}

impl WorkerConfig {
    pub fn concurrency(concurrency: usize) -> Self {
        Self {
            concurrency,
            ..Self::default()
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "AG_QUEUE__VISIBILITY_TIMEOUT_MS".into(),
                self.visibility_ms.to_string(),
            ),
            ("AG_QUEUE__BLOCK_MS".into(), self.block_ms.to_string()),
            (
                "AG_WORKERS__SHUTDOWN_DEADLINE_MS".into(),
                self.shutdown_deadline_ms.to_string(),
            ),
            (
                "AG_WORKERS__HEARTBEAT_INTERVAL_MS".into(),
                self.heartbeat_ms.to_string(),
            ),
        ]
    }
}

/// `workers --queues probe --concurrency N` with the given settings.
pub fn probe_worker(name: &str, redis: &TestRedis, config: &WorkerConfig) -> WorkerProcess {
    probe_worker_with_env(name, redis, config, &[])
}

/// The same, with more environment variables (a clock of its own, through libfaketime).
pub fn probe_worker_with_env(
    name: &str,
    redis: &TestRedis,
    config: &WorkerConfig,
    extra: &[(String, String)],
) -> WorkerProcess {
    let concurrency = config.concurrency.to_string();
    let mut env = config.env();
    env.extend_from_slice(extra);
    WorkerProcess::spawn(
        name,
        &redis.url(),
        &redis.dir(),
        &["--queues", QUEUE, "--concurrency", &concurrency],
        &env,
    )
}

/// libfaketime's multithreaded preload library (Debian's `libfaketime`), which makes a
/// process's wall clock run ahead or behind the host's while its monotonic clock stays true.
pub const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// The environment that sets a worker's wall clock `offset_s` seconds off the host's.
pub fn skewed_clock(offset_s: i64) -> Vec<(String, String)> {
    assert!(
        std::path::Path::new(FAKETIME_LIB).exists(),
        "{FAKETIME_LIB} is missing (apt-get install libfaketime; scripts/ensure-deps.sh does)"
    );
    vec![
        ("LD_PRELOAD".into(), FAKETIME_LIB.into()),
        ("FAKETIME".into(), format!("{offset_s:+}")),
        ("DONT_FAKE_MONOTONIC".into(), "1".into()),
    ]
}

/// A private Redis and the producer/admin handles a test drives it with.
pub struct Setup {
    pub redis: TestRedis,
    pub client: Client,
    pub admin: Admin,
    /// For reading the probes' run logs and writing raw entries.
    pub conn: Conn,
    pub queue: QueueName,
}

impl Setup {
    pub async fn new() -> Self {
        Self::with(TestRedis::start()).await
    }

    /// Redis with `appendfsync always`, for restart tests.
    pub async fn with_aof() -> Self {
        Self::with(TestRedis::start_with_aof()).await
    }

    async fn with(redis: TestRedis) -> Self {
        let settings = Settings::default();
        assert_eq!(settings.prefix, PREFIX);
        let client = Client::connect(&redis.url(), settings.clone())
            .await
            .expect("producer connects");
        let conn = jobs::connect(&redis.url(), Duration::from_secs(10))
            .await
            .expect("test connection");
        let admin = Admin::new(conn.clone(), &settings);
        Self {
            redis,
            client,
            admin,
            conn,
            queue: QueueName::new(QUEUE).expect("queue name"),
        }
    }

    pub fn worker(&self, name: &str, config: &WorkerConfig) -> WorkerProcess {
        probe_worker(name, &self.redis, config)
    }

    /// Starts a probe worker and waits until it fetches.
    pub async fn ready_worker(&self, name: &str, config: &WorkerConfig) -> WorkerProcess {
        let mut worker = self.worker(name, config);
        worker.wait_ready().await;
        worker
    }

    /// Retries for a few seconds, so a test may read while Redis restarts.
    pub async fn sizes(&self) -> QueueSizes {
        retry("read the queue sizes", async || {
            self.admin.sizes(&self.queue).await
        })
        .await
    }

    /// The run log of one probe tag: `start:<attempt>` / `done:<attempt>`, in order.
    pub async fn runs(&self, tag: &str) -> Vec<String> {
        let key = runs_key(tag);
        retry("read a probe run log", async || {
            let mut conn = self.conn.clone();
            redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
        })
        .await
    }

    /// The run logs of many tags, in one pipelined round trip per thousand.
    pub async fn runs_of(&self, tags: &[String]) -> Vec<Vec<String>> {
        let mut conn = self.conn.clone();
        let mut out = Vec::with_capacity(tags.len());
        for chunk in tags.chunks(1_000) {
            let mut pipe = redis::pipe();
            for tag in chunk {
                pipe.cmd("LRANGE").arg(runs_key(tag)).arg(0).arg(-1);
            }
            let logs: Vec<Vec<String>> = retry("read probe run logs", async || {
                pipe.query_async(&mut conn).await
            })
            .await;
            out.extend(logs);
        }
        out
    }

    /// Process ids of the workers the live-workers registry lists.
    pub async fn live_pids(&self) -> Vec<u32> {
        let keys = jobs::keys::GlobalKeys::new(PREFIX);
        let interval = Duration::from_millis(WorkerConfig::default().heartbeat_ms);
        let workers = retry("list live workers", async || {
            let mut conn = self.conn.clone();
            jobs::heartbeat::live_workers(&mut conn, &keys, interval).await
        })
        .await;
        workers.iter().map(|w| w.pid).collect()
    }

    /// Waits until nothing is ready, in flight or scheduled: every job reached its end.
    pub async fn wait_settled(&self, timeout: Duration) {
        test_support::wait_for(timeout, "the queue is empty", async || {
            let s = self.sizes().await;
            s.ready == 0 && s.in_flight == 0 && s.scheduled == 0
        })
        .await;
    }
}

pub fn runs_key(tag: &str) -> String {
    workers::handlers::probe::runs_key(PREFIX, tag)
}

/// A probe that only records its runs.
pub fn probe(tag: impl Into<String>) -> Probe {
    Probe {
        tag: tag.into(),
        ..Probe::default()
    }
}

/// How many entries of a run log are `done:*`.
pub fn done_count(runs: &[String]) -> usize {
    runs.iter().filter(|r| r.starts_with("done:")).count()
}

pub fn start_count(runs: &[String]) -> usize {
    runs.iter().filter(|r| r.starts_with("start:")).count()
}

/// Runs `op` until it succeeds, for up to ten seconds (a Redis restart takes less).
pub async fn retry<T, E: std::fmt::Display>(
    what: &str,
    op: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    test_support::retry(Duration::from_secs(10), what, op).await
}

/// How many jobs of `kind` the worker whose metrics are at `metrics` (`http://…/metrics`)
/// has completed so far (`astrogrowth_jobs_completed_total`): the signal that a periodic
/// job ran, for a test that must see a whole run go by before it asserts that the run
/// did nothing.
pub async fn jobs_completed(metrics: &str, kind: &str) -> u64 {
    let text = reqwest::get(metrics)
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the worker's metrics answer")
        .text()
        .await
        .expect("the worker's metrics are text");
    let label = format!("kind=\"{kind}\"");
    text.lines()
        .filter(|l| l.starts_with("astrogrowth_jobs_completed_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Waits until a whole run of the periodic job `kind` started and ended after this call:
/// two more completed runs, as the first may have been under way already.
pub async fn a_whole_run_later(metrics: &str, kind: &str, within: Duration) {
    let from = jobs_completed(metrics, kind).await;
    test_support::wait_for(within, &format!("{kind} runs twice more"), async || {
        jobs_completed(metrics, kind).await >= from + 2
    })
    .await;
}
