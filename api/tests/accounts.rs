#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sign up, sign in, sign out, me; sessions, CSRF and sign-in throttling.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{PASSWORD, error_code, retry_after, spawn_app};

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_creates_an_owner_who_then_signs_in(db: PgPool) {
    let app = spawn_app(db).await;
    // 202 and no session: the same answer a taken e-mail gets (see below).
    let response = app
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "  Ana@Example.com ", "password": PASSWORD, "name": " Ana " }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().get("set-cookie").is_none());
    assert_eq!(
        app.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The e-mail is trimmed, its case kept; signing in opens the session.
    let body: Value = app
        .sign_in("ana@example.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["email"], "Ana@Example.com");
    assert_eq!(body["user"]["name"], "Ana");
    assert_eq!(body["user"]["role"], "owner");
    assert_eq!(body["csrf_token"].as_str().unwrap().len(), 43);
    let me: Value = app.get("/api/auth/me").await.json().await.unwrap();
    assert_eq!(me["user"]["email"], "Ana@Example.com");
    assert_eq!(me["csrf_token"], body["csrf_token"]);
    // The password is stored as an argon2id hash only.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));
}

/// A 409 for a taken e-mail told anyone which addresses have accounts.
#[sqlx::test(migrations = "../migrations")]
async fn sign_up_answers_a_taken_email_exactly_like_a_new_one(db: PgPool) {
    let app = spawn_app(db).await;
    let new = app
        .visitor()
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "ana@example.com", "password": PASSWORD, "name": "Ana" }),
        )
        .await;
    let taken = app
        .visitor()
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "ANA@Example.COM", "password": "another long password", "name": "Eve" }),
        )
        .await;
    assert_eq!(new.status(), taken.status());
    assert_eq!(new.status(), StatusCode::ACCEPTED);
    assert_eq!(
        new.headers().get("set-cookie").is_some(),
        taken.headers().get("set-cookie").is_some()
    );
    assert_eq!(new.text().await.unwrap(), taken.text().await.unwrap());
    // No second account; the first one's password is unchanged.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let browser = app.visitor();
    assert_eq!(
        browser
            .sign_in("ana@example.com", "another long password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.sign_in("ana@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// Names with bidi overrides or zero-width characters are refused (they
/// make a name display as something else).
#[sqlx::test(migrations = "../migrations")]
async fn names_with_bidi_overrides_or_zero_width_characters_are_refused(db: PgPool) {
    let app = spawn_app(db).await;
    for name in [
        "Ana\u{202E}evE",
        "A\u{200B}na",
        "\u{2066}Ana",
        "Ana\u{FEFF}",
    ] {
        let response = app
            .post_json(
                "/api/auth/sign-up",
                &json!({ "email": "ana@example.com", "password": PASSWORD, "name": name }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
    }
    // Letters of any script are fine.
    let response = app
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "ana@example.com", "password": PASSWORD, "name": "Ana Łódź عربي" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

/// The cookie follows `public_url` (https → Secure) unless set.
#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_secure_when_the_public_url_is_https(db: PgPool) {
    let app = test_support::app::spawn_app_with(
        db,
        |c| {
            c.api.public_url = "https://app.example".into();
            c.api.cookie_key = Some(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                [3u8; 64],
            ));
        },
        None,
    )
    .await;
    app.sign_up("ana@example.com").await;
    let response = app.sign_in("ana@example.com", PASSWORD).await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_refuses_bad_values_with_422(db: PgPool) {
    let app = spawn_app(db).await;
    let cases = [
        // A password shorter than 10 characters.
        json!({ "email": "ana@example.com", "password": "short", "name": "Ana" }),
        // A password longer than 128.
        json!({ "email": "ana@example.com", "password": "x".repeat(129), "name": "Ana" }),
        // Not an e-mail address.
        json!({ "email": "ana@example", "password": PASSWORD, "name": "Ana" }),
        json!({ "email": "ana example.com", "password": PASSWORD, "name": "Ana" }),
        // An empty name.
        json!({ "email": "ana@example.com", "password": PASSWORD, "name": "   " }),
        // A missing field.
        json!({ "email": "ana@example.com", "password": PASSWORD }),
        // A field of the wrong type.
        json!({ "email": "ana@example.com", "password": 1234567890123_i64, "name": "Ana" }),
    ];
    for body in cases {
        let response = app.post_json("/api/auth/sign-up", &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(error_code(response).await, "invalid");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_checks_the_password(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let browser = app.visitor();
    // Wrong password and unknown account: the same 401.
    let wrong = browser.sign_in("ana@example.com", "wrong password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(wrong).await, "bad_credentials");
    let unknown = browser.sign_in("bob@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        browser.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The right password, with the e-mail in another case: signed in.
    let response = browser.sign_in(" ANA@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ana@example.com");
    assert!(body["user"]["last_signed_in_at"].is_string());
    assert_eq!(browser.get("/api/auth/me").await.status(), StatusCode::OK);
    // Missing field: 422.
    let response = browser
        .post_json("/api/auth/sign-in", &json!({ "email": "ana@example.com" }))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A NUL in the e-mail (found by schemathesis; it was a 500): 422.
    let response = browser.sign_in("ana\u{0}@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(response).await, "invalid");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_is_refused_after_five_failures_even_with_the_right_password(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let browser = app.visitor();
    // Five wrong passwords: 401 each.
    for _ in 0..5 {
        let response = browser.sign_in("ana@example.com", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // The sixth attempt is throttled before the password is looked at.
    let response = browser.sign_in("Ana@Example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after(&response);
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(response).await, "rate_limited");
    // Another account from the same address is not affected.
    app.other_user("bob@example.com").await;
    assert_eq!(
        app.visitor()
            .sign_in("bob@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_out_ends_the_session_and_its_csrf_token(db: PgPool) {
    let app = spawn_app(db).await;
    let old_token = app.sign_up("ana@example.com").await;
    // Sign-out is a write: without the token it is refused.
    let response = app
        .request(Method::POST, "/api/auth/sign-out")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post("/api/auth/sign-out").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A new sign-in gets a new token; the old one no longer works.
    let new_token = app.sign_in_as("ana@example.com").await;
    assert_ne!(old_token, new_token);
    let body = json!({ "name": "Spring", "industry": "bakery", "location": "Lyon" });
    let replayed = app
        .request(Method::POST, "/api/campaigns")
        .header("x-csrf-token", &old_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(replayed).await, "csrf_failed");
    assert_eq!(
        app.post_json("/api/campaigns", &body).await.status(),
        StatusCode::CREATED
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn writes_need_this_sessions_csrf_token(db: PgPool) {
    let app = spawn_app(db).await;
    let ana_token = app.sign_up("ana@example.com").await;
    let bob = app.other_user("bob@example.com").await;
    let body = json!({ "name": "Spring", "industry": "bakery", "location": "Lyon" });
    // No header: 403.
    let response = app
        .request(Method::POST, "/api/campaigns")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "csrf_failed");
    // Ana's token with Bob's cookie: 403.
    let response = bob
        .request(Method::POST, "/api/campaigns")
        .header("x-csrf-token", &ana_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Reads need no token.
    let response = app
        .request(Method::GET, "/api/campaigns")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Nothing was created by the refused writes.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn endpoints_without_a_session_answer_401(db: PgPool) {
    let app = spawn_app(db).await;
    let cases = [
        (Method::GET, "/api/auth/me"),
        (Method::POST, "/api/auth/sign-out"),
        (Method::GET, "/api/campaigns"),
        (Method::POST, "/api/campaigns"),
        (Method::GET, "/api/campaigns/1"),
        (Method::POST, "/api/campaigns/1/launch"),
        (Method::POST, "/api/campaigns/1/cancel"),
        (Method::GET, "/api/contents"),
        (Method::GET, "/api/contents/pending"),
        (Method::GET, "/api/contents/1"),
        (Method::PUT, "/api/contents/1"),
        (Method::POST, "/api/contents/1/approve"),
        (Method::POST, "/api/contents/1/reject"),
        (Method::GET, "/api/metrics"),
        (Method::GET, "/api/publications"),
        (Method::GET, "/api/profile"),
        (Method::PUT, "/api/profile"),
        (Method::POST, "/api/profile/linkedin/connect"),
        (Method::GET, "/api/profile/linkedin/callback"),
        (Method::POST, "/api/profile/linkedin/disconnect"),
        (Method::GET, "/api/admin/queues"),
    ];
    for (method, path) in cases {
        let response = app
            .request(method.clone(), path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(error_code(response).await, "unauthenticated");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn request_bodies_are_checked_before_handlers_run(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let csrf = app.csrf();
    let post = |body: &'static str, content_type: &'static str| {
        app.request(Method::POST, "/api/campaigns")
            .header("x-csrf-token", &csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // Broken JSON: 400.
    let response = post("{\"name\": ", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "bad_request");
    // JSON of the wrong shape: 422.
    let response = post("[1, 2]", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Not JSON at all: 415.
    let response = post("name=Spring", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(response).await, "unsupported_media_type");
    // Over 64 KiB: 413, on sign-up (no session) and on an authenticated write.
    let big = json!({ "name": "x".repeat(70 * 1024), "industry": "bakery", "location": "Lyon" });
    let response = app.post_json("/api/campaigns", &big).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
    let response = app.visitor().post_json("/api/auth/sign-up", &big).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_cookie_is_http_only_and_dies_with_the_session(db: PgPool) {
    let app = spawn_app(db).await;
    // The cookie is HttpOnly and SameSite=Lax, and not Secure on plain http.
    app.sign_up("ana@example.com").await;
    let response = app.sign_in("ana@example.com", PASSWORD).await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("ag_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let signed_up = app.cookie_header().unwrap();
    // Signing in again gives a new session key; the old cookie opens nothing.
    let token = app.sign_in_as("ana@example.com").await;
    let signed_in = app.cookie_header().unwrap();
    assert_ne!(signed_up, signed_in);
    let stranger = reqwest::Client::new();
    let me = |cookie: String| {
        stranger
            .get(app.url("/api/auth/me"))
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(
        me(signed_up).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // A copied cookie works until sign-out, then it is dead everywhere.
    assert_eq!(
        me(signed_in.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.post("/api/auth/sign-out").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        me(signed_in.clone()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let replay = stranger
        .post(app.url("/api/campaigns"))
        .header("cookie", signed_in)
        .header("x-csrf-token", token)
        .json(&json!({ "name": "Spring", "industry": "bakery", "location": "Lyon" }))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

/// Failures were counted after the verify, so concurrent wrong
/// passwords all passed the check before the first one was counted.
#[sqlx::test(migrations = "../migrations")]
async fn concurrent_wrong_sign_ins_verify_at_most_the_limit(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let browser = app.visitor();
    let attempts = (0..50).map(|_| browser.sign_in("ana@example.com", "wrong password"));
    let statuses: Vec<StatusCode> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let verified = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        verified <= 5,
        "{verified} wrong passwords verified: {statuses:?}"
    );
    assert_eq!(verified + throttled, 50, "{statuses:?}");
    // The right password is still refused: the failures were all counted.
    let response = app.visitor().sign_in("ana@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}
