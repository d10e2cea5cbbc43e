//! The admin pages over plain HTTP (no browser): which queues they show and browse, what the
//! bulk confirmation reads, and that an action whose audit row cannot be written is not
//! carried out. The journeys are in `browser_admin.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;

use admin_support::{audit_rows, bury, bury_many, stream_len, worker_beat};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app};

async fn page(browser: &test_support::app::Visitor, path: &str) -> (StatusCode, String) {
    let response = browser
        .request(Method::GET, path)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// `periodic` and `probe` are queues of the code's job kinds that the registry may never
/// have heard of (nothing enqueued to them through the outbox); `custom` is only announced
/// by a live worker's heartbeat.
#[sqlx::test(migrations = "../migrations")]
async fn every_live_queue_is_shown_and_browsable(db: PgPool) {
    let app = spawn_app(db).await;
    bury(
        &app,
        "publish",
        "j1",
        "publish_post",
        Some(1),
        json!({}),
        "boom",
    )
    .await;
    worker_beat(&app, "custom", "job-7").await;
    let admin = app.admin("root@example.com").await;

    let (status, overview) = page(&admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    for queue in ["publish", "periodic", "probe", "custom"] {
        assert!(
            overview.contains(&format!("id=\"queue-{queue}\"")),
            "{queue} missing from the overview"
        );
        for state in ["dead", "ready", "running", "scheduled"] {
            let (status, _) = page(&admin, &format!("/admin/queues/{queue}/{state}")).await;
            assert_eq!(status, StatusCode::OK, "/admin/queues/{queue}/{state}");
        }
    }
    let listed: Vec<String> = admin
        .get("/api/admin/queues")
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap().to_owned())
        .collect();
    for queue in ["publish", "periodic", "probe", "custom"] {
        assert!(
            listed.iter().any(|q| q == queue),
            "{queue} not in {listed:?}"
        );
    }
    // A queue nothing knows is still a 404.
    let (status, _) = page(&admin, "/admin/queues/nosuchqueue/dead").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// More failed jobs than one list page reads: the confirmation counts what the list's
/// bounded scan reads and says the count is a floor, instead of reading the whole dead set.
#[sqlx::test(migrations = "../migrations")]
async fn the_bulk_confirmation_counts_a_text_search_within_the_scan_budget(db: PgPool) {
    let app = spawn_app(db).await;
    let budget = jobs::admin::SCAN_BUDGET;
    bury_many(
        &app,
        "publish",
        budget + 100,
        "publish_post",
        |i| json!({ "content_id": i, "city": "Lyon" }),
    )
    .await;
    let admin = app.admin("root@example.com").await;

    let (status, text) = page(&admin, "/admin/queues/publish/bulk?action=retry&q=lyon").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("id=\"confirm-scan-budget\""), "{text}");
    assert!(text.contains(&format!("At least {budget}")), "{text}");
    assert!(!text.contains(&(budget + 100).to_string()), "{text}");
    // Within the budget the count is exact, as before.
    for (id, city) in [("s1", "Lyon"), ("s2", "lyon"), ("s3", "Paris")] {
        bury(
            &app,
            "scrape",
            id,
            "scrape_campaign",
            None,
            json!({ "city": city }),
            "boom",
        )
        .await;
    }
    let (_, text) = page(&admin, "/admin/queues/scrape/bulk?action=retry&q=lyon").await;
    assert!(!text.contains("confirm-scan-budget"), "{text}");
    assert!(
        text.contains("2 failed jobs of scrape will go back"),
        "{text}"
    );
}

/// Installs a trigger that makes every insert into the audit log fail: the database
/// refusing the row, as a full disk or a lost connection would.
async fn refuse_audit_rows(app: &TestApp) {
    sqlx::query(
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
         $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON admin_audit
         FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    )
    .execute(&app.db)
    .await
    .unwrap();
}

async fn dead_count(admin: &test_support::app::Visitor) -> u64 {
    admin
        .get("/api/admin/queues/publish/dead/count")
        .await
        .json::<Value>()
        .await
        .unwrap()["count"]
        .as_u64()
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_action_whose_audit_row_cannot_be_written_is_not_carried_out(db: PgPool) {
    let app = spawn_app(db).await;
    bury(
        &app,
        "publish",
        "j1",
        "publish_post",
        Some(1),
        json!({}),
        "boom",
    )
    .await;
    let admin = app.admin("root@example.com").await;
    refuse_audit_rows(&app).await;

    // One job, a bulk action, a pause: each fails, and none happened.
    let retry = admin.post("/api/admin/queues/publish/jobs/j1/retry").await;
    assert!(retry.status().is_server_error(), "{}", retry.status());
    let bulk = admin
        .post_json("/api/admin/queues/publish/dead/discard", &json!({}))
        .await;
    assert!(bulk.status().is_server_error(), "{}", bulk.status());
    let pause = admin.post("/api/admin/queues/publish/pause").await;
    assert!(pause.status().is_server_error(), "{}", pause.status());
    assert_eq!(stream_len(&app, "publish").await, 0, "the job was retried");
    assert_eq!(dead_count(&admin).await, 1, "the job was discarded");
    let queues: Vec<Value> = admin.get("/api/admin/queues").await.json().await.unwrap();
    let publish = queues.iter().find(|q| q["queue"] == "publish").unwrap();
    assert_eq!(publish["paused"], false, "the queue was paused");

    // The log back: the action happens and its row holds what it did.
    sqlx::query("DROP TRIGGER refuse_audit ON admin_audit")
        .execute(&app.db)
        .await
        .unwrap();
    let retry = admin.post("/api/admin/queues/publish/jobs/j1/retry").await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(stream_len(&app, "publish").await, 1);
    assert_eq!(
        audit_rows(&app).await,
        vec![("retry".to_owned(), "publish".to_owned(), 1)]
    );
}
