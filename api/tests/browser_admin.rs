//! The admin queue UI in a real browser (headless Chromium, `web/driver.rs`) against the
//! real app with PostgreSQL and a private Redis: search a failed job by its argument text,
//! read its error, retry it; bulk-delete by filter after the confirmation page; pause and
//! resume a queue; live workers and the audit log; and the 403 page an owner gets. Each
//! step saves screenshots at 1280 and 390 px (and runs axe) under `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;

use admin_support::{audit_rows, bury, stream_len, worker_beat};
use serde_json::json;
use sqlx::PgPool;
use test_support::app::spawn_app;
use test_support::browser::{Browser, Language, sign_in_home};

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_finds_a_failed_job_by_its_arguments_reads_its_error_and_retries_it(db: PgPool) {
    let app = spawn_app(db).await;
    for i in 0..4 {
        bury(
            &app,
            "publish",
            &format!("0190aaaa-0000-7000-8000-00000000000{i}"),
            "publish_post",
            Some(3),
            json!({ "content_id": 100 + i }),
            "linkedin answered 429: throttled",
        )
        .await;
    }
    let target = "0190bbbb-0000-7000-8000-000000000042";
    bury(
        &app,
        "publish",
        target,
        "publish_post",
        Some(9),
        json!({ "content_id": 4242, "note": "Boulangerie du Port", "access_token": "AQV-secret" }),
        "linkedin answered 500: upstream unavailable",
    )
    .await;
    app.admin("root@example.com").await;

    let b = Browser::start(&app.address, Language::English.accept()).await;
    sign_in_home(&b, "root@example.com").await;
    b.click("a[href='/admin']").await;
    assert_eq!(b.text("h1").await, "Queues");
    assert!(b.text("#queue-publish").await.contains('5'));
    assert!(b.text("#chart-failures-summary").await.contains("5 in all"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-10-overview").await;

    // The failed jobs, then a search by argument text.
    b.click("a[href='/admin/queues/publish/dead']").await;
    assert_eq!(b.text("h1").await, "Failed jobs in publish");
    b.fill("#filter-q", "boulangerie du port").await;
    b.click("#filter-submit").await;
    let found = b.text("#dead-jobs").await;
    assert!(found.contains(target), "{found}");
    assert!(found.contains("upstream unavailable"));
    assert!(!found.contains("0190aaaa"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-11-search").await;

    // Its page: the whole error, arguments with the token hidden.
    b.click(&format!("a[href^='/admin/queues/publish/jobs/{target}?']"))
        .await;
    assert_eq!(b.text("#job-state").await, "Failed");
    assert!(
        b.text("#job-errors")
            .await
            .contains("linkedin answered 500: upstream unavailable")
    );
    let args = b.text("#job-args").await;
    assert!(
        args.contains("4242") && args.contains("[redacted]"),
        "{args}"
    );
    assert!(!b.body().await.contains("AQV-secret"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-12-job").await;

    // Retried: back on the search, it has left the failed jobs.
    b.click("#job-retry").await;
    assert!(b.path().await.starts_with("/admin/queues/publish/dead?"));
    assert_eq!(b.text("#notice").await, "The job is back in its queue.");
    assert_eq!(b.text("#no-jobs").await, "No job matches this search.");
    b.screenshot("admin-13-retried").await;
    b.click("a[href='/admin/queues/publish/dead']").await;
    assert!(!b.text("#dead-jobs").await.contains(target));
    assert_eq!(stream_len(&app, "publish").await, 1);
    assert_eq!(
        audit_rows(&app).await,
        [("retry".to_owned(), "publish".to_owned(), 1)]
    );
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_bulk_deletes_failed_jobs_by_filter_after_confirming(db: PgPool) {
    let app = spawn_app(db).await;
    for i in 0..3 {
        bury(
            &app,
            "scrape",
            &format!("0190cccc-0000-7000-8000-00000000000{i}"),
            "scrape_campaign",
            Some(7),
            json!({ "campaign_id": i }),
            "google places answered 503",
        )
        .await;
    }
    for i in 0..2 {
        bury(
            &app,
            "scrape",
            &format!("0190dddd-0000-7000-8000-00000000000{i}"),
            "enrich_lead",
            Some(8),
            json!({ "lead_id": i }),
            "timeout",
        )
        .await;
    }
    app.admin("root@example.com").await;

    // In French this time.
    let b = Browser::start(&app.address, Language::French.accept()).await;
    sign_in_home(&b, "root@example.com").await;
    b.goto("/admin/queues/scrape/dead").await;
    // A user id that is not one: a message next to the field, not an error page.
    b.fill("#filter-user", "sept").await;
    b.click("#filter-submit").await;
    assert_eq!(
        b.text("#filter-user-error").await,
        "Un identifiant utilisateur est un nombre entier, comme 42."
    );
    b.screenshot("admin-20-filter-invalid").await;
    b.fill("#filter-user", "").await;
    b.fill("#filter-kind", "scrape_campaign").await;
    b.click("#filter-submit").await;
    assert!(!b.text("#dead-jobs").await.contains("enrich_lead"));
    b.click("#bulk-discard").await;
    assert_eq!(
        b.text("#confirm-count").await,
        "3 tâches en échec de scrape vont être supprimées définitivement."
    );
    assert!(b.text("#confirm-filter").await.contains("scrape_campaign"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-21-confirm").await;
    b.click("#confirm").await;
    assert_eq!(b.text("#notice").await, "3 tâches ont été supprimées.");
    assert_eq!(
        b.text("#no-jobs").await,
        "Aucune tâche ne correspond à cette recherche."
    );
    b.screenshot("admin-22-deleted").await;
    // The other kind is still there.
    b.goto("/admin/queues/scrape/dead").await;
    assert!(b.text("#dead-jobs").await.contains("enrich_lead"));

    // The audit log says who did what to how many.
    b.goto("/admin/audit").await;
    let audit = b.text("#audit").await;
    assert!(audit.contains("root@example.com"), "{audit}");
    assert!(audit.contains("A supprimé des tâches en échec"), "{audit}");
    assert!(audit.contains("kind=scrape_campaign"), "{audit}");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-23-audit").await;
    assert_eq!(
        audit_rows(&app).await,
        [("discard_matching".to_owned(), "scrape".to_owned(), 3)]
    );
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_pauses_and_resumes_a_queue_and_sees_the_live_workers(db: PgPool) {
    let app = spawn_app(db).await;
    bury(
        &app,
        "scrape",
        "0190eeee-0000-7000-8000-000000000001",
        "scrape_campaign",
        Some(1),
        json!({}),
        "x",
    )
    .await;
    worker_beat(&app, "scrape", "0190ffff-0000-7000-8000-000000000001").await;
    app.admin("root@example.com").await;

    let b = Browser::start(&app.address, Language::English.accept()).await;
    sign_in_home(&b, "root@example.com").await;
    b.goto("/admin").await;
    b.click("#pause-scrape").await;
    assert_eq!(b.path().await, "/admin");
    assert_eq!(
        b.text("#notice").await,
        "The queue is paused: workers take no new job from it."
    );
    assert!(b.text("#queue-scrape").await.contains("paused"));
    b.screenshot("admin-30-paused").await;
    b.click("#resume-scrape").await;
    assert_eq!(b.text("#notice").await, "The queue is running again.");
    assert!(!b.text("#queue-scrape").await.contains("paused"));
    // Who holds the scrape queue's slots: the heartbeat's owner 7, whose account is gone.
    let owners = b.text("#owners-scrape").await;
    assert!(owners.contains("account deleted (#7)"), "{owners}");
    assert!(owners.contains("Running") && owners.contains("Waiting for their turn"));
    b.screenshot_of("admin-32-owners", "#owners").await;

    // The live workers: host, pid, slots, the running job and for how long.
    b.click("a[href='/admin/workers']").await;
    let workers = b.text("#workers").await;
    assert!(
        workers.contains("worker-1.example, process 4242"),
        "{workers}"
    );
    assert!(workers.contains("scrape_campaign"), "{workers}");
    assert!(workers.contains("for 1 min"), "{workers}");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-31-workers").await;

    b.click("a[href='/admin/audit']").await;
    let audit = b.text("#audit").await;
    assert!(audit.contains("Paused the queue") && audit.contains("Resumed the queue"));
    b.close().await;
    let actions: Vec<String> = audit_rows(&app).await.into_iter().map(|r| r.0).collect();
    assert_eq!(actions, ["pause", "resume"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_gets_the_403_page_on_the_admin_pages(db: PgPool) {
    let app = spawn_app(db).await;
    bury(
        &app,
        "scrape",
        "0190eeee-0000-7000-8000-000000000002",
        "scrape_campaign",
        Some(1),
        json!({}),
        "x",
    )
    .await;
    app.other_user("owner@example.com").await;
    let o = Browser::start(&app.address, Language::French.accept()).await;
    sign_in_home(&o, "owner@example.com").await;
    for path in [
        "/admin",
        "/admin/workers",
        "/admin/audit",
        "/admin/queues/scrape/dead",
        "/admin/queues/scrape/bulk?action=discard",
        "/admin/queues/scrape/jobs/0190eeee-0000-7000-8000-000000000002",
    ] {
        o.goto(path).await;
        assert_eq!(o.text("h1").await, "Accès refusé", "{path}");
    }
    o.goto("/admin").await;
    o.screenshot("admin-40-owner-403").await;
    o.close().await;
    assert!(audit_rows(&app).await.is_empty());
}
