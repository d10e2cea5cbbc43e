#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sessions end when the account changes under them. The role and the
//! session version are read from PostgreSQL on every request, not trusted from the session.

use std::time::Duration;

use reqwest::StatusCode;
use shared::db::users::{self, Role};
use sqlx::PgPool;
use test_support::app::{PASSWORD, error_code, spawn_app, spawn_app_with};

#[sqlx::test(migrations = "../migrations")]
async fn a_demoted_admin_is_refused_admin_calls_at_once(db: PgPool) {
    let app = spawn_app(db).await;
    let admin = app.admin("root@example.com").await;
    assert_eq!(
        admin.get("/api/admin/queues").await.status(),
        StatusCode::OK
    );
    sqlx::query("UPDATE users SET role = 'owner' WHERE email = 'root@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    let response = admin.get("/api/admin/queues").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "forbidden");
}

/// `api create-user` on an existing account (a password or role change) ends its sessions.
#[sqlx::test(migrations = "../migrations")]
async fn resetting_an_account_ends_its_sessions(db: PgPool) {
    let app = spawn_app(db).await;
    let admin = app.admin("root@example.com").await;
    assert_eq!(admin.get("/api/auth/me").await.status(), StatusCode::OK);
    let hash = api::password::hash("a new long password".into())
        .await
        .unwrap();
    users::reset(&app.db, "root@example.com", &hash, Role::Owner)
        .await
        .unwrap();
    assert_eq!(
        admin.get("/api/admin/queues").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The new password opens a new session.
    let browser = app.visitor();
    assert_eq!(
        browser
            .sign_in("root@example.com", "a new long password")
            .await
            .status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_out_everywhere_ends_every_session_of_the_account(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let laptop = app.visitor();
    laptop.sign_in_as("ana@example.com").await;
    let bob = app.other_user("bob@example.com").await;
    let response = app.post("/api/auth/sign-out-everywhere").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        laptop.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Other accounts keep theirs; signing in again works.
    assert_eq!(bob.get("/api/auth/me").await.status(), StatusCode::OK);
    assert_eq!(
        laptop.sign_in("ana@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(laptop.get("/api/auth/me").await.status(), StatusCode::OK);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_idle_session_expires(db: PgPool) {
    let app = spawn_app_with(db, |c| c.api.session_idle_secs = 2, None).await;
    // Idleness is judged in whole seconds on the app's clock: stopped here, it moves only
    // when the test moves it, so no real time passes and second boundaries do not matter.
    app.clock.stop();
    app.sign_up("ana@example.com").await;
    // Activity keeps it alive past the idle timeout: a request a second apart...
    for _ in 0..3 {
        app.clock.advance(Duration::from_secs(1));
        assert_eq!(app.get("/api/auth/me").await.status(), StatusCode::OK);
    }
    // ...at the timeout itself it still stands...
    app.clock.advance(Duration::from_secs(2));
    assert_eq!(app.get("/api/auth/me").await.status(), StatusCode::OK);
    // ...and a second past it without a request, idleness ends it.
    app.clock.advance(Duration::from_secs(3));
    assert_eq!(
        app.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
