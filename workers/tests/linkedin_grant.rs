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
