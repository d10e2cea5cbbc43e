#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the api refuses to start with.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sqlx::PgPool;
use test_support::TestRedis;
use test_support::app::test_config;

/// In production the cookie key is its own secret, not derived from
/// the vault key (rotating one must not silently change the other, and one leak is not two).
#[sqlx::test(migrations = "../migrations")]
async fn production_needs_its_own_cookie_key(db: PgPool) {
    let redis = TestRedis::start();
    let mut config = test_config(&redis.url());
    config.api.public_url = "https://app.example".into();
    let refused = api::Application::build(config.clone(), db.clone()).await;
    let error = refused
        .err()
        .expect("started without a cookie key")
        .to_string();
    assert!(error.contains("cookie_key"), "{error}");
    let mut flagged = test_config(&redis.url());
    flagged.api.production = true;
    assert!(api::Application::build(flagged, db.clone()).await.is_err());
    config.api.cookie_key = Some(STANDARD.encode([3u8; 64]));
    assert!(api::Application::build(config, db).await.is_ok());
}
