//! `/api/admin/*` over HTTP against the real app: the admin role, CSRF on writes, 404s,
//! filters through the engine's indexes, redacted arguments, bulk actions by filter with
//! their counts, pause and resume, and the audit rows every action writes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;

use admin_support::{audit_rows, bury, stream_len};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{error_code, spawn_app};

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// One queue's row in a list of queues (the code's queues are listed too, even empty).
fn queue<'a>(queues: &'a Value, name: &str) -> &'a Value {
    queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == name)
        .unwrap_or_else(|| panic!("no {name} in {queues}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn owners_are_refused_every_admin_route(db: PgPool) {
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
    app.sign_up("owner@example.com").await;
    for path in [
        "/api/admin/queues",
        "/api/admin/overview",
        "/api/admin/workers",
        "/api/admin/audit",
        "/api/admin/jobs/j1",
        "/api/admin/queues/publish/jobs",
        "/api/admin/queues/publish/jobs/j1",
        "/api/admin/queues/publish/dead/count",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "GET {path}");
        assert_eq!(error_code(response).await, "forbidden");
    }
    for path in [
        "/api/admin/queues/publish/jobs/j1/retry",
        "/api/admin/queues/publish/jobs/j1/discard",
        "/api/admin/queues/publish/pause",
        "/api/admin/queues/publish/resume",
    ] {
        let response = app.post(path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    let response = app
        .post_json("/api/admin/queues/publish/dead/discard", &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nothing happened.
    assert_eq!(
        app.admin("root@example.com")
            .await
            .get("/api/admin/queues/publish/dead/count")
            .await
            .json::<Value>()
            .await
            .unwrap()["count"],
        1
    );
    assert!(audit_rows(&app).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_jobs_and_queues_are_404_and_writes_need_the_csrf_header(db: PgPool) {
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
    for path in [
        "/api/admin/jobs/nope",
        "/api/admin/queues/publish/jobs/nope",
        "/api/admin/queues/nosuchqueue/jobs",
        "/api/admin/queues/Bad%20Name/jobs",
    ] {
        let response = admin.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "GET {path}");
        assert_eq!(error_code(response).await, "not_found");
    }
    for path in [
        "/api/admin/queues/publish/jobs/nope/retry",
        "/api/admin/queues/publish/jobs/nope/discard",
        "/api/admin/queues/publish/jobs/nope/run-now",
        "/api/admin/queues/nosuchqueue/pause",
    ] {
        let response = admin.post(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    let response = admin
        .get("/api/admin/queues/publish/jobs?state=sideways")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A cookie write without the session's token.
    let response = admin
        .request(Method::POST, "/api/admin/queues/publish/jobs/j1/retry")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "csrf_failed");
    assert_eq!(stream_len(&app, "publish").await, 0);
    assert!(audit_rows(&app).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_list_filter_and_read_jobs_with_secrets_redacted(db: PgPool) {
    let app = spawn_app(db).await;
    bury(
        &app,
        "publish",
        "p1",
        "publish_post",
        Some(7),
        json!({"content_id": 1, "access_token": "AQV-very-secret", "note": "Boulangerie du Port"}),
        "linkedin answered 500",
    )
    .await;
    bury(
        &app,
        "publish",
        "p2",
        "publish_post",
        Some(8),
        json!({"content_id": 2}),
        "x",
    )
    .await;
    bury(
        &app,
        "publish",
        "p3",
        "sync_metrics",
        Some(7),
        json!({"content_id": 3}),
        "y",
    )
    .await;
    let admin = app.admin("root@example.com").await;

    let page = json(admin.get("/api/admin/queues/publish/jobs").await).await;
    let ids: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p3", "p2", "p1"], "newest first");
    let by_user = json(admin.get("/api/admin/queues/publish/jobs?user_id=7").await).await;
    assert_eq!(by_user["jobs"].as_array().unwrap().len(), 2);
    let by_both = json(
        admin
            .get("/api/admin/queues/publish/jobs?user_id=7&kind=publish_post")
            .await,
    )
    .await;
    assert_eq!(by_both["jobs"][0]["id"], "p1");
    assert_eq!(by_both["jobs"].as_array().unwrap().len(), 1);
    let by_text = json(
        admin
            .get("/api/admin/queues/publish/jobs?q=boulangerie%20du%20port")
            .await,
    )
    .await;
    assert_eq!(by_text["jobs"][0]["id"], "p1");
    assert_eq!(by_text["budget_spent"], false);
    // Paging: one job per page, with a cursor.
    let first = json(admin.get("/api/admin/queues/publish/jobs?limit=2").await).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = json(
        admin
            .get(&format!(
                "/api/admin/queues/publish/jobs?limit=2&cursor={cursor}"
            ))
            .await,
    )
    .await;
    assert_eq!(second["jobs"][0]["id"], "p1");
    assert!(second["next_cursor"].is_null());

    let detail = json(admin.get("/api/admin/queues/publish/jobs/p1").await).await;
    assert_eq!(detail["state"], "dead");
    assert_eq!(detail["args"]["access_token"], "[redacted]");
    assert_eq!(detail["args"]["content_id"], 1);
    assert_eq!(detail["errors"][0]["message"], "linkedin answered 500");
    assert!(!detail.to_string().contains("AQV-very-secret"));
    // Found from its id alone too.
    let found = json(admin.get("/api/admin/jobs/p1").await).await;
    assert_eq!(found["queue"], "publish");

    let overview = json(admin.get("/api/admin/overview?minutes=30").await).await;
    assert_eq!(queue(&overview["queues"], "publish")["dead"], 3);
    assert_eq!(overview["minutes"].as_array().unwrap().len(), 30);
    // The three burials are counted in the current minute (or the one before).
    let dead_counted: u64 = overview["minutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["dead"].as_u64().unwrap())
        .sum();
    assert_eq!(dead_counted, 3);
    assert_eq!(json(admin.get("/api/admin/workers").await).await, json!([]));
}

#[sqlx::test(migrations = "../migrations")]
async fn bulk_actions_by_filter_count_and_are_audited(db: PgPool) {
    let app = spawn_app(db).await;
    for i in 0..3 {
        bury(
            &app,
            "scrape",
            &format!("s{i}"),
            "scrape_campaign",
            Some(5),
            json!({"i": i}),
            "maps 503",
        )
        .await;
    }
    for i in 0..2 {
        bury(
            &app,
            "scrape",
            &format!("e{i}"),
            "enrich_lead",
            Some(6),
            json!({"i": i}),
            "timeout",
        )
        .await;
    }
    let admin = app.admin("root@example.com").await;
    let count = |q: &'static str| {
        let admin = &admin;
        async move {
            json(
                admin
                    .get(&format!("/api/admin/queues/scrape/dead/count?{q}"))
                    .await,
            )
            .await["count"]
                .as_u64()
                .unwrap()
        }
    };
    assert_eq!(count("").await, 5);
    assert_eq!(count("kind=scrape_campaign").await, 3);
    assert_eq!(count("user_id=6").await, 2);
    assert_eq!(count("kind=enrich_lead&user_id=5").await, 0);

    let response = admin
        .post_json(
            "/api/admin/queues/scrape/dead/discard",
            &json!({"kind": "scrape_campaign"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json(response).await["affected"], 3);
    assert_eq!(count("").await, 2);
    assert_eq!(count("kind=scrape_campaign").await, 0);

    // Retry one job, then the rest by filter; a cutoff in the past takes nothing.
    let response = admin.post("/api/admin/queues/scrape/jobs/e0/retry").await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = admin
        .post_json(
            "/api/admin/queues/scrape/dead/retry",
            &json!({"user_id": 6, "cutoff_ms": 1}),
        )
        .await;
    assert_eq!(json(response).await["affected"], 0);
    let response = admin
        .post_json(
            "/api/admin/queues/scrape/dead/retry",
            &json!({"user_id": 6}),
        )
        .await;
    assert_eq!(json(response).await["affected"], 1);
    assert_eq!(stream_len(&app, "scrape").await, 2);
    assert_eq!(count("").await, 0);

    // Pause and resume.
    let response = admin.post("/api/admin/queues/scrape/pause").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let queues = json(admin.get("/api/admin/queues").await).await;
    assert_eq!(queue(&queues, "scrape")["paused"], true);
    assert_eq!(queue(&queues, "scrape")["ready"], 2);
    assert!(queue(&queues, "scrape")["lag_ms"].as_u64().is_some());
    admin.post("/api/admin/queues/scrape/resume").await;
    assert_eq!(
        queue(&json(admin.get("/api/admin/queues").await).await, "scrape")["paused"],
        false
    );

    let s = |a: &str, n: i64| (a.to_owned(), "scrape".to_owned(), n);
    assert_eq!(
        audit_rows(&app).await,
        [
            s("discard_matching", 3),
            s("retry", 1),
            s("retry_matching", 0),
            s("retry_matching", 1),
            s("pause", 0),
            s("resume", 0),
        ]
    );
    let audit = json(admin.get("/api/admin/audit?per_page=2").await).await;
    assert_eq!(audit["total"], 6);
    assert_eq!(audit["items"][0]["action"], "resume");
    assert_eq!(audit["items"][0]["user_email"], "root@example.com");
    let bulk = json(admin.get("/api/admin/audit?page=3&per_page=2").await).await;
    assert_eq!(bulk["items"][1]["filter"]["kind"], "scrape_campaign");
    assert_eq!(bulk["items"][1]["affected"], 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_operations_are_in_the_openapi_document(db: PgPool) {
    let app = spawn_app(db).await;
    let doc = json(app.get("/api/openapi.json").await).await;
    for (path, method) in [
        ("/api/admin/overview", "get"),
        ("/api/admin/workers", "get"),
        ("/api/admin/audit", "get"),
        ("/api/admin/jobs/{id}", "get"),
        ("/api/admin/queues/{queue}/jobs", "get"),
        ("/api/admin/queues/{queue}/jobs/{id}", "get"),
        ("/api/admin/queues/{queue}/jobs/{id}/retry", "post"),
        ("/api/admin/queues/{queue}/jobs/{id}/discard", "post"),
        ("/api/admin/queues/{queue}/jobs/{id}/run-now", "post"),
        ("/api/admin/queues/{queue}/dead/count", "get"),
        ("/api/admin/queues/{queue}/dead/retry", "post"),
        ("/api/admin/queues/{queue}/dead/discard", "post"),
        ("/api/admin/queues/{queue}/pause", "post"),
        ("/api/admin/queues/{queue}/resume", "post"),
    ] {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["responses"]["403"].is_object(), "{method} {path}: 403");
        if method == "post" {
            assert!(op["security"].to_string().contains("csrf"), "{path}: csrf");
        }
    }
}
