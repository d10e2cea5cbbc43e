#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The outbox relay against real PostgreSQL and a private redis-server.

use std::time::Duration;

use shared::outbox;
use sqlx::PgPool;
use test_support::{TestRedis, poll_until};

async fn client(redis: &TestRedis) -> jobs::Client {
    jobs::Client::connect(&redis.url(), jobs::Settings::default())
        .await
        .unwrap()
}

fn stream_len(redis: &TestRedis, queue: &str) -> usize {
    let mut conn = redis.conn();
    redis::cmd("XLEN")
        .arg(format!("ag:{{{queue}}}:stream"))
        .query(&mut conn)
        .unwrap()
}

async fn outbox_len(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(db)
        .await
        .unwrap()
}

/// `n` EnrichLead rows: not unique in the queue, so a row relayed twice would show as two
/// stream entries.
async fn fill(db: &PgPool, n: i64) {
    sqlx::query(
        "INSERT INTO outbox (kind, args)
         SELECT 'enrich_lead', jsonb_build_object('lead_id', i) FROM generate_series(1, $1) i",
    )
    .bind(n)
    .execute(db)
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn many_relays_at_once_move_each_row_exactly_once(db: PgPool) {
    let redis = TestRedis::start();
    fill(&db, 1_000).await;
    // Four relays race over the same rows until the outbox is empty.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (db, client) = (db.clone(), client(&redis).await);
        tasks.push(tokio::spawn(async move {
            let mut moved = 0;
            loop {
                let n = outbox::relay_once(&db, &client).await.unwrap();
                if n == 0 && outbox_len(&db).await == 0 {
                    return moved;
                }
                moved += n;
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 1_000);
    assert_eq!(stream_len(&redis, "enrich"), 1_000);
}

#[sqlx::test(migrations = "../migrations")]
async fn rows_wait_out_a_redis_outage(db: PgPool) {
    let mut redis = TestRedis::start();
    let client = client(&redis).await;
    fill(&db, 3).await;
    redis.kill();
    // Redis is down: the pass fails and every row stays.
    assert!(outbox::relay_once(&db, &client).await.is_err());
    assert_eq!(outbox_len(&db).await, 3);
    redis.restart();
    // Back up: the next passes move them (the connection manager reconnects).
    let mut moved = 0;
    poll_until(Duration::from_secs(5), async || {
        if let Ok(n) = outbox::relay_once(&db, &client).await {
            moved += n;
        }
        moved >= 3
    })
    .await;
    assert_eq!(moved, 3);
    assert_eq!(outbox_len(&db).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_kind_is_set_aside_and_does_not_block_others(db: PgPool) {
    let redis = TestRedis::start();
    let client = client(&redis).await;
    sqlx::query(
        "INSERT INTO outbox (kind, args) VALUES
         ('from_the_future', '{}'), ('scrape_campaign', '{\"campaign_id\": 7}'),
         ('publish_post', '{\"wrong\": true}')",
    )
    .execute(&db)
    .await
    .unwrap();
    // The good row goes out; the two bad ones stay with their reasons, due later.
    assert_eq!(outbox::relay_once(&db, &client).await.unwrap(), 1);
    assert_eq!(stream_len(&redis, "scrape"), 1);
    let kept: Vec<(String, i32, Option<String>)> = sqlx::query_as(
        "SELECT kind, attempts, last_error FROM outbox WHERE next_attempt_at > now() ORDER BY id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].1, 1);
    assert!(kept[0].2.as_deref().unwrap().contains("unknown job kind"));
    assert!(kept[1].2.as_deref().unwrap().contains("json"));
    // Not due: another pass moves nothing.
    assert_eq!(outbox::relay_once(&db, &client).await.unwrap(), 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_spawned_relay_is_woken_by_a_commit(db: PgPool) {
    let redis = TestRedis::start();
    let stop = tokio_util::sync::CancellationToken::new();
    let relay = outbox::spawn_relay(db.clone(), client(&redis).await, stop.clone());
    // Let it finish its first pass and start listening.
    tokio::time::sleep(Duration::from_millis(300)).await;
    fill(&db, 1).await;
    // The NOTIFY wakes it well before its 2 s poll.
    let started = std::time::Instant::now();
    while stream_len(&redis, "enrich") == 0 {
        assert!(
            started.elapsed() < Duration::from_millis(1_500),
            "relay was not woken"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    relay.await.unwrap();
}

/// A row whose enqueue answers Duplicate (a job with the same unique
/// key is queued or running) was deleted, though that job may have read the state before
/// the row's transaction committed. The row now waits, and is enqueued once that job is
/// done.
#[sqlx::test(migrations = "../migrations")]
async fn a_duplicate_row_waits_for_the_holder_instead_of_vanishing(db: PgPool) {
    let redis = TestRedis::start();
    let client = client(&redis).await;
    let holder = client
        .enqueue(&jobs::kinds::PublishPost::new(7))
        .await
        .unwrap();
    sqlx::query("INSERT INTO outbox (kind, args) VALUES ('publish_post', '{\"content_id\": 7}')")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(outbox::relay_once(&db, &client).await.unwrap(), 0);
    let (left, reason): (i64, Option<String>) =
        sqlx::query_as("SELECT count(*), max(last_error) FROM outbox")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(left, 1, "the row is kept");
    let reason = reason.unwrap();
    assert!(reason.contains(holder.id()), "{reason}");
    // The holder is done (its key released): the next pass enqueues a fresh job.
    let () = redis::cmd("DEL")
        .arg("ag:{publish}:unique:publish_post:7")
        .query(&mut redis.conn())
        .unwrap();
    sqlx::query("UPDATE outbox SET next_attempt_at = now()")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(outbox::relay_once(&db, &client).await.unwrap(), 1);
    assert_eq!(outbox_len(&db).await, 0);
    assert_eq!(stream_len(&redis, "publish"), 2);
}

/// The relay reads the row's user back into the envelope: per-user limits and the admin UI
/// key on it, and before this every pipeline envelope had no user.
#[sqlx::test(migrations = "../migrations")]
async fn the_rows_user_travels_in_the_envelope(db: PgPool) {
    let redis = TestRedis::start();
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) VALUES ('u@example.com', 'x', 'U') RETURNING id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let mut conn = db.acquire().await.unwrap();
    outbox::push(
        &mut conn,
        &jobs::kinds::EnrichLead { lead_id: 7 },
        Some(user),
    )
    .await
    .unwrap();
    outbox::push(&mut conn, &jobs::kinds::EnrichLead { lead_id: 8 }, None)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(
        outbox::relay_once(&db, &client(&redis).await)
            .await
            .unwrap(),
        2
    );
    let mut conn = redis.conn();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg("ag:{enrich}:stream")
        .arg("-")
        .arg("+")
        .query(&mut conn)
        .unwrap();
    let users: Vec<Option<i64>> = entries
        .ids
        .iter()
        .map(|entry| {
            let raw: String = entry
                .get(jobs::keys::ENVELOPE_FIELD)
                .expect("envelope field");
            jobs::Envelope::decode(raw.as_bytes()).unwrap().user_id
        })
        .collect();
    assert_eq!(users, vec![Some(user), None]);
}

/// A kind the relay has never heard of, with a queue, attempt budget and unique key
/// lifetime of its own: what it is enqueued with can only come from the row.
#[derive(serde::Serialize, serde::Deserialize)]
struct Invoice {
    invoice_id: i64,
}

impl jobs::Job for Invoice {
    const KIND: &'static str = "test_invoice";
    const QUEUE: &'static str = "invoices";
    const MAX_ATTEMPTS: u32 = 7;
    const UNIQUE_FOR: Duration = Duration::from_secs(90);

    fn unique_key(&self) -> Option<String> {
        Some(format!("invoice:{}", self.invoice_id))
    }
}

fn decode(raw: &str) -> jobs::Envelope {
    jobs::Envelope::decode(raw.as_bytes()).unwrap()
}

fn stream_envelopes(redis: &TestRedis, queue: &str) -> Vec<jobs::Envelope> {
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("ag:{{{queue}}}:stream"))
        .arg("-")
        .arg("+")
        .query(&mut redis.conn())
        .unwrap();
    entries
        .ids
        .iter()
        .map(|e| decode(&e.get::<String>(jobs::keys::ENVELOPE_FIELD).unwrap()))
        .collect()
}

fn scheduled_envelopes(redis: &TestRedis, queue: &str) -> Vec<jobs::Envelope> {
    let members: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("ag:{{{queue}}}:scheduled"))
        .arg(0)
        .arg(-1)
        .query(&mut redis.conn())
        .unwrap();
    members.iter().map(|m| decode(m)).collect()
}

fn ttl_ms(redis: &TestRedis, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query(&mut redis.conn())
        .unwrap()
}

/// `push_at` decides the queue, unique key, attempt budget and unique key lifetime from
/// the type when it writes the row; the relay, which has no idea what a `test_invoice` is,
/// enqueues the row with them, as a typed enqueue would have.
#[sqlx::test(migrations = "../migrations")]
async fn a_pushed_row_relays_with_what_its_type_decided(db: PgPool) {
    let redis = TestRedis::start();
    let client = client(&redis).await;
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) VALUES ('i@example.com', 'x', 'I') RETURNING id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let slot = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut conn = db.acquire().await.unwrap();
    outbox::push(&mut conn, &Invoice { invoice_id: 7 }, Some(user))
        .await
        .unwrap();
    outbox::push_at(&mut conn, &Invoice { invoice_id: 8 }, None, Some(slot))
        .await
        .unwrap();
    drop(conn);

    assert_eq!(outbox::relay_once(&db, &client).await.unwrap(), 2);
    assert_eq!(outbox_len(&db).await, 0);
    let now = stream_envelopes(&redis, "invoices");
    assert_eq!(now.len(), 1);
    let e = &now[0];
    assert_eq!(
        (e.kind.as_str(), e.queue.as_str()),
        ("test_invoice", "invoices")
    );
    let args: serde_json::Value = serde_json::from_str(e.args.get()).unwrap();
    assert_eq!(args, serde_json::json!({ "invoice_id": 7 }));
    assert_eq!(e.unique_key.as_deref(), Some("invoice:7"));
    assert_eq!(e.max_attempts, 7);
    assert_eq!(e.unique_for, Some(90_000));
    assert_eq!(e.user_id, Some(user));
    let ttl = ttl_ms(&redis, "ag:{invoices}:unique:invoice:7");
    assert!((80_000..=90_000).contains(&ttl), "{ttl}");

    // The one for later waits in the scheduled set for its slot, and its unique key lives
    // until the slot plus UNIQUE_FOR, as for a typed enqueue.
    let later = scheduled_envelopes(&redis, "invoices");
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].unique_key.as_deref(), Some("invoice:8"));
    assert_eq!(
        later[0].run_at,
        Some(u64::try_from(slot.timestamp_millis()).unwrap())
    );
    let ttl = ttl_ms(&redis, "ag:{invoices}:unique:invoice:8");
    assert!((3_680_000..=3_690_000).contains(&ttl), "{ttl}");

    // The queue is listed for the admin view.
    let queues: Vec<String> = redis::cmd("SMEMBERS")
        .arg("ag:queues")
        .query(&mut redis.conn())
        .unwrap();
    assert!(queues.contains(&"invoices".to_owned()), "{queues:?}");

    // The unique key holds as for a typed enqueue: a second row for invoice 7 waits for
    // the job that holds it.
    let mut conn = db.acquire().await.unwrap();
    outbox::push(&mut conn, &Invoice { invoice_id: 7 }, Some(user))
        .await
        .unwrap();
    drop(conn);
    assert_eq!(outbox::relay_once(&db, &client).await.unwrap(), 0);
    let reason: Option<String> = sqlx::query_scalar("SELECT last_error FROM outbox")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(reason.unwrap().contains(now[0].id.as_str()));
    assert_eq!(stream_envelopes(&redis, "invoices").len(), 1);
}

/// Rows written before the outbox stored what a job is enqueued with (or by a process of
/// that release while a deploy rolls) have none of it: the relay takes it from the kind's
/// type, as it did before. The rows are written on the schema before the migration that
/// added the columns, which then runs.
#[sqlx::test(migrations = false)]
async fn a_row_written_before_rows_carried_their_parts_still_relays(db: PgPool) {
    const PARTS_MIGRATION: &str = "20261208000005";
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let name = |p: &std::path::PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
    assert!(files.iter().any(|p| name(p).starts_with(PARTS_MIGRATION)));
    let (before, after): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|p| name(p).as_str() < PARTS_MIGRATION);
    for file in before {
        let sql = std::fs::read_to_string(file).unwrap();
        sqlx::raw_sql(&sql).execute(&db).await.unwrap();
    }
    let slot = chrono::Utc::now() + chrono::Duration::hours(1);
    sqlx::query(
        "INSERT INTO outbox (kind, args, run_at) VALUES
         ('scrape_campaign', '{\"campaign_id\": 3}', NULL),
         ('publish_post', '{\"content_id\": 9, \"slot\": 1700000000}', $1)",
    )
    .bind(slot)
    .execute(&db)
    .await
    .unwrap();
    for file in after {
        let sql = std::fs::read_to_string(file).unwrap();
        sqlx::raw_sql(&sql).execute(&db).await.unwrap();
    }

    let redis = TestRedis::start();
    assert_eq!(
        outbox::relay_once(&db, &client(&redis).await)
            .await
            .unwrap(),
        2
    );
    assert_eq!(outbox_len(&db).await, 0);
    let scrape = stream_envelopes(&redis, "scrape");
    assert_eq!(scrape.len(), 1);
    assert_eq!(scrape[0].kind, "scrape_campaign");
    assert_eq!(scrape[0].unique_key.as_deref(), Some("scrape_campaign:3"));
    assert_eq!(scrape[0].max_attempts, 5);
    assert_eq!(scrape[0].unique_for, Some(24 * 3600 * 1000));
    let publish = scheduled_envelopes(&redis, "publish");
    assert_eq!(publish.len(), 1);
    assert_eq!(
        publish[0].unique_key.as_deref(),
        Some("publish_post:9@1700000000")
    );
    assert_eq!(publish[0].max_attempts, 8);
}
