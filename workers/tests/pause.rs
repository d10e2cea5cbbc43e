#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The owner's "pause all publishing": real api, real workers, PostgreSQL, a private Redis
//! and the sandbox over HTTP. While paused, a post whose slot comes waits (a deferral: no
//! attempt spent, nothing sent); her resume places the waiting posts again and each goes
//! out once.

mod harness;

use std::time::Duration;

use reqwest::Method;
use sqlx::PgPool;
use test_support::stack::Stack;

const RUN: Duration = Duration::from_secs(90);

#[sqlx::test(migrations = "../migrations")]
async fn a_paused_owners_posts_wait_without_an_attempt_and_go_out_once_on_resume(db: PgPool) {
    let mut stack = Stack::start(db.clone()).await;
    stack.spawn_worker("w1").await;
    // She publishes as soon as a post is approved, and the sandbox's posts are approved
    // by themselves (their score is above the threshold): all seven are due at once.
    let owner = stack.connected_owner().await;
    let paused = owner.ok(Method::POST, "/api/schedule/pause", None).await;
    assert!(paused["paused_since"].is_string(), "{paused}");
    // Pausing twice keeps the first instant.
    let again = owner.ok(Method::POST, "/api/schedule/pause", None).await;
    assert_eq!(again["paused_since"], paused["paused_since"]);
    let id = owner.launch("Held", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    let held = stack
        .scheduled_jobs("publish", RUN, |page| {
            page.len() == 7
                && page.iter().all(|j| {
                    j.envelope
                        .deferred
                        .as_ref()
                        .is_some_and(|d| d.reason.contains("paused publishing"))
                })
        })
        .await;
    for job in &held {
        assert_eq!(job.envelope.attempt, 0, "a paused post spends no attempt");
    }
    assert!(stack.sandbox.posts().await.is_empty(), "nothing goes out");
    let started: i64 = sqlx::query_scalar("SELECT count(*) FROM publications")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(started, 0, "no publication starts while paused");

    let resumed = owner.ok(Method::POST, "/api/schedule/resume", None).await;
    assert_eq!(resumed["reflowed"], 7, "{resumed}");
    assert!(resumed["paused_since"].is_null());
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 7);
    assert_eq!(stack.sandbox.posts().await.len(), 7);
    stack.sandbox.assert_no_double_post().await;
    // Resuming what is not paused places nothing.
    let twice = owner.ok(Method::POST, "/api/schedule/resume", None).await;
    assert_eq!(twice["reflowed"], 0);
}

/// "Publish now" is refused while paused: the job would only wait, and the resume would
/// give the post a slot to come, not "now".
#[sqlx::test(migrations = "../migrations")]
async fn publish_now_is_refused_while_paused(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.auto_approve_score = 100;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Held", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    owner.ok(Method::POST, "/api/schedule/pause", None).await;
    assert!(owner.approve_pending().await > 0);
    let listed = owner.ok(Method::GET, "/api/schedule", None).await;
    let first = listed["items"][0]["content_id"].as_i64().unwrap();
    let (status, body) = owner
        .call(
            Method::POST,
            &format!("/api/contents/{first}/publish-now"),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("paused"), "{body}");
}
