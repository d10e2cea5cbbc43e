#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The dashboard's KPIs and the publications list. Workers keep the counters and write
//! publications in production; here they are set in SQL.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app};

async fn set_counters(app: &TestApp, campaign: i64, leads: i32, contents: i32, published: i32) {
    sqlx::query(
        "UPDATE campaigns SET leads_count = $2, contents_count = $3, published_count = $4
         WHERE id = $1",
    )
    .bind(campaign)
    .bind(leads)
    .bind(contents)
    .bind(published)
    .execute(&app.db)
    .await
    .unwrap();
}

/// A published post of this content with its engagement; returns the publication id.
async fn publish(app: &TestApp, content: i64, likes: i32, comments: i32, shares: i32) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO publications (content_id, user_id, state, post_urn, post_url, published_at,
                                   likes, comments, shares, impressions)
         SELECT id, user_id, 'published', 'urn:li:share:' || id,
                'https://www.linkedin.com/feed/update/urn:li:share:' || id || '/', now(),
                $2, $3, $4, 100
         FROM contents WHERE id = $1
         RETURNING id",
    )
    .bind(content)
    .bind(likes)
    .bind(comments)
    .bind(shares)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_sum_counters_and_engagement_per_campaign_and_in_total(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    // A new account: all zero, no campaigns.
    let body: Value = app.get("/api/metrics").await.json().await.unwrap();
    assert_eq!(body["leads"], 0);
    assert_eq!(body["campaigns"], json!([]));
    let spring = app.create_campaign("Spring").await;
    let autumn = app.create_campaign("Autumn").await;
    set_counters(&app, spring, 10, 4, 2).await;
    set_counters(&app, autumn, 5, 1, 0).await;
    let a = app.insert_content(spring, 80, "published").await;
    let b = app.insert_content(spring, 80, "published").await;
    publish(&app, a, 3, 1, 0).await;
    publish(&app, b, 4, 2, 1).await;
    // Bob's figures never count for Ana.
    let bob = app.other_user("bob@example.com").await;
    let bobs = bob.create_campaign("Bob's").await;
    set_counters(&app, bobs, 100, 100, 100).await;
    let body: Value = app.get("/api/metrics").await.json().await.unwrap();
    assert_eq!(body["leads"], 15);
    assert_eq!(body["contents"], 5);
    assert_eq!(body["published"], 2);
    assert_eq!(
        body["engagement"],
        json!({ "likes": 7, "comments": 3, "shares": 1, "impressions": 200, "total": 11 })
    );
    // Per campaign, newest first.
    let campaigns = body["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 2);
    assert_eq!(campaigns[0]["campaign_id"], autumn);
    assert_eq!(campaigns[0]["leads"], 5);
    assert_eq!(campaigns[0]["engagement"]["total"], 0);
    assert_eq!(campaigns[1]["campaign_id"], spring);
    assert_eq!(campaigns[1]["name"], "Spring");
    assert_eq!(campaigns[1]["published"], 2);
    assert_eq!(campaigns[1]["engagement"]["likes"], 7);
}

#[sqlx::test(migrations = "../migrations")]
async fn publications_list_the_users_posts_newest_first(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let campaign = app.create_campaign("Spring").await;
    let first = app.insert_content(campaign, 80, "published").await;
    let second = app.insert_content(campaign, 80, "published").await;
    let p1 = publish(&app, first, 1, 0, 0).await;
    let p2 = publish(&app, second, 2, 0, 0).await;
    let bob = app.other_user("bob@example.com").await;
    let bobs = bob.create_campaign("Bob's").await;
    let bobs_content = app.insert_content(bobs, 80, "published").await;
    publish(&app, bobs_content, 9, 9, 9).await;
    // Only Ana's, newest first, with their engagement.
    let response = app.get("/api/publications").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["total"], 2);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], p2);
    assert_eq!(items[1]["id"], p1);
    assert_eq!(items[0]["content_id"], second);
    assert_eq!(items[0]["state"], "published");
    assert_eq!(items[0]["likes"], 2);
    assert!(
        items[0]["post_url"]
            .as_str()
            .unwrap()
            .starts_with("https://www.linkedin.com/")
    );
    // Paging, and its bounds.
    let body: Value = app
        .get("/api/publications?per_page=1&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["items"][0]["id"], p1);
    assert_eq!(
        app.get("/api/publications?page=0").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/api/publications?page=x").await.status(),
        StatusCode::BAD_REQUEST
    );
}

/// The metrics loaded every campaign of the user to sum them. Totals
/// are summed in SQL; the per-campaign figures are a page (`page`, `per_page`, default 50).
#[sqlx::test(migrations = "../migrations")]
async fn metrics_page_through_campaigns_and_total_over_all_of_them(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let id = app.create_campaign(&format!("C{i}")).await;
        set_counters(&app, id, 2, 1, 0).await;
        ids.push(id);
    }
    ids.reverse(); // newest first
    let body: Value = app
        .get("/api/metrics?page=2&per_page=10")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["leads"], 50);
    assert_eq!(body["contents"], 25);
    assert_eq!(body["campaign_count"], 25);
    let shown: Vec<i64> = body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["campaign_id"].as_i64().unwrap())
        .collect();
    assert_eq!(shown, ids[10..20]);
    let response = app.get("/api/metrics?per_page=1000").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
