//! The provider clients against the sandbox (docs/sandbox.md): success paths, every fault kind
//! and mode mapped to the ProviderError the pipeline acts on, OAuth, escaping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use shared::config::ImageBackend;
use shared::providers::ProviderError;
use shared::providers::gemini::GeminiClient;
use shared::providers::images::ImageClient;
use shared::providers::linkedin::{LinkedInClient, NewPost};
use shared::providers::places::{PlaceQuery, PlacesClient};
use test_support::sandbox::{TestSandbox, fault};

const KEY: &str = "sandbox-google-key";

fn query() -> PlaceQuery {
    PlaceQuery {
        text_query: "dentists in Guelph, Ontario".into(),
        ..Default::default()
    }
}

fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend(8u32.to_be_bytes());
    b.extend(8u32.to_be_bytes());
    b.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

#[tokio::test]
async fn places_pages_to_the_60_cap() {
    let env = TestSandbox::fast().await;
    let places = PlacesClient::from_config(&env.google(KEY)).unwrap();
    let all = places.search(&query(), 500).await.unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(env.log_len("places.search").await, 3);
    let ids: std::collections::HashSet<_> = all.iter().map(|p| &p.place_id).collect();
    assert_eq!(ids.len(), 60, "pages do not repeat places");
    assert!(all.iter().all(|p| !p.business_name.is_empty()));
    assert!(
        all.iter()
            .any(|p| p.city.is_some() && p.postal_code.is_some())
    );
    assert!(
        all.iter().any(|p| p.website.is_none()),
        "fixtures have gaps"
    );
    assert_eq!(places.search(&query(), 25).await.unwrap().len(), 25);
    assert_eq!(env.log_len("places.search").await, 5);
    env.sandbox.stop().await;
}

#[tokio::test]
async fn gemini_text_and_both_image_backends_succeed() {
    let env = TestSandbox::fast().await;
    let draft = GeminiClient::from_config(&env.google(KEY))
        .unwrap()
        .write_post(
            "You write LinkedIn posts.",
            "A post about Guelph Family Dental",
        )
        .await
        .unwrap();
    assert!(!draft.post.is_empty());
    let image = ImageClient::from_config(&env.google(KEY))
        .unwrap()
        .generate("a clinic")
        .await
        .unwrap();
    assert!(image.width > 0);
    // Imagen is shut down in the Gemini API: the backend is refused before any call.
    let mut imagen = env.google(KEY);
    imagen.image_backend = ImageBackend::Imagen;
    let e = ImageClient::from_config(&imagen).unwrap_err();
    assert!(
        matches!(&e, ProviderError::Misconfigured { reason } if reason.contains("Imagen is shut down")),
        "{e:?}"
    );
    assert_eq!(env.log_len("imagen.predict").await, 0);
    env.sandbox.stop().await;
}

async fn google_call(env: &TestSandbox, route: &str) -> Result<(), ProviderError> {
    let config = env.google(KEY);
    match route {
        "places.search" => PlacesClient::from_config(&config)?
            .search(&query(), 20)
            .await
            .map(drop),
        "gemini.text" => GeminiClient::from_config(&config)?
            .write_post("s", "p")
            .await
            .map(drop),
        _ => ImageClient::from_config(&config)?
            .generate("x")
            .await
            .map(drop),
    }
}

#[tokio::test]
async fn google_faults_map_to_what_the_caller_must_do() {
    let env = TestSandbox::fast().await;
    for route in ["places.search", "gemini.text", "gemini.image"] {
        env.fault(fault(route, json!({"status": 429, "retry_after_s": 3})))
            .await;
        let e = google_call(&env, route).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::RetryLater { .. }),
            "{route}: {e:?}"
        );
        assert_eq!(
            e.retry_after(),
            Some(Duration::from_secs(3)),
            "{route}: {e:?}"
        );
        env.fault(fault(route, json!({"status": 429, "quota": "day"})))
            .await;
        let e = google_call(&env, route).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::RateLimitedUntil { .. }),
            "{route}: {e:?}"
        );
        for status in [500, 503] {
            env.fault(fault(route, json!({"status": status}))).await;
            let e = google_call(&env, route).await.unwrap_err();
            assert!(
                matches!(e, ProviderError::RetryLater { .. }),
                "{route} {status}: {e:?}"
            );
        }
        for status in [400, 403] {
            env.fault(fault(route, json!({"status": status}))).await;
            let e = google_call(&env, route).await.unwrap_err();
            assert!(
                matches!(e, ProviderError::Permanent { .. }),
                "{route} {status}: {e:?}"
            );
        }
        // NOT_FOUND: the model (or method) we name does not exist; only an operator can fix it.
        env.fault(fault(route, json!({"status": 404}))).await;
        let e = google_call(&env, route).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Misconfigured { .. }),
            "{route} 404: {e:?}"
        );
        env.fault(fault(route, json!({"delay_ms": 2_000}))).await;
        let e = google_call(&env, route).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::RetryLater { .. }),
            "{route} timeout: {e:?}"
        );
        google_call(&env, route).await.unwrap();
    }
    for mode in ["blocked", "safety", "max_tokens", "malformed_json"] {
        // MAX_TOKENS is asked once more with a larger limit: it fails only when both do.
        let count = if mode == "max_tokens" { 2 } else { 1 };
        env.fault(fault("gemini.text", json!({"mode": mode, "count": count})))
            .await;
        let e = google_call(&env, "gemini.text").await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Permanent { .. }),
            "{mode}: {e:?}"
        );
    }
    for mode in ["filtered", "not_image"] {
        env.fault(fault("gemini.image", json!({"mode": mode})))
            .await;
        let e = google_call(&env, "gemini.image").await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Permanent { .. }),
            "gemini.image {mode}: {e:?}"
        );
    }
    let mut bad_model = env.google(KEY);
    bad_model.text_model = "gemini-2.0-flash".into();
    let e = GeminiClient::from_config(&bad_model)
        .unwrap()
        .write_post("s", "p")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Misconfigured { reason } if reason.contains("providers.google.text_model")),
        "{e:?}"
    );
    let e = PlacesClient::from_config(&env.google("wrong-key"))
        .unwrap()
        .search(&query(), 1)
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Permanent { .. }), "{e:?}");
    env.sandbox.stop().await;
}

/// A thinking model spends its thoughts out of `maxOutputTokens` (the sandbox counts them
/// as Gemini does): the post still comes back, and a `MAX_TOKENS` with no text is asked
/// once more with a larger limit before it counts as a failure.
#[tokio::test]
async fn a_max_tokens_after_thinking_is_asked_once_more_with_room() {
    let env = TestSandbox::fast().await;
    let gemini = GeminiClient::from_config(&env.google(KEY)).unwrap();
    let draft = gemini
        .write_post(
            "You write LinkedIn posts.",
            "A post about \"Golden Bakery\"",
        )
        .await
        .unwrap();
    assert!(!draft.post.is_empty());
    assert_eq!(
        env.log_len("gemini.text").await,
        1,
        "one call when thinking fits"
    );
    env.fault(fault("gemini.text", json!({"mode": "max_tokens"})))
        .await;
    let draft = gemini
        .write_post(
            "You write LinkedIn posts.",
            "A post about \"Golden Bakery\"",
        )
        .await
        .unwrap();
    assert!(!draft.post.is_empty());
    assert_eq!(
        env.log_len("gemini.text").await,
        3,
        "the MAX_TOKENS was asked once more"
    );
    env.sandbox.stop().await;
}

/// Places names a used-up daily quota in `ErrorInfo.metadata.quota_limit`
/// (cloud.google.com/apis/design/errors): the wait runs to the Pacific midnight reset.
#[tokio::test]
async fn places_daily_quota_in_error_info_waits_until_pacific_midnight() {
    let env = TestSandbox::fast().await;
    env.fault(fault(
        "places.search",
        json!({"status": 429, "quota": "day", "quota_detail": "error_info"}),
    ))
    .await;
    let e = PlacesClient::from_config(&env.google(KEY))
        .unwrap()
        .search(&query(), 20)
        .await
        .unwrap_err();
    let ProviderError::RateLimitedUntil { until, .. } = &e else {
        panic!("a daily quota waits until its reset: {e:?}");
    };
    let wait = *until - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::zero() && wait <= chrono::Duration::hours(24),
        "{until}"
    );
    assert!(
        matches!(
            until.format("%H:%M").to_string().as_str(),
            "07:00" | "08:00"
        ),
        "Pacific midnight is 07:00 or 08:00 UTC: {until}"
    );
    // The per-minute form of the same detail is a short wait, not a day.
    env.fault(fault(
        "places.search",
        json!({"status": 429, "quota_detail": "error_info"}),
    ))
    .await;
    let e = PlacesClient::from_config(&env.google(KEY))
        .unwrap()
        .search(&query(), 20)
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Throttled { .. }), "{e:?}");
    env.sandbox.stop().await;
}

/// The day Google shuts the configured image model down: the answer is an operator's
/// problem naming the setting, not a content failure.
#[tokio::test]
async fn a_retired_model_is_misconfigured_and_names_the_setting() {
    let env = TestSandbox::fast_with(sandbox::Options {
        retired_models: vec!["gemini-3.1-flash-image".into()],
        ..sandbox::Options::default()
    })
    .await;
    let e = ImageClient::from_config(&env.google(KEY))
        .unwrap()
        .generate("a bakery")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ProviderError::Misconfigured { reason }
            if reason.contains("providers.google.image_model") && reason.contains("gemini-3.1-flash-image")),
        "{e:?}"
    );
    env.sandbox.stop().await;
}

/// Connects a member and returns the client, its token and the member's URN.
async fn member(env: &TestSandbox, state: &str) -> (LinkedInClient, String, String) {
    let config = env.linkedin("sandbox-client-id", "sandbox-client-secret");
    let grant = env.connect(&config, state).await;
    let client = LinkedInClient::from_config(&config).unwrap();
    let info = client.userinfo(&grant.access_token).await.unwrap();
    assert_eq!(info.member_urn(), grant.member_urn);
    (client, grant.access_token, grant.member_urn)
}

#[tokio::test]
async fn a_post_with_every_reserved_character_arrives_intact() {
    let env = TestSandbox::fast().await;
    let (client, token, urn) = member(&env, "state-escape").await;
    let upload = client.init_image_upload(&token, &urn).await.unwrap();
    client
        .upload_image(&token, &upload.upload_url, png(), "image/png")
        .await
        .unwrap();
    client
        .wait_image_available(&token, &upload.image)
        .await
        .unwrap();
    let text = r"Open (Mon–Fri) \ | {x} @team [new] <b> # *bold* _it_ ~s~ 🦷😀 #Guelph #1";
    let post = NewPost {
        author_urn: &urn,
        commentary: text,
        image_urn: Some(&upload.image),
        image_alt_text: Some("Reception"),
    };
    let post_urn = client.create_post(&token, &post).await.unwrap();
    let stored = env.posts().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["urn"], post_urn.as_str());
    assert_eq!(stored[0]["author"], urn.as_str());
    assert_eq!(stored[0]["image"], upload.image.as_str());
    let commentary = stored[0]["commentary"].as_str().unwrap();
    assert!(
        commentary.contains("#Guelph #1"),
        "not truncated: {commentary}"
    );
    assert!(commentary.contains("🦷😀"), "{commentary}");
    eprintln!("STORED {commentary}");
    let stats = client.post_stats(&token, &post_urn).await.unwrap();
    assert!(stats.impressions >= 0);
    assert_eq!(
        env.log_len("linkedin.analytics").await,
        4,
        "one call per metric"
    );
    env.sandbox.stop().await;
}

#[tokio::test]
async fn post_faults_and_the_ambiguous_retry() {
    let env = TestSandbox::fast().await;
    let (client, token, urn) = member(&env, "state-posts").await;
    let post = |text: &'static str| NewPost {
        author_urn: Box::leak(urn.clone().into_boxed_str()),
        commentary: text,
        image_urn: None,
        image_alt_text: None,
    };
    env.fault(fault(
        "linkedin.posts",
        json!({"status": 500, "after_effect": true}),
    ))
    .await;
    let e = client
        .create_post(&token, &post("first try"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::OutcomeUnknown { .. }), "{e:?}");
    let e = client
        .create_post(&token, &post("first try"))
        .await
        .unwrap_err();
    let stored = env.posts().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        e,
        ProviderError::Duplicate {
            urn: stored[0]["urn"].as_str().unwrap().into()
        }
    );

    env.fault(fault("linkedin.posts", json!({"status": 500})))
        .await;
    let e = client
        .create_post(&token, &post("second"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::OutcomeUnknown { .. }), "{e:?}");
    env.fault(fault("linkedin.posts", json!({"delay_ms": 2_000})))
        .await;
    let e = client
        .create_post(&token, &post("third"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ProviderError::OutcomeUnknown { .. }),
        "timeout: {e:?}"
    );
    let created = client.create_post(&token, &post("fourth")).await.unwrap();
    env.fault(fault("linkedin.posts", json!({"mode": "duplicate"})))
        .await;
    let e = client
        .create_post(&token, &post("fifth"))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Duplicate { .. }), "{e:?}");
    let _ = created;
    env.sandbox.stop().await;
}

#[tokio::test]
async fn linkedin_faults_map_to_what_the_caller_must_do() {
    let env = TestSandbox::fast().await;
    let (client, token, urn) = member(&env, "state-faults").await;
    let call = |route: &'static str| {
        let (client, token, urn) = (&client, token.clone(), urn.clone());
        async move {
            match route {
                "linkedin.userinfo" => client.userinfo(&token).await.map(drop),
                "linkedin.images.init" => client.init_image_upload(&token, &urn).await.map(drop),
                "linkedin.analytics" => client.post_stats(&token, "urn:li:share:1").await.map(drop),
                _ => client
                    .create_post(
                        &token,
                        &NewPost {
                            author_urn: &urn,
                            commentary: "faulty",
                            image_urn: None,
                            image_alt_text: None,
                        },
                    )
                    .await
                    .map(drop),
            }
        }
    };
    for route in [
        "linkedin.userinfo",
        "linkedin.images.init",
        "linkedin.analytics",
        "linkedin.posts",
    ] {
        env.fault(fault(route, json!({"status": 429, "retry_after_s": 5})))
            .await;
        let e = call(route).await.unwrap_err();
        assert_eq!(
            e.retry_after(),
            Some(Duration::from_secs(5)),
            "{route}: {e:?}"
        );
        env.fault(fault(route, json!({"status": 429}))).await;
        let e = call(route).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::RateLimitedUntil { .. }),
            "{route}: {e:?}"
        );
        env.fault(fault(route, json!({"status": 401}))).await;
        assert!(
            matches!(call(route).await, Err(ProviderError::Reconnect { .. })),
            "{route}"
        );
        for status in [400, 403, 404] {
            env.fault(fault(route, json!({"status": status}))).await;
            let e = call(route).await.unwrap_err();
            assert!(
                matches!(e, ProviderError::Permanent { .. }),
                "{route} {status}: {e:?}"
            );
        }
        if route != "linkedin.posts" {
            for status in [500, 503] {
                env.fault(fault(route, json!({"status": status}))).await;
                let e = call(route).await.unwrap_err();
                assert!(
                    matches!(e, ProviderError::RetryLater { .. }),
                    "{route} {status}: {e:?}"
                );
            }
            env.fault(fault(route, json!({"delay_ms": 2_000}))).await;
            let e = call(route).await.unwrap_err();
            assert!(
                matches!(e, ProviderError::RetryLater { .. }),
                "{route} timeout: {e:?}"
            );
        }
    }
    env.sandbox.stop().await;
}

#[tokio::test]
async fn expired_and_revoked_tokens_mean_reconnect() {
    let env = TestSandbox::fast().await;
    for (state, action, code) in [
        ("s-exp", "expire", "EXPIRED_ACCESS_TOKEN"),
        ("s-rev", "revoke", "REVOKED_ACCESS_TOKEN"),
    ] {
        let (client, token, urn) = member(&env, state).await;
        let sub = urn.trim_start_matches("urn:li:person:");
        env.control_post(
            &format!("/_sandbox/tokens/{action}"),
            json!({"member": sub}),
        )
        .await;
        let e = client.userinfo(&token).await.unwrap_err();
        assert!(matches!(e, ProviderError::Reconnect { .. }), "{e:?}");
        let e = client.init_image_upload(&token, &urn).await.unwrap_err();
        assert!(
            matches!(&e, ProviderError::Reconnect { reason } if reason.contains(code)),
            "{e:?}"
        );
    }
    env.sandbox.stop().await;
}

#[tokio::test]
async fn refresh_when_the_app_gets_refresh_tokens() {
    let env = TestSandbox::start(sandbox::Options {
        latency: sandbox::Latency::None,
        refresh_tokens: true,
        linkedin_products: test_support::sandbox::all_products(),
        ..Default::default()
    })
    .await;
    let config = env.linkedin("sandbox-client-id", "sandbox-client-secret");
    let grant = env.connect(&config, "s-refresh").await;
    let refresh = grant.refresh_token.clone().expect("refresh tokens enabled");
    let client = LinkedInClient::from_config(&config).unwrap();
    let fresh = client.refresh(&refresh).await.unwrap();
    assert_ne!(fresh.access_token, grant.access_token);
    let info = client.userinfo(&fresh.access_token).await.unwrap();
    assert_eq!(info.member_urn(), grant.member_urn);
    let e = client.refresh("not-a-refresh-token").await.unwrap_err();
    assert!(matches!(e, ProviderError::Reconnect { .. }), "{e:?}");
    env.sandbox.stop().await;
}

#[tokio::test]
async fn a_retired_linkedin_version_is_misconfigured_and_an_unreachable_host_retryable() {
    let env = TestSandbox::fast().await;
    let (_, token, urn) = member(&env, "s-version").await;
    let mut config = env.linkedin("sandbox-client-id", "sandbox-client-secret");
    config.version = "202001".into();
    let old = LinkedInClient::from_config(&config).unwrap();
    let e = old.init_image_upload(&token, &urn).await.unwrap_err();
    // LinkedIn's 426 NONEXISTENT_VERSION: only an operator can fix `linkedin.version`.
    assert!(
        matches!(&e, ProviderError::Misconfigured { reason } if reason.contains("426 NONEXISTENT_VERSION")),
        "{e:?}"
    );
    let gone_config = env.linkedin("id", "secret");
    env.sandbox.stop().await;

    // Nothing listens any more: the post was never sent, so retrying is safe.
    let gone = LinkedInClient::from_config(&gone_config).unwrap();
    let post = NewPost {
        author_urn: &urn,
        commentary: "never sent",
        image_urn: None,
        image_alt_text: None,
    };
    let e = gone.create_post(&token, &post).await.unwrap_err();
    assert!(matches!(e, ProviderError::RetryLater { .. }), "{e:?}");
}
