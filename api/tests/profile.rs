#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The business profile and the LinkedIn connection. LinkedIn's token and userinfo endpoints
//! are a small real HTTP server in the test (`LinkedInFixture`), speaking the wire format of
//! docs/providers.md, "4.1 Connecting", so the real `LinkedInOAuth` client is what the api uses.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
use shared::vault::{Field, Vault};
use sqlx::PgPool;
use test_support::app::{PUBLIC_URL, TestApp, VAULT_KEY, error_code, spawn_app, spawn_app_with};

const CLIENT_ID: &str = "test-client";
const CLIENT_SECRET: &str = "test-secret";
const GOOD_CODE: &str = "AQTgood-code";
const ACCESS_TOKEN: &str = "AQV-plaintext-access-token";
const REFRESH_TOKEN: &str = "AQX-plaintext-refresh-token";
const MEMBER: &str = "782bbtaQ";

/// LinkedIn's OAuth endpoints: `POST /oauth/v2/accessToken` trades `GOOD_CODE` (any other
/// code is refused as LinkedIn does), `GET /v2/userinfo` answers for `ACCESS_TOKEN`.
struct LinkedInFixture {
    base: String,
    /// The form of every token request, to check what our client sent.
    token_requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl LinkedInFixture {
    fn start() -> Self {
        let token_requests = Arc::new(Mutex::new(Vec::new()));
        let seen = web::Data::from(token_requests.clone());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(seen.clone())
                .route("/oauth/v2/accessToken", web::post().to(token))
                .route("/v2/userinfo", web::get().to(userinfo))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self {
            base,
            token_requests,
        }
    }

    /// The api's LinkedIn client, built from config as in production, pointed here.
    fn client(&self) -> Arc<dyn LinkedInConnect> {
        let mut config = shared::Config::default().linkedin;
        config.client_id = Some(CLIENT_ID.into());
        config.client_secret = Some(CLIENT_SECRET.into());
        config.authorize_url = format!("{}/oauth/v2/authorization", self.base);
        config.token_url = format!("{}/oauth/v2/accessToken", self.base);
        config.userinfo_url = format!("{}/v2/userinfo", self.base);
        Arc::new(LinkedInOAuth::from_config(&config).unwrap().unwrap())
    }
}

async fn token(
    seen: web::Data<Mutex<Vec<HashMap<String, String>>>>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let form = form.into_inner();
    seen.lock().unwrap().push(form.clone());
    let field = |k: &str| form.get(k).map(String::as_str);
    let valid = field("grant_type") == Some("authorization_code")
        && field("client_id") == Some(CLIENT_ID)
        && field("client_secret") == Some(CLIENT_SECRET)
        && field("redirect_uri").is_some()
        && field("code") == Some(GOOD_CODE);
    if !valid {
        return HttpResponse::BadRequest().json(json!({
            "error": "invalid_request",
            "error_description": "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired."
        }));
    }
    HttpResponse::Ok().json(json!({
        "access_token": ACCESS_TOKEN,
        "expires_in": 5_184_000,
        "scope": "openid,profile,w_member_social",
        "token_type": "Bearer",
        "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig",
        "refresh_token": REFRESH_TOKEN,
        "refresh_token_expires_in": 31_536_000
    }))
}

async fn userinfo(req: HttpRequest) -> HttpResponse {
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return HttpResponse::Unauthorized().json(json!({
            "status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
            "message": "Invalid access token"
        }));
    }
    HttpResponse::Ok().json(json!({
        "sub": MEMBER, "name": "Ana Baker", "given_name": "Ana", "family_name": "Baker",
        "picture": "https://media.licdn.com/x.jpg", "email": "ana@example.com",
        "email_verified": true, "locale": { "country": "FR", "language": "fr" }
    }))
}

/// Starts the connect; returns the `state` LinkedIn would send back.
async fn start_connect(app: &TestApp, fixture: &LinkedInFixture) -> String {
    let response = app.post("/api/profile/linkedin/connect").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let location = url::Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    assert!(
        location
            .as_str()
            .starts_with(&format!("{}/oauth/v2/authorization?", fixture.base)),
        "{location}"
    );
    let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(
        query["redirect_uri"],
        format!("{PUBLIC_URL}/api/profile/linkedin/callback")
    );
    // What the two self-serve products allow; post analytics only when configured.
    assert_eq!(query["scope"], "openid profile w_member_social");
    assert_eq!(query["state"].len(), 43);
    query["state"].clone()
}

async fn callback(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("/api/profile/linkedin/callback?{query}"))
        .await
}

#[sqlx::test(migrations = "../migrations")]
async fn the_profile_is_read_and_replaced(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    // A new account has an empty, disconnected profile.
    let body: Value = app.get("/api/profile").await.json().await.unwrap();
    assert!(body["business_name"].is_null());
    assert_eq!(body["linkedin"]["connected"], false);
    // PUT replaces every field: trimmed, empty means cleared.
    let response = app
        .put_json(
            "/api/profile",
            &json!({ "business_name": " Paul ", "business_type": "bakery", "location": "Lyon",
                     "phone": "", "website": "https://paul.example/" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["business_name"], "Paul");
    assert!(body["phone"].is_null());
    assert_eq!(body["website"], "https://paul.example/");
    // An absent field clears it too.
    let body: Value = app
        .put_json("/api/profile", &json!({ "business_name": "Paul" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["website"].is_null());
    assert_eq!(
        app.get("/api/profile").await.json::<Value>().await.unwrap(),
        body
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bad_profile_is_refused_with_422(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let cases = [
        // The website must be an http(s) URL.
        json!({ "website": "ftp://paul.example" }),
        json!({ "website": "javascript:alert(1)" }),
        json!({ "website": "paul.example" }),
        // Too long, or with control characters.
        json!({ "business_name": "x".repeat(201) }),
        json!({ "phone": "0".repeat(41) }),
        json!({ "location": "Ly\u{0}on" }),
        // Wrong type.
        json!({ "phone": 472000000 }),
    ];
    for body in cases {
        let response = app.put_json("/api/profile", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
    }
    // http:// is accepted.
    let response = app
        .put_json("/api/profile", &json!({ "website": "http://paul.example" }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[sqlx::test(migrations = "../migrations")]
async fn connecting_linkedin_without_an_app_configured_is_503(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let response = app.post("/api/profile/linkedin/connect").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "unavailable");
    let response = app
        .get("/api/profile/linkedin/callback?code=x&state=y")
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "unavailable");
}

#[sqlx::test(migrations = "../migrations")]
async fn connecting_linkedin_stores_sealed_tokens_and_queues_waiting_approvals(db: PgPool) {
    let fixture = LinkedInFixture::start();
    let app = spawn_app_with(db, |_| {}, Some(fixture.client())).await;
    app.sign_up("ana@example.com").await;
    let user_id = app.user_id("ana@example.com").await;
    // Approved while disconnected: waits, nothing queued.
    let campaign = app.create_campaign("Spring").await;
    let content = app.insert_content(campaign, 80, "pending").await;
    let body: Value = app
        .post(&format!("/api/contents/{content}/approve"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["queued_for_publishing"], false);
    assert_eq!(app.jobs_in_queue("publish").await, 0);
    // A callback whose state is not this session's: 400, nothing stored.
    let state = start_connect(&app, &fixture).await;
    let response = callback(&app, &format!("code={GOOD_CODE}&state=not-{state}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(fixture.token_requests.lock().unwrap().is_empty());
    // The state is single use: even the right one is refused after a failed callback.
    let response = callback(&app, &format!("code={GOOD_CODE}&state={state}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A fresh connect with the right state: 303 back to the profile page.
    let state = start_connect(&app, &fixture).await;
    let response = callback(&app, &format!("code={GOOD_CODE}&state={state}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!("{PUBLIC_URL}/profile?linkedin=connected").as_str()
    );
    // Our client sent the same redirect_uri as in the authorization request.
    let sent = fixture.token_requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["redirect_uri"],
        format!("{PUBLIC_URL}/api/profile/linkedin/callback")
    );
    // The profile shows the member; the tokens are only in the DB, sealed for this user.
    let body: Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(body["linkedin"]["connected"], true);
    assert_eq!(
        body["linkedin"]["member_urn"],
        format!("urn:li:person:{MEMBER}")
    );
    assert!(body["linkedin"]["expires_at"].is_string());
    assert!(!body.to_string().contains(ACCESS_TOKEN));
    let (access, refresh): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT linkedin_access_token, linkedin_refresh_token FROM user_profiles
         WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for (sealed, plain) in [(&access, ACCESS_TOKEN), (&refresh, REFRESH_TOKEN)] {
        assert!(
            !sealed.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "a token is stored in clear"
        );
    }
    let vault = Vault::new(VAULT_KEY, 1);
    assert_eq!(
        vault
            .open(user_id, Field::LinkedInAccessToken, &access)
            .unwrap(),
        ACCESS_TOKEN
    );
    assert_eq!(
        vault
            .open(user_id, Field::LinkedInRefreshToken, &refresh)
            .unwrap(),
        REFRESH_TOKEN
    );
    // The content approved while disconnected is now queued, once.
    app.wait_for_jobs("publish_post", "publish", 1).await;
    // Disconnecting forgets the tokens.
    let response = app.post("/api/profile/linkedin/disconnect").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let body: Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(body["linkedin"]["connected"], false);
    assert!(body["linkedin"]["member_urn"].is_null());
    let access: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT linkedin_access_token FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(access.is_none());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_or_bad_linkedin_callback_connects_nothing(db: PgPool) {
    let fixture = LinkedInFixture::start();
    let app = spawn_app_with(db, |_| {}, Some(fixture.client())).await;
    app.sign_up("ana@example.com").await;
    // The member refused on LinkedIn's page: back to the profile, not connected.
    let state = start_connect(&app, &fixture).await;
    let response = callback(
        &app,
        &format!("error=user_cancelled_authorize&error_description=no&state={state}"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        format!("{PUBLIC_URL}/profile?linkedin=cancelled").as_str()
    );
    // A code LinkedIn refuses: 400 with LinkedIn's reason.
    let state = start_connect(&app, &fixture).await;
    let response = callback(&app, &format!("code=expired&state={state}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_request"),
        "{body}"
    );
    // No code at all: 400.
    let state = start_connect(&app, &fixture).await;
    let response = callback(&app, &format!("state={state}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A state from another session: 400.
    let bob = app.other_user("bob@example.com").await;
    let state = start_connect(&app, &fixture).await;
    let response = bob
        .get(&format!(
            "/api/profile/linkedin/callback?code={GOOD_CODE}&state={state}"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(body["linkedin"]["connected"], false);
}

/// Signing in kept the previous session's state, so a LinkedIn connect
/// started by one account could be completed by the next one to sign in on that browser.
#[sqlx::test(migrations = "../migrations")]
async fn signing_in_drops_the_previous_sessions_connect_state(db: PgPool) {
    let fixture = LinkedInFixture::start();
    let app = spawn_app_with(db, |_| {}, Some(fixture.client())).await;
    app.sign_up("ana@example.com").await;
    app.other_user("bob@example.com").await;
    let state = start_connect(&app, &fixture).await;
    app.sign_in_as("bob@example.com").await;
    let response = callback(&app, &format!("code={GOOD_CODE}&state={state}")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(fixture.token_requests.lock().unwrap().is_empty());
}

/// A GET started the connect, so a cross-site page could make a signed-in
/// browser connect (and the callback publishes the contents waiting for LinkedIn).
#[sqlx::test(migrations = "../migrations")]
async fn connecting_linkedin_starts_only_with_a_post_carrying_the_csrf_token(db: PgPool) {
    let fixture = LinkedInFixture::start();
    let app = spawn_app_with(db, |_| {}, Some(fixture.client())).await;
    app.sign_up("ana@example.com").await;
    let cross_site = app.get("/api/profile/linkedin/connect").await;
    assert_eq!(cross_site.status(), StatusCode::METHOD_NOT_ALLOWED);
    let without_token = app
        .request(reqwest::Method::POST, "/api/profile/linkedin/connect")
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(without_token).await, "csrf_failed");
    start_connect(&app, &fixture).await;
}
