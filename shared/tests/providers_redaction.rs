//! No key, client secret or token reaches a log line, an error's Display or a Debug output,
//! on any error path of any provider client (docs/providers.md, "Secrets stay out of errors"). Every secret carries a
//! marker; the sandbox accepts the marked key and secret, and logs of our crate and the HTTP
//! stack are captured at TRACE.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use test_support::LogBuffer;

use serde_json::json;
use shared::providers::gemini::GeminiClient;
use shared::providers::images::ImageClient;
use shared::providers::linkedin::{LinkedInClient, NewPost};
use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
use shared::providers::places::{PlaceQuery, PlacesClient};
use test_support::sandbox::{TestSandbox, fault};

const MARKER: &str = "Zq7MARKERv3";

/// Every observable string: the error's Display and Debug.
fn seen<E: std::fmt::Display + std::fmt::Debug>(out: &mut Vec<String>, r: Result<impl Sized, E>) {
    let e = r.err().expect("this path must fail");
    out.push(e.to_string());
    out.push(format!("{e:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_errors_or_debug_output() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("shared=trace,reqwest=trace,hyper=trace,hyper_util=trace,h2=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let key = format!("{MARKER}-google-key");
    let secret = format!("{MARKER}-client-secret");
    let env = TestSandbox::start(sandbox::Options {
        latency: sandbox::Latency::None,
        google_api_key: key.clone(),
        linkedin_client_secret: secret.clone(),
        refresh_tokens: true,
        linkedin_products: test_support::sandbox::all_products(),
        ..Default::default()
    })
    .await;
    let mut out = Vec::new();
    let google = env.google(&key);
    let query = PlaceQuery {
        text_query: "bakeries in Guelph".into(),
        ..Default::default()
    };
    let places = PlacesClient::from_config(&google).unwrap();
    let gemini = GeminiClient::from_config(&google).unwrap();
    let image = ImageClient::from_config(&google).unwrap();
    out.push(format!("{places:?} {gemini:?} {image:?} {google:?}"));

    // A wrong (but marked) key: the provider's own refusal.
    let wrong = env.google(&format!("{MARKER}-wrong"));
    seen(
        &mut out,
        PlacesClient::from_config(&wrong)
            .unwrap()
            .search(&query, 20)
            .await,
    );
    seen(
        &mut out,
        GeminiClient::from_config(&wrong)
            .unwrap()
            .write_post("s", "p")
            .await,
    );
    for route in ["places.search", "gemini.text", "gemini.image"] {
        for f in [
            json!({"status": 429, "retry_after_s": 2, "retry_after_header": true}),
            json!({"status": 429, "quota": "day"}),
            json!({"status": 429, "quota": "day", "quota_detail": "error_info"}),
            json!({"status": 404}),
            json!({"status": 500}),
            json!({"status": 403}),
            json!({"delay_ms": 2_000}),
        ] {
            env.fault(fault(route, f)).await;
            let r = match route {
                "places.search" => places.search(&query, 20).await.map(drop),
                "gemini.text" => gemini.write_post("s", "p").await.map(drop),
                _ => image.generate("x").await.map(drop),
            };
            seen(&mut out, r);
        }
    }
    for mode in ["blocked", "malformed_json"] {
        env.fault(fault("gemini.text", json!({"mode": mode}))).await;
        seen(&mut out, gemini.write_post("s", "p").await);
    }
    env.fault(fault("gemini.image", json!({"mode": "not_image"})))
        .await;
    seen(&mut out, image.generate("x").await);

    // LinkedIn: a real grant, then every failure with it and with marked fake tokens.
    let config = env.linkedin("sandbox-client-id", &secret);
    out.push(format!("{config:?}"));
    let grant = env.connect(&config, "redaction").await;
    out.push(format!("{grant:?}"));
    let oauth = LinkedInOAuth::from_config(&config).unwrap().unwrap();
    seen(
        &mut out,
        oauth
            .exchange_code(&format!("{MARKER}-code"), "http://127.0.0.1:9/cb")
            .await,
    );
    let client = LinkedInClient::from_config(&config).unwrap();
    out.push(format!("{client:?}"));
    let refreshed = client
        .refresh(grant.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    out.push(format!("{refreshed:?}"));
    seen(&mut out, client.refresh(&format!("{MARKER}-refresh")).await);
    let fake = format!("{MARKER}-access-token");
    seen(&mut out, client.userinfo(&fake).await);
    seen(
        &mut out,
        client.init_image_upload(&fake, &grant.member_urn).await,
    );
    let token = refreshed.access_token.clone();
    let post = NewPost {
        author_urn: &grant.member_urn,
        commentary: "hello",
        image_urn: None,
        image_alt_text: None,
    };
    for f in [
        json!({"status": 500, "after_effect": true}),
        json!({"status": 429}),
        json!({"status": 401}),
        json!({"delay_ms": 2_000}),
    ] {
        env.fault(fault("linkedin.posts", f)).await;
        seen(&mut out, client.create_post(&token, &post).await);
    }
    seen(&mut out, client.create_post(&token, &post).await); // duplicate
    env.fault(fault("linkedin.analytics", json!({"status": 503})))
        .await;
    seen(&mut out, client.post_stats(&token, "urn:li:share:1").await);
    let upload = client
        .init_image_upload(&token, &grant.member_urn)
        .await
        .unwrap();
    env.fault(fault("linkedin.images.upload", json!({"status": 500})))
        .await;
    seen(
        &mut out,
        client
            .upload_image(&token, &upload.upload_url, vec![1, 2, 3], "image/png")
            .await,
    );
    env.control_post(
        "/_sandbox/tokens/revoke",
        json!({"member": grant.member_urn.trim_start_matches("urn:li:person:")}),
    )
    .await;
    seen(&mut out, client.userinfo(&token).await);
    let mut everything = shared::Config::default();
    everything.providers.google.api_key = Some(key.clone());
    everything.linkedin.client_secret = Some(secret.clone());
    everything.vault.key = Some(format!("{MARKER}-vault"));
    out.push(format!("{everything:?}"));
    env.sandbox.stop().await;

    let logs = logs.text();
    assert!(out.len() > 60, "every path was driven: {}", out.len());
    assert!(
        logs.contains("provider transport failure"),
        "logs were captured"
    );
    for secret in [MARKER, grant.access_token.as_str(), token.as_str()] {
        for line in logs.lines() {
            assert!(!line.contains(secret), "a log line shows a secret: {line}");
        }
        for s in &out {
            assert!(!s.contains(secret), "an error or Debug shows a secret: {s}");
        }
    }
}
