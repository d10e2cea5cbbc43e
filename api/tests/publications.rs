//! `POST /api/publications/{id}/resolve` and its home-page form: which addresses count as a
//! LinkedIn post's, and a post another publication already holds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{TestApp, error_code, spawn_app};

/// A campaign of `user_id` with one approved content and a publication of it whose outcome
/// is unknown; returns the publication's id.
async fn unknown_publication(app: &TestApp, user_id: i64) -> i64 {
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status)
         VALUES ($1, 'Spring', 'bakery', 'Lyon', 'ready') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let content = app.insert_content(campaign, 80, "approved").await;
    sqlx::query_scalar(
        "INSERT INTO publications (content_id, user_id, state, error)
         VALUES ($1, $2, 'unknown', 'two POSTs went out without an answer') RETURNING id",
    )
    .bind(content)
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn state_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM publications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn mark(app: &TestApp, id: i64, url: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/publications/{id}/resolve"),
        &json!({ "action": "mark_published", "url": url }),
    )
    .await
}

#[sqlx::test(migrations = "../migrations")]
async fn only_linkedin_s_own_hosts_count_as_a_post_address(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = unknown_publication(&app, app.user_id("ana@example.com").await).await;
    for url in [
        "https://evillinkedin.com/feed/update/urn:li:share:1/",
        "https://www.evillinkedin.com/feed/update/urn:li:share:1/",
        "https://linkedin.com.evil.example/feed/update/urn:li:share:1/",
        "https://evil.linkedin.com/feed/update/urn:li:share:1/",
        "https://www.linkedin.com:8443/feed/update/urn:li:share:1/",
        "https://someone@www.linkedin.com/feed/update/urn:li:share:1/",
        "http://www.linkedin.com/feed/update/urn:li:share:1/",
    ] {
        let response = mark(&app, id, url).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid", "{url}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("https://www.linkedin.com/feed/update/urn:li:share:"),
            "{body}"
        );
        assert_eq!(state_of(&app, id).await, "unknown", "{url}");
    }
    // Both of LinkedIn's own hosts are taken.
    let response = mark(&app, id, "https://linkedin.com/feed/update/urn:li:share:5/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(state_of(&app, id).await, "published");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_post_another_publication_holds_is_a_conflict_not_a_failure(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let user_id = app.user_id("ana@example.com").await;
    let first = unknown_publication(&app, user_id).await;
    let second = unknown_publication(&app, user_id).await;
    let third = unknown_publication(&app, user_id).await;
    let url = "https://www.linkedin.com/feed/update/urn:li:share:7123/";
    assert_eq!(mark(&app, first, url).await.status(), StatusCode::OK);

    // The JSON API: 409 saying why; nothing changed.
    let response = mark(&app, second, url).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("urn:li:share:7123") && message.contains("another publication"),
        "{message}"
    );
    assert_eq!(state_of(&app, second).await, "unknown");

    // The home page's form: the message next to that publication's field, in the
    // reader's language, not "already settled".
    let response = app
        .request(Method::POST, &format!("/publications/{third}/resolve"))
        .header("accept-language", "en")
        .form(&[
            ("csrf", app.csrf().as_str()),
            ("action", "mark_published"),
            ("url", url),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let page = response.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains(&format!("id=\"url-{third}-error\"")),
        "{page}"
    );
    assert!(
        page.contains("already recorded for another publication"),
        "{page}"
    );
    assert_eq!(state_of(&app, third).await, "unknown");
    // The first is not touched.
    let again = mark(
        &app,
        second,
        "https://www.linkedin.com/feed/update/urn:li:share:8/",
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(error_code(mark(&app, first, url).await).await, "conflict");
}
