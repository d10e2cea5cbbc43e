//! The sandbox's Instagram over real HTTP: Business Login (consent, the code exchange, the
//! long-lived token and its refresh), content publishing from an image it really downloads,
//! container states, the moving-window limit, insights, the Graph error bodies and the
//! fault modes, as Meta's documentation describes them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Cursor;

use actix_web::{App, HttpResponse, HttpServer, web};
use image::{ImageFormat, Rgb, RgbImage};
use reqwest::{Client, StatusCode, redirect};
use sandbox::{InstagramOptions, Latency, Options, Sandbox};
use serde_json::{Value, json};

const APP_ID: &str = "sandbox-instagram-app-id";
const SECRET: &str = "sandbox-instagram-app-secret";
const REDIRECT: &str = "http://127.0.0.1:9/api/profile/instagram/callback";
const PUBLISH: &str = "instagram_business_basic,instagram_business_content_publish";

fn encoded(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_pixel(w, h, Rgb([200, 120, 40]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A small web server with the images Instagram is asked to fetch: a square JPEG, a PNG,
/// a JPEG too tall for Instagram, and a 404.
async fn images() -> String {
    let square = encoded(64, 64, ImageFormat::Jpeg);
    let png = encoded(64, 64, ImageFormat::Png);
    let tall = encoded(40, 100, ImageFormat::Jpeg);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let (square, png, tall) = (square.clone(), png.clone(), tall.clone());
        App::new()
            .route(
                "/square.jpg",
                web::get().to(move || {
                    let b = square.clone();
                    async move { HttpResponse::Ok().content_type("image/jpeg").body(b) }
                }),
            )
            .route(
                "/image.png",
                web::get().to(move || {
                    let b = png.clone();
                    async move { HttpResponse::Ok().content_type("image/png").body(b) }
                }),
            )
            .route(
                "/tall.jpg",
                web::get().to(move || {
                    let b = tall.clone();
                    async move { HttpResponse::Ok().content_type("image/jpeg").body(b) }
                }),
            )
    })
    .listen(listener)
    .unwrap()
    .workers(1)
    .disable_signals()
    .run();
    tokio::spawn(server);
    format!("http://{addr}")
}

async fn start(ig: InstagramOptions) -> (Sandbox, Client) {
    let sb = Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        Options {
            latency: Latency::None,
            instagram: ig,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let http = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    (sb, http)
}

/// Tests refresh at once, rather than after 24 h.
fn refreshable() -> InstagramOptions {
    InstagramOptions {
        refresh_min_age_s: 0,
        ..InstagramOptions::default()
    }
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn authorize(http: &Client, sb: &Sandbox, extra: &str, scope: &str) -> reqwest::Response {
    authorize_as(http, sb, "s1", extra, scope).await
}

/// The consent of the account `state` derives (each state, its own account).
async fn authorize_as(
    http: &Client,
    sb: &Sandbox,
    state: &str,
    extra: &str,
    scope: &str,
) -> reqwest::Response {
    http.get(format!(
        "{}/instagram-www/oauth/authorize?client_id={APP_ID}&redirect_uri={}&response_type=code&scope={scope}&state={state}{extra}",
        sb.url(),
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    ))
    .send()
    .await
    .unwrap()
}

async fn code_exchange(
    http: &Client,
    sb: &Sandbox,
    code: &str,
    secret: &str,
) -> (StatusCode, Value) {
    let r = http
        .post(format!("{}/instagram-api/oauth/access_token", sb.url()))
        .form(&[
            ("client_id", APP_ID),
            ("client_secret", secret),
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
            ("code", code),
        ])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

struct Account {
    user_id: String,
    token: String,
}

/// Consent (auto=allow) of a new account, the code exchange and the long-lived token.
async fn connect(http: &Client, sb: &Sandbox, scope: &str) -> Account {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let state = format!("c{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let r = authorize_as(http, sb, &state, "&auto=allow", scope).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("#_"), "{location}");
    let q = query_of(&location);
    assert_eq!(q["state"], state);
    let (status, body) = code_exchange(http, sb, &q["code"], SECRET).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant = &body["data"][0];
    let short = grant["access_token"].as_str().unwrap().to_owned();
    let user_id = grant["user_id"].as_str().unwrap().to_owned();
    assert_eq!(grant["permissions"], scope);
    let long: Value = http
        .get(format!("{}/instagram-graph/access_token", sb.url()))
        .query(&[
            ("grant_type", "ig_exchange_token"),
            ("client_secret", SECRET),
            ("access_token", &short),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(long["token_type"], "bearer");
    assert_eq!(long["expires_in"], 5_184_000);
    Account {
        user_id,
        token: long["access_token"].as_str().unwrap().to_owned(),
    }
}

async fn graph_get(http: &Client, sb: &Sandbox, a: &Account, path: &str) -> (StatusCode, Value) {
    let r = http
        .get(format!("{}/instagram-graph/v25.0/{path}", sb.url()))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

async fn graph_post(
    http: &Client,
    sb: &Sandbox,
    a: &Account,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(format!("{}/instagram-graph/v25.0/{path}", sb.url()))
        .bearer_auth(&a.token)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn container(http: &Client, sb: &Sandbox, a: &Account, image_url: &str) -> reqwest::Response {
    graph_post(
        http,
        sb,
        a,
        &format!("{}/media", a.user_id),
        &[
            ("image_url", image_url),
            ("caption", "Fresh croissants #bakery"),
            ("alt_text", "A tray of croissants"),
        ],
    )
    .await
}

async fn status_code(http: &Client, sb: &Sandbox, a: &Account, id: &str) -> String {
    let (s, body) = graph_get(http, sb, a, &format!("{id}?fields=status_code")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["status_code"].as_str().unwrap().to_owned()
}

async fn publish(http: &Client, sb: &Sandbox, a: &Account, id: &str) -> reqwest::Response {
    graph_post(
        http,
        sb,
        a,
        &format!("{}/media_publish", a.user_id),
        &[("creation_id", id)],
    )
    .await
}

/// A container made, read until FINISHED, published: the media id.
async fn post(http: &Client, sb: &Sandbox, a: &Account, images: &str) -> String {
    let r = container(http, sb, a, &format!("{images}/square.jpg")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    while status_code(http, sb, a, &id).await == "IN_PROGRESS" {}
    let r = publish(http, sb, a, &id).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn error_of(body: &Value) -> (i64, Option<i64>) {
    let e = &body["error"];
    assert!(e["message"].is_string(), "{body}");
    assert!(e["type"].is_string(), "{body}");
    assert!(e["fbtrace_id"].is_string(), "{body}");
    (e["code"].as_i64().unwrap(), e["error_subcode"].as_i64())
}

async fn fault(http: &Client, sb: &Sandbox, body: Value) {
    let r = http
        .post(format!("{}/_sandbox/faults", sb.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn the_consent_window_has_allow_and_cancel_and_cancel_is_user_denied() {
    let (sb, http) = start(InstagramOptions::default()).await;
    let page = authorize(&http, &sb, "", PUBLISH).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"id="allow""#) && html.contains(r#"id="cancel""#));
    assert!(html.contains("instagram_business_content_publish"));
    let r = authorize(&http, &sb, "&auto=cancel", PUBLISH).await;
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["error_reason"], "user_denied");
    assert_eq!(q["state"], "s1");
    // An unknown permission and an unknown app are refused before any consent.
    let r = authorize(&http, &sb, "", "instagram_business_basic,w_member_social").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .get(format!(
            "{}/instagram-www/oauth/authorize?client_id=nope&redirect_uri={REDIRECT}&response_type=code&scope={PUBLISH}",
            sb.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[tokio::test]
async fn codes_are_single_use_and_tokens_exchange_refresh_and_expire() {
    let (sb, http) = start(refreshable()).await;
    let r = authorize(&http, &sb, "&auto=allow", PUBLISH).await;
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    let (status, body) = code_exchange(&http, &sb, &code, "wrong").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_type"], "OAuthException");
    assert!(body["error_message"].is_string());
    let (status, _) = code_exchange(&http, &sb, &code, SECRET).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = code_exchange(&http, &sb, &code, SECRET).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code is single-use: {body}"
    );

    let a = connect(&http, &sb, PUBLISH).await;
    let (s, me) = graph_get(&http, &sb, &a, "me?fields=user_id,username").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["user_id"], a.user_id.as_str());
    assert!(me["username"].is_string());

    let refreshed: Value = http
        .get(format!("{}/instagram-graph/refresh_access_token", sb.url()))
        .query(&[
            ("grant_type", "ig_refresh_token"),
            ("access_token", &a.token),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = refreshed["access_token"].as_str().unwrap();
    assert_ne!(fresh, a.token);
    assert_eq!(refreshed["expires_in"], 5_184_000);

    // Expired, then revoked: code 190 either way.
    let r = http
        .post(format!("{}/_sandbox/instagram/tokens/expire", sb.url()))
        .json(&json!({"user_id": a.user_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["expired"], 3);
    let (s, body) = graph_get(&http, &sb, &a, "me").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), (190, Some(463)));
    sb.stop().await;
}

#[tokio::test]
async fn a_young_token_is_not_refreshed() {
    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    let r = http
        .get(format!("{}/instagram-graph/refresh_access_token", sb.url()))
        .query(&[
            ("grant_type", "ig_refresh_token"),
            ("access_token", &a.token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 hours")
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_jpeg_becomes_a_container_that_finishes_publishes_once_and_counts() {
    let images = images().await;
    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    let r = container(&http, &sb, &a, &format!("{images}/square.jpg")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Not ready yet: media_publish refuses it (9007 / 2207027).
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(error_of(&r.json().await.unwrap()), (9007, Some(2_207_027)));
    assert_eq!(status_code(&http, &sb, &a, &id).await, "IN_PROGRESS");
    assert_eq!(status_code(&http, &sb, &a, &id).await, "FINISHED");
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let media = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status_code(&http, &sb, &a, &id).await, "PUBLISHED");
    // Publishing it again publishes nothing.
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (_, m) = graph_get(&http, &sb, &a, &format!("{media}?fields=id,permalink")).await;
    assert!(
        m["permalink"]
            .as_str()
            .unwrap()
            .starts_with("https://www.instagram.com/p/")
    );
    let (_, limit) = graph_get(
        &http,
        &sb,
        &a,
        &format!(
            "{}/content_publishing_limit?fields=quota_usage,config",
            a.user_id
        ),
    )
    .await;
    assert_eq!(
        limit,
        json!({"data": [{"quota_usage": 1, "config": {"quota_total": 50, "quota_duration": 86400}}]})
    );
    let stored: Value = http
        .get(format!("{}/_sandbox/instagram/media", sb.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 1);
    assert_eq!(stored[0]["caption"], "Fresh croissants #bakery");
    assert_eq!(stored[0]["alt_text"], "A tray of croissants");
    sb.stop().await;
}

#[tokio::test]
async fn only_a_reachable_jpeg_of_an_accepted_ratio_makes_a_container() {
    let images = images().await;
    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    for (path, want) in [
        ("/image.png", (9004, Some(2_207_052))),
        ("/missing.jpg", (9004, Some(2_207_052))),
        ("/tall.jpg", (36_003, Some(2_207_009))),
    ] {
        let r = container(&http, &sb, &a, &format!("{images}{path}")).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(error_of(&r.json().await.unwrap()), want, "{path}");
    }
    let r = container(&http, &sb, &a, "http://127.0.0.1:9/nothing-listens.jpg").await;
    assert_eq!(error_of(&r.json().await.unwrap()), (9004, Some(2_207_052)));
    // Without the publishing permission: code 10.
    let basic = connect(&http, &sb, "instagram_business_basic").await;
    let r = container(&http, &sb, &basic, &format!("{images}/square.jpg")).await;
    assert_eq!(error_of(&r.json().await.unwrap()).0, 10);
    sb.stop().await;
}

#[tokio::test]
async fn the_moving_window_limit_refuses_the_post_past_it() {
    let images = images().await;
    let (sb, http) = start(InstagramOptions {
        publish_limit: 2,
        ..InstagramOptions::default()
    })
    .await;
    let a = connect(&http, &sb, PUBLISH).await;
    post(&http, &sb, &a, &images).await;
    post(&http, &sb, &a, &images).await;
    let r = container(&http, &sb, &a, &format!("{images}/square.jpg")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    while status_code(&http, &sb, &a, &id).await == "IN_PROGRESS" {}
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(error_of(&r.json().await.unwrap()), (9, Some(2_207_042)));
    // Another account has its own window.
    let b = connect(&http, &sb, PUBLISH).await;
    post(&http, &sb, &b, &images).await;
    sb.stop().await;
}

#[tokio::test]
async fn containers_expire_or_fail_and_cannot_be_published() {
    let images = images().await;
    let (sb, http) = start(InstagramOptions {
        container_expiry_s: 0,
        ..InstagramOptions::default()
    })
    .await;
    let a = connect(&http, &sb, PUBLISH).await;
    let r = container(&http, &sb, &a, &format!("{images}/square.jpg")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status_code(&http, &sb, &a, &id).await, "EXPIRED");
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(error_of(&r.json().await.unwrap()), (-2, Some(2_207_020)));
    sb.stop().await;

    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    fault(
        &http,
        &sb,
        json!({"route": "instagram.media", "mode": "error"}),
    )
    .await;
    let r = container(&http, &sb, &a, &format!("{images}/square.jpg")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status_code(&http, &sb, &a, &id).await, "ERROR");
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(error_of(&r.json().await.unwrap()), (-1, Some(2_207_032)));
    // The `expired` mode of the status read ages a container at once.
    let r = container(&http, &sb, &a, &format!("{images}/square.jpg")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fault(
        &http,
        &sb,
        json!({"route": "instagram.container", "mode": "expired"}),
    )
    .await;
    assert_eq!(status_code(&http, &sb, &a, &id).await, "EXPIRED");
    sb.stop().await;
}

#[tokio::test]
async fn a_publish_stored_then_500_is_published_and_its_container_says_so() {
    let images = images().await;
    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    let r = container(&http, &sb, &a, &format!("{images}/square.jpg")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    while status_code(&http, &sb, &a, &id).await == "IN_PROGRESS" {}
    fault(
        &http,
        &sb,
        json!({"route": "instagram.publish", "status": 500, "after_effect": true}),
    )
    .await;
    let r = publish(&http, &sb, &a, &id).await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let (code, _) = error_of(&r.json().await.unwrap());
    assert_eq!(code, 2);
    assert_eq!(status_code(&http, &sb, &a, &id).await, "PUBLISHED");
    sb.stop().await;
}

#[tokio::test]
async fn rate_limit_modes_name_app_or_account_in_code_and_header() {
    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    fault(
        &http,
        &sb,
        json!({"route": "instagram.me", "mode": "app_limit"}),
    )
    .await;
    let r = http
        .get(format!("{}/instagram-graph/me", sb.url()))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    let usage: Value = serde_json::from_str(r.headers()["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage["call_count"], 100);
    assert_eq!(error_of(&r.json().await.unwrap()).0, 4);
    fault(
        &http,
        &sb,
        json!({"route": "instagram.me", "mode": "account_limit"}),
    )
    .await;
    let r = http
        .get(format!("{}/instagram-graph/me", sb.url()))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    let buc: Value =
        serde_json::from_str(r.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert!(buc[a.user_id.as_str()][0]["estimated_time_to_regain_access"].is_u64());
    assert_eq!(error_of(&r.json().await.unwrap()).0, 17);
    fault(
        &http,
        &sb,
        json!({"route": "instagram.me", "mode": "token_invalid"}),
    )
    .await;
    let (_, body) = graph_get(&http, &sb, &a, "me").await;
    assert_eq!(error_of(&body).0, 190);
    // Status faults answer in the Graph shape too; unknown modes are refused.
    fault(
        &http,
        &sb,
        json!({"route": "instagram.limit", "status": 401}),
    )
    .await;
    let (s, body) = graph_get(
        &http,
        &sb,
        &a,
        &format!("{}/content_publishing_limit", a.user_id),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error_of(&body).0, 190);
    let r = http
        .post(format!("{}/_sandbox/faults", sb.url()))
        .json(&json!({"route": "instagram.me", "mode": "duplicate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    sb.stop().await;
}

#[tokio::test]
async fn insights_need_their_permission_and_grow() {
    let images = images().await;
    let (sb, http) = start(InstagramOptions::default()).await;
    let a = connect(&http, &sb, PUBLISH).await;
    let media = post(&http, &sb, &a, &images).await;
    let path = format!("{media}/insights?metric=likes,comments,reach,views");
    let (s, body) = graph_get(&http, &sb, &a, &path).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(error_of(&body).0, 10);
    let b = connect(
        &http,
        &sb,
        "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights",
    )
    .await;
    let media = post(&http, &sb, &b, &images).await;
    let (s, body) = graph_get(
        &http,
        &sb,
        &b,
        &format!("{media}/insights?metric=likes,comments,reach,views"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["likes", "comments", "reach", "views"]);
    assert!(body["data"][0]["values"][0]["value"].as_i64().unwrap() > 0);
    // Another account's media is not readable.
    let (s, _) = graph_get(&http, &sb, &a, &format!("{media}?fields=permalink")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    sb.stop().await;
}
