#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Exactly-once publishing without leaning on LinkedIn: the sandbox forgets every post at
//! once (`duplicate_window_s: 0`), so a second POST of the same text would be a second
//! post on the owner's page. The real api, real workers, the sandbox over HTTP.

mod harness;

use std::time::Duration;

use jobs::kinds::PublishPost;
use jobs::{EnqueueOptions, Enqueued};
use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use test_support::stack::Stack;
use test_support::wait_for;

const RUN: Duration = Duration::from_secs(60);

/// A stream entry as XRANGE gives it: id, then field/value pairs.
type StreamEntry = (String, Vec<(String, Vec<u8>)>);

async fn forgetful_stack(db: PgPool) -> Stack {
    let options = sandbox::Options {
        duplicate_window_s: 0,
        ..sandbox::Options::default()
    };
    let mut stack = Stack::start_with(db, options, |c| {
        c.pipeline.max_leads = 1;
        // The owner approves by hand: the test decides when the job starts.
        c.pipeline.auto_approve_score = 100;
        c.pipeline.duplicate_window_secs = 0;
    })
    .await;
    stack.spawn_worker("w1").await;
    stack
}

async fn publication_state(db: &PgPool) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM publications")
        .fetch_optional(db)
        .await
        .unwrap()
}

/// Two PublishPost jobs for one content at once (the queue's unique key was lost, as
/// after a Redis failover): only one run is ever past the decision to POST.
#[sqlx::test(migrations = "../migrations")]
async fn two_jobs_for_one_content_post_it_once(db: PgPool) {
    let stack = forgetful_stack(db.clone()).await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Twice", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    // Slow POSTs: the first run is still waiting for LinkedIn when the second starts.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 2, "delay_ms": 1_000}))
        .await;
    let pending = owner
        .ok(Method::GET, "/api/contents?status=pending", None)
        .await;
    let content_id = pending["items"][0]["id"].as_i64().unwrap();
    owner
        .ok(
            Method::POST,
            &format!("/api/contents/{content_id}/approve"),
            None,
        )
        .await;
    // The approval's job holds the unique key; forget it, and enqueue a second job.
    let mut conn = stack.redis.conn();
    let mut keys: Vec<String> = Vec::new();
    wait_for(RUN, "the approval's job holds its unique key", async || {
        keys = redis::cmd("KEYS")
            .arg("ag:{publish}:unique:*")
            .query(&mut conn)
            .unwrap();
        !keys.is_empty()
    })
    .await;
    let () = redis::cmd("DEL").arg(&keys).query(&mut conn).unwrap();
    let client = jobs::Client::connect(&stack.redis.url(), jobs::Settings::default())
        .await
        .unwrap();
    let me = owner.ok(Method::GET, "/api/auth/me", None).await;
    let user_id = me["user"]["id"].as_i64().unwrap();
    let second = client
        .enqueue_with(
            &PublishPost::new(content_id),
            EnqueueOptions {
                user_id: Some(user_id),
                ..EnqueueOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(second, Enqueued::New(_)), "{second:?}");
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 1);
    // Both jobs have run once the publish queue is idle (the second waited for the
    // first's lock, then found the post made): a late POST would have been sent by then.
    stack.wait_idle(&["publish"], RUN).await;
    let posts = stack.sandbox.posts().await;
    assert_eq!(posts.len(), 1, "posted {} times: {posts:?}", posts.len());
    assert_eq!(publication_state(&db).await.as_deref(), Some("published"));
}

/// A POST whose answer was lost, when LinkedIn would not refuse a copy: the publication is
/// `unknown` for the owner, and no second POST goes out.
#[sqlx::test(migrations = "../migrations")]
async fn a_lost_answer_past_the_duplicate_window_is_unknown_not_retried(db: PgPool) {
    let stack = forgetful_stack(db.clone()).await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Lost", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    // LinkedIn makes the post, then answers 500.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 1, "status": 500, "after_effect": true}))
        .await;
    owner.approve_pending().await;
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 0);
    assert_eq!(publication_state(&db).await.as_deref(), Some("unknown"));
    // The job that lost the answer has ended, and no retry of it waits: a second POST
    // would have gone out by then.
    stack.wait_idle(&["publish"], RUN).await;
    assert_eq!(
        stack.sandbox.posts().await.len(),
        1,
        "one post, the first; no copy"
    );
    assert_eq!(stack.sandbox.log("linkedin.posts").await.len(), 1);
}

/// Two runs of one PublishPost job at once, as when a stalled worker's entry is taken over
/// while its run still goes on: the second run carries the same job id, yet only one run
/// may be past the decision to POST, so LinkedIn sees one POST.
#[sqlx::test(migrations = "../migrations")]
async fn two_runs_of_one_job_post_it_once(db: PgPool) {
    let stack = forgetful_stack(db.clone()).await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Taken over", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    // A slow POST: the first run is still waiting for LinkedIn when the second starts.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 2, "delay_ms": 1_500}))
        .await;
    owner.approve_pending().await;
    // The first run holds the send lease: it is about to POST, or posting.
    wait_for(RUN, "the first run takes the send lease", async || {
        let leased: Option<bool> =
            sqlx::query_scalar("SELECT send_lease_job IS NOT NULL FROM publications")
                .fetch_optional(&db)
                .await
                .unwrap();
        leased == Some(true)
    })
    .await;
    // Its entry, still in the stream while it runs, delivered a second time: the same job
    // (same id, same attempt) as another worker's takeover would run it.
    let mut conn = stack.redis.conn();
    let stream = "ag:{publish}:stream";
    let entries: Vec<StreamEntry> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query(&mut conn)
        .unwrap();
    assert_eq!(entries.len(), 1, "one PublishPost entry: {entries:?}");
    let (_, fields) = &entries[0];
    let mut add = redis::cmd("XADD");
    add.arg(stream).arg("*");
    for (k, v) in fields {
        add.arg(k).arg(v.as_slice());
    }
    let _: String = add.query(&mut conn).unwrap();

    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    let row: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT state, error FROM publications")
            .fetch_optional(&db)
            .await
            .unwrap();
    assert_eq!(
        detail["campaign"]["published_count"],
        1,
        "publication {row:?}, {} POSTs",
        stack.sandbox.log("linkedin.posts").await.len()
    );
    // Both runs have ended once the publish queue is empty.
    stack.wait_idle(&["publish"], RUN).await;
    let sent = stack.sandbox.log("linkedin.posts").await.len();
    assert_eq!(sent, 1, "LinkedIn got {sent} POSTs for one content");
    assert_eq!(stack.sandbox.posts().await.len(), 1);
    assert_eq!(publication_state(&db).await.as_deref(), Some("published"));
}
