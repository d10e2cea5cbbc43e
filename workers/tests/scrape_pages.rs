#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A scrape that has to wait between Places pages pays for each page once. Real api, real
//! workers, the sandbox over HTTP.

mod harness;

use std::time::Duration;

use shared::config::RateConfig;
use sqlx::PgPool;
use test_support::stack::Stack;

const PAST_SCRAPING: &[&str] = &["enriching", "generating", "ready", "completed"];

/// One Places page per 5 s for the owner: far past what a worker sleeps through, so the
/// scrape is deferred before each page after the first.
async fn slow_places(db: &PgPool) -> Stack {
    Stack::start_with(db.clone(), sandbox::Options::default(), |c| {
        c.pipeline.limits.user_places = RateConfig {
            per_minute: 12,
            burst: 1,
        };
    })
    .await
}

/// Metropolis has 60 bakeries: three pages. Before, each run after a wait began again at
/// page one, paid for it, and met the same wait at page two: the campaign never left
/// `scraping`, and Places was paid again every few seconds.
#[sqlx::test(migrations = "../migrations")]
async fn a_scrape_that_waits_between_pages_pays_for_each_page_once(db: PgPool) {
    let mut stack = slow_places(&db).await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Metro", "bakery", "Metropolis").await;
    let c = stack
        .wait_status(&owner, id, PAST_SCRAPING, Duration::from_secs(60))
        .await;
    assert_eq!(c["campaign"]["leads_count"], 60, "{c}");
    let calls = stack.sandbox.log("places.search").await;
    assert_eq!(calls.len(), 3, "each page once: {calls:#?}");
    let leads: i64 = sqlx::query_scalar("SELECT count(*) FROM leads WHERE campaign_id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(leads, 60);
}

/// A page token Places no longer takes (it expired while the scrape waited) starts the
/// paging over, once, instead of failing the campaign; the leads already stored are kept
/// and not doubled.
#[sqlx::test(migrations = "../migrations")]
async fn an_expired_page_token_starts_the_paging_over(db: PgPool) {
    let mut stack = Stack::start(db.clone()).await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Metro", "bakery", "Metropolis").await;
    // As if a first run had read a page and stopped, leaving a token Places refuses now.
    sqlx::query(
        "UPDATE campaigns SET scrape_pages = 1, scrape_page_token = 'AeCr20x0000000000000000' WHERE id = $1",
    )
    .bind(id)
    .execute(&db)
    .await
    .unwrap();
    stack.spawn_worker("w1").await;
    let c = stack
        .wait_status(&owner, id, PAST_SCRAPING, Duration::from_secs(60))
        .await;
    assert_eq!(c["campaign"]["leads_count"], 60, "{c}");
    let calls = stack.sandbox.log("places.search").await;
    assert_eq!(
        calls.len(),
        4,
        "the refused token, then the three pages: {calls:#?}"
    );
}
