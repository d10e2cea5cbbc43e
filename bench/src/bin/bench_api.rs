//! `bench-api`: the load generator behind `just bench-api`, against a running `api serve`.
//!
//! Setup goes through the HTTP API itself: `--users` accounts are signed up (e-mails carry
//! the run's timestamp, so a rerun against the same database does not collide), each with
//! its own reqwest client and cookie jar, and each creates `CAMPAIGNS_PER_USER` campaigns.
//!
//! Two phases, then one plain table on stdout (progress goes to stderr):
//!
//! * open loop: `GET /api/campaigns` and `GET /api/metrics`, mixed 50/50, at `--rate`
//!   requests/s in total for `--duration` s. Request i is due at start + i/rate and is sent
//!   by its own task whether or not earlier ones have answered; its latency is counted from
//!   when it was due, not from when it was sent, so a stalled server (or a late load
//!   generator) shows up in the percentiles instead of silently lowering the request rate
//!   (coordinated omission). Users take turns, so each sends rate/users requests/s, below
//!   the per-user API limit (`limits.api_per_minute`, 20/s by default).
//! * closed loop: `--max-concurrency` tasks each send the next request as soon as the last
//!   one answered, for `--max-duration` s: the most this server answers per second.
//!
//! Any answer but 200, and any transport failure, is an error; errors are listed by status.
//! Load generator and server share the machine's cores, so under the table each phase says
//! how many cores the api (`--server-pid`), bench-api, postgres+redis and everything else
//! kept busy, how long tasks waited for a core (/proc/pressure/cpu), and how late the open
//! loop sent its requests: a busy machine shows up there, not as a mysteriously slow API.
//! The exit status is non-zero only if setup fails (a target missed is not a failure).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use bench::report::{Align, quantile, table};
use clap::Parser;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Campaigns each user creates: enough that the list and the metrics have rows to read.
const CAMPAIGNS_PER_USER: usize = 10;
/// Sign-ups at once: each costs the server an argon2 hash (~19 MiB, tens of ms of CPU).
const SIGN_UP_CONCURRENCY: usize = 4;
/// The contract: p99 below this at the fixed rate.
const TARGET_P99_MS: f64 = 20.0;
/// Longer than any answer we would count as healthy; a request past it is an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const PASSWORD: &str = "bench-password-123";

#[derive(Parser)]
#[command(
    name = "bench-api",
    about = "Latency and throughput of the AstroGrowth API"
)]
struct Args {
    /// The API's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8090")]
    url: String,
    /// Open-loop phase: requests per second, both endpoints together.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    /// Open-loop phase: seconds.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Accounts to sign up; requests take turns among them.
    #[arg(long, default_value_t = 50)]
    users: usize,
    /// Closed-loop phase: requests in flight at all times.
    #[arg(long, default_value_t = 64)]
    max_concurrency: usize,
    /// Closed-loop phase: seconds (0 skips it).
    #[arg(long, default_value_t = 10)]
    max_duration: u64,
    /// The api process, to report the CPU it used per phase (Linux /proc).
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Campaigns,
    Metrics,
}

impl Endpoint {
    /// Alternates by turn of the user rotation, so every user asks for both.
    fn for_request(i: u64, users: usize) -> Self {
        if (i / users as u64).is_multiple_of(2) {
            Self::Campaigns
        } else {
            Self::Metrics
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Campaigns => "/api/campaigns",
            Self::Metrics => "/api/metrics",
        }
    }
}

/// How one request ended, for the error breakdown.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Failure {
    Status(u16),
    Timeout,
    Connect,
    Other,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(s) => write!(f, "HTTP {s}"),
            Self::Timeout => write!(f, "timeout ({} s)", REQUEST_TIMEOUT.as_secs()),
            Self::Connect => f.write_str("connect error"),
            Self::Other => f.write_str("transport error"),
        }
    }
}

struct Sample {
    endpoint: Endpoint,
    /// From when the request was due (open loop) or sent (closed loop) to the last body byte.
    latency: Duration,
    failure: Option<Failure>,
}

/// One signed-in account: its own client, so its own cookie jar and connections.
struct User {
    client: Client,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.users == 0 || args.rate == 0 || args.max_concurrency == 0 {
        bail!("--users, --rate and --max-concurrency must be above 0");
    }
    let base = args.url.trim_end_matches('/').to_owned();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());

    eprintln!(
        "setup: {} users x {CAMPAIGNS_PER_USER} campaigns",
        args.users
    );
    let started = Instant::now();
    let users = Arc::new(setup(&base, args.users).await?);
    eprintln!("setup done in {:.1} s", started.elapsed().as_secs_f64());

    let mut table = Table::default();
    let mut failures = BTreeMap::new();
    let mut cpu_rows = Vec::new();

    eprintln!("open loop: {} req/s for {} s", args.rate, args.duration);
    let before = CpuSnapshot::take(args.server_pid);
    let (samples, elapsed, lag) = open_loop(&base, &users, args.rate, args.duration).await;
    let phase = format!("{} rps", args.rate);
    cpu_rows.push((
        phase.clone(),
        before.usage_until(&CpuSnapshot::take(args.server_pid)),
    ));
    table.add(&phase, "both", &samples, elapsed, true);
    for endpoint in [Endpoint::Campaigns, Endpoint::Metrics] {
        let only: Vec<&Sample> = samples.iter().filter(|s| s.endpoint == endpoint).collect();
        table.add_refs(&phase, endpoint.path(), &only, elapsed, false);
    }
    count_failures(&mut failures, &phase, &samples);

    if args.max_duration > 0 {
        eprintln!(
            "closed loop: {} in flight for {} s",
            args.max_concurrency, args.max_duration
        );
        let before = CpuSnapshot::take(args.server_pid);
        let (samples, elapsed) =
            closed_loop(&base, &users, args.max_concurrency, args.max_duration).await;
        let phase = format!("max, {} conns", args.max_concurrency);
        cpu_rows.push((
            phase.clone(),
            before.usage_until(&CpuSnapshot::take(args.server_pid)),
        ));
        table.add(&phase, "both", &samples, elapsed, false);
        count_failures(&mut failures, &phase, &samples);
    }

    println!();
    println!(
        "AstroGrowth bench-api: {base}, {} users, {cpus} CPUs shared by load generator and server",
        args.users
    );
    table.print();
    println!(
        "open loop sent requests late by p99 {:.2} ms, max {:.2} ms (counted in its latencies)",
        lag.p99_ms, lag.max_ms
    );
    print_cpu(&cpu_rows, cpus);
    if failures.is_empty() {
        println!("errors: none");
    } else {
        println!("errors by kind:");
        for ((phase, failure), n) in &failures {
            println!("  {phase:<16} {failure:<20} {n}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Setup

async fn setup(base: &str, n: usize) -> Result<Vec<User>> {
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("reading the clock")?
        .as_millis();
    let mut users = Vec::with_capacity(n);
    let mut next = 0usize;
    let mut running = JoinSet::new();
    while users.len() < n {
        while next < n && running.len() < SIGN_UP_CONCURRENCY {
            let base = base.to_owned();
            let email = format!("bench-{run}-{next}@bench.example");
            running.spawn(async move { sign_up_and_seed(&base, &email).await });
            next += 1;
        }
        match running.join_next().await {
            Some(joined) => users.push(joined.context("setup task panicked")??),
            None => break,
        }
    }
    // One read through the API proves the seeding is what the phases will read.
    if let Some(user) = users.first() {
        let page: Value = user
            .client
            .get(format!("{base}/api/campaigns"))
            .send()
            .await
            .context("listing campaigns after setup")?
            .error_for_status()
            .context("listing campaigns after setup")?
            .json()
            .await
            .context("reading the campaign list")?;
        let total = page.get("total").and_then(Value::as_u64);
        if total != Some(CAMPAIGNS_PER_USER as u64) {
            bail!("a user created {CAMPAIGNS_PER_USER} campaigns but the list says {page}");
        }
    }
    Ok(users)
}

async fn sign_up_and_seed(base: &str, email: &str) -> Result<User> {
    let client = Client::builder()
        .cookie_store(true)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building an HTTP client")?;
    let resp = client
        .post(format!("{base}/api/auth/sign-up"))
        .json(&json!({ "email": email, "password": PASSWORD, "name": "Bench" }))
        .send()
        .await
        .with_context(|| format!("signing up {email} at {base}"))?;
    let status = resp.status();
    if status != StatusCode::ACCEPTED {
        let body = resp.text().await.unwrap_or_default();
        bail!("sign-up of {email} answered {status}: {body}");
    }
    // Sign-up opens no session (its answer must not tell whether the e-mail was taken).
    let resp = client
        .post(format!("{base}/api/auth/sign-in"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .with_context(|| format!("signing in {email} at {base}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.context("reading the sign-in answer")?;
    if status != StatusCode::OK {
        bail!("sign-in of {email} answered {status}: {body}");
    }
    let csrf = body
        .get("csrf_token")
        .and_then(Value::as_str)
        .with_context(|| format!("sign-in answer has no csrf_token: {body}"))?
        .to_owned();
    for i in 0..CAMPAIGNS_PER_USER {
        let resp = client
            .post(format!("{base}/api/campaigns"))
            .header("x-csrf-token", &csrf)
            .json(
                &json!({ "name": format!("Bench {i}"), "industry": "bakery", "location": "Lyon" }),
            )
            .send()
            .await
            .context("creating a campaign")?;
        let status = resp.status();
        if status != StatusCode::CREATED {
            let body = resp.text().await.unwrap_or_default();
            bail!("creating a campaign for {email} answered {status}: {body}");
        }
    }
    Ok(User { client })
}

// ---------------------------------------------------------------------------------------------
// The phases

/// How late the scheduler spawned requests: if this is large, the load generator (not the
/// server) was the bottleneck, and the latencies include its delay.
struct Lag {
    p99_ms: f64,
    max_ms: f64,
}

async fn open_loop(
    base: &str,
    users: &Arc<Vec<User>>,
    rate: u32,
    seconds: u64,
) -> (Vec<Sample>, Duration, Lag) {
    let total = u64::from(rate) * seconds;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut lags = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
        tokio::time::sleep_until(due).await;
        lags.push(ms(
            tokio::time::Instant::now().saturating_duration_since(due)
        ));
        let endpoint = Endpoint::for_request(i, users.len());
        let url = format!("{base}{}", endpoint.path());
        let users = Arc::clone(users);
        let tx = tx.clone();
        tokio::spawn(async move {
            let idx = usize::try_from(i).unwrap_or(0) % users.len();
            let Some(user) = users.get(idx) else { return };
            let failure = request(&user.client, &url).await;
            let latency = tokio::time::Instant::now().saturating_duration_since(due);
            let _ = tx.send(Sample {
                endpoint,
                latency,
                failure,
            });
        });
    }
    drop(tx);
    let mut samples = Vec::with_capacity(lags.len());
    while let Some(s) = rx.recv().await {
        samples.push(s);
    }
    let elapsed = tokio::time::Instant::now().saturating_duration_since(start);
    lags.sort_by(f64::total_cmp);
    let lag = Lag {
        p99_ms: quantile(&lags, 0.99).unwrap_or(f64::NAN),
        max_ms: lags.last().copied().unwrap_or(f64::NAN),
    };
    (samples, elapsed, lag)
}

async fn closed_loop(
    base: &str,
    users: &Arc<Vec<User>>,
    concurrency: usize,
    seconds: u64,
) -> (Vec<Sample>, Duration) {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = JoinSet::new();
    for k in 0..concurrency {
        let users = Arc::clone(users);
        let base = base.to_owned();
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let Some(user) = users.get(k % users.len()) else {
                return samples;
            };
            let mut i = k as u64;
            while Instant::now() < deadline {
                let endpoint = if i.is_multiple_of(2) {
                    Endpoint::Campaigns
                } else {
                    Endpoint::Metrics
                };
                i += 1;
                let sent = Instant::now();
                let failure = request(&user.client, &format!("{base}{}", endpoint.path())).await;
                samples.push(Sample {
                    endpoint,
                    latency: sent.elapsed(),
                    failure,
                });
            }
            samples
        });
    }
    let mut samples = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(mut s) = joined {
            samples.append(&mut s);
        }
    }
    (samples, start.elapsed())
}

/// One GET, body read to the end. `None` is a 200.
async fn request(client: &Client, url: &str) -> Option<Failure> {
    let resp = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) => return Some(transport_failure(&e)),
    };
    let status = resp.status();
    if let Err(e) = resp.bytes().await {
        return Some(transport_failure(&e));
    }
    (status != StatusCode::OK).then_some(Failure::Status(status.as_u16()))
}

fn transport_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::Connect
    } else {
        Failure::Other
    }
}

fn count_failures(into: &mut BTreeMap<(String, Failure), u64>, phase: &str, samples: &[Sample]) {
    for f in samples.iter().filter_map(|s| s.failure) {
        *into.entry((phase.to_owned(), f)).or_default() += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: the load generator and the server share this machine's cores (and, on a
// shared machine, with whatever else runs), so each phase says who used how much of them.
// Per-process times come from /proc/<pid>/stat, which Linux keeps from the scheduler's exact
// runtimes; the host-wide /proc/stat is tick-sampled and misses work woken by timers (our
// open loop), so it is not used.

/// Above this, other processes (a build, a test run) took enough CPU from a 2-core machine
/// to move the percentiles; the report says so.
const BUSY_MACHINE_CORES: f64 = 0.25;

/// Linux reports /proc times in USER_HZ, 100 per second on every architecture we run on.
const TICKS_PER_SEC: f64 = 100.0;

/// Who a process counts as.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Api,
    LoadGen,
    /// postgres and redis-server, the api's backing services (any instance on the machine).
    Backends,
    Others,
}

struct CpuSnapshot {
    at: Instant,
    /// utime + stime ticks per live process, by pid.
    procs: HashMap<u32, (Who, u64)>,
    /// /proc/pressure/cpu `some` total, µs: time at least one task waited for a CPU.
    pressure_us: Option<u64>,
}

/// Cores kept busy over a phase (1.0 = one core all the time), by who.
struct CpuUsage {
    cores: HashMap<Who, f64>,
    /// Share of the phase during which some runnable task waited for a CPU.
    pressure: Option<f64>,
}

impl CpuSnapshot {
    fn take(server_pid: Option<u32>) -> Self {
        let own = std::process::id();
        let mut procs = HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                let Some((comm, ticks)) = process_ticks(pid) else {
                    continue;
                };
                let who = if Some(pid) == server_pid {
                    Who::Api
                } else if pid == own {
                    Who::LoadGen
                } else if comm == "postgres" || comm == "redis-server" {
                    Who::Backends
                } else {
                    Who::Others
                };
                procs.insert(pid, (who, ticks));
            }
        }
        let pressure_us = std::fs::read_to_string("/proc/pressure/cpu")
            .ok()
            .and_then(|p| {
                p.lines()
                    .find(|l| l.starts_with("some "))?
                    .split_whitespace()
                    .find_map(|f| f.strip_prefix("total="))?
                    .parse()
                    .ok()
            });
        Self {
            at: Instant::now(),
            procs,
            pressure_us,
        }
    }

    /// Processes that exited during the phase are missed; ones started in it count whole.
    fn usage_until(&self, end: &Self) -> CpuUsage {
        let secs = end.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let mut cores = HashMap::new();
        for (pid, (who, ticks)) in &end.procs {
            let before = self.procs.get(pid).map_or(0, |(_, t)| *t);
            *cores.entry(*who).or_insert(0.0) +=
                ticks.saturating_sub(before) as f64 / TICKS_PER_SEC / secs;
        }
        let pressure = match (self.pressure_us, end.pressure_us) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1e6 / secs),
            _ => None,
        };
        CpuUsage { cores, pressure }
    }
}

/// (command name, utime + stime) of a process.
fn process_ticks(pid: u32) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name is in parentheses and may hold spaces or parentheses itself.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: the 12th and 13th after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

fn print_cpu(rows: &[(String, CpuUsage)], cpus: usize) {
    println!("cores busy (of {cpus}); cpu wait = share of the time some task waited for a core:");
    for (phase, u) in rows {
        let c = |who| format!("{:.2}", u.cores.get(&who).copied().unwrap_or(0.0));
        let wait = u
            .pressure
            .map_or_else(|| "n/a".to_owned(), |p| format!("{:.0}%", p * 100.0));
        println!(
            "  {phase:<16} api {}  bench-api {}  postgres+redis {}  other processes {}  cpu wait {wait}",
            c(Who::Api),
            c(Who::LoadGen),
            c(Who::Backends),
            c(Who::Others),
        );
    }
    for (phase, u) in rows {
        let others = u.cores.get(&Who::Others).copied().unwrap_or(0.0);
        if others > BUSY_MACHINE_CORES {
            println!(
                "WARNING: other processes kept {others:.2} cores busy during \"{phase}\"; its \
                 latencies include that contention (rerun on an idle machine)"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Table {
    rows: Vec<[String; 9]>,
}

impl Table {
    fn add(&mut self, phase: &str, what: &str, samples: &[Sample], elapsed: Duration, judge: bool) {
        let refs: Vec<&Sample> = samples.iter().collect();
        self.add_refs(phase, what, &refs, elapsed, judge);
    }

    /// Latencies cover every request, failed ones too: a fast 429 or a slow timeout is still
    /// what the caller waited.
    fn add_refs(
        &mut self,
        phase: &str,
        what: &str,
        samples: &[&Sample],
        elapsed: Duration,
        judge: bool,
    ) {
        let mut lat: Vec<f64> = samples.iter().map(|s| ms(s.latency)).collect();
        lat.sort_by(f64::total_cmp);
        let errors = samples.iter().filter(|s| s.failure.is_some()).count();
        let secs = elapsed.as_secs_f64();
        let rps = if secs > 0.0 {
            samples.len() as f64 / secs
        } else {
            f64::NAN
        };
        let p99 = quantile(&lat, 0.99);
        let fmt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}"));
        let result = match (judge, p99) {
            (false, _) | (true, None) => String::new(),
            (true, Some(p)) if p < TARGET_P99_MS => format!("ok (p99 < {TARGET_P99_MS} ms)"),
            (true, Some(_)) => format!("MISS (p99 < {TARGET_P99_MS} ms)"),
        };
        self.rows.push([
            phase.to_owned(),
            what.to_owned(),
            samples.len().to_string(),
            format!("{rps:.0}"),
            fmt(quantile(&lat, 0.5)),
            fmt(p99),
            fmt(lat.last().copied()),
            errors.to_string(),
            result,
        ]);
    }

    fn print(&self) {
        let headings = [
            "phase", "endpoint", "requests", "rps", "p50 ms", "p99 ms", "max ms", "errors",
            "result",
        ];
        // Text left, numbers right.
        let mut align = [Align::Right; 9];
        align[0] = Align::Left;
        align[1] = Align::Left;
        align[8] = Align::Left;
        println!("{}", table(&headings, &align, &self.rows));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_asks_for_both_endpoints_in_turn() {
        let users = 3;
        let seen: Vec<(usize, bool)> = (0..6u64)
            .map(|i| {
                let e = Endpoint::for_request(i, users);
                (i as usize % users, e == Endpoint::Campaigns)
            })
            .collect();
        assert_eq!(
            seen,
            [
                (0, true),
                (1, true),
                (2, true),
                (0, false),
                (1, false),
                (2, false)
            ]
        );
    }
}
