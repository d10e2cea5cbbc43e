#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The migration that brings Instagram beside LinkedIn, run on a database holding today's
//! rows: they stay as they are (LinkedIn's), and afterwards one publication per content
//! *and platform* is what the schema allows.

use sqlx::PgPool;

/// The Instagram migration's version.
const VERSION: i64 = 20_261_210_000_300;

async fn run(db: &PgPool, keep: impl Fn(i64) -> bool) {
    for m in shared::db::MIGRATOR.iter().filter(|m| keep(m.version)) {
        sqlx::raw_sql(&m.sql)
            .execute(db)
            .await
            .unwrap_or_else(|e| panic!("migration {} ({}): {e}", m.version, m.description));
    }
}

#[sqlx::test(migrations = false)]
async fn todays_publications_stay_linkedins_and_a_second_platform_fits_beside(db: PgPool) {
    run(&db, |v| v < VERSION).await;
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) VALUES ('ana@example.com', 'x', 'Ana') RETURNING id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO user_profiles (user_id) VALUES ($1)")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location) VALUES ($1, 'Spring', 'bakery', 'Lyon') RETURNING id",
    )
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    let lead: i64 = sqlx::query_scalar(
        "INSERT INTO leads (campaign_id, place_id, business_name) VALUES ($1, 'p1', 'Paul') RETURNING id",
    )
    .bind(campaign)
    .fetch_one(&db)
    .await
    .unwrap();
    let content: i64 = sqlx::query_scalar(
        "INSERT INTO contents (lead_id, campaign_id, user_id, text, quality_score, status)
         VALUES ($1, $2, $3, 'Fresh bread', 80, 'published') RETURNING id",
    )
    .bind(lead)
    .bind(campaign)
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    let publication: i64 = sqlx::query_scalar(
        "INSERT INTO publications (content_id, user_id, state, post_urn, post_url, published_at)
         VALUES ($1, $2, 'published', 'urn:li:share:1', 'https://www.linkedin.com/feed/update/urn:li:share:1/', now())
         RETURNING id",
    )
    .bind(content)
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();

    run(&db, |v| v == VERSION).await;

    let (platform, state, urn): (String, String, String) =
        sqlx::query_as("SELECT platform, state, post_urn FROM publications WHERE id = $1")
            .bind(publication)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (platform.as_str(), state.as_str(), urn.as_str()),
        ("linkedin", "published", "urn:li:share:1")
    );
    // The same content on Instagram: a row of its own.
    sqlx::query(
        "INSERT INTO publications (content_id, user_id, platform, state, container_id)
         VALUES ($1, $2, 'instagram', 'publishing', '17889455560051444')",
    )
    .bind(content)
    .bind(user)
    .execute(&db)
    .await
    .unwrap();
    // A second row for one platform, or an unknown platform, is refused.
    for platform in ["linkedin", "instagram", "tiktok"] {
        let e = sqlx::query(
            "INSERT INTO publications (content_id, user_id, platform, state) VALUES ($1, $2, $3, 'publishing')",
        )
        .bind(content)
        .bind(user)
        .bind(platform)
        .execute(&db)
        .await
        .unwrap_err();
        assert!(e.as_database_error().is_some(), "{platform}: {e}");
    }
    // The profile is disconnected from Instagram, and a connected one needs its token.
    let connected: bool =
        sqlx::query_scalar("SELECT instagram_connected FROM user_profiles WHERE user_id = $1")
            .bind(user)
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(!connected);
    assert!(
        sqlx::query("UPDATE user_profiles SET instagram_connected = true WHERE user_id = $1")
            .bind(user)
            .execute(&db)
            .await
            .is_err()
    );
    // Platforms chosen per campaign and per content: known ones, at least one.
    for (value, ok) in [
        ("{linkedin}", true),
        ("{linkedin,instagram}", true),
        ("{}", false),
        ("{myspace}", false),
    ] {
        let done = sqlx::query("UPDATE contents SET platforms = $1::TEXT[] WHERE id = $2")
            .bind(value)
            .bind(content)
            .execute(&db)
            .await;
        assert_eq!(done.is_ok(), ok, "{value}");
    }
}
