//! The admin overview, a filtered dead list and an owner's home page on a big system:
//! 1,000,000 jobs queued and 100,000 dead in the private Redis of a real app, and an owner
//! with 50 campaigns (2,500 leads, contents and publications spread over 30 days). Ignored by default (loading takes a
//! minute and ~1 GB of Redis memory); run it with
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5440/postgres SQLX_OFFLINE=true \
//!   cargo test -p api --test admin_scale -- --ignored --nocapture
//! ```
//!
//! It prints p50 / p99 / max over 200 sequential requests per endpoint, timed by the
//! client over loopback HTTP (so an upper bound of the server's time: the request goes
//! through the session, the role check and the real handler), and fails if a p50 of the
//! overview or of a filtered dead list is 100 ms or more.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use jobs::keys::QueueKeys;
use jobs::{Envelope, QueueName};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use test_support::app::spawn_app_with;

const QUEUED: usize = 1_000_000;
const DEAD: usize = 100_000;
const SAMPLES: usize = 200;
const BATCH: usize = 10_000;

fn envelope(id: &str, kind: &str, queue: &str, user: i64, i: usize, dead: bool) -> String {
    let mut e = json!({
        "id": id, "kind": kind, "queue": queue,
        "args": { "content_id": i, "campaign_id": i % 5_000, "note": format!("lead {i} in Lyon") },
        "attempt": if dead { 5 } else { 0 }, "max_attempts": 5, "user_id": user,
        "enqueued_at": 1_767_225_600_000u64 + i as u64,
    });
    if dead {
        e["errors"] = json!([{ "at": 1_767_225_660_000u64, "attempt": 5,
                               "message": format!("linkedin answered 500 for content {i}") }]);
        e["died_at"] = json!(1_767_225_660_000u64 + i as u64);
    }
    Envelope::decode(e.to_string().as_bytes())
        .unwrap()
        .encode()
        .unwrap()
}

/// An owner with 50 finished campaigns of 50 leads each, every lead with a content, four in
/// five published, spread over the last 30 days: what the home page's KPIs, charts and
/// attention list read. Written in SQL, as the workers would have left it.
async fn load_owner(db: &PgPool, user_id: i64) {
    sqlx::query(
        "WITH c AS (
           INSERT INTO campaigns (user_id, name, industry, location, status, leads_count,
                                  contents_count, published_count, created_at, launched_at,
                                  completed_at)
           SELECT $1, 'Campaign ' || n, 'bakery', 'Lyon', 'completed', 50, 50, 40,
                  now() - make_interval(days => n % 30), now() - make_interval(days => n % 30),
                  now() - make_interval(days => n % 30)
           FROM generate_series(1, 50) n RETURNING id, user_id, created_at),
         l AS (
           INSERT INTO leads (campaign_id, place_id, business_name, city, website, rating,
                              created_at)
           SELECT c.id, 'place-' || c.id || '-' || k, 'Business ' || k, 'Lyon',
                  'https://example.com', 4.5, c.created_at
           FROM c, generate_series(1, 50) k RETURNING id, campaign_id, created_at),
         t AS (
           INSERT INTO contents (lead_id, campaign_id, user_id, text, hashtags, quality_score,
                                 score_breakdown, status, created_at)
           SELECT l.id, l.campaign_id, $1, 'Fresh bread every morning in Lyon.',
                  ARRAY['bakery'], 80, '{}', CASE WHEN l.id % 5 = 0 THEN 'pending'
                  ELSE 'published' END, l.created_at
           FROM l RETURNING id, status, created_at)
         INSERT INTO publications (content_id, user_id, state, post_urn, post_url, created_at,
                                   published_at)
         SELECT t.id, $1, 'published', 'urn:li:share:' || t.id,
                'https://www.linkedin.com/feed/update/urn:li:share:' || t.id, t.created_at,
                t.created_at
         FROM t WHERE t.status = 'published'",
    )
    .bind(user_id)
    .execute(db)
    .await
    .unwrap();
}

/// Writes what the engine would have written: streams for the queued jobs (with a consumer
/// group and 1,000 in flight), the dead set with its hash and its kind and user indexes (as
/// `bury.lua` writes them), some scheduled retries, and three hours of per-minute counters.
async fn load(url: &str) {
    let client = redis::Client::open(url).unwrap();
    // Big pipelines: no response timeout (the default would cut a 60,000-command batch).
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(120)));
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    let queues = ["enrich", "publish", "scrape", "generate"];
    for q in queues {
        let () = redis::cmd("SADD")
            .arg("ag:queues")
            .arg(q)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let keys = |q: &str| QueueKeys::new("ag:", &QueueName::new(q).unwrap());
    let started = Instant::now();
    // 1M queued, spread over three queues (most in one).
    let enrich = keys("enrich");
    for start in (0..QUEUED).step_by(BATCH) {
        let mut pipe = redis::pipe();
        for i in start..start + BATCH {
            let (q, k) = match i % 10 {
                0 => ("scrape", keys("scrape")),
                1 => ("generate", keys("generate")),
                _ => ("enrich", enrich.clone()),
            };
            let id = format!("q-{i:08}");
            pipe.cmd("XADD")
                .arg(&k.stream)
                .arg("*")
                .arg("e")
                .arg(envelope(
                    &id,
                    &format!("{q}_job"),
                    q,
                    (i % 1_000) as i64 + 1,
                    i,
                    false,
                ))
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await.unwrap();
    }
    let () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&enrich.stream)
        .arg("workers")
        .arg("0")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("workers")
        .arg("w1")
        .arg("COUNT")
        .arg(1_000)
        .arg("STREAMS")
        .arg(&enrich.stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    eprintln!("queued {QUEUED} jobs in {:?}", started.elapsed());
    // 100k dead in one queue, 10 kinds and 1,000 users.
    let publish = keys("publish");
    let started = Instant::now();
    for start in (0..DEAD).step_by(BATCH) {
        let mut pipe = redis::pipe();
        for i in start..start + BATCH {
            let id = format!("d-{i:08}");
            let kind = format!("kind_{}", i % 10);
            let user = (i % 1_000) as i64 + 1;
            let died = 1_767_225_660_000u64 + i as u64;
            pipe.cmd("ZADD")
                .arg(&publish.dead)
                .arg(died)
                .arg(&id)
                .ignore();
            pipe.cmd("HSET")
                .arg(&publish.dead_jobs)
                .arg(&id)
                .arg(envelope(&id, &kind, "publish", user, i, true))
                .ignore();
            pipe.cmd("ZADD")
                .arg(publish.dead_kind(&kind))
                .arg(died)
                .arg(&id)
                .ignore();
            pipe.cmd("ZADD")
                .arg(publish.dead_user(user))
                .arg(died)
                .arg(&id)
                .ignore();
            pipe.cmd("SADD")
                .arg(&publish.dead_indexes)
                .arg(publish.dead_kind(&kind))
                .ignore();
            pipe.cmd("SADD")
                .arg(&publish.dead_indexes)
                .arg(publish.dead_user(user))
                .ignore();
        }
        let () = pipe.query_async(&mut conn).await.unwrap();
    }
    // 20k scheduled retries.
    let mut pipe = redis::pipe();
    let far = jobs::now_ms() + 3_600_000;
    for i in 0..20_000usize {
        let id = format!("r-{i:08}");
        pipe.cmd("ZADD")
            .arg(&publish.scheduled)
            .arg(far + i as u64)
            .arg(envelope(&id, "publish_post", "publish", 1, i, false))
            .ignore();
        pipe.cmd("ZADD")
            .arg(&publish.retrying)
            .arg(far + i as u64)
            .arg(&id)
            .ignore();
    }
    // Three hours of counters in every queue.
    let now = jobs::now_ms() / 60_000;
    for q in queues {
        let k = keys(q);
        for m in now - 180..=now {
            pipe.cmd("HSET")
                .arg(k.stats_minute(m))
                .arg("processed")
                .arg(m % 97 * 10)
                .arg("retried")
                .arg(m % 7)
                .arg("dead")
                .arg(m % 3)
                .ignore();
        }
    }
    let () = pipe.query_async(&mut conn).await.unwrap();
    let used: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .unwrap();
    let used = used
        .lines()
        .find(|l| l.starts_with("used_memory_human:"))
        .unwrap_or("")
        .to_owned();
    eprintln!("dead and the rest in {:?}; redis {used}", started.elapsed());
}

struct Timing {
    name: &'static str,
    p50: f64,
    p99: f64,
    max: f64,
}

async fn time(admin: &test_support::app::Visitor, name: &'static str, path: &str) -> Timing {
    // Warm up (connection, script cache).
    for _ in 0..5 {
        assert_eq!(admin.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let t = Instant::now();
        let response = admin.get(path).await;
        let status = response.status();
        let _ = response.bytes().await.unwrap();
        samples.push(t.elapsed());
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    Timing {
        name,
        p50: ms(samples[SAMPLES / 2]),
        p99: ms(samples[SAMPLES * 99 / 100 - 1]),
        max: ms(samples[SAMPLES - 1]),
    }
}

#[sqlx::test(migrations = "../migrations")]
#[ignore = "loads 1M jobs into Redis: run on demand (see the module doc)"]
async fn the_overview_and_a_filtered_dead_list_answer_in_under_100_ms(db: PgPool) {
    let app = spawn_app_with(
        db,
        |c| {
            c.limits.api_per_minute = 1_000_000;
            c.limits.api_burst = 100_000;
        },
        None,
    )
    .await;
    load(&app.redis.url()).await;
    let admin = app.admin("root@example.com").await;
    let sizes: serde_json::Value = admin.get("/api/admin/queues").await.json().await.unwrap();
    eprintln!("{sizes}");
    let timings = [
        time(&admin, "GET /api/admin/overview", "/api/admin/overview").await,
        time(&admin, "GET /admin (page)", "/admin").await,
        time(
            &admin,
            "dead by kind (JSON)",
            "/api/admin/queues/publish/jobs?state=dead&kind=kind_3",
        )
        .await,
        time(
            &admin,
            "dead by user (JSON)",
            "/api/admin/queues/publish/jobs?state=dead&user_id=77",
        )
        .await,
        time(
            &admin,
            "dead by kind+user (JSON)",
            "/api/admin/queues/publish/jobs?state=dead&kind=kind_7&user_id=8",
        )
        .await,
        time(
            &admin,
            "dead by kind, last page (JSON)",
            "/api/admin/queues/publish/jobs?state=dead&kind=kind_3&cursor=9950",
        )
        .await,
        time(
            &admin,
            "dead by kind (page)",
            "/admin/queues/publish/dead?kind=kind_3",
        )
        .await,
        time(
            &admin,
            "dead, text search (5,000 read)",
            "/api/admin/queues/publish/jobs?state=dead&q=no-such-text",
        )
        .await,
        time(
            &admin,
            "ready, first page (JSON)",
            "/api/admin/queues/enrich/jobs?state=ready",
        )
        .await,
    ];
    println!(
        "\n{:<34} {:>9} {:>9} {:>9}",
        "request (200 each)", "p50 ms", "p99 ms", "max ms"
    );
    for t in &timings {
        println!(
            "{:<34} {:>9.2} {:>9.2} {:>9.2}",
            t.name, t.p50, t.p99, t.max
        );
    }
    for t in &timings[..7] {
        assert!(t.p50 < 100.0, "{}: p50 {:.1} ms", t.name, t.p50);
    }

    // The owners' side on the same loaded system.
    let owner = app.visitor();
    owner.sign_up("owner@example.com").await;
    let user_id = app.user_id("owner@example.com").await;
    load_owner(&app.db, user_id).await;
    let home = [
        time(&owner, "GET / (home, 50 campaigns)", "/").await,
        time(&owner, "GET /api/metrics", "/api/metrics").await,
    ];
    for t in &home {
        println!(
            "{:<34} {:>9.2} {:>9.2} {:>9.2}",
            t.name, t.p50, t.p99, t.max
        );
        assert!(t.p50 < 100.0, "{}: p50 {:.1} ms", t.name, t.p50);
    }
}
