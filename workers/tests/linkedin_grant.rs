#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The owner's LinkedIn grant through the pipeline: real api, real workers, the sandbox
//! issuing short-lived tokens with refresh tokens.

mod harness;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::VAULT_KEY;
use test_support::sandbox::fault;
use test_support::stack::Stack;
use test_support::wait_for;

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
    // The access token has run out before the first post goes out.
    stack
        .sandbox
        .control_post("/_sandbox/tokens/expire", json!({"member": "ana"}))
        .await;
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

/// A connected owner (member `ana`) whose campaign's one post is being published, with
/// the job's refresh of her grant held at LinkedIn's token endpoint for 3 s: returns once
/// that call is in flight. Her token lasts an hour, well inside the day a grant is
/// refreshed ahead, so the publishing job refreshes it first.
async fn refresh_in_flight(db: PgPool) -> (Stack, test_support::app::Visitor, i64) {
    let options = sandbox::Options {
        refresh_tokens: true,
        token_expires_in_s: 3600,
        ..sandbox::Options::default()
    };
    let mut stack = Stack::start_with(db, options, |c| c.pipeline.max_leads = 1).await;
    // Longer than the held answer, so the refresh gets it rather than a timeout.
    stack
        .worker_env
        .push(("AG_LINKEDIN__TIMEOUT_MS".into(), "10000".into()));
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    stack
        .sandbox
        .fault(fault("linkedin.token", json!({ "delay_ms": 3000 })))
        .await;
    let id = owner.launch("Race", "bakery", "Smallville").await;
    // The fault is taken (and gone from the plan) as the refresh's call arrives.
    let sandbox = &stack.sandbox;
    wait_for(RUN, "the refresh's call to reach LinkedIn", async || {
        sandbox.get("/_sandbox/faults").await == json!([])
    })
    .await;
    (stack, owner, id)
}

/// The member behind a stored, sealed access token, as LinkedIn's userinfo names it.
async fn member_of(stack: &Stack, user_id: i64) -> String {
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT linkedin_access_token FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&stack.db)
            .await
            .unwrap();
    let vault = shared::vault::Vault::new(VAULT_KEY, shared::Config::default().vault.key_id);
    let token = vault
        .open(user_id, shared::vault::Field::LinkedInAccessToken, &sealed)
        .unwrap();
    let info: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/linkedin-api/v2/userinfo", stack.sandbox.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    info["sub"].as_str().unwrap_or_default().to_owned()
}

async fn owner_id(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE email = 'owner@example.com'")
        .fetch_one(db)
        .await
        .unwrap()
}

/// The owner connects another member while a refresh of her old grant waits for LinkedIn:
/// the old member's refreshed tokens are dropped, and the post goes out as the member she
/// chose. (Before, the refresh wrote the old member's token over the new grant, and the
/// post went out as the member she had left.)
#[sqlx::test(migrations = "../migrations")]
async fn a_refresh_does_not_write_over_a_reconnect_to_another_member(db: PgPool) {
    let (stack, owner, id) = refresh_in_flight(db).await;
    owner.connect_linkedin("bob").await;
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 1, "{detail}");
    let authors: Vec<Value> = stack
        .sandbox
        .posts()
        .await
        .iter()
        .map(|p| p["author"].clone())
        .collect();
    assert_eq!(authors, [json!("urn:li:person:bob")]);
    let user = owner_id(&stack.db).await;
    assert_eq!(
        member_of(&stack, user).await,
        "bob",
        "the stored token's member"
    );
    let profile = owner.ok(Method::GET, "/api/profile", None).await;
    assert_eq!(profile["linkedin"]["member_urn"], "urn:li:person:bob");
}

/// The owner disconnects while a refresh of her grant waits for LinkedIn: the refreshed
/// tokens are not written back, and nothing is posted. (Before, the refresh stored the
/// tokens of a disconnected account and the job published with them.)
#[sqlx::test(migrations = "../migrations")]
async fn a_refresh_does_not_bring_back_a_disconnected_grant(db: PgPool) {
    let (stack, owner, _) = refresh_in_flight(db).await;
    let response = owner.post("/api/profile/linkedin/disconnect").await;
    assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
    // The job's next step, whichever it is: a post, or its wait for a reconnect.
    let worker = &stack.workers[0];
    let sandbox = &stack.sandbox;
    wait_for(RUN, "the publishing job to post or wait", async || {
        worker.log().contains("LinkedIn reconnect needed") || !sandbox.posts().await.is_empty()
    })
    .await;
    assert_eq!(stack.sandbox.posts().await, Vec::<Value>::new());
    let user = owner_id(&stack.db).await;
    let (access, refresh): (Option<Vec<u8>>, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT linkedin_access_token, linkedin_refresh_token FROM user_profiles
         WHERE user_id = $1",
    )
    .bind(user)
    .fetch_one(&stack.db)
    .await
    .unwrap();
    assert!(
        access.is_none() && refresh.is_none(),
        "a disconnected account keeps tokens"
    );
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
    let metrics = format!("127.0.0.1:{}", test_support::free_port());
    stack
        .spawn_worker_with("w1", &["--metrics-bind", &metrics])
        .await;
    let metrics = format!("http://{metrics}/metrics");
    let owner = stack.connected_owner().await;
    let profile = owner.ok(Method::GET, "/api/profile", None).await;
    assert_eq!(
        profile["linkedin"]["scope"], "openid profile w_member_social",
        "{profile}"
    );
    assert_eq!(profile["linkedin"]["analytics"], false, "{profile}");
    let id = owner.launch("Quiet", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["completed"], RUN).await;
    // A whole sync runs after the post is out: LinkedIn is never asked (it would answer
    // 403).
    harness::a_whole_run_later(&metrics, "sync_analytics", RUN).await;
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
