#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Contents: the gallery and its filters, the approval queue, approve / reject / edit, and
//! the PublishPost an approval queues when LinkedIn is connected.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{TestApp, error_code, spawn_app};

/// Ana with one campaign; returns the campaign id.
async fn ana_with_campaign(app: &TestApp) -> i64 {
    app.sign_up("ana@example.com").await;
    app.create_campaign("Spring").await
}

fn ids(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_list_filters_by_status_campaign_and_score(db: PgPool) {
    let app = spawn_app(db).await;
    let spring = ana_with_campaign(&app).await;
    let autumn = app.create_campaign("Autumn").await;
    let low = app.insert_content(spring, 40, "pending").await;
    let high = app.insert_content(spring, 90, "approved").await;
    let other = app.insert_content(autumn, 75, "pending").await;
    // Bob's content never shows up in Ana's lists.
    let bob = app.other_user("bob@example.com").await;
    let bobs = bob.create_campaign("Bob's").await;
    app.insert_content(bobs, 99, "pending").await;
    // No filter: all of Ana's, newest first.
    let body: Value = app.get("/api/contents").await.json().await.unwrap();
    assert_eq!(ids(&body), [other, high, low]);
    assert_eq!(body["total"], 3);
    // Each filter alone, then combined.
    let body: Value = app
        .get("/api/contents?status=pending")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&body), [other, low]);
    let body: Value = app
        .get(&format!("/api/contents?campaign_id={spring}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&body), [high, low]);
    let body: Value = app
        .get("/api/contents?min_score=75")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&body), [other, high]);
    assert_eq!(body["total"], 2);
    let body: Value = app
        .get(&format!(
            "/api/contents?status=pending&campaign_id={spring}&min_score=50"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&body), Vec::<i64>::new());
    // Paging.
    let body: Value = app
        .get("/api/contents?per_page=1&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&body), [high]);
    assert_eq!(body["total"], 3);
    // A score out of 0–100: 422; an unknown status or a non-number: 400.
    let response = app.get("/api/contents?min_score=101").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for query in [
        "status=draft",
        "min_score=high",
        "campaign_id=x",
        "page=abc",
    ] {
        let response = app.get(&format!("/api/contents?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn pending_lists_only_contents_waiting_for_a_decision(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let waiting = app.insert_content(campaign, 60, "pending").await;
    app.insert_content(campaign, 60, "rejected").await;
    app.insert_content(campaign, 60, "published").await;
    let body: Value = app.get("/api/contents/pending").await.json().await.unwrap();
    assert_eq!(ids(&body), [waiting]);
    assert_eq!(body["total"], 1);
    // The same paging bounds as every list.
    let response = app.get("/api/contents/pending?per_page=500").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "../migrations")]
async fn one_content_is_read_by_id(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let id = app.insert_content(campaign, 72, "pending").await;
    let response = app.get(&format!("/api/contents/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], id);
    assert_eq!(body["campaign_id"], campaign);
    assert_eq!(body["quality_score"], 72);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["score_breakdown"], json!({ "relevance": 30 }));
    // Unknown and malformed ids: 404.
    for path in ["/api/contents/999999", "/api/contents/abc"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(response).await, "not_found");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn approving_without_linkedin_queues_nothing(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let id = app.insert_content(campaign, 80, "pending").await;
    // Approved, but waiting for a LinkedIn connection.
    let response = app.post(&format!("/api/contents/{id}/approve")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["queued_for_publishing"], false);
    assert_eq!(body["content"]["status"], "approved");
    assert!(body["content"]["approved_at"].is_string());
    // No outbox row was written with the approval, so no job can follow.
    assert_eq!(app.outbox_rows("publish_post").await, 0);
    assert_eq!(app.jobs_in_queue("publish").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn approving_with_linkedin_queues_one_publish_job(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let user_id = app.user_id("ana@example.com").await;
    app.connect_linkedin_in_db(user_id).await;
    let id = app.insert_content(campaign, 80, "pending").await;
    // Approved and queued.
    let response = app.post(&format!("/api/contents/{id}/approve")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["queued_for_publishing"], true);
    app.wait_for_jobs("publish_post", "publish", 1).await;
    // A second approval (a double click): 409, still one job.
    let response = app.post(&format!("/api/contents/{id}/approve")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "conflict");
    app.wait_for_jobs("publish_post", "publish", 1).await;
    // Rejecting or editing an approved content: 409.
    let response = app.post(&format!("/api/contents/{id}/reject")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .put_json(
            &format!("/api/contents/{id}"),
            &json!({ "text": "Too late" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_double_click_on_approve_queues_one_job(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    app.connect_linkedin_in_db(app.user_id("ana@example.com").await)
        .await;
    let id = app.insert_content(campaign, 80, "pending").await;
    let path = format!("/api/contents/{id}/approve");
    // Two approvals at once: one 200, one 409, one job.
    let (a, b) = tokio::join!(app.post(&path), app.post(&path));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    app.wait_for_jobs("publish_post", "publish", 1).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn approving_while_linkedin_needs_a_reconnect_queues_nothing(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let user_id = app.user_id("ana@example.com").await;
    app.connect_linkedin_in_db(user_id).await;
    sqlx::query("UPDATE user_profiles SET linkedin_reconnect_needed = true WHERE user_id = $1")
        .bind(user_id)
        .execute(&app.db)
        .await
        .unwrap();
    let id = app.insert_content(campaign, 80, "pending").await;
    // LinkedIn refused the token: the approval waits for a new connection.
    let body: Value = app
        .post(&format!("/api/contents/{id}/approve"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["queued_for_publishing"], false);
    assert_eq!(app.outbox_rows("publish_post").await, 0);
    let profile: Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(profile["linkedin"]["reconnect_needed"], true);
}

#[sqlx::test(migrations = "../migrations")]
async fn rejecting_works_on_pending_contents_only(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let id = app.insert_content(campaign, 30, "pending").await;
    let response = app.post(&format!("/api/contents/{id}/reject")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "rejected");
    // Rejected is final: a second reject and an approve are 409.
    for action in ["reject", "approve"] {
        let response = app.post(&format!("/api/contents/{id}/{action}")).await;
        assert_eq!(response.status(), StatusCode::CONFLICT, "{action}");
    }
    // Unknown ids: 404.
    let response = app.post("/api/contents/999999/reject").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn editing_replaces_text_and_hashtags_while_pending(db: PgPool) {
    let app = spawn_app(db).await;
    let campaign = ana_with_campaign(&app).await;
    let id = app.insert_content(campaign, 50, "pending").await;
    let path = format!("/api/contents/{id}");
    // Text trimmed, newlines kept; hashtags lose their '#'.
    let response = app
        .put_json(
            &path,
            &json!({ "text": "  Open on Sunday!\nCome by.  ", "hashtags": ["#Lyon", " bread "] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["text"], "Open on Sunday!\nCome by.");
    assert_eq!(body["hashtags"], json!(["Lyon", "bread"]));
    assert_eq!(body["status"], "pending");
    // Without hashtags the old ones stay.
    let response = app.put_json(&path, &json!({ "text": "Shorter." })).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["text"], "Shorter.");
    assert_eq!(body["hashtags"], json!(["Lyon", "bread"]));
    // Bad text or hashtags: 422, and nothing changes.
    let cases = [
        json!({ "text": "   " }),
        json!({ "text": "x".repeat(3001) }),
        json!({ "text": "bell\u{7}" }),
        json!({ "text": "ok", "hashtags": ["two words"] }),
        json!({ "text": "ok", "hashtags": ["#"] }),
        json!({ "text": "ok", "hashtags": [""] }),
        json!({ "text": "ok", "hashtags": ["x".repeat(101)] }),
        json!({ "text": "ok", "hashtags": vec!["tag"; 31] }),
        json!({ "text": "ok", "hashtags": "lyon" }),
        json!({ "hashtags": ["lyon"] }),
    ];
    for body in cases {
        let response = app.put_json(&path, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
    let body: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(body["text"], "Shorter.");
    // Once approved the text is frozen: 409.
    app.post(&format!("{path}/approve")).await;
    let response = app.put_json(&path, &json!({ "text": "Changed" })).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[sqlx::test(migrations = "../migrations")]
async fn another_users_content_is_404_and_untouched(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let bob = app.other_user("bob@example.com").await;
    let campaign = bob.create_campaign("Bob's").await;
    let id = app.insert_content(campaign, 80, "pending").await;
    // Ana can neither read nor decide on Bob's content.
    assert_eq!(
        app.get(&format!("/api/contents/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    for action in ["approve", "reject"] {
        let response = app.post(&format!("/api/contents/{id}/{action}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let response = app
        .put_json(
            &format!("/api/contents/{id}"),
            &json!({ "text": "Mine now" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Filtering by Bob's campaign shows Ana nothing.
    let body: Value = app
        .get(&format!("/api/contents?campaign_id={campaign}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 0);
    // Bob still sees it pending and unchanged.
    let body: Value = bob
        .get(&format!("/api/contents/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["text"], "Fresh bread every morning in Lyon.");
}
