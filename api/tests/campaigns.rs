#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Campaigns: create, list, detail, launch (outbox → scrape queue), cancel.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{error_code, spawn_app};

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_campaign_trims_and_starts_as_a_draft(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let response = app
        .post_json(
            "/api/campaigns",
            &json!({ "name": "  Spring  ", "industry": " bakery", "location": "Lyon " }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], "Spring");
    assert_eq!(body["industry"], "bakery");
    assert_eq!(body["location"], "Lyon");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["leads_count"], 0);
    assert!(body["launched_at"].is_null());
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_campaign_refuses_bad_fields_with_422(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let cases = [
        // Empty after trimming.
        json!({ "name": "   ", "industry": "bakery", "location": "Lyon" }),
        // Too long: 121 characters (multi-byte ones count as one).
        json!({ "name": "é".repeat(121), "industry": "bakery", "location": "Lyon" }),
        json!({ "name": "Spring", "industry": "b".repeat(101), "location": "Lyon" }),
        // A NUL character, which PostgreSQL cannot store.
        json!({ "name": "Spr\u{0}ing", "industry": "bakery", "location": "Lyon" }),
        // Missing field, wrong type.
        json!({ "name": "Spring", "industry": "bakery" }),
        json!({ "name": "Spring", "industry": "bakery", "location": 69 }),
    ];
    for body in cases {
        let response = app.post_json("/api/campaigns", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(error_code(response).await, "invalid");
    }
    // Exactly at the limits is fine.
    let response = app
        .post_json(
            "/api/campaigns",
            &json!({ "name": "é".repeat(120), "industry": "b".repeat(100), "location": "L" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[sqlx::test(migrations = "../migrations")]
async fn launching_moves_to_scraping_and_queues_one_scrape_job(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    // 202 with the campaign now scraping.
    let response = app.post(&format!("/api/campaigns/{id}/launch")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "scraping");
    assert!(body["launched_at"].is_string());
    // One ScrapeCampaign: the relay moves the outbox row to the scrape stream.
    app.wait_for_jobs("scrape_campaign", "scrape", 1).await;
    // Launching again: 409, and still one job.
    let response = app.post(&format!("/api/campaigns/{id}/launch")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "conflict");
    app.wait_for_jobs("scrape_campaign", "scrape", 1).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_double_click_on_launch_queues_one_job(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    let path = format!("/api/campaigns/{id}/launch");
    // Two launches at once: one 202, one 409, one job.
    let (a, b) = tokio::join!(app.post(&path), app.post(&path));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::ACCEPTED, StatusCode::CONFLICT]);
    app.wait_for_jobs("scrape_campaign", "scrape", 1).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_campaign_can_be_launched_again(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    sqlx::query(
        "UPDATE campaigns SET status = 'error', error_details = '{\"step\": \"scrape\"}'
         WHERE id = $1",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    // From `error`: 202, scraping again, the old error cleared.
    let response = app.post(&format!("/api/campaigns/{id}/launch")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "scraping");
    assert!(body["error_details"].is_null());
    app.wait_for_jobs("scrape_campaign", "scrape", 1).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_works_once(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    // A draft can be cancelled.
    let response = app.post(&format!("/api/campaigns/{id}/cancel")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "cancelled");
    assert!(body["completed_at"].is_string());
    // A second cancel: 409.
    let response = app.post(&format!("/api/campaigns/{id}/cancel")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    // A cancelled campaign cannot be launched.
    let response = app.post(&format!("/api/campaigns/{id}/launch")).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(app.outbox_rows("scrape_campaign").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_list_pages_through_the_users_campaigns_newest_first(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    for name in ["One", "Two", "Three"] {
        app.create_campaign(name).await;
    }
    app.other_user("bob@example.com")
        .await
        .create_campaign("Bob's")
        .await;
    // Defaults: page 1, 20 per page; only Ana's campaigns.
    let body: Value = app.get("/api/campaigns").await.json().await.unwrap();
    assert_eq!(body["total"], 3);
    assert_eq!(body["page"], 1);
    assert_eq!(body["per_page"], 20);
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Three", "Two", "One"]);
    // Page 2 of 2 per page holds the oldest.
    let body: Value = app
        .get("/api/campaigns?page=2&per_page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["name"], "One");
    assert_eq!(body["total"], 3);
    // Past the end: an empty page, not an error.
    let body: Value = app.get("/api/campaigns?page=9").await.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 0);
    // Out of bounds: 422; not a number: 400.
    for query in ["page=0", "per_page=0", "per_page=101", "page=10001"] {
        let response = app.get(&format!("/api/campaigns?{query}")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
    }
    for query in ["page=abc", "per_page=-1"] {
        let response = app.get(&format!("/api/campaigns?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(response).await, "bad_request");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_detail_includes_leads_and_contents(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    let lead = app.insert_lead(id, "Boulangerie Paul").await;
    let content = app.insert_content(id, 80, "pending").await;
    let response = app.get(&format!("/api/campaigns/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["campaign"]["id"], id);
    assert_eq!(body["campaign"]["status"], "draft");
    // Two leads: the one inserted alone and the content's.
    let leads = body["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 2);
    assert_eq!(leads[0]["id"], lead);
    assert_eq!(leads[0]["business_name"], "Boulangerie Paul");
    assert_eq!(leads[0]["rating"], 4.5);
    let contents = body["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 1);
    assert_eq!(contents[0]["id"], content);
    assert_eq!(contents[0]["hashtags"], json!(["bakery", "lyon"]));
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_and_malformed_ids_are_404(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    // No such campaign: 404 on read and on every write.
    assert_eq!(
        app.get("/api/campaigns/999999").await.status(),
        StatusCode::NOT_FOUND
    );
    for action in ["launch", "cancel"] {
        let response = app.post(&format!("/api/campaigns/999999/{action}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
        assert_eq!(error_code(response).await, "not_found");
    }
    // Not a number, or beyond i64: 404 as well, never 400 or 500.
    for id in ["abc", "1.5", "99999999999999999999", "-"] {
        let response = app.get(&format!("/api/campaigns/{id}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let response = app.post("/api/campaigns/abc/launch").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn another_users_campaign_is_404_and_untouched(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let bob = app.other_user("bob@example.com").await;
    let id = bob.create_campaign("Bob's").await;
    // Ana cannot read, launch or cancel it.
    assert_eq!(
        app.get(&format!("/api/campaigns/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    for action in ["launch", "cancel"] {
        let response = app.post(&format!("/api/campaigns/{id}/{action}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // Bob's campaign is still a draft with no job queued.
    let body: Value = bob
        .get(&format!("/api/campaigns/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["campaign"]["status"], "draft");
    assert_eq!(app.outbox_rows("scrape_campaign").await, 0);
    assert_eq!(app.jobs_in_queue("scrape").await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_runs_at_most_the_cap_of_campaigns_at_once(db: PgPool) {
    let app =
        test_support::app::spawn_app_with(db, |c| c.pipeline.max_running_campaigns = 2, None).await;
    app.sign_up("ana@example.com").await;
    let mut ids = Vec::new();
    for name in ["One", "Two", "Three"] {
        ids.push(app.create_campaign(name).await);
    }
    // Three launches at once: two run, the third is refused with the reason.
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/campaigns/{id}/launch"))
        .collect();
    let (a, b, c) = tokio::join!(
        app.post(&paths[0]),
        app.post(&paths[1]),
        app.post(&paths[2])
    );
    let mut statuses = [a.status(), b.status(), c.status()];
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED,
            StatusCode::CONFLICT
        ]
    );
    let refused = [a, b, c]
        .into_iter()
        .find(|r| r.status() == StatusCode::CONFLICT)
        .unwrap();
    let body: Value = refused.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 2 at once"), "{message}");
}
