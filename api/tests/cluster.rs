//! The api on a Redis Cluster: sessions (saved, read back on every request, deleted at
//! sign-out) and an owner's live events (published by a worker's connection on one node,
//! heard by the stream's subscription on another: PUBLISH reaches the whole cluster).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::StatusCode;
use shared::events::{Event, EventKind};
use sqlx::PgPool;
use test_support::app::spawn_app_on_cluster;
use tokio::time::Instant;

#[sqlx::test(migrations = "../migrations")]
async fn sessions_and_live_events_work_on_a_redis_cluster(db: PgPool) {
    let app = spawn_app_on_cluster(db).await;
    app.sign_up("owner@cluster.example").await;
    assert_eq!(app.get("/api/auth/me").await.status(), StatusCode::OK);
    // A second browser, a second session.
    let laptop = app.visitor();
    laptop.sign_in_as("owner@cluster.example").await;
    assert_eq!(laptop.get("/api/auth/me").await.status(), StatusCode::OK);

    let user_id = app.user_id("owner@cluster.example").await;
    let campaign = app.create_campaign("Clustered").await;
    sqlx::query("UPDATE campaigns SET status = 'scraping', launched_at = now() WHERE id = $1")
        .bind(campaign)
        .execute(&app.db)
        .await
        .unwrap();
    let mut stream = app
        .request(
            reqwest::Method::GET,
            &format!("/campaigns/{campaign}/events"),
        )
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut text = String::new();
    read_until(
        &mut stream,
        &mut text,
        "id=\"kpi-leads\"",
        Duration::from_secs(10),
    )
    .await;

    // The subscription may still be on its way: publish until the stream shows the event.
    let events = app.publisher().await;
    let lead = app.insert_lead(campaign, "Boulangerie Cluster").await;
    sqlx::query("UPDATE campaigns SET leads_count = 1, status = 'enriching' WHERE id = $1")
        .bind(campaign)
        .execute(&app.db)
        .await
        .unwrap();
    let end = Instant::now() + Duration::from_secs(15);
    while !text.contains("One business found") && Instant::now() < end {
        events
            .publish(
                user_id,
                &Event::new(EventKind::LeadsFound, campaign).count(1),
            )
            .await;
        read_until(
            &mut stream,
            &mut text,
            "One business found",
            Duration::from_millis(500),
        )
        .await;
    }
    assert!(text.contains("One business found"), "{text}");
    assert!(text.contains(&format!("id=\"lead-{lead}\"")), "{text}");

    // Sign-out deletes this browser's session only.
    assert_eq!(
        app.post("/api/auth/sign-out").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(laptop.get("/api/auth/me").await.status(), StatusCode::OK);
}

/// Appends what the stream sends to `text` until it contains `wanted` or `within` passes.
async fn read_until(
    response: &mut reqwest::Response,
    text: &mut String,
    wanted: &str,
    within: Duration,
) {
    let end = Instant::now() + within;
    while !text.contains(wanted) {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
}
