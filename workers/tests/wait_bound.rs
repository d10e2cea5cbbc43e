#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The bound on waiting (`pipeline.give_up_waiting_secs`) against the real stack: a post's
//! PublishPost is enqueued when the post takes its slot, long before the slot; a provider's
//! "later" at the slot is a wait like any other, and the bound counts from the slot.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use test_support::stack::Stack;

/// Generous: a run takes a few seconds; a slow CI machine gets room.
const RUN: Duration = Duration::from_secs(90);
/// The bound the workers get: far shorter than the time from a post's placing to its slot.
const BOUND_SECS: u64 = 3;
/// How far ahead of now the test places a post: more than the bound.
const AHEAD_SECS: i64 = 8;

/// Moves a content to a slot `AHEAD_SECS` from now, as an owner's move does: the new slot
/// in the content's row and its PublishPost in the outbox for that instant, in one commit.
async fn place_soon(db: &PgPool, user: i64, content: i64) -> DateTime<Utc> {
    let at = DateTime::from_timestamp(Utc::now().timestamp() + AHEAD_SECS, 0).unwrap();
    let mut tx = db.begin().await.unwrap();
    sqlx::query("UPDATE contents SET scheduled_at = $2, updated_at = now() WHERE id = $1")
        .bind(content)
        .bind(at)
        .execute(&mut *tx)
        .await
        .unwrap();
    shared::outbox::push_at(
        &mut tx,
        &jobs::kinds::PublishPost::for_slot(content, at.timestamp()),
        Some(user),
        Some(at),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    at
}

/// The publication of a content once it ended (`published` or `failed`): its state, its
/// reason, and when it ended.
async fn ended(db: &PgPool, content: i64) -> (String, Option<String>, DateTime<Utc>) {
    test_support::wait_for(RUN, "the publication ends", async || {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT state::text FROM publications WHERE content_id = $1 AND state <> 'publishing'",
        )
        .bind(content)
        .fetch_optional(db)
        .await
        .unwrap();
        row.is_some()
    })
    .await;
    sqlx::query_as("SELECT state::text, error, updated_at FROM publications WHERE content_id = $1")
        .bind(content)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_bound_on_waiting_counts_from_the_slot_not_from_the_placing(db: PgPool) {
    let mut stack = Stack::start_with(db.clone(), sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 2;
        c.pipeline.give_up_waiting_secs = BOUND_SECS;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    // One post a day at 09:00: the approved posts take slots hours or days away.
    owner
        .set_schedule(&json!({
            "time_zone": "Europe/Paris", "days": [1, 2, 3, 4, 5, 6, 7],
            "times": ["09:00"], "per_day": 1, "immediate": false,
        }))
        .await;
    let campaign = owner.launch("Later", "bakery", "Smallville").await;
    stack.wait_status(&owner, campaign, &["ready"], RUN).await;
    owner.approve_pending().await;
    let (user, contents): (i64, Vec<i64>) = {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT user_id, id FROM contents WHERE campaign_id = $1 AND status = 'approved' ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&db)
        .await
        .unwrap();
        (rows[0].0, rows.iter().map(|r| r.1).collect())
    };
    assert_eq!(contents.len(), 2, "both posts approved and placed");

    // At its slot, LinkedIn asks once to come back in a second: a wait, honoured.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 1, "status": 429, "retry_after_s": 1}))
        .await;
    let slot = place_soon(&db, user, contents[0]).await;
    let (state, error, _) = ended(&db, contents[0]).await;
    assert_eq!(state, "published", "{error:?}");
    let posts = stack.sandbox.posts().await;
    assert_eq!(posts.len(), 1);

    // LinkedIn keeps saying "later": the bound still ends the job, counted from its slot.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 0, "status": 429, "retry_after_s": 1}))
        .await;
    let slot_b = place_soon(&db, user, contents[1]).await;
    let (state, error, at) = ended(&db, contents[1]).await;
    let error = error.unwrap_or_default();
    assert_eq!(state, "failed", "{error}");
    assert!(
        error.contains(&format!("gave up after waiting {BOUND_SECS} s")),
        "{error}"
    );
    assert!(
        at >= slot_b + chrono::Duration::seconds(BOUND_SECS as i64),
        "ended at {at}, before its slot {slot_b} plus the bound"
    );
    stack.sandbox.clear_faults().await;
    assert_eq!(stack.sandbox.posts().await.len(), 1);
    assert!(slot < slot_b);
}
