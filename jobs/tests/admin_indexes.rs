//! The admin view's secondary indexes stay consistent with what they index: the dead
//! set's kind and user indexes through bury, retry, discard (one, by filter, all) and the
//! cap's drops; the retrying and deferred indexes through settle, the mover and discard.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

crate::on_both!(
    dead_indexes_follow_bury_retry_and_discard,
    the_cap_drops_the_oldest_jobs_from_their_indexes_too,
    a_text_search_stops_at_its_budget_and_continues,
    retrying_and_deferred_counts_follow_the_scheduled_set,
    a_heartbeat_lists_the_running_jobs_with_their_start,
);

use std::sync::Arc;
use std::time::Duration;

use common::{Env, Step, steps};
use jobs::admin::{Admin, JobFilter, JobState};
use jobs::settle::Settler;
use jobs::{Client, Envelope, Settings};

struct World {
    env: Env,
    client: Client,
    settler: Settler,
    admin: Admin,
}

/// The engine's parts on `env`'s Redis, with `settings` under the test's prefix.
async fn world(env: Env, settings: Settings) -> World {
    let settings = Settings {
        prefix: env.prefix.clone(),
        ..settings
    };
    let client = Client::connect(&env.redis.url(), settings).await.unwrap();
    let settler = Settler::new(
        client.connection(),
        Arc::new(client.keys(&steps())),
        Arc::new(client.settings().clone()),
    );
    let admin = Admin::new(client.connection(), client.settings());
    World {
        env,
        client,
        settler,
        admin,
    }
}

fn envelope(id: &str, kind: &str, user: Option<i64>, args: serde_json::Value) -> Envelope {
    let mut v = serde_json::json!({
        "id": id, "kind": kind, "queue": "steps", "args": args,
        "attempt": 3, "max_attempts": 4, "enqueued_at": 1,
    });
    if let Some(u) = user {
        v["user_id"] = u.into();
    }
    Envelope::decode(v.to_string().as_bytes()).unwrap()
}

/// Buries a job that came from nowhere (no stream entry), as a bulk import would.
async fn bury(w: &World, id: &str, kind: &str, user: Option<i64>, args: serde_json::Value) {
    w.settler
        .bury(None, &envelope(id, kind, user, args), "boom")
        .await
        .unwrap();
}

/// Returns once the millisecond clock the dead set is ordered by has moved past `ms`, so
/// the next job buried dies strictly later.
async fn past_ms(ms: u64) {
    test_support::wait_for(
        Duration::from_secs(1),
        "the clock moves past the last death",
        async || jobs::now_ms() > ms,
    )
    .await;
}

async fn count(w: &World, kind: Option<&str>, user: Option<i64>, text: Option<&str>) -> u64 {
    w.admin
        .count_dead(&steps(), &JobFilter::new(kind, user, text))
        .await
        .unwrap()
}

async fn ids(w: &World, filter: &JobFilter) -> Vec<String> {
    let page = w
        .admin
        .page(&steps(), JobState::Dead, filter, None, 100)
        .await
        .unwrap();
    page.jobs.into_iter().map(|j| j.envelope.id).collect()
}

/// Every key of the queue that matches `pattern` (test-sized Redis only).
async fn keys_like(w: &World, pattern: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut w.client.connection())
        .await
        .unwrap();
    keys.sort();
    keys
}

async fn dead_indexes_follow_bury_retry_and_discard(env: Env) {
    let w = world(env, common::fast_settings()).await;
    bury(
        &w,
        "a1",
        "scrape",
        Some(1),
        serde_json::json!({"city": "Lyon"}),
    )
    .await;
    bury(
        &w,
        "a2",
        "scrape",
        Some(2),
        serde_json::json!({"city": "Paris"}),
    )
    .await;
    bury(
        &w,
        "a3",
        "publish",
        Some(1),
        serde_json::json!({"content_id": 9}),
    )
    .await;
    bury(
        &w,
        "a4",
        "publish",
        None,
        serde_json::json!({"content_id": 10}),
    )
    .await;

    assert_eq!(count(&w, None, None, None).await, 4);
    assert_eq!(count(&w, Some("scrape"), None, None).await, 2);
    assert_eq!(count(&w, None, Some(1), None).await, 2);
    assert_eq!(count(&w, Some("publish"), Some(1), None).await, 1);
    assert_eq!(count(&w, None, None, Some("LYON")).await, 1);
    // Newest first, from the index.
    assert_eq!(
        ids(&w, &JobFilter::new(Some("publish"), None, None)).await,
        ["a4", "a3"]
    );
    assert_eq!(
        ids(&w, &JobFilter::new(None, None, Some("paris"))).await,
        ["a2"]
    );

    // Retry one: it leaves the dead set and both its indexes.
    assert!(w.admin.retry_dead(&steps(), "a1").await.unwrap());
    assert_eq!(count(&w, Some("scrape"), None, None).await, 1);
    assert_eq!(count(&w, None, Some(1), None).await, 1);
    // Discard one.
    assert!(w.admin.discard_dead(&steps(), "a3").await.unwrap());
    assert!(!w.admin.discard_dead(&steps(), "a3").await.unwrap());
    assert_eq!(count(&w, None, Some(1), None).await, 0);
    assert_eq!(count(&w, Some("publish"), None, None).await, 1);

    // Discard by filter: only what matches, and only what died by the cutoff.
    let cutoff = jobs::now_ms();
    past_ms(cutoff).await;
    bury(&w, "a5", "publish", Some(3), serde_json::json!({})).await;
    let by_kind = JobFilter::new(Some("publish"), None, None);
    assert_eq!(
        w.admin
            .discard_dead_matching(&steps(), &by_kind, cutoff)
            .await
            .unwrap(),
        1
    );
    assert_eq!(ids(&w, &by_kind).await, ["a5"]);
    // Retry by filter.
    let by_user = JobFilter::new(None, Some(3), None);
    assert_eq!(
        w.admin
            .retry_dead_matching(&steps(), &by_user, jobs::now_ms())
            .await
            .unwrap(),
        1
    );
    assert_eq!(count(&w, Some("publish"), None, None).await, 0);
    assert_eq!(count(&w, None, None, None).await, 1);

    // Empty the dead set: no index key is left behind.
    assert_eq!(w.admin.discard_all_dead(&steps()).await.unwrap(), 1);
    assert_eq!(
        keys_like(&w, &w.env.key("dead*")).await,
        Vec::<String>::new()
    );
}

async fn the_cap_drops_the_oldest_jobs_from_their_indexes_too(env: Env) {
    let w = world(
        env,
        Settings {
            dead_max: 3,
            ..common::fast_settings()
        },
    )
    .await;
    for i in 0..6 {
        let kind = if i % 2 == 0 { "even" } else { "odd" };
        bury(
            &w,
            &format!("j{i}"),
            kind,
            Some(i % 3),
            serde_json::json!({ "i": i }),
        )
        .await;
        past_ms(jobs::now_ms()).await;
    }
    // j3, j4, j5 remain.
    assert_eq!(count(&w, None, None, None).await, 3);
    assert_eq!(count(&w, Some("even"), None, None).await, 1);
    assert_eq!(count(&w, Some("odd"), None, None).await, 2);
    assert_eq!(count(&w, None, Some(0), None).await, 1);
    assert_eq!(count(&w, None, Some(1), None).await, 1);
    assert_eq!(count(&w, None, Some(2), None).await, 1);
    assert_eq!(
        ids(&w, &JobFilter::new(Some("odd"), None, None)).await,
        ["j5", "j3"]
    );
}

async fn a_text_search_stops_at_its_budget_and_continues(env: Env) {
    let w = world(env, common::fast_settings()).await;
    let mut conn = w.client.connection();
    let now = jobs::now_ms();
    // Straight into the dead set, pipelined: one needle among more than a budget of hay.
    let keys = w.client.keys(&steps());
    let n = jobs::admin::SCAN_BUDGET + 700;
    let mut pipe = redis::pipe();
    for i in 0..n {
        let args = if i == 0 {
            serde_json::json!({"q": "needle"})
        } else {
            serde_json::json!({"q": "hay"})
        };
        let e = envelope(&format!("h{i:05}"), "step", None, args);
        pipe.cmd("ZADD")
            .arg(&keys.dead)
            .arg(now + i as u64)
            .arg(&e.id)
            .ignore();
        pipe.cmd("HSET")
            .arg(&keys.dead_jobs)
            .arg(&e.id)
            .arg(e.encode().unwrap())
            .ignore();
    }
    let () = pipe.query_async(&mut conn).await.unwrap();
    let filter = JobFilter::new(None, None, Some("needle"));
    let first = w
        .admin
        .page(&steps(), JobState::Dead, &filter, None, 50)
        .await
        .unwrap();
    assert!(first.jobs.is_empty());
    assert!(first.budget_spent);
    assert_eq!(first.scanned, jobs::admin::SCAN_BUDGET);
    let next = first.next.unwrap();
    let second = w
        .admin
        .page(&steps(), JobState::Dead, &filter, Some(&next), 50)
        .await
        .unwrap();
    assert_eq!(second.jobs.len(), 1);
    assert_eq!(second.jobs[0].envelope.id, "h00000");
    assert!(second.next.is_none());
}

/// Reads the next entry for `consumer` (making the group first), as a worker does.
async fn fetch_one(w: &World) -> (String, Envelope) {
    let mut conn = w.client.connection();
    let keys = w.client.keys(&steps());
    jobs::stream::ensure_group(&mut conn, &keys).await.unwrap();
    let entries = jobs::stream::read(&mut conn, &keys, "c1", 1, Duration::from_millis(100))
        .await
        .unwrap();
    let entry = entries.into_iter().next().expect("an entry");
    let envelope = Envelope::decode(entry.envelope.as_deref().unwrap()).unwrap();
    (entry.id, envelope)
}

async fn retrying_and_deferred_counts_follow_the_scheduled_set(env: Env) {
    let w = world(env, common::fast_settings()).await;
    let step = Step::default();
    w.client.enqueue(&step).await.unwrap();
    w.client.enqueue(&step).await.unwrap();
    w.client.enqueue(&step).await.unwrap();
    // A plain delayed job is scheduled but neither retrying nor deferred.
    w.client
        .enqueue_in(&step, Duration::from_secs(3600))
        .await
        .unwrap();

    let (e1, env1) = fetch_one(&w).await;
    w.settler
        .retry(&e1, &env1, Duration::from_secs(3600), "try later")
        .await
        .unwrap();
    let (e2, env2) = fetch_one(&w).await;
    w.settler
        .defer(&e2, &env2, jobs::now_ms() + 3_600_000, "rate limit")
        .await
        .unwrap();
    let (e3, env3) = fetch_one(&w).await;
    w.settler
        .defer(&e3, &env3, jobs::now_ms() + 3_600_000, "rate limit")
        .await
        .unwrap();
    let sizes = w.admin.sizes(&steps()).await.unwrap();
    assert_eq!((sizes.scheduled, sizes.retrying, sizes.deferred), (4, 1, 2));

    // Discarded: it leaves its index.
    assert!(w.admin.discard_scheduled(&steps(), &env3.id).await.unwrap());
    // Made due and moved: they leave theirs.
    assert!(w.admin.run_scheduled_now(&steps(), &env1.id).await.unwrap());
    assert!(w.admin.run_scheduled_now(&steps(), &env2.id).await.unwrap());
    let keys = w.client.keys(&steps());
    jobs::scheduler::move_due(&mut w.client.connection(), &keys, 100, true)
        .await
        .unwrap();
    let sizes = w.admin.sizes(&steps()).await.unwrap();
    assert_eq!((sizes.scheduled, sizes.retrying, sizes.deferred), (1, 0, 0));
    assert_eq!(sizes.ready, 2);
    // The oldest ready job's age is known (the lag).
    assert!(sizes.oldest_ready_at.is_some());
}

async fn a_heartbeat_lists_the_running_jobs_with_their_start(env: Env) {
    let worker = env.worker(2).await;
    let slow = Step {
        tag: "slow".into(),
        sleep_ms: 3_000,
        ..Step::default()
    };
    let id = env.client.enqueue(&slow).await.unwrap().id().to_owned();
    let admin = env.admin();
    let listed = test_support::wait_until(Duration::from_secs(5), || {
        let admin = admin.clone();
        let id = id.clone();
        async move {
            admin.live_workers().await.unwrap().iter().any(|w| {
                w.busy == vec![("steps".to_owned(), 1)]
                    && w.jobs.iter().any(|j| {
                        j.id == id && j.kind == "step" && j.queue == "steps" && j.started_at > 0
                    })
            })
        }
    })
    .await;
    assert!(listed, "the running job is in the heartbeat");
    worker.shutdown(Duration::from_secs(10)).await;
}
