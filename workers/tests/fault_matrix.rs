#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The fault matrix: every provider route the pipeline calls, every way it can refuse
//! (each status, a 429 with and without a delay, an answer slower than the client's
//! timeout, each bad-answer `mode`, the work done before a failed answer), once for a
//! moment (`count` 1 to 3) and once for good (`count` 0). Each row launches a small
//! campaign (Smallville: seven businesses) through the real api, with real `workers`
//! processes, the sandbox over HTTP and short backoffs, and asserts that:
//!
//! - the campaign ends (`completed`, or `error` when it cannot get its leads) within
//!   [`BOUND`], while its owner does what an owner does: approves what waits for her and
//!   reconnects LinkedIn when the dashboard asks;
//! - every lead, content and publication is in a terminal state, and every one that did
//!   not succeed carries its reason, which the owner's pages show in French and English;
//! - no post went out twice;
//! - a wait (a 429) spent no attempt;
//! - nothing is run again once the campaign is over (the reconciler runs every second
//!   here, and finds nothing to do).
//!
//! One test per route, so routes run side by side (each with its own sandbox, Redis and
//! worker: a fault is armed for the whole sandbox), and the rows of a route one after the
//! other, each with a new owner. The table of results is printed (`--nocapture`).

mod harness;

use std::fmt::Write as _;
use std::time::Duration;

use api::pages::i18n::{Catalog, Lang};
use api::pages::reasons;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::Visitor;
use test_support::stack::Stack;
use tokio::time::Instant;

/// How long a row's campaign may take to end. The slowest rows wait out the give-up
/// bound below (3 s) after retries with 50 ms backoffs, or time out (1 s a call) on
/// every attempt of several jobs.
const BOUND: Duration = Duration::from_secs(45);

/// What a row's campaign must end as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Completed,
    Error,
}

impl End {
    fn status(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Error => "error",
        }
    }
}

struct Row {
    label: String,
    fault: Value,
    /// The fault is a wait (a 429): no attempt may be spent on it.
    wait: bool,
    end: End,
}

/// The rows of one route: each status, the waits, a slow answer, the route's modes and,
/// where the call does something, the work done before a failed answer; each once for a
/// moment and once for good.
fn rows(route: &str) -> Vec<Row> {
    let mut classes: Vec<(String, Value, bool)> = Vec::new();
    for status in [400, 401, 403, 404, 422, 500, 503] {
        classes.push((status.to_string(), json!({ "status": status }), false));
    }
    classes.push(("429".into(), json!({"status": 429}), true));
    classes.push((
        "429 Retry-After".into(),
        json!({"status": 429, "retry_after_s": 1}),
        true,
    ));
    classes.push(("slow".into(), json!({"delay_ms": 1_500}), false));
    let modes: &[&str] = match route {
        "gemini.text" => &["blocked", "safety", "max_tokens", "malformed_json"],
        "gemini.image" => &["filtered", "not_image"],
        "site" => &["huge", "hang", "redirect_loop", "not_html"],
        "linkedin.posts" => &["duplicate"],
        _ => &[],
    };
    for mode in modes {
        classes.push((format!("mode {mode}"), json!({ "mode": mode }), false));
    }
    if matches!(
        route,
        "gemini.text"
            | "gemini.image"
            | "linkedin.images.init"
            | "linkedin.images.upload"
            | "linkedin.posts"
    ) {
        classes.push((
            "500 after effect".into(),
            json!({"status": 500, "after_effect": true}),
            false,
        ));
    }
    let mut rows = Vec::new();
    for (i, (label, body, wait)) in classes.into_iter().enumerate() {
        for count in [1 + (i as u64 % 3), 0] {
            let mut fault = body.clone();
            fault["route"] = json!(route);
            fault["count"] = json!(count);
            // Without its leads a campaign cannot go on: Places refusing (a 4xx says the
            // same the next time), or failing for good (past the give-up bound, past the
            // last attempt), is the one `error`. A 404 is not a refusal but a setting
            // Google does not know: the job waits for the operator, and a fixed setting
            // (the fault gone) lets it go on.
            let refusal = body["status"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s) && s != 429 && s != 404);
            let end = if route == "places.search" && (count == 0 || refusal) {
                End::Error
            } else {
                End::Completed
            };
            let how = if count == 0 {
                "for good".to_owned()
            } else {
                format!("×{count}")
            };
            rows.push(Row {
                label: format!("{label} {how}"),
                fault,
                wait,
                end,
            });
        }
    }
    rows
}

/// One stack per route: short backoffs and bounds, a reconciler every second.
async fn stack_for(db: PgPool) -> Stack {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 7;
        c.pipeline.give_up_waiting_secs = 3;
        c.pipeline.throttle_wait_secs = 1;
        c.pipeline.retry_base_ms = Some(50);
        c.pipeline.reconcile_every_secs = 1;
        c.pipeline.stall_after_secs = 1;
    })
    .await;
    for (k, v) in [
        ("AG_LINKEDIN__TIMEOUT_MS", "1000"),
        ("AG_PROVIDERS__GOOGLE__TEXT_TIMEOUT_MS", "1000"),
        ("AG_PROVIDERS__GOOGLE__IMAGE_TIMEOUT_MS", "1000"),
        ("AG_PROVIDERS__GOOGLE__PLACES_TIMEOUT_MS", "1000"),
        ("AG_WEBSITE__TIMEOUT_MS", "1000"),
    ] {
        stack.worker_env.push((k.into(), v.into()));
    }
    stack.spawn_worker("w1").await;
    stack
}

/// Attempts spent on a provider's wait so far: retries whose reason is a 429 or a quota.
/// (A retry for another reason, say a sandbox call that took longer than the 1 s client
/// timeout while five stacks share two cores, is an attempt rightly spent.)
fn attempts_spent_on_waits(stack: &Stack) -> usize {
    stack.workers[0]
        .log()
        .lines()
        .filter(|l| l.contains("settled=Retried") && is_wait(l))
        .count()
}

fn is_wait(line: &str) -> bool {
    line.contains("answered 429") || line.contains("throttled") || line.contains("rate limited")
}

/// Waits (up to 10 s) until no pipeline job of an earlier row is running, waiting for a
/// retry or deferred, so the next row's count of attempts is its own.
async fn settle_down(stack: &Stack) {
    let mut conn = stack.redis.conn();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut busy = 0u64;
        for queue in ["scrape", "enrich", "generate", "publish"] {
            let keys = jobs::keys::QueueKeys::new("ag:", &jobs::QueueName::new(queue).unwrap());
            let retrying: u64 = redis::cmd("ZCARD")
                .arg(&keys.retrying)
                .query(&mut conn)
                .unwrap();
            let deferred: u64 = redis::cmd("ZCARD")
                .arg(&keys.deferred)
                .query(&mut conn)
                .unwrap();
            let pending: Vec<redis::Value> = redis::cmd("XPENDING")
                .arg(&keys.stream)
                .arg("workers")
                .query(&mut conn)
                .unwrap_or_default();
            let running = match pending.first() {
                Some(redis::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                _ => 0,
            };
            busy += retrying + deferred + running;
        }
        if busy == 0 || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The worker's log lines about jobs retried for a wait.
fn retries_in(log: &str) -> String {
    log.lines()
        .filter(|l| l.contains("settled=Retried") && is_wait(l))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Each row starts with the providers' limits as new: a row's 429 that says "until
/// midnight" blocks the whole app's credential (as it must), which would otherwise decide
/// every later row of the route.
fn forget_provider_blocks(stack: &Stack) {
    let mut conn = stack.redis.conn();
    let keys: Vec<String> = redis::cmd("KEYS").arg("ag:rl:*").query(&mut conn).unwrap();
    if !keys.is_empty() {
        let () = redis::cmd("DEL").arg(&keys).query(&mut conn).unwrap();
    }
}

/// Every call the sandbox received so far, all routes.
async fn calls(stack: &Stack) -> usize {
    let mut n = 0;
    for route in ROUTES {
        n += stack.sandbox.log(route).await.len();
    }
    n
}

/// Plays the owner until the campaign ends: approves what waits for her, reconnects
/// LinkedIn when the dashboard says it must be. Returns the campaign and the seconds.
async fn drive(stack: &Stack, owner: &Visitor, member: &str, id: i64) -> (Value, f64) {
    let started = Instant::now();
    loop {
        let detail = owner.campaign(id).await;
        let status = detail["campaign"]["status"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if matches!(status.as_str(), "completed" | "error" | "cancelled") {
            return (detail, started.elapsed().as_secs_f64());
        }
        assert!(
            started.elapsed() < BOUND,
            "campaign {id} still {status} after {BOUND:?}: {}\nworkers:\n{}",
            serde_json::to_string_pretty(&detail["campaign"]).unwrap(),
            tail(&stack.workers[0].log(), 60)
        );
        if status == "ready" {
            owner.approve_pending().await;
        }
        let profile = owner.ok(Method::GET, "/api/profile", None).await;
        if profile["linkedin"]["reconnect_needed"] == true {
            owner.connect_linkedin(member).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// A content's id, status and reason, and its publication's state and reason.
type ContentEnd = (i64, String, Option<String>, Option<String>, Option<String>);

/// Every lead, content and publication of the campaign is terminal, and each that did not
/// succeed says why. Returns a summary for the table.
async fn assert_terminal(db: &PgPool, id: i64) -> String {
    let leads: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, stage, error FROM leads WHERE campaign_id = $1")
            .bind(id)
            .fetch_all(db)
            .await
            .unwrap();
    for (lead, stage, error) in &leads {
        assert!(
            matches!(stage.as_str(), "generated" | "failed"),
            "lead {lead} is {stage}"
        );
        if stage == "failed" {
            assert!(
                error.as_deref().is_some_and(|e| !e.trim().is_empty()),
                "lead {lead} failed without a reason"
            );
        }
    }
    let contents: Vec<ContentEnd> = sqlx::query_as(
        r#"SELECT c.id, c.status, c.error, pb.state, pb.error
               FROM contents c LEFT JOIN publications pb ON pb.content_id = c.id
               WHERE c.campaign_id = $1"#,
    )
    .bind(id)
    .fetch_all(db)
    .await
    .unwrap();
    let (mut published, mut failed, mut unknown) = (0, 0, 0);
    for (content, status, error, publication, publication_error) in &contents {
        match (status.as_str(), publication.as_deref()) {
            ("published", Some("published")) => published += 1,
            ("approved", Some("unknown")) => {
                unknown += 1;
                assert!(
                    publication_error.as_deref().is_some_and(|e| !e.is_empty()),
                    "content {content}: unknown without a reason"
                );
            }
            ("failed", _) => {
                failed += 1;
                assert!(
                    error.as_deref().is_some_and(|e| !e.is_empty()),
                    "content {content} failed without a reason"
                );
            }
            ("rejected", _) => {}
            other => panic!("content {content} is not terminal: {other:?}"),
        }
        if publication == &Some("failed".to_owned()) {
            assert!(
                publication_error.is_some(),
                "publication of {content} failed without a reason"
            );
        }
    }
    let failed_leads = leads.iter().filter(|l| l.1 == "failed").count();
    format!(
        "{} leads ({failed_leads} failed), {published} published, {failed} failed, {unknown} unknown",
        leads.len()
    )
}

/// The owner's campaign page tells each reason, in French and in English: the sentence
/// the catalogs have for it, and the stored detail.
async fn assert_reasons_shown(owner: &Visitor, db: &PgPool, id: i64) {
    let reasons: Vec<(String,)> = sqlx::query_as(
        r#"SELECT error FROM leads WHERE campaign_id = $1 AND stage = 'failed'
           UNION SELECT error FROM contents WHERE campaign_id = $1 AND error IS NOT NULL
           UNION SELECT error_details->>'campaign' FROM campaigns
                 WHERE id = $1 AND error_details ? 'campaign'"#,
    )
    .bind(id)
    .fetch_all(db)
    .await
    .unwrap();
    for (lang, code) in [(Lang::Fr, "fr"), (Lang::En, "en")] {
        let catalog = Catalog::load(lang).unwrap();
        let page = owner.page_in(code, &format!("/campaigns/{id}")).await;
        for (reason,) in &reasons {
            let sentence = escape(&reasons::explain(reason, &catalog));
            assert!(
                page.contains(&sentence),
                "the {code} campaign page does not say {sentence:?} for {reason:?}"
            );
        }
    }
}

/// As the pages escape text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

async fn run_route(db: PgPool, route: &'static str) -> String {
    let stack = stack_for(db.clone()).await;
    let mut table = String::new();
    for (n, row) in rows(route).into_iter().enumerate() {
        stack.sandbox.clear_faults().await;
        forget_provider_blocks(&stack);
        let email = format!("owner{n}@example.com");
        let member = format!("m{n}");
        let owner = stack.owner(&email).await;
        owner.connect_linkedin(&member).await;
        settle_down(&stack).await;
        let spent_before = attempts_spent_on_waits(&stack);
        stack.sandbox.fault(row.fault.clone()).await;
        let id = owner.launch("Matrix", "bakery", "Smallville").await;
        let (detail, secs) = drive(&stack, &owner, &member, id).await;
        stack.sandbox.clear_faults().await;
        let status = detail["campaign"]["status"].as_str().unwrap().to_owned();
        assert_eq!(
            status,
            row.end.status(),
            "{route} {}: {}",
            row.label,
            serde_json::to_string_pretty(&detail["campaign"]).unwrap()
        );
        if row.end == End::Error {
            assert!(
                detail["campaign"]["error_details"]["campaign"]
                    .as_str()
                    .is_some_and(|r| !r.is_empty()),
                "{route} {}: an error without its reason",
                row.label
            );
        }
        let summary = assert_terminal(&db, id).await;
        stack.sandbox.assert_no_double_post().await;
        if row.wait {
            assert_eq!(
                attempts_spent_on_waits(&stack),
                spent_before,
                "{route} {}: a wait spent an attempt\nworkers:\n{}",
                row.label,
                retries_in(&stack.workers[0].log())
            );
        }
        assert_reasons_shown(&owner, &db, id).await;
        // Over: a reconciler period later, nobody has called a provider again. (A slow
        // answer the client gave up on is logged by the sandbox when it is sent, half a
        // second after the client's timeout: let those land first.)
        if row.fault.get("delay_ms").is_some() {
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        let before = calls(&stack).await;
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(
            calls(&stack).await,
            before,
            "{route} {}: work was run again after the end",
            row.label
        );
        writeln!(
            table,
            "| {route} | {} | {status} | {secs:.1} | {summary} |",
            row.label
        )
        .unwrap();
    }
    table
}

const ROUTES: [&str; 9] = [
    "places.search",
    "site",
    "gemini.text",
    "gemini.image",
    "linkedin.images.init",
    "linkedin.images.upload",
    "linkedin.images.get",
    "linkedin.posts",
    "linkedin.userinfo",
];

/// Routes at once: a route's rows mostly wait (backoffs, bounds, the reconciler's
/// period), so several stacks share the two cores well.
const AT_ONCE: usize = 5;

/// A database of its own for a route's stack (its reconciler must see only its own
/// campaigns), migrated like the one `#[sqlx::test]` made; dropped at the end.
async fn database_for(db: &PgPool, n: usize) -> (PgPool, String) {
    // Short: the test database's own name is near PostgreSQL's 63-byte limit.
    let name = format!("ag_matrix_{}_{n}", std::process::id());
    drop_database(db, &name).await;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(db)
        .await
        .unwrap();
    let options = db.connect_options().as_ref().clone().database(&name);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::migrate!("../migrations").run(&pool).await.unwrap();
    (pool, name)
}

async fn drop_database(db: &PgPool, name: &str) {
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(db)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn every_route_and_fault_ends_every_campaign(db: PgPool) {
    let started = Instant::now();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut runs = tokio::task::JoinSet::new();
    let mut databases = Vec::new();
    // `MATRIX_ROUTES=linkedin.posts,site` runs only those routes (while working on one).
    let only = std::env::var("MATRIX_ROUTES").ok();
    let routes = ROUTES.into_iter().filter(|r| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == *r))
    });
    for (n, route) in routes.enumerate() {
        let (pool, name) = database_for(&db, n).await;
        databases.push(name);
        let permits = permits.clone();
        runs.spawn(async move {
            let _turn = permits.acquire_owned().await.unwrap();
            (route, run_route(pool, route).await)
        });
    }
    let mut tables = Vec::new();
    while let Some(done) = runs.join_next().await {
        match done {
            Ok(table) => tables.push(table),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("{e}"),
        }
    }
    tables.sort_by_key(|(route, _)| ROUTES.iter().position(|r| r == route));
    println!("| route | fault | end | seconds | rows |\n|---|---|---|---|---|");
    for (_, table) in tables {
        print!("{table}");
    }
    println!("matrix: {:.0} s", started.elapsed().as_secs_f64());
    for name in databases {
        drop_database(&db, &name).await;
    }
}
