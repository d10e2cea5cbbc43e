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
