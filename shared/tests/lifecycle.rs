#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The campaign's state machine against real PostgreSQL, where the races are.

use std::time::Duration;

use shared::db::lifecycle;
use sqlx::PgPool;
use test_support::wait_for;

/// A `ready` campaign with two contents, one `pending` and one `approved`; returns the
/// campaign and the two contents' ids.
async fn ready_campaign(db: &PgPool) -> (i64, i64, i64) {
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) VALUES ('o@example.com', 'x', 'O') RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    let campaign: i64 = sqlx::query_scalar(
        r#"INSERT INTO campaigns (user_id, name, industry, location, status, leads_count,
                                  enriched_count, contents_count)
           VALUES ($1, 'C', 'bakery', 'Lyon', 'ready', 2, 2, 2) RETURNING id"#,
    )
    .bind(user)
    .fetch_one(db)
    .await
    .unwrap();
    let mut contents = Vec::new();
    for (place, status) in [("a", "pending"), ("b", "approved")] {
        let lead: i64 = sqlx::query_scalar(
            r#"INSERT INTO leads (campaign_id, place_id, business_name, stage)
               VALUES ($1, $2, 'B', 'generated') RETURNING id"#,
        )
        .bind(campaign)
        .bind(place)
        .fetch_one(db)
        .await
        .unwrap();
        let content: i64 = sqlx::query_scalar(
            r#"INSERT INTO contents (lead_id, campaign_id, user_id, text, quality_score, status)
               VALUES ($1, $2, $3, 'post', 80, $4) RETURNING id"#,
        )
        .bind(lead)
        .bind(campaign)
        .bind(user)
        .bind(status)
        .fetch_one(db)
        .await
        .unwrap();
        contents.push(content);
    }
    (campaign, contents[0], contents[1])
}

async fn status(db: &PgPool, campaign: i64) -> String {
    sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(db)
        .await
        .unwrap()
}

/// The owner rejects the last pending content while the last approved one's publication
/// fails, in two transactions at once: each changed its own content and then asked
/// whether the campaign is over. Without a lock each reads the other's content as still
/// waiting (it is not committed yet) and neither completes the campaign.
#[sqlx::test(migrations = "../migrations")]
async fn two_last_contents_ending_at_once_complete_the_campaign(db: PgPool) {
    let (campaign, pending, approved) = ready_campaign(&db).await;
    let mut rejecting = db.begin().await.unwrap();
    sqlx::query("UPDATE contents SET status = 'rejected' WHERE id = $1")
        .bind(pending)
        .execute(&mut *rejecting)
        .await
        .unwrap();
    assert_eq!(
        lifecycle::campaign::complete(&mut rejecting, campaign)
            .await
            .unwrap(),
        None,
        "the approved content still waits"
    );
    let failing = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            sqlx::query("UPDATE contents SET status = 'failed' WHERE id = $1")
                .bind(approved)
                .execute(&mut *tx)
                .await
                .unwrap();
            let moved = lifecycle::campaign::complete(&mut tx, campaign)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            moved
        })
    };
    // The second transaction reaches its decision while the first is still open: it
    // either waits for the first's lock (PostgreSQL shows it waiting) or, without one,
    // decides at once.
    wait_for(
        Duration::from_secs(10),
        "the second transaction waits for a lock or has decided",
        async || {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            waiting > 0 || failing.is_finished()
        },
    )
    .await;
    rejecting.commit().await.unwrap();
    failing.await.unwrap();
    assert_eq!(status(&db, campaign).await, "completed");
}

/// A publication whose outcome nobody knows waits for the owner, not the campaign.
#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_publication_does_not_hold_the_campaign_open(db: PgPool) {
    let (campaign, pending, approved) = ready_campaign(&db).await;
    sqlx::query("UPDATE contents SET status = 'rejected' WHERE id = $1")
        .bind(pending)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        r#"INSERT INTO publications (content_id, user_id, state, error)
           SELECT id, user_id, 'publishing', NULL FROM contents WHERE id = $1"#,
    )
    .bind(approved)
    .execute(&db)
    .await
    .unwrap();
    let mut conn = db.acquire().await.unwrap();
    assert_eq!(
        lifecycle::campaign::complete(&mut conn, campaign)
            .await
            .unwrap(),
        None
    );
    sqlx::query(
        "UPDATE publications SET state = 'unknown', error = 'timed out' WHERE content_id = $1",
    )
    .bind(approved)
    .execute(&db)
    .await
    .unwrap();
    assert!(
        lifecycle::campaign::complete(&mut conn, campaign)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(status(&db, campaign).await, "completed");
}
