#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Connecting Instagram (Business Login for Instagram) through the api, against the sandbox
//! over real HTTP: the consent URL, the callback's code for a long-lived token sealed in the
//! vault, the owner's refusal shown to her, a state not from her session, disconnect, and
//! the profile page's part in both languages.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::Value;
use shared::providers::instagram::InstagramClient;
use shared::vault::{Field, Vault};
use sqlx::PgPool;
use test_support::app::{PUBLIC_URL, TestApp, VAULT_KEY, error_code, spawn_app, spawn_app_with};
use test_support::sandbox::TestSandbox;

const CALLBACK: &str = "/api/profile/instagram/callback";

async fn app_with_instagram(db: PgPool, sandbox: &TestSandbox) -> TestApp {
    let config = sandbox.instagram();
    spawn_app_with(db, move |c| c.instagram = config, None).await
}

/// Starts the connect and has the sandbox's consent `decision` (`allow` or `cancel`);
/// answers the query Instagram sends back to the callback.
async fn consent(app: &TestApp, sandbox: &TestSandbox, decision: &str) -> String {
    let response = app.post("/api/profile/instagram/connect").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let url = url::Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/instagram-www/oauth/authorize?", sandbox.url)),
        "{url}"
    );
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "sandbox-instagram-app-id");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], format!("{PUBLIC_URL}{CALLBACK}"));
    assert_eq!(
        q["scope"],
        "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights"
    );
    assert_eq!(q["state"].len(), 43);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = browser
        .get(format!("{url}&auto={decision}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap();
    let back = url::Url::parse(location).unwrap();
    assert_eq!(back.path(), CALLBACK);
    // What a browser sends: the query, not the `#_` fragment.
    back.query().unwrap().to_owned()
}

fn outcome(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()["location"].to_str().unwrap().to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn connecting_stores_a_sealed_long_lived_token_that_instagram_accepts(db: PgPool) {
    let sandbox = TestSandbox::fast().await;
    let app = app_with_instagram(db, &sandbox).await;
    app.sign_up("ana@example.com").await;
    let user_id = app.user_id("ana@example.com").await;
    let status: Value = app
        .get("/api/profile/instagram")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["connected"], false);

    let query = consent(&app, &sandbox, "allow").await;
    let response = app.get(&format!("{CALLBACK}?{query}")).await;
    assert_eq!(
        outcome(&response),
        format!("{PUBLIC_URL}/profile?instagram=connected")
    );
    let status: Value = app
        .get("/api/profile/instagram")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["connected"], true);
    assert_eq!(status["reconnect_needed"], false);
    assert_eq!(status["insights"], true);
    let ig_user = status["user_id"].as_str().unwrap().to_owned();
    assert!(status["username"].as_str().unwrap().starts_with("sandbox_"));
    let expires: chrono::DateTime<chrono::Utc> =
        status["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((59..=60).contains(&days), "{days}");

    // Stored sealed (no plaintext in the row), and the opened token is the long-lived one
    // Instagram accepts.
    let (sealed,): (Vec<u8>,) =
        sqlx::query_as("SELECT instagram_access_token FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let token = Vault::new(VAULT_KEY, 1)
        .open(user_id, Field::InstagramAccessToken, &sealed)
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(&token));
    let me = InstagramClient::from_config(&sandbox.instagram())
        .unwrap()
        .me(&token)
        .await
        .unwrap();
    assert_eq!(me.user_id, ig_user);

    // The code is single-use, and so is the state.
    let again = app.get(&format!("{CALLBACK}?{query}")).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);

    // Disconnect forgets the token.
    let response = app.post("/api/profile/instagram/disconnect").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let status: Value = app
        .get("/api/profile/instagram")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["connected"], false);
    let (sealed,): (Option<Vec<u8>>,) =
        sqlx::query_as("SELECT instagram_access_token FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(sealed.is_none());
    sandbox.sandbox.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_or_forged_callback_connects_nothing(db: PgPool) {
    let sandbox = TestSandbox::fast().await;
    let app = app_with_instagram(db, &sandbox).await;
    app.sign_up("ana@example.com").await;
    let query = consent(&app, &sandbox, "cancel").await;
    assert!(query.contains("error=access_denied"), "{query}");
    assert!(query.contains("error_reason=user_denied"), "{query}");
    let response = app.get(&format!("{CALLBACK}?{query}")).await;
    assert_eq!(
        outcome(&response),
        format!("{PUBLIC_URL}/profile?instagram=cancelled")
    );
    // A state this session did not make.
    let _ = consent(&app, &sandbox, "allow").await;
    let forged = format!("{CALLBACK}?code=AQBx&state={}", "A".repeat(43));
    let response = app.get(&forged).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let status: Value = app
        .get("/api/profile/instagram")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["connected"], false);
    sandbox.sandbox.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn without_an_instagram_app_connecting_is_503(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let response = app.post("/api/profile/instagram/connect").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "unavailable");
    // The profile page says so instead of offering the button.
    let page = app.get("/profile").await.text().await.unwrap();
    assert!(page.contains(r#"id="instagram-heading""#));
    assert!(!page.contains(r#"id="instagram-connect""#));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_profile_page_connects_and_shows_the_account(db: PgPool) {
    let sandbox = TestSandbox::fast().await;
    let app = app_with_instagram(db, &sandbox).await;
    app.sign_up("ana@example.com").await;
    let page = app.get("/profile").await;
    // Instagram's consent window may be where the connect form leads.
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains(&sandbox.url), "{csp}");
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"id="instagram-connect""#));
    let query = consent(&app, &sandbox, "allow").await;
    app.get(&format!("{CALLBACK}?{query}")).await;
    let page = app
        .get("/profile?instagram=connected")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="instagram-notice""#));
    assert!(
        page.contains(r#"id="instagram-username">@sandbox_"#),
        "{page}"
    );
    assert!(page.contains(r#"id="instagram-disconnect""#));
    sandbox.sandbox.stop().await;
}

/// The image Instagram downloads: served without a session to a URL signed minutes ago,
/// and to nothing else.
#[sqlx::test(migrations = "../migrations")]
async fn signed_media_urls_serve_only_what_was_signed_until_they_expire(db: PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().display().to_string();
    let config_dir = local.clone();
    let app = spawn_app_with(db, move |c| c.storage.local_dir = config_dir, None).await;
    let mut storage_config = shared::Config::default().storage;
    storage_config.local_dir = local;
    let storage = shared::storage::Storage::from_config(&storage_config).unwrap();
    let jpeg = b"\xFF\xD8\xFF\xE0 not really a jpeg".to_vec();
    storage
        .put("instagram/7/42.jpg", jpeg.clone())
        .await
        .unwrap();
    storage
        .put("images/7/42.png", b"\x89PNG".to_vec())
        .await
        .unwrap();
    let key = shared::signed_url::key_from(&VAULT_KEY);
    let now = chrono::Utc::now().timestamp();
    let anonymous = reqwest::Client::new();
    let fetch = |path: String| {
        let anonymous = anonymous.clone();
        let base = app.address.clone();
        async move { anonymous.get(format!("{base}{path}")).send().await.unwrap() }
    };
    let good = shared::signed_url::sign(&key, "instagram/7/42.jpg", now + 600);
    let r = fetch(format!("/media/signed/instagram/7/42.jpg?{good}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);
    // Another key with that signature, an expired URL, no signature, an original image.
    let r = fetch(format!("/media/signed/instagram/7/43.jpg?{good}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let old = shared::signed_url::sign(&key, "instagram/7/42.jpg", now - 1);
    let r = fetch(format!("/media/signed/instagram/7/42.jpg?{old}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = fetch("/media/signed/instagram/7/42.jpg".to_owned()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let png = shared::signed_url::sign(&key, "images/7/42.png", now + 600);
    let r = fetch(format!("/media/signed/images/7/42.png?{png}")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
