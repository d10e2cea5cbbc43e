//! The sandbox's contract over real HTTP: one test per control route, and the provider
//! behaviours outside tools and our clients rely on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::{Client, StatusCode, redirect};
use sandbox::{Latency, Options, Sandbox};
use serde_json::{Value, json};

const KEY: &str = "sandbox-google-key";

async fn start() -> (Sandbox, Client) {
    start_with(Options {
        latency: Latency::None,
        ..Options::default()
    })
    .await
}

async fn start_with(options: Options) -> (Sandbox, Client) {
    let sb = Sandbox::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap();
    let http = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    (sb, http)
}

/// The self-serve products and the Community Management API (post analytics).
fn with_analytics() -> Vec<String> {
    let mut products: Vec<String> = sandbox::SELF_SERVE_PRODUCTS.map(str::to_owned).to_vec();
    products.push("Community Management API".to_owned());
    products
}

async fn json_of(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

/// A control route's JSON answer (GET).
async fn control(http: &Client, sb: &Sandbox, path: &str) -> Value {
    json_of(
        http.get(format!("{}{path}", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn fault(http: &Client, sb: &Sandbox, body: Value) -> String {
    let resp = http
        .post(format!("{}/_sandbox/faults", sb.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    json_of(resp).await["id"].as_str().unwrap().to_owned()
}

async fn search(http: &Client, sb: &Sandbox, body: Value) -> reqwest::Response {
    http.post(format!("{}/places/v1/places:searchText", sb.url()))
        .header("X-Goog-Api-Key", KEY)
        .header(
            "X-Goog-FieldMask",
            "places.id,places.displayName,places.websiteUri,nextPageToken",
        )
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn gemini(http: &Client, sb: &Sandbox, model: &str, body: Value) -> reqwest::Response {
    http.post(format!(
        "{}/gemini/v1beta/models/{model}:generateContent",
        sb.url()
    ))
    .header("x-goog-api-key", KEY)
    .json(&body)
    .send()
    .await
    .unwrap()
}

fn text_request() -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": "Write a post about \"Golden Bakery\" in Lyon"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": {
            "type": "OBJECT",
            "properties": {"post": {"type": "STRING"}, "hashtags": {"type": "ARRAY", "items": {"type": "STRING"}}, "image_prompt": {"type": "STRING"}},
            "required": ["post"]}}
    })
}

#[tokio::test]
async fn health_answers_ok() {
    let (sb, http) = start().await;
    let body = control(&http, &sb, "/_sandbox/health").await;
    assert_eq!(body, json!({"ok": true}));
}

#[tokio::test]
async fn faults_are_added_listed_counted_down_and_removed() {
    let (sb, http) = start().await;
    let id = fault(
        &http,
        &sb,
        json!({"route": "places.search", "count": 2, "status": 500}),
    )
    .await;
    let listed = control(&http, &sb, "/_sandbox/faults").await;
    assert_eq!(listed[0]["id"], json!(id));
    assert_eq!(listed[0]["remaining"], json!(2));
    let first = search(&http, &sb, json!({"textQuery": "bakeries in Lyon"})).await;
    assert_eq!(first.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json_of(first).await["error"]["status"], json!("INTERNAL"));
    let listed = control(&http, &sb, "/_sandbox/faults").await;
    assert_eq!(listed[0]["remaining"], json!(1));
    assert_eq!(
        search(&http, &sb, json!({"textQuery": "bakeries in Lyon"}))
            .await
            .status(),
        500
    );
    assert_eq!(
        search(&http, &sb, json!({"textQuery": "bakeries in Lyon"}))
            .await
            .status(),
        200
    );
    // count 0 = until removed; DELETE removes every fault.
    fault(
        &http,
        &sb,
        json!({"route": "places.search", "count": 0, "status": 503}),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            search(&http, &sb, json!({"textQuery": "x"})).await.status(),
            503
        );
    }
    let removed = json_of(
        http.delete(format!("{}/_sandbox/faults", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(removed["removed"], json!(1));
    assert_eq!(
        search(&http, &sb, json!({"textQuery": "x"})).await.status(),
        200
    );
    // A typo is refused, not armed.
    for bad in [
        json!({"route": "places.serch", "status": 500}),
        json!({"route": "gemini.text", "mode": "huge"}),
        json!({"route": "gemini.text"}),
    ] {
        let resp = http
            .post(format!("{}/_sandbox/faults", sb.url()))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn the_log_lists_requests_oldest_first_and_filters_by_route() {
    let (sb, http) = start().await;
    let id = fault(&http, &sb, json!({"route": "gemini.text", "status": 503})).await;
    search(&http, &sb, json!({"textQuery": "bakeries in Lyon"})).await;
    gemini(&http, &sb, "gemini-3.5-flash", text_request()).await;
    let all = control(&http, &sb, "/_sandbox/log").await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["route"], json!("places.search"));
    let only = control(&http, &sb, "/_sandbox/log?route=gemini.text").await;
    let entry = &only.as_array().unwrap()[0];
    assert_eq!(only.as_array().unwrap().len(), 1);
    for field in ["route", "method", "path", "status", "at_ms", "fault"] {
        assert!(entry.get(field).is_some(), "{field} in {entry}");
    }
    assert_eq!(entry["status"], json!(503));
    assert_eq!(entry["fault"], json!(id));
    assert_eq!(entry["method"], json!("POST"));
}

#[tokio::test]
async fn reset_forgets_faults_log_posts_and_tokens() {
    let (sb, http) = start().await;
    let li = connect(&http, &sb, "w_member_social").await;
    post(&http, &sb, &li, "Hello").await;
    fault(&http, &sb, json!({"route": "places.search", "status": 500})).await;
    let resp = http
        .post(format!("{}/_sandbox/reset", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let get = |p: &'static str| http.get(format!("{}/_sandbox/{p}", sb.url())).send();
    assert_eq!(json_of(get("faults").await.unwrap()).await, json!([]));
    assert_eq!(json_of(get("log").await.unwrap()).await, json!([]));
    assert_eq!(json_of(get("posts").await.unwrap()).await, json!([]));
    let me = http
        .get(format!("{}/linkedin-api/v2/userinfo", sb.url()))
        .bearer_auth(&li.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "tokens are forgotten"
    );
}

struct Member {
    token: String,
    sub: String,
}

/// OAuth through the sandbox with `auto=allow`: authorize, follow the redirect, exchange.
async fn connect(http: &Client, sb: &Sandbox, scope: &str) -> Member {
    let redirect = "http://app.test/callback";
    let resp = http
        .get(format!("{}/linkedin-www/oauth/v2/authorization", sb.url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "sandbox-client-id"),
            ("redirect_uri", redirect),
            ("state", &format!("st-{scope}")),
            ("scope", &format!("openid profile {scope}")),
            ("auto", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = json_of(
        http.post(format!("{}/linkedin-www/oauth/v2/accessToken", sb.url()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("client_id", "sandbox-client-id"),
                ("client_secret", "sandbox-client-secret"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let me = json_of(
        http.get(format!("{}/linkedin-api/v2/userinfo", sb.url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    Member {
        token,
        sub: me["sub"].as_str().unwrap().to_owned(),
    }
}

/// userinfo as LinkedIn's OpenID Connect answers it: a person's name in its parts, and a
/// photo URL (expiring, `e=`) that serves an image without a token.
#[tokio::test]
async fn userinfo_gives_a_name_and_a_photo_that_loads() {
    let (sb, http) = start().await;
    let m = connect(&http, &sb, "w_member_social").await;
    let me = json_of(
        http.get(format!("{}/linkedin-api/v2/userinfo", sb.url()))
            .bearer_auth(&m.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for field in [
        "sub",
        "name",
        "given_name",
        "family_name",
        "picture",
        "email",
    ] {
        assert!(me[field].is_string(), "{field} in {me}");
    }
    assert_eq!(
        me["name"],
        format!(
            "{} {}",
            me["given_name"].as_str().unwrap(),
            me["family_name"].as_str().unwrap()
        )
    );
    assert!(!me["name"].as_str().unwrap().starts_with("Member"), "{me}");
    let picture = me["picture"].as_str().unwrap();
    assert!(picture.contains("e="), "{picture}");
    let photo = http.get(picture).send().await.unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert!(photo.bytes().await.unwrap().starts_with(b"\x89PNG"));
    // The same member, the same name and photo.
    let again = json_of(
        http.get(format!("{}/linkedin-api/v2/userinfo", sb.url()))
            .bearer_auth(&m.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again["name"], me["name"]);
}

fn rest(
    http: &Client,
    method: reqwest::Method,
    url: String,
    token: &str,
) -> reqwest::RequestBuilder {
    http.request(method, url)
        .bearer_auth(token)
        .header("LinkedIn-Version", "202610")
        .header("X-Restli-Protocol-Version", "2.0.0")
}

async fn post(http: &Client, sb: &Sandbox, m: &Member, commentary: &str) -> reqwest::Response {
    rest(http, reqwest::Method::POST, format!("{}/linkedin-api/rest/posts", sb.url()), &m.token)
        .json(&json!({
            "author": format!("urn:li:person:{}", m.sub), "commentary": commentary, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false
        }))
        .send()
        .await
        .unwrap()
}

/// Posts `commentary`, expects 201, and returns the URN from `x-restli-id`.
async fn posted(http: &Client, sb: &Sandbox, m: &Member, commentary: &str) -> String {
    let created = post(http, sb, m, commentary).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    created.headers()["x-restli-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn posts_are_stored_truncated_at_a_reserved_character_and_duplicates_refused() {
    let (sb, http) = start().await;
    let m = connect(&http, &sb, "w_member_social").await;
    let urn = posted(&http, &sb, &m, "Open \\(Mon to Fri\\) #Lyon 😀").await;
    assert!(urn.starts_with("urn:li:share:"), "{urn}");
    let cut = post(&http, &sb, &m, "Open (Mon to Fri)").await;
    assert_eq!(cut.status(), StatusCode::CREATED);
    let again = post(&http, &sb, &m, "Open \\(Mon to Fri\\) #Lyon 😀").await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(again).await;
    assert!(body["message"].as_str().unwrap().contains(&urn), "{body}");
    assert_eq!(
        body["errorDetails"]["inputErrors"][0]["code"],
        json!("DUPLICATE_POST")
    );
    let posts = control(&http, &sb, "/_sandbox/posts").await;
    let posts = posts.as_array().unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0]["commentary"], json!("Open (Mon to Fri) #Lyon 😀"));
    assert_eq!(posts[1]["commentary"], json!("Open "), "silently cut");
    for field in ["urn", "author", "commentary", "image", "created_at_ms"] {
        assert!(posts[0].get(field).is_some(), "{field}");
    }
}

#[tokio::test]
async fn tokens_expire_and_are_revoked_on_demand() {
    let (sb, http) = start().await;
    let m = connect(&http, &sb, "w_member_social").await;
    let n = json_of(
        http.post(format!("{}/_sandbox/tokens/expire", sb.url()))
            .json(&json!({"member": m.sub}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(n["expired"], json!(1));
    let resp = post(&http, &sb, &m, "hello").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(resp).await["code"], json!("EXPIRED_ACCESS_TOKEN"));
    let m2 = connect(&http, &sb, "w_member_social").await;
    http.post(format!("{}/_sandbox/tokens/revoke", sb.url()))
        .json(&json!({"member": m2.sub}))
        .send()
        .await
        .unwrap();
    let resp = post(&http, &sb, &m2, "hello").await;
    assert_eq!(json_of(resp).await["code"], json!("REVOKED_ACCESS_TOKEN"));
}

#[tokio::test]
async fn places_pages_to_sixty_with_tokens_bound_to_the_query() {
    let (sb, http) = start().await;
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"textQuery": "dentists in Guelph"});
        if let Some(t) = &token {
            body["pageToken"] = json!(t);
        }
        let page = json_of(search(&http, &sb, body).await).await;
        seen += page["places"].as_array().map_or(0, Vec::len);
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, 60);
    // A token used with another query is refused.
    let first = json_of(search(&http, &sb, json!({"textQuery": "dentists in Guelph"})).await).await;
    let t = first["nextPageToken"].as_str().unwrap();
    let wrong = search(
        &http,
        &sb,
        json!({"textQuery": "bakers in Guelph", "pageToken": t}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    // No matches: {}.
    let none = json_of(search(&http, &sb, json!({"textQuery": "bakers in Nowhere"})).await).await;
    assert_eq!(none, json!({}));
    // The mask is required and applied.
    let no_mask = http
        .post(format!("{}/places/v1/places:searchText", sb.url()))
        .header("X-Goog-Api-Key", KEY)
        .json(&json!({"textQuery": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_mask.status(), StatusCode::BAD_REQUEST);
    assert!(
        json_of(no_mask).await["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("FieldMask is a required parameter")
    );
    assert!(
        first["places"][0].get("rating").is_none(),
        "not in the mask"
    );
    // Keys: missing 403, unknown 400 API_KEY_INVALID.
    let no_key = http
        .post(format!("{}/places/v1/places:searchText", sb.url()))
        .json(&json!({"textQuery": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::FORBIDDEN);
    let bad_key = http
        .post(format!("{}/places/v1/places:searchText", sb.url()))
        .header("X-Goog-Api-Key", "nope")
        .header("X-Goog-FieldMask", "*")
        .json(&json!({"textQuery": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(bad_key).await["error"]["details"][0]["reason"],
        json!("API_KEY_INVALID")
    );
}

#[tokio::test]
async fn gemini_answers_the_schema_and_each_mode() {
    let (sb, http) = start().await;
    let ok = json_of(gemini(&http, &sb, "gemini-3.5-flash", text_request()).await).await;
    let text = ok["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    let parsed: Value = serde_json::from_str(text).unwrap();
    assert!(parsed["post"].as_str().unwrap().len() > 20);
    assert!(!parsed["hashtags"].as_array().unwrap().is_empty());
    assert!(parsed["image_prompt"].is_string());
    let gone = gemini(&http, &sb, "gemini-2.0-flash", text_request()).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    fault(
        &http,
        &sb,
        json!({"route": "gemini.text", "mode": "blocked"}),
    )
    .await;
    let blocked = json_of(gemini(&http, &sb, "gemini-3.5-flash", text_request()).await).await;
    assert_eq!(blocked["promptFeedback"]["blockReason"], json!("SAFETY"));
    assert!(blocked.get("candidates").is_none());
    fault(
        &http,
        &sb,
        json!({"route": "gemini.text", "status": 429, "retry_after_s": 19, "quota": "day"}),
    )
    .await;
    let limited = gemini(&http, &sb, "gemini-3.5-flash", text_request()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json_of(limited).await;
    let details = body["error"]["details"].as_array().unwrap();
    assert!(
        details.iter().any(|d| d["retryDelay"] == json!("19s")),
        "{body}"
    );
    assert!(details.iter().any(|d| {
        d["violations"][0]["quotaId"]
            .as_str()
            .is_some_and(|q| q.contains("PerDay"))
    }));
}

#[tokio::test]
async fn images_are_valid_pngs_and_after_effect_stores_the_post_then_fails() {
    let (sb, http) = start().await;
    let img = json_of(
        gemini(
            &http,
            &sb,
            "gemini-3.1-flash-image",
            json!({
                "contents": [{"role": "user", "parts": [{"text": "a bakery"}]}],
                "generationConfig": {"responseModalities": ["IMAGE"]}
            }),
        )
        .await,
    )
    .await;
    let parts = img["candidates"][0]["content"]["parts"].as_array().unwrap();
    let data = parts
        .iter()
        .find_map(|p| p["inlineData"]["data"].as_str())
        .unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let m = connect(&http, &sb, "w_member_social").await;
    fault(
        &http,
        &sb,
        json!({"route": "linkedin.posts", "status": 500, "after_effect": true}),
    )
    .await;
    let failed = post(&http, &sb, &m, "Stored anyway").await;
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let posts = control(&http, &sb, "/_sandbox/posts").await;
    assert_eq!(posts.as_array().unwrap().len(), 1, "the work was done");
    let retry = post(&http, &sb, &m, "Stored anyway").await;
    assert_eq!(retry.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn daily_member_limit_answers_429() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        linkedin_daily_member: 2,
        ..Options::default()
    })
    .await;
    let m = connect(&http, &sb, "w_member_social").await;
    assert_eq!(post(&http, &sb, &m, "one").await.status(), 201);
    assert_eq!(post(&http, &sb, &m, "two").await.status(), 201);
    let third = post(&http, &sb, &m, "three").await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key("retry-after"));
}

/// LinkedIn's message names the daily limit that was reached, the member's or the app's:
/// a client tells from it whether only this member waits or every member does.
#[tokio::test]
async fn the_daily_429_names_the_limit_reached() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        linkedin_daily_member: 1,
        linkedin_daily_app: 2,
        linkedin_products: with_analytics(),
        ..Options::default()
    })
    .await;
    let ana = connect(&http, &sb, "w_member_social").await;
    let bob = connect(&http, &sb, "w_member_social r_member_postAnalytics").await;
    let cleo = connect(&http, &sb, "r_member_postAnalytics w_member_social").await;
    assert!(ana.sub != bob.sub && bob.sub != cleo.sub && ana.sub != cleo.sub);
    posted(&http, &sb, &ana, "one").await;
    let member_limit = post(&http, &sb, &ana, "two").await;
    assert_eq!(member_limit.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json_of(member_limit).await;
    assert!(
        body["message"].as_str().unwrap().contains("MEMBER DAY"),
        "{body}"
    );
    posted(&http, &sb, &bob, "three").await;
    let app_limit = post(&http, &sb, &cleo, "four").await;
    assert_eq!(app_limit.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json_of(app_limit).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("APPLICATION DAY"),
        "{body}"
    );
}

#[tokio::test]
async fn the_consent_page_has_allow_and_cancel() {
    let (sb, http) = start().await;
    let page = http
        .get(format!("{}/linkedin-www/oauth/v2/authorization", sb.url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "sandbox-client-id"),
            ("redirect_uri", "http://app.test/cb"),
            ("state", "s1"),
            ("scope", "openid w_member_social"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"id="allow""#) && page.contains(r#"id="cancel""#));
    let cancel = http
        .post(format!("{}/linkedin-www/oauth/v2/authorization", sb.url()))
        .form(&[
            ("response_type", "code"),
            ("client_id", "sandbox-client-id"),
            ("redirect_uri", "http://app.test/cb"),
            ("state", "s1"),
            ("decision", "cancel"),
        ])
        .send()
        .await
        .unwrap();
    let to = cancel.headers()["location"].to_str().unwrap();
    assert!(
        to.contains("error=user_cancelled_authorize") && to.contains("state=s1"),
        "{to}"
    );
}

#[tokio::test]
async fn sites_carry_contacts_and_fault_modes() {
    let (sb, http) = start().await;
    let page = json_of(search(&http, &sb, json!({"textQuery": "florists in Lyon"})).await).await;
    let sites: Vec<String> = page["places"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["websiteUri"].as_str().map(str::to_owned))
        .collect();
    assert!(sites.len() >= 10, "most places have a website");
    let mut with_contact = 0;
    for site in &sites {
        let home = http.get(site).send().await.unwrap().text().await.unwrap();
        let contact = http
            .get(format!("{site}contact"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if (home + &contact).contains("example") {
            with_contact += 1;
        }
    }
    assert!(
        with_contact > 0 && with_contact < sites.len(),
        "{with_contact} of {}",
        sites.len()
    );
    fault(
        &http,
        &sb,
        json!({"route": "site", "mode": "redirect_loop"}),
    )
    .await;
    assert_eq!(
        http.get(&sites[0]).send().await.unwrap().status(),
        StatusCode::FOUND
    );
    fault(&http, &sb, json!({"route": "site", "mode": "not_html"})).await;
    let pdf = http.get(&sites[0]).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
}

/// An authorization code from the sandbox for `redirect` (consent skipped with `auto=allow`).
async fn code_for(http: &Client, sb: &Sandbox, redirect: &str) -> String {
    let resp = http
        .get(format!("{}/linkedin-www/oauth/v2/authorization", sb.url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "sandbox-client-id"),
            ("redirect_uri", redirect),
            ("state", "s1"),
            ("scope", "openid profile w_member_social"),
            ("auto", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        location
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1,
        "s1"
    );
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

async fn exchange(http: &Client, sb: &Sandbox, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{}/linkedin-www/oauth/v2/accessToken", sb.url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status(), json_of(resp).await)
}

/// The authorization_code form of the token exchange.
fn form<'a>(code: &'a str, redirect: &'a str, secret: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect),
        ("client_id", "sandbox-client-id"),
        ("client_secret", secret),
    ]
}

#[tokio::test]
async fn codes_are_single_use_bound_to_the_redirect_uri_and_the_client() {
    let (sb, http) = start().await;
    let redirect = "http://app.test/callback";
    // A different redirect_uri is refused, and so is a wrong secret.
    let code = code_for(&http, &sb, redirect).await;
    let (status, body) = exchange(
        &http,
        &sb,
        &form(&code, "http://evil.test/cb", "sandbox-client-secret"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].is_string() && body["error_description"].is_string());
    let (status, _) = exchange(&http, &sb, &form(&code, redirect, "wrong-secret")).await;
    assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED);
    // A fresh code works once: tokens without a refresh token (self-serve default)...
    let fresh = code_for(&http, &sb, redirect).await;
    let (status, tokens) =
        exchange(&http, &sb, &form(&fresh, redirect, "sandbox-client-secret")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tokens["expires_in"], 5_184_000);
    assert!(tokens["access_token"].is_string());
    assert!(tokens.get("refresh_token").is_none());
    assert!(
        tokens["scope"]
            .as_str()
            .unwrap()
            .contains("w_member_social")
    );
    // ...and never twice.
    let (status, body) =
        exchange(&http, &sb, &form(&fresh, redirect, "sandbox-client-secret")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

/// A made-up code tells a known client (`invalid_grant`) from an unknown one
/// (`invalid_client`), as LinkedIn's token endpoint does: how a deployment checks its app
/// without a member.
#[tokio::test]
async fn a_made_up_code_is_invalid_grant_for_the_app_and_invalid_client_for_others() {
    let (sb, http) = start().await;
    let redirect = "http://app.test/callback";
    let (status, body) = exchange(
        &http,
        &sb,
        &form("made-up-code", redirect, "sandbox-client-secret"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());
    let (status, body) = exchange(&http, &sb, &form("made-up-code", redirect, "wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = exchange(
        &http,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", "made-up-code"),
            ("redirect_uri", redirect),
            ("client_id", "someone-else"),
            ("client_secret", "sandbox-client-secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

/// Only the versions the option lists are served; the others answer LinkedIn's 426.
#[tokio::test]
async fn unserved_versions_answer_426_nonexistent_version() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        linkedin_versions: vec![202_612],
        ..Options::default()
    })
    .await;
    let m = connect(&http, &sb, "w_member_social").await;
    let get = |version: &'static str| {
        http.get(format!(
            "{}/linkedin-api/rest/images/urn%3Ali%3Aimage%3Anone",
            sb.url()
        ))
        .bearer_auth(&m.token)
        .header("LinkedIn-Version", version)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .send()
    };
    let refused = get("202610").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UPGRADE_REQUIRED);
    let body = json_of(refused).await;
    assert_eq!(body["code"], "NONEXISTENT_VERSION");
    assert_eq!(body["status"], 426);
    // The served one goes on to the route (an unknown image: 404).
    assert_eq!(get("202612").await.unwrap().status(), StatusCode::NOT_FOUND);
    // The default serves what the configuration sends.
    assert!(sandbox::DEFAULT_LINKEDIN_VERSIONS.contains(&202_610));
}

#[tokio::test]
async fn refresh_tokens_when_enabled_issue_a_new_access_token() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        refresh_tokens: true,
        token_expires_in_s: 60,
        ..Options::default()
    })
    .await;
    let redirect = "http://app.test/callback";
    let code = code_for(&http, &sb, redirect).await;
    let (status, tokens) = exchange(
        &http,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", "sandbox-client-id"),
            ("client_secret", "sandbox-client-secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tokens["expires_in"], 60);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = exchange(
        &http,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "sandbox-client-id"),
            ("client_secret", "sandbox-client-secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(renewed["access_token"], tokens["access_token"]);
    let me = http
        .get(format!("{}/linkedin-api/v2/userinfo", sb.url()))
        .bearer_auth(renewed["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert!(json_of(me).await["sub"].is_string());
}

#[tokio::test]
async fn rest_calls_need_a_supported_version_and_the_restli_header() {
    let (sb, http) = start().await;
    let m = connect(&http, &sb, "w_member_social").await;
    let url = format!("{}/linkedin-api/rest/posts", sb.url());
    let body = json!({"author": format!("urn:li:person:{}", m.sub), "commentary": "x"});
    let missing = http
        .post(&url)
        .bearer_auth(&m.token)
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let old = http
        .post(&url)
        .bearer_auth(&m.token)
        .header("LinkedIn-Version", "202301")
        .header("X-Restli-Protocol-Version", "2.0.0")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(json_of(old).await["code"], "NONEXISTENT_VERSION");
    let no_restli = http
        .post(&url)
        .bearer_auth(&m.token)
        .header("LinkedIn-Version", "202610")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_restli.status(), StatusCode::BAD_REQUEST);
    assert!(
        control(&http, &sb, "/_sandbox/posts")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn scopes_gate_posting_and_analytics() {
    let (sb, http) = start().await;
    let reader = connect(&http, &sb, "email").await;
    let denied = post(&http, &sb, &reader, "hello").await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let body = json_of(denied).await;
    assert_eq!(body["code"], "ACCESS_DENIED");
    assert_eq!(body["status"], 403);
    // A poster without r_member_postAnalytics cannot read its post's counts.
    let poster = connect(&http, &sb, "w_member_social").await;
    let urn = posted(&http, &sb, &poster, "hello").await;
    let resp = analytics(&http, &sb, &poster, &urn, "REACTION").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

async fn analytics(
    http: &Client,
    sb: &Sandbox,
    m: &Member,
    urn: &str,
    metric: &str,
) -> reqwest::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
    rest(
        http,
        reqwest::Method::GET,
        format!(
            "{}/linkedin-api/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{encoded})&queryType={metric}&aggregation=TOTAL",
            sb.url()
        ),
        &m.token,
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn analytics_are_empty_on_the_first_call_then_count() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        linkedin_products: with_analytics(),
        ..Options::default()
    })
    .await;
    let m = connect(&http, &sb, "w_member_social r_member_postAnalytics").await;
    let urn = posted(&http, &sb, &m, "Counting").await;
    let first = json_of(analytics(&http, &sb, &m, &urn, "REACTION").await).await;
    assert_eq!(first["elements"], json!([]));
    let second = json_of(analytics(&http, &sb, &m, &urn, "REACTION").await).await;
    let element = &second["elements"][0];
    assert!(element["count"].as_u64().unwrap() > 0);
    assert_eq!(element["metricType"], "REACTION");
    assert_eq!(element["targetEntity"]["share"], urn.as_str());
    // Deterministic: the same post, metric and minute give the same count.
    let third = json_of(analytics(&http, &sb, &m, &urn, "REACTION").await).await;
    assert_eq!(third["elements"][0]["count"], element["count"]);
    // An unknown post is not counted.
    let unknown = analytics(&http, &sb, &m, "urn:li:share:1", "REACTION").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn init_image(http: &Client, sb: &Sandbox, m: &Member) -> (String, String) {
    let resp = rest(
        http,
        reqwest::Method::POST,
        format!(
            "{}/linkedin-api/rest/images?action=initializeUpload",
            sb.url()
        ),
        &m.token,
    )
    .json(&json!({"initializeUploadRequest": {"owner": format!("urn:li:person:{}", m.sub)}}))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v = json_of(resp).await;
    assert!(v["value"]["uploadUrlExpiresAt"].as_u64().is_some());
    (
        v["value"]["uploadUrl"].as_str().unwrap().to_owned(),
        v["value"]["image"].as_str().unwrap().to_owned(),
    )
}

async fn post_with_image(
    http: &Client,
    sb: &Sandbox,
    m: &Member,
    image: &str,
) -> reqwest::Response {
    rest(http, reqwest::Method::POST, format!("{}/linkedin-api/rest/posts", sb.url()), &m.token)
        .json(&json!({
            "author": format!("urn:li:person:{}", m.sub), "commentary": format!("With {image}"), "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "content": {"media": {"id": image, "title": "t", "altText": "a"}},
            "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false
        }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_image_flow_uploads_processes_and_guards_ownership() {
    let (sb, http) = start().await;
    let m = connect(&http, &sb, "w_member_social").await;
    let other = connect(&http, &sb, "w_member_social openid").await;
    assert_ne!(m.sub, other.sub, "two consents give two members");
    let (upload_url, image) = init_image(&http, &sb, &m).await;
    assert!(upload_url.starts_with(&sb.url()));
    // Never uploaded: the post is refused.
    assert_eq!(
        post_with_image(&http, &sb, &m, &image).await.status(),
        StatusCode::BAD_REQUEST
    );
    let put = http
        .put(&upload_url)
        .bearer_auth(&m.token)
        .header("Content-Type", "image/png")
        .body(vec![1u8, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let encoded: String = url::form_urlencoded::byte_serialize(image.as_bytes()).collect();
    let status = |http: Client, url: String, token: String| async move {
        json_of(
            rest(&http, reqwest::Method::GET, url, &token)
                .send()
                .await
                .unwrap(),
        )
        .await["status"]
            .clone()
    };
    let url = format!("{}/linkedin-api/rest/images/{encoded}", sb.url());
    assert_eq!(
        status(http.clone(), url.clone(), m.token.clone()).await,
        "PROCESSING"
    );
    assert_eq!(
        status(http.clone(), url.clone(), m.token.clone()).await,
        "AVAILABLE"
    );
    // Another member cannot use it; its owner can.
    assert_eq!(
        post_with_image(&http, &sb, &other, &image).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_with_image(&http, &sb, &m, &image).await.status(),
        StatusCode::CREATED
    );
    let posts = control(&http, &sb, "/_sandbox/posts").await;
    assert_eq!(posts[0]["image"], image.as_str());
}

#[tokio::test]
async fn imagen_predict_is_shut_down() {
    let (sb, http) = start().await;
    let resp = http
        .post(format!(
            "{}/gemini/v1beta/models/imagen-4.0-generate-001:predict",
            sb.url()
        ))
        .header("x-goog-api-key", KEY)
        .json(&json!({"instances": [{"prompt": "a bakery"}], "parameters": {"sampleCount": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["status"], "NOT_FOUND");
    let all = json_of(list_models(&http, &sb, "").await).await;
    assert!(
        !names(&all).iter().any(|n| n.contains("imagen")),
        "Imagen is shut down: {all}"
    );
}

async fn list_models(http: &Client, sb: &Sandbox, query: &str) -> reqwest::Response {
    http.get(format!("{}/gemini/v1beta/models{query}", sb.url()))
        .header("x-goog-api-key", KEY)
        .send()
        .await
        .unwrap()
}

fn names(page: &Value) -> Vec<String> {
    page["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn models_list_pages_current_and_deprecated_models_but_not_retired_ones() {
    let (sb, http) = start().await;
    let all = json_of(list_models(&http, &sb, "").await).await;
    let listed = names(&all);
    assert!(
        listed.contains(&"models/gemini-3.8-flash".to_owned()),
        "{all}"
    );
    assert!(listed.contains(&"models/gemini-3.1-flash-image".to_owned()));
    assert!(!listed.contains(&"models/gemini-2.0-flash".to_owned()));
    assert!(
        all.get("nextPageToken").is_none(),
        "one page holds them all"
    );
    let flash = &all["models"][0];
    for field in [
        "baseModelId",
        "version",
        "displayName",
        "description",
        "inputTokenLimit",
        "outputTokenLimit",
        "supportedGenerationMethods",
    ] {
        assert!(flash.get(field).is_some(), "{field} missing: {flash}");
    }
    // Paging: pages of two walk the same list.
    let mut walked = Vec::new();
    let mut token = String::new();
    loop {
        let page =
            json_of(list_models(&http, &sb, &format!("?pageSize=2&pageToken={token}")).await).await;
        walked.extend(names(&page));
        match page["nextPageToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, listed);
    assert_eq!(
        list_models(&http, &sb, "?pageToken=junk").await.status(),
        StatusCode::BAD_REQUEST
    );
    // models.get
    let one = http
        .get(format!(
            "{}/gemini/v1beta/models/gemini-3.5-flash",
            sb.url()
        ))
        .header("x-goog-api-key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(one).await["name"], "models/gemini-3.5-flash");
    let no_key = http
        .get(format!("{}/gemini/v1beta/models", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn options_deprecate_and_retire_the_configured_models() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        deprecated_models: vec!["gemini-3.5-flash".into()],
        retired_models: vec!["gemini-3.1-flash-image".into()],
        ..Options::default()
    })
    .await;
    let all = json_of(list_models(&http, &sb, "").await).await;
    let flash = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "models/gemini-3.5-flash")
        .unwrap();
    assert!(
        flash["description"]
            .as_str()
            .unwrap()
            .starts_with("Deprecated:"),
        "{flash}"
    );
    assert!(!names(&all).contains(&"models/gemini-3.1-flash-image".to_owned()));
    // A deprecated model still answers; a retired one is 404 NOT_FOUND in Google's shape.
    assert_eq!(
        gemini(&http, &sb, "gemini-3.5-flash", text_request())
            .await
            .status(),
        StatusCode::OK
    );
    let image = gemini(
        &http,
        &sb,
        "gemini-3.1-flash-image",
        json!({"contents": [{"parts": [{"text": "a bakery"}]}], "generationConfig": {"responseModalities": ["IMAGE"]}}),
    )
    .await;
    assert_eq!(image.status(), StatusCode::NOT_FOUND);
    let v = json_of(image).await;
    assert_eq!(v["error"]["code"], 404);
    assert_eq!(v["error"]["status"], "NOT_FOUND");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("models/gemini-3.1-flash-image is not found")
    );
    let unknown = gemini(&http, &sb, "gemini-9-nonexistent", text_request()).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delay_ms_waits_and_linkedin_429_says_retry_after() {
    let (sb, http) = start().await;
    fault(
        &http,
        &sb,
        json!({"route": "places.search", "delay_ms": 300}),
    )
    .await;
    let t = std::time::Instant::now();
    let resp = search(&http, &sb, json!({"textQuery": "bakeries in Lyon"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(t.elapsed() >= std::time::Duration::from_millis(300));
    let m = connect(&http, &sb, "w_member_social").await;
    fault(
        &http,
        &sb,
        json!({"route": "linkedin.posts", "status": 429, "retry_after_s": 7}),
    )
    .await;
    let throttled = post(&http, &sb, &m, "later").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.headers()["retry-after"], "7");
    assert_eq!(json_of(throttled).await["status"], 429);
    assert!(
        control(&http, &sb, "/_sandbox/posts")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn thinking_counts_against_max_output_tokens() {
    let (sb, http) = start().await;
    let ask = |config: Value| {
        let mut body = text_request();
        for (k, v) in config.as_object().unwrap() {
            body["generationConfig"][k] = v.clone();
        }
        gemini(&http, &sb, "gemini-3.8-flash", body)
    };
    // Default thinking (HIGH, 8,192 tokens) in a 4,096 limit: no room left, no text.
    let v = json_of(ask(json!({"maxOutputTokens": 4096})).await).await;
    assert_eq!(v["candidates"][0]["finishReason"], "MAX_TOKENS", "{v}");
    assert!(v["candidates"][0]["content"].get("parts").is_none(), "{v}");
    assert_eq!(v["usageMetadata"]["thoughtsTokenCount"], 4096);
    // Low thinking leaves room for the answer.
    let v = json_of(
        ask(json!({"maxOutputTokens": 4096, "thinkingConfig": {"thinkingLevel": "LOW"}})).await,
    )
    .await;
    assert_eq!(v["candidates"][0]["finishReason"], "STOP", "{v}");
    assert_eq!(v["usageMetadata"]["thoughtsTokenCount"], 1024);
    let text = v["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(serde_json::from_str::<Value>(text).is_ok(), "{text}");
    // Room for thoughts but not the whole answer: cut text.
    let v = json_of(
        ask(json!({"maxOutputTokens": 1030, "thinkingConfig": {"thinkingBudget": 1024}})).await,
    )
    .await;
    assert_eq!(v["candidates"][0]["finishReason"], "MAX_TOKENS", "{v}");
    assert!(v["candidates"][0]["content"]["parts"][0]["text"].is_string());
    // Thought summaries come first, marked as thoughts.
    let v = json_of(
        ask(json!({"thinkingConfig": {"thinkingLevel": "LOW", "includeThoughts": true}})).await,
    )
    .await;
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["thought"], true,
        "{v}"
    );
    assert!(
        v["candidates"][0]["content"]["parts"][1]
            .get("thought")
            .is_none()
    );
    // Level and budget together are refused, as on Gemini.
    let r = ask(json!({"thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": 10}})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_daily_quota_can_be_named_in_error_info() {
    let (sb, http) = start().await;
    fault(
        &http,
        &sb,
        json!({"route": "places.search", "status": 429, "quota": "day", "quota_detail": "error_info"}),
    )
    .await;
    let resp = search(&http, &sb, json!({"textQuery": "bakeries in Lyon"})).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let v = json_of(resp).await;
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    let info = &v["error"]["details"][0];
    assert_eq!(info["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    assert_eq!(info["reason"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(
        info["metadata"]["quota_limit"],
        "SearchTextRequestsPerDayPerProject"
    );
    let bad = http
        .post(format!("{}/_sandbox/faults", sb.url()))
        .json(&json!({"route": "places.search", "status": 429, "quota_detail": "elsewhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// A scope outside the app's products sends the browser back at once with LinkedIn's
/// `unauthorized_scope_error` and a description naming the scope; the two self-serve
/// products' scopes are allowed by default.
#[tokio::test]
async fn a_scope_outside_the_apps_products_is_refused_with_unauthorized_scope_error() {
    let (sb, http) = start().await;
    let authorize = |scope: &'static str| {
        http.get(format!("{}/linkedin-www/oauth/v2/authorization", sb.url()))
            .query(&[
                ("response_type", "code"),
                ("client_id", "sandbox-client-id"),
                ("redirect_uri", "http://app.test/callback?x=1"),
                ("state", "st-1"),
                ("scope", scope),
                ("auto", "allow"),
            ])
            .send()
    };
    let refused = authorize("openid profile w_member_social r_member_postAnalytics")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FOUND);
    let location = url::Url::parse(refused.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["x"], "1");
    assert_eq!(q["error"], "unauthorized_scope_error");
    assert!(
        q["error_description"].contains("r_member_postAnalytics"),
        "{q:?}"
    );
    assert_eq!(q["state"], "st-1");
    assert!(!q.contains_key("code"));
    // Even without a decision (no consent page is shown for it).
    let allowed = authorize("openid profile email w_member_social")
        .await
        .unwrap();
    let location = url::Url::parse(allowed.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        location.query_pairs().any(|(k, _)| k == "code"),
        "{location}"
    );
    // With the Community Management API approved, post analytics are allowed.
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        linkedin_products: with_analytics(),
        ..Options::default()
    })
    .await;
    let m = connect(&http, &sb, "w_member_social r_member_postAnalytics").await;
    assert!(!m.token.is_empty());
}

/// With the option, the image status GET answers 403 ACCESS_DENIED; posting the image
/// still works.
#[tokio::test]
async fn the_image_status_get_can_answer_403() {
    let (sb, http) = start_with(Options {
        latency: Latency::None,
        linkedin_image_status_forbidden: true,
        ..Options::default()
    })
    .await;
    let m = connect(&http, &sb, "w_member_social").await;
    let urn = format!("urn:li:image:{}", "nothing");
    let encoded: String = url::form_urlencoded::byte_serialize(urn.as_bytes()).collect();
    let resp = rest(
        &http,
        reqwest::Method::GET,
        format!("{}/linkedin-api/rest/images/{encoded}", sb.url()),
        &m.token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body = json_of(resp).await;
    assert_eq!(body["code"], "ACCESS_DENIED");
    assert_eq!(body["status"], 403);
}

/// Two starts with the same seed hand out different post and image ids (LinkedIn's never
/// repeat), unless a test fixes `linkedin_id_epoch`.
#[tokio::test]
async fn post_and_image_ids_never_repeat_across_restarts() {
    async fn first_ids(options: Options) -> (String, String) {
        let (sb, http) = start_with(options).await;
        let m = connect(&http, &sb, "w_member_social").await;
        let (_, image) = init_image(&http, &sb, &m).await;
        let post = posted(&http, &sb, &m, "The first post of this start").await;
        sb.stop().await;
        (post, image)
    }
    let fresh = || Options {
        latency: Latency::None,
        ..Options::default()
    };
    let (post_a, image_a) = first_ids(fresh()).await;
    let (post_b, image_b) = first_ids(fresh()).await;
    assert_ne!(post_a, post_b, "a restarted sandbox gave the same post id");
    assert_ne!(
        image_a, image_b,
        "a restarted sandbox gave the same image id"
    );
    assert!(post_a.starts_with("urn:li:share:") && post_a.len() == "urn:li:share:".len() + 19);
    let fixed = || Options {
        latency: Latency::None,
        linkedin_id_epoch: Some(7),
        ..Options::default()
    };
    assert_eq!(first_ids(fixed()).await, first_ids(fixed()).await);
}
