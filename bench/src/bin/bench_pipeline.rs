//! `bench-pipeline` (driven by `just bench-pipeline`, which starts the system): owners
//! launch campaigns at once against the sandbox with its default latencies, and this prints
//! how long campaigns take end to end and per stage, against the critical path of one
//! campaign, what each provider was asked and refused, the attempts used, and how much of
//! each binding limit was used.
//!
//! Two phases: one campaign alone (the pipeline's own overhead over the critical path),
//! then `--owners` campaigns at once (the limits bind).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::Row;

#[derive(Parser, Debug)]
#[command(name = "bench-pipeline")]
struct Args {
    #[arg(long)]
    api: String,
    #[arg(long)]
    sandbox: String,
    /// Owners launching a campaign each, at once.
    #[arg(long, default_value_t = 20)]
    owners: usize,
    /// Leads per campaign (the workers' `pipeline.max_leads` must allow it).
    #[arg(long, default_value_t = 50)]
    leads: usize,
    /// The binding limits the workers were given (for the "fraction of the limit" column).
    #[arg(long, default_value_t = 600)]
    gemini_per_minute: u32,
    #[arg(long, default_value_t = 600)]
    image_per_minute: u32,
    /// Their burst: what one campaign alone may take at once.
    #[arg(long, default_value_t = 60)]
    burst: u64,
    /// Gives up on a phase after this long.
    #[arg(long, default_value_t = 900)]
    timeout_s: u64,
    /// The owners publish each post as soon as it is approved (their schedule's
    /// `immediate`), so the end-to-end times (launch → completed) stay comparable with runs
    /// made before publishing schedules. `--publish-now false` keeps the default schedule:
    /// posts then wait for their slots, and a campaign's run ends when it is `ready`.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    publish_now: bool,
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long, env = "REDIS_URL")]
    redis_url: String,
}

/// The statuses a campaign's run ends in; the first is the good end. With a schedule,
/// posts wait for their slots: the run ends at `ready`.
fn ended(publish_now: bool) -> Vec<&'static str> {
    if publish_now {
        vec!["completed", "error", "cancelled"]
    } else {
        vec!["ready", "completed", "error", "cancelled"]
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = PgPool::connect(&args.database_url)
        .await
        .context("connecting to PostgreSQL")?;
    let http = reqwest::Client::new();
    let critical = critical_path(args.leads);
    println!(
        "critical path of one {}-lead campaign (sandbox latencies): {:.2} s",
        args.leads,
        critical.as_secs_f64()
    );
    println!(
        "  = Places {} page(s) x 300 ms + website 150 ms + Gemini text 1,200 ms + image 2,000 ms",
        pages(args.leads)
    );
    println!(
        "    + LinkedIn image init, upload, status (PROCESSING), status (AVAILABLE), post 5 x 250 ms"
    );

    // Phase 1: one campaign alone.
    let alone = run_phase(&args, &db, &http, 1, "alone").await?;
    let e2e = alone.e2e.first().copied().unwrap_or_default();
    println!(
        "\nalone: one campaign end to end {:.2} s = {:.2} x its critical path (target <= 1.5)",
        e2e,
        e2e / critical.as_secs_f64()
    );
    print_stages(&db, &alone.ids).await?;

    // Phase 2: everyone at once.
    let load = run_phase(&args, &db, &http, args.owners, "load").await?;
    let mut e2e = load.e2e.clone();
    e2e.sort_by(f64::total_cmp);
    println!(
        "\nload: {} campaigns of {} leads launched at once, all completed in {:.1} s",
        args.owners,
        args.leads,
        load.wall.as_secs_f64()
    );
    println!(
        "  campaign end to end: p50 {:.1} s, p95 {:.1} s, max {:.1} s",
        percentile(&e2e, 0.50),
        percentile(&e2e, 0.95),
        e2e.last().copied().unwrap_or_default()
    );
    print_stages(&db, &load.ids).await?;
    print_providers(&http, &args, load.started_ms, load.wall).await?;
    print_attempts(&args.redis_url, load.wall).await?;
    Ok(())
}

fn pages(leads: usize) -> usize {
    leads.div_ceil(20).max(1)
}

/// The sum of the sandbox's latencies on one lead's way, plus Places paging. The image
/// status is read twice (the sandbox answers PROCESSING, then AVAILABLE); the contact page
/// some sites need, and our poll interval, count as overhead.
fn critical_path(leads: usize) -> Duration {
    let l = sandbox::Latency::Default;
    l.of("places") * u32::try_from(pages(leads)).unwrap_or(3)
        + l.of("sites")
        + l.of("gemini")
        + l.of("image")
        + l.of("linkedin") * 5
}

struct Phase {
    ids: Vec<i64>,
    e2e: Vec<f64>,
    wall: Duration,
    started_ms: u64,
}

async fn run_phase(
    args: &Args,
    db: &PgPool,
    http: &reqwest::Client,
    owners: usize,
    label: &str,
) -> Result<Phase> {
    // Sign up and connect every owner first: the clock starts at the launches.
    let mut browsers = Vec::new();
    for i in 0..owners {
        let b = Browser::new(&args.api)?;
        let email = format!("{label}-{i}-{}@bench.example", std::process::id());
        b.sign_up(&email).await?;
        b.connect_linkedin(&format!("{label}{i}")).await?;
        if args.publish_now {
            b.call(
                reqwest::Method::PUT,
                "/api/profile/schedule",
                Some(
                    json!({"time_zone": "Europe/Paris", "days": [1, 2, 3, 4, 5, 6, 7],
                                        "times": ["09:00"], "per_day": 100, "immediate": true}),
                ),
            )
            .await?;
        }
        browsers.push(b);
    }
    let started_ms = now_ms();
    let started = Instant::now();
    let launches = browsers.iter().enumerate().map(|(i, b)| async move {
        b.launch(&format!("{label} {i}"), "bakery", &format!("City{i}"))
            .await
    });
    let ids: Vec<i64> = futures::future::try_join_all(launches).await?;
    let deadline = started + Duration::from_secs(args.timeout_s);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM campaigns WHERE id = ANY($1) AND status = ANY($2)",
        )
        .bind(&ids)
        .bind(ended(args.publish_now))
        .fetch_one(db)
        .await?;
        if done as usize == ids.len() {
            break;
        }
        if Instant::now() > deadline {
            let stuck = sqlx::query("SELECT id, status, leads_count, enriched_count, contents_count, published_count, failed_count FROM campaigns WHERE id = ANY($1) AND status <> 'completed'")
                .bind(&ids)
                .fetch_all(db)
                .await?;
            for r in stuck {
                eprintln!(
                    "campaign {} {}: leads {} enriched {} contents {} published {} failed {}",
                    r.get::<i64, _>(0),
                    r.get::<String, _>(1),
                    r.get::<i32, _>(2),
                    r.get::<i32, _>(3),
                    r.get::<i32, _>(4),
                    r.get::<i32, _>(5),
                    r.get::<i32, _>(6)
                );
            }
            bail!(
                "{label}: not every campaign completed within {} s",
                args.timeout_s
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let wall = started.elapsed();
    let _ = http;
    let e2e: Vec<f64> = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM COALESCE(completed_at, updated_at) - launched_at)::float8 FROM campaigns WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let errors: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaigns WHERE id = ANY($1) AND status <> ALL($2)",
    )
    .bind(&ids)
    .bind(if args.publish_now {
        vec!["completed"]
    } else {
        vec!["ready", "completed"]
    })
    .fetch_one(db)
    .await?;
    if errors > 0 {
        bail!("{label}: {errors} campaign(s) ended in error or cancelled");
    }
    Ok(Phase {
        ids,
        e2e,
        wall,
        started_ms,
    })
}

/// Per-stage times, from the rows' own timestamps.
async fn print_stages(db: &PgPool, ids: &[i64]) -> Result<()> {
    let stages = [
        (
            "scrape (launch → leads stored)",
            "SELECT EXTRACT(EPOCH FROM min(l.created_at) - c.launched_at)::float8 FROM campaigns c JOIN leads l ON l.campaign_id = c.id WHERE c.id = ANY($1) GROUP BY c.id, c.launched_at",
        ),
        (
            "enrich (lead stored → enriched)",
            "SELECT EXTRACT(EPOCH FROM l.enriched_at - l.created_at)::float8 FROM leads l WHERE l.campaign_id = ANY($1) AND l.enriched_at IS NOT NULL",
        ),
        (
            "generate (enriched → content ready)",
            "SELECT EXTRACT(EPOCH FROM COALESCE(ct.approved_at, ct.updated_at) - l.enriched_at)::float8 FROM contents ct JOIN leads l ON l.id = ct.lead_id WHERE ct.campaign_id = ANY($1)",
        ),
        (
            "publish (approved → published)",
            "SELECT EXTRACT(EPOCH FROM p.published_at - ct.approved_at)::float8 FROM publications p JOIN contents ct ON ct.id = p.content_id WHERE ct.campaign_id = ANY($1) AND p.published_at IS NOT NULL",
        ),
    ];
    println!(
        "  {:<38} {:>8} {:>8} {:>8}",
        "stage", "p50 s", "p95 s", "max s"
    );
    for (name, sql) in stages {
        let mut v: Vec<f64> = sqlx::query_scalar(sql).bind(ids).fetch_all(db).await?;
        v.sort_by(f64::total_cmp);
        println!(
            "  {:<38} {:>8.2} {:>8.2} {:>8.2}",
            name,
            percentile(&v, 0.5),
            percentile(&v, 0.95),
            v.last().copied().unwrap_or_default()
        );
    }
    Ok(())
}

/// Calls and 429s per sandbox route since the phase started, and the rate achieved on the
/// binding limits (calls after the burst, over the busy window, against the limit).
async fn print_providers(
    http: &reqwest::Client,
    args: &Args,
    since_ms: u64,
    wall: Duration,
) -> Result<()> {
    let log: Vec<Value> = http
        .get(format!("{}/_sandbox/log", args.sandbox))
        .send()
        .await?
        .json()
        .await?;
    let mut per_route: BTreeMap<String, (u64, u64, u64, u64)> = BTreeMap::new();
    for entry in &log {
        let at = entry["at_ms"].as_u64().unwrap_or(0);
        if at < since_ms {
            continue;
        }
        let route = entry["route"].as_str().unwrap_or("?").to_owned();
        let slot = per_route.entry(route).or_insert((0, 0, u64::MAX, 0));
        slot.0 += 1;
        if entry["status"] == 429 {
            slot.1 += 1;
        }
        slot.2 = slot.2.min(at);
        slot.3 = slot.3.max(at);
    }
    println!(
        "\n  {:<22} {:>7} {:>6} {:>8}",
        "provider route", "calls", "429s", "429 %"
    );
    for (route, (calls, refused, _, _)) in &per_route {
        println!(
            "  {:<22} {:>7} {:>6} {:>7.2}%",
            route,
            calls,
            refused,
            100.0 * *refused as f64 / (*calls).max(1) as f64
        );
    }
    for (route, per_minute) in [
        ("gemini.text", args.gemini_per_minute),
        ("gemini.image", args.image_per_minute),
    ] {
        if let Some((calls, _, first, last)) = per_route.get(route) {
            let window = ((last - first) as f64 / 1000.0).max(0.001);
            // The burst goes at once; the rest is the sustained rate.
            let sustained = (calls.saturating_sub(args.burst)) as f64 / window;
            let limit = f64::from(per_minute) / 60.0;
            println!(
                "  {route}: {:.2} calls/s over {:.1} s = {:.0}% of its limit ({} a minute)",
                sustained,
                window,
                100.0 * sustained / limit,
                per_minute
            );
        }
    }
    let _ = wall;
    Ok(())
}

/// Attempts the pipeline's jobs used, from the engine's per-minute counters.
async fn print_attempts(redis_url: &str, wall: Duration) -> Result<()> {
    let mut conn = jobs::connect(redis_url, Duration::from_secs(5)).await?;
    let minutes = wall.as_secs() / 60 + 3;
    println!(
        "\n  {:<10} {:>9} {:>8} {:>9} {:>5}",
        "queue", "completed", "retried", "deferred", "dead"
    );
    for q in ["scrape", "enrich", "generate", "publish"] {
        let queue = jobs::QueueName::new(q)?;
        let keys = jobs::keys::QueueKeys::new("ag:", &queue);
        let rows = jobs::stats::recent(&mut conn, &keys, minutes).await?;
        let sum = |f: fn(&jobs::stats::Minute) -> u64| rows.iter().map(f).sum::<u64>();
        println!(
            "  {:<10} {:>9} {:>8} {:>9} {:>5}",
            q,
            sum(|m| m.processed),
            sum(|m| m.retried),
            sum(|m| m.deferred),
            sum(|m| m.dead)
        );
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An owner's browser: cookies and the CSRF token.
struct Browser {
    http: reqwest::Client,
    api: String,
    csrf: std::sync::Mutex<String>,
}

impl Browser {
    fn new(api: &str) -> Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder().cookie_store(true).build()?,
            api: api.to_owned(),
            csrf: std::sync::Mutex::new(String::new()),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let token = self.csrf.lock().map(|t| t.clone()).unwrap_or_default();
        let mut r = self
            .http
            .request(method.clone(), format!("{}{path}", self.api))
            .header("x-csrf-token", token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn sign_up(&self, email: &str) -> Result<()> {
        let password = "bench-password-1";
        self.call(
            reqwest::Method::POST,
            "/api/auth/sign-up",
            Some(json!({"email": email, "password": password, "name": "Bench"})),
        )
        .await?;
        let session = self
            .call(
                reqwest::Method::POST,
                "/api/auth/sign-in",
                Some(json!({"email": email, "password": password})),
            )
            .await?;
        let token = session["csrf_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Ok(mut t) = self.csrf.lock() {
            *t = token;
        }
        Ok(())
    }

    async fn connect_linkedin(&self, member: &str) -> Result<()> {
        let start = self
            .call(reqwest::Method::POST, "/api/profile/linkedin/connect", None)
            .await?;
        let url = start["authorize_url"].as_str().unwrap_or_default();
        self.http
            .get(format!("{url}&auto=allow&member={member}"))
            .send()
            .await?;
        Ok(())
    }

    async fn launch(&self, name: &str, industry: &str, location: &str) -> Result<i64> {
        let c = self
            .call(
                reqwest::Method::POST,
                "/api/campaigns",
                Some(json!({"name": name, "industry": industry, "location": location})),
            )
            .await?;
        let id = c["id"].as_i64().context("campaign id")?;
        self.call(
            reqwest::Method::POST,
            &format!("/api/campaigns/{id}/launch"),
            None,
        )
        .await?;
        Ok(id)
    }
}
