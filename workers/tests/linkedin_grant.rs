#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The owner's LinkedIn grant through the pipeline: real api, real workers, the sandbox
//! issuing short-lived tokens with refresh tokens.

mod harness;

use std::time::Duration;

use reqwest::Method;
use sqlx::PgPool;
use test_support::stack::Stack;

const RUN: Duration = Duration::from_secs(60);

/// LinkedIn gave a refresh token: a grant that runs out is refreshed by the publishing
/// job, and the owner is never sent to reconnect (before, every post waited for her).
#[sqlx::test(migrations = "../migrations")]
async fn a_grant_that_can_be_refreshed_is_refreshed_instead_of_asking_the_owner(db: PgPool) {
    let options = sandbox::Options {
        refresh_tokens: true,
        token_expires_in_s: 2,
        ..sandbox::Options::default()
    };
    let mut stack = Stack::start_with(db, options, |c| c.pipeline.max_leads = 3).await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    // The access token lasts 2 s: it has run out before the first post goes out.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let id = owner.launch("Fresh", "bakery", "Smallville").await;
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 3, "{detail}");
    let profile = owner.ok(Method::GET, "/api/profile", None).await;
    assert_eq!(profile["linkedin"]["reconnect_needed"], false, "{profile}");
    let refreshes = stack.sandbox.log("linkedin.token").await;
    assert!(
        refreshes.len() >= 2,
        "the connect and at least one refresh: {refreshes:?}"
    );
    stack.sandbox.assert_no_double_post().await;
}

/// An app that asks for a scope outside its LinkedIn products (post analytics without the
/// Community Management API) is refused by LinkedIn with `unauthorized_scope_error`. The
/// owner reads that LinkedIn refused, with LinkedIn's own code and words, in her language;
/// it is not "cancelled" (before: "the authorisation was cancelled").
#[sqlx::test(migrations = "../migrations")]
async fn a_refused_scope_is_shown_with_linkedins_words_not_as_cancelled(db: PgPool) {
    let stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.linkedin.scope = "openid profile w_member_social r_member_postAnalytics".into();
    })
    .await;
    let owner = stack.signed_up_owner().await;
    for (lang, refused, cancelled) in [
        ("fr", "LinkedIn a refusé la connexion", "annulée"),
        ("en", "LinkedIn refused the connection", "cancelled"),
    ] {
        owner.page_in(lang, "/profile").await;
        let start = owner
            .ok(Method::POST, "/api/profile/linkedin/connect", None)
            .await;
        let url = format!(
            "{}&auto=allow&member=ana",
            start["authorize_url"].as_str().unwrap()
        );
        let page = owner.follow(&url).await;
        assert!(
            page.url().as_str().contains("linkedin=refused"),
            "{}",
            page.url()
        );
        let html = page.text().await.unwrap();
        assert!(html.contains(refused), "{lang}: {html}");
        assert!(html.contains("unauthorized_scope_error"), "{lang}: {html}");
        assert!(html.contains("r_member_postAnalytics"), "{lang}: {html}");
        assert!(!html.contains(cancelled), "{lang}: {html}");
        let profile = owner.ok(Method::GET, "/api/profile", None).await;
        assert_eq!(profile["linkedin"]["connected"], false, "{profile}");
    }
}

/// The default scope is what a self-serve app may ask: the connect works against a
/// LinkedIn that allows only the two self-serve products, the grant's scope is stored,
/// SyncAnalytics never asks LinkedIn for a grant without post analytics, and the dashboard
/// says why engagement is missing and how to get it, in French and English.
#[sqlx::test(migrations = "../migrations")]
async fn without_post_analytics_nothing_is_synced_and_the_dashboard_says_why(db: PgPool) {
    let mut stack = Stack::start_with(db.clone(), sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 1;
        c.pipeline.analytics_every_secs = 1;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let profile = owner.ok(Method::GET, "/api/profile", None).await;
    assert_eq!(
        profile["linkedin"]["scope"], "openid profile w_member_social",
        "{profile}"
    );
    assert_eq!(profile["linkedin"]["analytics"], false, "{profile}");
    let id = owner.launch("Quiet", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["completed"], RUN).await;
    // Several sync periods go by: LinkedIn is never asked (it would answer 403).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(stack.sandbox.log("linkedin.analytics").await.is_empty());
    let fr = owner.page_in("fr", "/").await;
    assert!(fr.contains("id=\"engagement-missing\""), "{fr}");
    assert!(fr.contains("Community Management API"), "{fr}");
    assert!(fr.contains("connectez LinkedIn à nouveau"), "{fr}");
    let en = owner.page_in("en", "/").await;
    assert!(en.contains("connect LinkedIn again"), "{en}");
    // A grant stored before scopes were kept (NULL) asked for post analytics, and is synced.
    sqlx::query("UPDATE user_profiles SET linkedin_scope = NULL")
        .execute(&db)
        .await
        .unwrap();
    let profile = owner.ok(Method::GET, "/api/profile", None).await;
    assert_eq!(profile["linkedin"]["analytics"], true, "{profile}");
    let en = owner.page_in("en", "/").await;
    assert!(!en.contains("id=\"engagement-missing\""), "{en}");
}
