//! The provider clients against a real HTTP server answering in each provider's wire format
//! (docs/providers.md): what they send, and how every kind of answer becomes a `ProviderError`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use base64::Engine;
use serde_json::json;
use shared::config::{GoogleConfig, ImageBackend, LinkedInConfig};
use shared::providers::ProviderError;
use shared::providers::gemini::GeminiClient;
use shared::providers::images::{ImageClient, ImageFormat};
use shared::providers::linkedin::{LinkedInClient, NewPost};
use shared::providers::places::{FIELD_MASK, PlaceQuery, PlacesClient};
use test_support::canned::{Canned, Reply};

const KEY: &str = "test-google-key";

fn google(url: &str) -> GoogleConfig {
    let mut c = shared::Config::default().providers.google;
    c.places_base_url = format!("{url}/places");
    c.gemini_base_url = format!("{url}/gemini");
    c.api_key = Some(KEY.into());
    c.places_timeout_ms = 500;
    c.text_timeout_ms = 500;
    c.image_timeout_ms = 500;
    c
}

fn linkedin(url: &str) -> LinkedInConfig {
    let mut c = shared::Config::default().linkedin;
    c.client_id = Some("test-client".into());
    c.client_secret = Some("test-secret".into());
    c.token_url = format!("{url}/oauth/v2/accessToken");
    c.userinfo_url = format!("{url}/v2/userinfo");
    c.api_base_url = url.into();
    c.timeout_ms = 500;
    c.image_poll_interval_ms = 10;
    c.image_poll_max_ms = 100;
    c
}

fn place(i: usize) -> serde_json::Value {
    json!({"id": format!("p{i}"), "displayName": {"text": format!("Dental {i}")},
           "addressComponents": [{"longText": "Guelph", "shortText": "Guelph", "types": ["locality"]}]})
}

fn page(from: usize, token: Option<&str>) -> Reply {
    let places: Vec<_> = (from..from + 20).map(place).collect();
    let mut body = json!({"places": places});
    if let Some(t) = token {
        body["nextPageToken"] = json!(t);
    }
    Reply::json(200, body)
}

fn google_error(status: u16, name: &str, details: serde_json::Value) -> Reply {
    Reply::json(
        status,
        json!({"error": {"code": status, "message": "provider says no", "status": name, "details": details}}),
    )
}

fn query() -> PlaceQuery {
    PlaceQuery {
        text_query: "dentists in Guelph".into(),
        region_code: Some("CA".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn places_pages_with_identical_parameters_and_stops_at_60() {
    let server = Canned::start().await;
    server
        .push(page(0, Some("t1")))
        .push(page(20, Some("t2")))
        .push(page(40, Some("t3")))
        .push(page(60, None));
    let client = PlacesClient::from_config(&google(&server.url)).unwrap();
    let places = client.search(&query(), 100).await.unwrap();
    assert_eq!(places.len(), 60);
    assert_eq!(places[59].place_id, "p59");
    assert_eq!(places[0].city.as_deref(), Some("Guelph"));
    let seen = server.seen();
    assert_eq!(seen.len(), 3, "a token after 60 results is not followed");
    for (i, r) in seen.iter().enumerate() {
        assert_eq!(r.path, "/places/v1/places:searchText");
        assert_eq!(r.header("x-goog-api-key"), Some(KEY));
        assert_eq!(r.header("x-goog-fieldmask"), Some(FIELD_MASK));
        let mut body = r.json();
        let token = body.as_object_mut().unwrap().remove("pageToken");
        assert_eq!(
            token,
            if i == 0 {
                None
            } else {
                Some(json!(format!("t{i}")))
            }
        );
        assert_eq!(
            body,
            seen[0].json(),
            "every page repeats the same parameters"
        );
    }
}

#[tokio::test]
async fn places_no_results_and_last_page() {
    let server = Canned::start().await;
    server
        .push(Reply::json(200, json!({})))
        .push(page(0, Some("")))
        .push(page(0, Some("t")));
    let client = PlacesClient::from_config(&google(&server.url)).unwrap();
    assert!(client.search(&query(), 60).await.unwrap().is_empty());
    assert_eq!(
        client.search(&query(), 60).await.unwrap().len(),
        20,
        "empty token = last page"
    );
    assert_eq!(client.search(&query(), 5).await.unwrap().len(), 5);
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn google_errors_say_what_to_do() {
    let server = Canned::start().await;
    let client = PlacesClient::from_config(&google(&server.url)).unwrap();
    let gemini = GeminiClient::from_config(&google(&server.url)).unwrap();

    server.push(google_error(429, "RESOURCE_EXHAUSTED", json!([
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}])));
    let e = gemini.write_post("s", "p").await.unwrap_err();
    assert_eq!(
        e.retry_after(),
        Some(Duration::from_millis(12_500)),
        "{e:?}"
    );
    assert!(matches!(e, ProviderError::RetryLater { .. }));

    server.push(google_error(429, "RESOURCE_EXHAUSTED", json!([
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "19s"}])));
    let e = gemini.write_post("s", "p").await.unwrap_err();
    let ProviderError::RateLimitedUntil { until, .. } = e else {
        panic!("{e:?}")
    };
    let wait = until - chrono::Utc::now();
    assert!(wait > chrono::Duration::zero() && wait <= chrono::Duration::hours(24));
    assert_eq!(chrono::Timelike::minute(&until), 0);

    server.push(google_error(429, "RESOURCE_EXHAUSTED", json!([])).header("retry-after", "3"));
    let e = client.search(&query(), 20).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    // Too many requests, and no word on when: a wait of ours, never a spent attempt.
    server.push(google_error(429, "RESOURCE_EXHAUSTED", json!([])));
    let e = client.search(&query(), 20).await.unwrap_err();
    assert!(matches!(e, ProviderError::Throttled { .. }), "{e:?}");
    assert!(e.is_retryable());

    for status in [500, 503, 504] {
        server.push(google_error(status, "UNAVAILABLE", json!([])));
        let e = client.search(&query(), 20).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::RetryLater { after: None, .. }),
            "{status}: {e:?}"
        );
        assert!(e.is_retryable());
    }
    for status in [400, 403] {
        server.push(google_error(status, "INVALID_ARGUMENT", json!([])));
        let e = client.search(&query(), 20).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Permanent { .. }),
            "{status}: {e:?}"
        );
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("provider says no"), "{e}");
    }
    // NOT_FOUND: what we call does not exist (a retired model, a moved method): an
    // operator's problem, not the request's.
    server.push(google_error(404, "NOT_FOUND", json!([])));
    let e = client.search(&query(), 20).await.unwrap_err();
    assert!(matches!(e, ProviderError::Misconfigured { .. }), "{e:?}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_retry_later_for_google() {
    let server = Canned::start().await;
    server.push(Reply::json(200, json!({})).delayed(Duration::from_secs(2)));
    let client = PlacesClient::from_config(&google(&server.url)).unwrap();
    let e = client.search(&query(), 20).await.unwrap_err();
    assert!(matches!(e, ProviderError::RetryLater { .. }), "{e:?}");
    assert!(e.to_string().contains("timed out"), "{e}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let e = PlacesClient::from_config(&google(&url))
        .unwrap()
        .search(&query(), 20)
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::RetryLater { .. }), "{e:?}");
}

fn gemini_text(text: &str, finish: &str) -> Reply {
    Reply::json(
        200,
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish}]}),
    )
}

#[tokio::test]
async fn gemini_text_sends_the_schema_and_maps_content_failures() {
    let server = Canned::start().await;
    let gemini = GeminiClient::from_config(&google(&server.url)).unwrap();
    server.push(gemini_text(
        r##"{"post": "Hi Guelph", "hashtags": ["#Guelph"], "image_prompt": "a clinic"}"##,
        "STOP",
    ));
    let d = gemini
        .write_post("You write posts.", "About a dentist")
        .await
        .unwrap();
    assert_eq!(d.post, "Hi Guelph");
    assert_eq!(d.hashtags, vec!["#Guelph"]);
    assert_eq!(d.image_prompt.as_deref(), Some("a clinic"));
    let r = &server.seen()[0];
    assert_eq!(
        r.path,
        "/gemini/v1beta/models/gemini-3.8-flash:generateContent"
    );
    assert_eq!(r.header("x-goog-api-key"), Some(KEY));
    let body = r.json();
    assert_eq!(
        body["systemInstruction"]["parts"][0]["text"],
        "You write posts."
    );
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(
        body["generationConfig"]["responseSchema"]["required"],
        json!(["post"])
    );
    // Gemini 3: low thinking, room for the answer, temperature left at its default.
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "LOW"})
    );
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 4096);
    assert!(
        body["generationConfig"].get("temperature").is_none(),
        "{body}"
    );

    server
        .push(Reply::json(
            200,
            json!({"promptFeedback": {"blockReason": "SAFETY"}}),
        ))
        .push(gemini_text("{}", "SAFETY"))
        .push(Reply::json(
            200,
            json!({"candidates": [{"finishReason": "MAX_TOKENS"}]}),
        ))
        .push(Reply::json(
            200,
            json!({"candidates": [{"finishReason": "MAX_TOKENS"}]}),
        ))
        .push(gemini_text("{\"post\": \"cut", "STOP"));
    for expected in ["blocked", "SAFETY", "MAX_TOKENS", "not the JSON"] {
        let e = gemini.write_post("s", "p").await.unwrap_err();
        assert!(matches!(e, ProviderError::Permanent { .. }), "{e:?}");
        assert!(e.to_string().contains(expected), "{e}");
    }
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend(64u32.to_be_bytes());
    b.extend(32u32.to_be_bytes());
    b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

#[tokio::test]
async fn images_from_both_backends_are_checked() {
    let server = Canned::start().await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let gemini = ImageClient::from_config(&google(&server.url)).unwrap();
    server.push(Reply::json(200, json!({"candidates": [{"content": {"parts": [
        {"text": "here"}, {"inlineData": {"mimeType": "image/png", "data": b64(&png())}}]}, "finishReason": "STOP"}]})));
    let image = gemini.generate("a clinic").await.unwrap();
    assert_eq!(
        (image.format, image.width, image.height),
        (ImageFormat::Png, 64, 32)
    );
    let body = server.seen()[0].json();
    assert_eq!(
        body["generationConfig"]["responseModalities"],
        json!(["IMAGE"])
    );

    server.push(Reply::json(200, json!({"candidates": [{"content": {"parts": [
        {"inlineData": {"mimeType": "image/png", "data": b64(b"<html>no</html>")}}]}, "finishReason": "STOP"}]})));
    let e = gemini.generate("a clinic").await.unwrap_err();
    assert!(
        matches!(e, ProviderError::Permanent { .. }) && e.to_string().contains("not a PNG"),
        "{e}"
    );
    server.push(Reply::json(
        200,
        json!({"candidates": [{"finishReason": "IMAGE_SAFETY"}]}),
    ));
    assert!(matches!(
        gemini.generate("x").await,
        Err(ProviderError::Permanent { .. })
    ));

    let mut config = google(&server.url);
    config.image_backend = ImageBackend::Imagen;
    assert!(matches!(
        ImageClient::from_config(&config),
        Err(ProviderError::Misconfigured { .. })
    ));
    server.push(google_error(404, "NOT_FOUND", json!([])));
    assert!(matches!(
        gemini.generate("x").await,
        Err(ProviderError::Misconfigured { .. })
    ));
}

const TOKEN: &str = "member-access-token";

fn post<'a>(text: &'a str) -> NewPost<'a> {
    NewPost {
        author_urn: "urn:li:person:abc",
        commentary: text,
        image_urn: Some("urn:li:image:C4E"),
        image_alt_text: Some("Reception"),
    }
}

fn linkedin_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"status": status, "code": code, "message": message}),
    )
}

#[tokio::test]
async fn linkedin_rest_calls_carry_the_versioned_headers() {
    let server = Canned::start().await;
    let client = LinkedInClient::from_config(&linkedin(&server.url)).unwrap();
    server
        .push(Reply::json(200, json!({"value": {"uploadUrl": format!("{}/upload/1", server.url), "image": "urn:li:image:C4E", "uploadUrlExpiresAt": 1}})))
        .push(Reply::json(201, json!({})))
        .push(Reply::json(200, json!({"status": "PROCESSING"})))
        .push(Reply::json(200, json!({"status": "AVAILABLE"})))
        .push(Reply::json(201, json!(null)).header("x-restli-id", "urn:li:share:7141"))
        .push(Reply::json(200, json!({"elements": [{"count": 40, "metricType": "IMPRESSION"}]})))
        .push(Reply::json(200, json!({"elements": [{"count": 7, "metricType": {"com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": "REACTION"}}]})))
        .push(Reply::json(200, json!({"elements": []})))
        .push(Reply::json(200, json!({"elements": [{"count": 1, "metricType": "RESHARE"}]})));
    let upload = client
        .init_image_upload(TOKEN, "urn:li:person:abc")
        .await
        .unwrap();
    assert_eq!(upload.image, "urn:li:image:C4E");
    client
        .upload_image(TOKEN, &upload.upload_url, png(), "image/png")
        .await
        .unwrap();
    client
        .wait_image_available(TOKEN, &upload.image)
        .await
        .unwrap();
    let urn = client
        .create_post(TOKEN, &post("Open (Mon-Fri) #Guelph"))
        .await
        .unwrap();
    assert_eq!(urn, "urn:li:share:7141");
    let stats = client.post_stats(TOKEN, &urn).await.unwrap();
    assert_eq!(
        (
            stats.impressions,
            stats.reactions,
            stats.comments,
            stats.reshares
        ),
        (40, 7, 0, 1)
    );

    let seen = server.seen();
    assert_eq!(seen[0].path, "/rest/images?action=initializeUpload");
    assert_eq!(
        seen[0].json()["initializeUploadRequest"]["owner"],
        "urn:li:person:abc"
    );
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(seen[1].body, png());
    assert_eq!(seen[2].path, "/rest/images/urn%3Ali%3Aimage%3AC4E");
    assert_eq!(seen[4].json()["commentary"], r"Open \(Mon-Fri\) #Guelph");
    assert_eq!(seen[4].json()["content"]["media"]["id"], "urn:li:image:C4E");
    assert_eq!(
        seen[6].path,
        "/rest/memberCreatorPostAnalytics?q=entity&entity=(share:urn%3Ali%3Ashare%3A7141)&queryType=REACTION&aggregation=TOTAL"
    );
    for r in seen.iter().filter(|r| r.path.starts_with("/rest/")) {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("linkedin-version"), Some("202610"));
        assert_eq!(r.header("x-restli-protocol-version"), Some("2.0.0"));
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn linkedin_errors_say_what_to_do() {
    let server = Canned::start().await;
    let client = LinkedInClient::from_config(&linkedin(&server.url)).unwrap();

    server.push(linkedin_error(500, "", "boom"));
    let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::OutcomeUnknown { .. }),
        "5xx after sending a post: {e:?}"
    );
    server.push(Reply::json(201, json!(null)).delayed(Duration::from_secs(2)));
    let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::OutcomeUnknown { .. }),
        "timeout on a post: {e:?}"
    );
    server.push(Reply::json(422, json!({"message": "ERROR :: /commentary :: Content is a duplicate of urn:li:share:7141138937766391808", "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "code": "DUPLICATE_POST"}]}, "status": 422})));
    let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
    assert_eq!(
        e,
        ProviderError::Duplicate {
            urn: "urn:li:share:7141138937766391808".into()
        }
    );
    // A duplicate that names no earlier post: the post exists, which one is not known.
    server.push(Reply::json(422, json!({"message": "Content is a duplicate", "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "code": "DUPLICATE_POST"}]}, "status": 422})));
    let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::DuplicateUnnamed { .. }),
        "a duplicate without its URN: {e:?}"
    );

    server.push(linkedin_error(500, "", "boom"));
    let e = client
        .init_image_upload(TOKEN, "urn:li:person:abc")
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::RetryLater { .. }),
        "5xx on an idempotent call: {e:?}"
    );
    server.push(Reply::json(200, json!({})).delayed(Duration::from_secs(2)));
    let e = client.userinfo(TOKEN).await.unwrap_err();
    assert!(matches!(e, ProviderError::RetryLater { .. }), "{e:?}");

    for code in ["EXPIRED_ACCESS_TOKEN", "REVOKED_ACCESS_TOKEN"] {
        server.push(linkedin_error(401, code, "token"));
        let e = client.userinfo(TOKEN).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Reconnect { .. }) && e.to_string().contains(code),
            "{e}"
        );
    }
    server.push(linkedin_error(429, "", "throttled").header("retry-after", "7"));
    let e = client
        .post_stats(TOKEN, "urn:li:share:1")
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    server.push(linkedin_error(429, "", "daily"));
    let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
    let ProviderError::RateLimitedUntil { until, .. } = e else {
        panic!("{e:?}")
    };
    assert_eq!(until.time(), chrono::NaiveTime::MIN, "next 00:00 UTC");
    for (status, code) in [(400, ""), (403, "ACCESS_DENIED"), (404, "")] {
        server.push(linkedin_error(status, code, "no"));
        let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Permanent { .. }),
            "{status}: {e:?}"
        );
    }
    // A version LinkedIn does not serve: an operator's fix, not the post's.
    server.push(linkedin_error(426, "NONEXISTENT_VERSION", "no"));
    let e = client.create_post(TOKEN, &post("a")).await.unwrap_err();
    assert!(matches!(e, ProviderError::Misconfigured { .. }), "{e:?}");
    for _ in 0..10 {
        server.push(Reply::json(200, json!({"status": "PROCESSING"})));
    }
    let e = client
        .wait_image_available(TOKEN, "urn:li:image:1")
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::RetryLater { .. }),
        "bounded wait: {e:?}"
    );
    // A refused status read (403) is not the image's failure: the client waits the bounded
    // time from the poll's start (right after the upload), then lets the post go.
    let mut unpolled = linkedin(&server.url);
    unpolled.image_unpolled_wait_ms = 300;
    let unpolled = LinkedInClient::from_config(&unpolled).unwrap();
    server.push(linkedin_error(
        403,
        "ACCESS_DENIED",
        "Not enough permissions to access: images.GET",
    ));
    let started = std::time::Instant::now();
    unpolled
        .wait_image_available(TOKEN, "urn:li:image:1")
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    let too_long = "x".repeat(3001);
    let before = server.seen().len();
    let e = client
        .create_post(TOKEN, &post(&too_long))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Permanent { .. }));
    assert_eq!(
        server.seen().len(),
        before,
        "a too-long post is refused before sending"
    );
}

#[tokio::test]
async fn linkedin_refresh_and_its_failure() {
    let server = Canned::start().await;
    let client = LinkedInClient::from_config(&linkedin(&server.url)).unwrap();
    server.push(Reply::json(200, json!({"access_token": "new-access", "expires_in": 5184000, "refresh_token": "new-refresh", "refresh_token_expires_in": 31000000})));
    let t = client.refresh("old-refresh").await.unwrap();
    assert_eq!(t.access_token, "new-access");
    assert_eq!(t.refresh_token.as_deref(), Some("new-refresh"));
    assert!(!format!("{t:?}").contains("new-access"));
    let form = String::from_utf8(server.seen()[0].body.clone()).unwrap();
    assert!(
        form.contains("grant_type=refresh_token") && form.contains("refresh_token=old-refresh"),
        "{form}"
    );
    server.push(Reply::json(400, json!({"error": "invalid_request", "error_description": "The provided refresh token is invalid"})));
    let e = client.refresh("old-refresh").await.unwrap_err();
    assert!(matches!(e, ProviderError::Reconnect { .. }), "{e:?}");
}
