//! The driver and its five workloads (W1–W5, described at the top of `main.rs`): each
//! repetition flushes Redis, starts the producer and the workers, polls for progress and
//! turns what it saw into the report's rows.

use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use anyhow::Context;
use anyhow::Result;
use anyhow::anyhow;
use anyhow::bail;
use bench::report::quantile;
use tokio::process::Command;
use tokio::time::MissedTickBehavior;

use crate::cli::Config;
use crate::cli::Workload;
use crate::process::WorkerProc;
use crate::process::Workers;
use crate::report::Report;
use crate::report::Verdict;
use crate::report::fmt_count;
use crate::report::fmt_mib;
use crate::report::fmt_ms;
use crate::report::fmt_opt;
use crate::report::fmt_pct;
use crate::report::fmt_ratio;
use crate::report::median;
use crate::report::rate;
use crate::rss::RssTracker;
use crate::{
    DONE_KEY, DRAIN_TIMEOUT, ENQUEUE_BIN, ENQUEUE_TIMEOUT, LAT_KEY, MEM_TOLERANCE_KIB, POLL_EVERY,
    REDIS_RESPONSE_TIMEOUT, RSS_FLAT_FACTOR, TARGET_W1_ENQUEUE, TARGET_W1_STEADY,
    TARGET_W2_STEADY_EFF, TARGET_W3_P50_MS, TARGET_W3_P99_MS, TARGET_W5_RATIO, W1_C, W1_N, W2_C,
    W2_IDEAL_SECONDS, W2_N, W3_C, W3_IDLE, W3_INTERVAL_MS, W3_N, W3_WAIT_TIMEOUT, W4_C,
    W4_DELAY_MS, W4_DRAIN_TIMEOUT, W4_ENQUEUE_TIMEOUT, W4_MEM_SETTLE, W4_N, W4_SCHEDULED,
    W4_WORKERS, W5_C, W5_WORKERS, WORKER_BIN,
};

pub(crate) struct Bench {
    pub(crate) cfg: Config,
    pub(crate) con: jobs::Conn,
    pub(crate) redis_version: String,
    /// `BENCH_QUEUES` for the producer and the workers: on a Redis Cluster one queue per
    /// master, so the load spreads over all of them; empty (queue `bench`) on one server.
    pub(crate) queues: String,
}

/// What a poll loop waits on.
#[derive(Clone, Copy)]
pub(crate) enum Probe {
    /// `GET bench:done`
    Done,
    /// `LLEN bench:lat`
    LatLen,
}

pub(crate) enum Outcome {
    Reached,
    TimedOut,
    WorkerExited(String),
}

pub(crate) struct PollResult {
    pub(crate) outcome: Outcome,
    /// Last value seen.
    pub(crate) count: u64,
    /// Seconds since t0 of the last poll.
    pub(crate) last_t: f64,
    /// First poll that saw a count > 0: (seconds since t0, count).
    pub(crate) first_nonzero: Option<(f64, u64)>,
}

impl PollResult {
    /// Turns anything but `Reached` into an error.
    pub(crate) fn reached(self, what: &str, target: u64) -> Result<Self> {
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
pub(crate) struct ThroughputRep {
    pub(crate) n: u64,
    pub(crate) enqueue_seconds: f64,
    pub(crate) drain_seconds: f64,
    /// Jobs/s from the first poll that saw done > 0 until done = N; `None` if that first poll
    /// already saw N.
    pub(crate) steady_rate: Option<f64>,
}

impl ThroughputRep {
    pub(crate) fn enqueue_rate(&self) -> Option<f64> {
        rate(self.n as f64, self.enqueue_seconds)
    }

    pub(crate) fn drain_rate(&self) -> Option<f64> {
        rate(self.n as f64, self.drain_seconds)
    }
}

impl Bench {
    pub(crate) async fn connect(cfg: Config) -> Result<Self> {
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

    pub(crate) fn header(&self) -> String {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        format!(
            "AstroGrowth bench: redis {} at {}, {cpus} CPUs, medians of {} rep(s) (W4 runs once)",
            self.redis_version, self.cfg.redis_url, self.cfg.reps
        )
    }

    pub(crate) async fn run_all(&mut self, report: &mut Report) {
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

    pub(crate) async fn w1(&mut self, report: &mut Report) -> Result<()> {
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

    pub(crate) async fn w2(&mut self, report: &mut Report) -> Result<()> {
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

    pub(crate) async fn w3(&mut self, report: &mut Report) -> Result<()> {
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
    pub(crate) async fn w3_rep(&mut self, rep: usize) -> Result<(f64, f64)> {
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

    pub(crate) async fn w3_measure(
        &mut self,
        t0: Instant,
        workers: &mut Workers,
    ) -> Result<Vec<f64>> {
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

    pub(crate) async fn w4(&mut self, report: &mut Report) -> Result<()> {
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

    pub(crate) async fn log_leftover_keys(&mut self) -> Result<()> {
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

    pub(crate) async fn w5(&mut self, report: &mut Report) -> Result<()> {
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
    pub(crate) async fn throughput_rep(
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
    pub(crate) async fn poll_until(
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

    pub(crate) async fn enqueue(&self, args: &[&str], timeout: Duration) -> Result<f64> {
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

    pub(crate) fn spawn_workers(&self, count: usize, concurrency: u32) -> Result<Workers> {
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

    pub(crate) async fn flushall(&mut self) -> Result<()> {
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut self.con)
            .await
            .context("FLUSHALL")
    }

    pub(crate) async fn get_done(&mut self) -> Result<u64> {
        let v: Option<i64> = redis::cmd("GET")
            .arg(DONE_KEY)
            .query_async(&mut self.con)
            .await
            .with_context(|| format!("GET {DONE_KEY}"))?;
        Ok(v.unwrap_or(0).max(0) as u64)
    }

    pub(crate) async fn llen(&mut self, key: &str) -> Result<u64> {
        redis::cmd("LLEN")
            .arg(key)
            .query_async(&mut self.con)
            .await
            .with_context(|| format!("LLEN {key}"))
    }

    /// `used_memory` from `INFO memory`, in bytes.
    pub(crate) async fn used_memory(&mut self) -> Result<u64> {
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
pub(crate) async fn one_queue_per_master(con: &mut jobs::Conn) -> Result<String> {
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
pub(crate) fn w1_n() -> u64 {
    std::env::var("BENCH_W1_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(W1_N)
}

pub(crate) fn w2_steady_eff(steady_rate: f64, n: u64) -> f64 {
    // 2.0 / (N / steady_rate)
    steady_rate * W2_IDEAL_SECONDS / n as f64
}

pub(crate) fn parse_enqueue_seconds(stdout: &str) -> Result<f64> {
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

pub(crate) fn info_field<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// Logs the failed repetitions and returns the good ones; fails if none succeeded.
pub(crate) fn collect_reps<T>(
    report: &mut Report,
    workload: &str,
    results: Vec<Result<T>>,
) -> Result<Vec<T>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enqueue_output() {
        assert!(matches!(parse_enqueue_seconds("enqueue_seconds=0.125\n"), Ok(s) if s == 0.125));
        assert!(parse_enqueue_seconds("hello\n").is_err());
    }
}
