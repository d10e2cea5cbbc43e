//! The Instagram clients against the sandbox over real HTTP (docs/sandbox.md): Business
//! Login end to end, a PNG published as a JPEG from a URL Instagram fetches, the container's
//! status settling an uncertain `media_publish`, and each refusal mapped to the
//! ProviderError the pipeline acts on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::time::Duration;

use serde_json::json;
use shared::providers::ProviderError;
use shared::providers::instagram::{
    ContainerStatus, InstagramClient, NewContainer, is_app_limit, to_instagram_jpeg,
};
use test_support::sandbox::{TestSandbox, fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A PNG like the ones our image generation stores.
fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([30, 90, 200, 255]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Serves `body` as `content_type` to every request on a free port: the public image URL
/// Instagram downloads from.
async fn serve(body: Vec<u8>, content_type: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}/image.jpg")
}

fn caption() -> &'static str {
    "Fresh sourdough every morning #bakery #guelph"
}

#[tokio::test]
async fn connect_then_publish_a_png_as_a_jpeg_with_its_permalink_and_insights() {
    let env = TestSandbox::fast().await;
    let config = env.instagram();
    let grant = env.connect_instagram(&config, "owner-1").await;
    assert_eq!(grant.expires_in, Duration::from_secs(5_184_000));
    assert!(grant.username.as_deref().unwrap().starts_with("sandbox_"));
    assert!(
        grant
            .permissions
            .as_deref()
            .unwrap()
            .contains("instagram_business_manage_insights")
    );
    let client = InstagramClient::from_config(&config).unwrap();
    let limit = client
        .publishing_limit(&grant.access_token, &grant.user_id)
        .await
        .unwrap();
    assert_eq!((limit.usage, limit.total), (0, 50));

    let url = serve(to_instagram_jpeg(&png(300, 200)).unwrap(), "image/jpeg").await;
    let container = client
        .create_container(
            &grant.access_token,
            &grant.user_id,
            &NewContainer {
                image_url: &url,
                caption: caption(),
                alt_text: Some("Loaves on a rack"),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        client
            .wait_container(&grant.access_token, &container)
            .await
            .unwrap(),
        ContainerStatus::Finished
    );
    let media = client
        .publish(&grant.access_token, &grant.user_id, &container)
        .await
        .unwrap();
    let permalink = client.permalink(&grant.access_token, &media).await.unwrap();
    assert!(permalink.starts_with("https://www.instagram.com/p/"));
    let insights = client.insights(&grant.access_token, &media).await.unwrap();
    assert!(insights.likes.unwrap() > 0 && insights.views.unwrap() > 0);
    let stored = env.instagram_media().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["caption"], caption());
    assert_eq!(
        client
            .publishing_limit(&grant.access_token, &grant.user_id)
            .await
            .unwrap()
            .usage,
        1
    );
    env.sandbox.stop().await;
}

#[tokio::test]
async fn an_uncertain_publish_is_settled_by_the_containers_status() {
    let env = TestSandbox::fast().await;
    let config = env.instagram();
    let grant = env.connect_instagram(&config, "owner-2").await;
    let client = InstagramClient::from_config(&config).unwrap();
    let url = serve(to_instagram_jpeg(&png(100, 100)).unwrap(), "image/jpeg").await;
    let new = NewContainer {
        image_url: &url,
        caption: caption(),
        alt_text: None,
    };
    let (token, user) = (&grant.access_token, &grant.user_id);

    // Stored, then 500: the outcome is unknown, and the container says PUBLISHED.
    let container = client.create_container(token, user, &new).await.unwrap();
    client.wait_container(token, &container).await.unwrap();
    env.fault(fault(
        "instagram.publish",
        json!({"status": 500, "after_effect": true}),
    ))
    .await;
    let e = client.publish(token, user, &container).await.unwrap_err();
    assert!(matches!(e, ProviderError::OutcomeUnknown { .. }), "{e:?}");
    assert_eq!(
        client.container_status(token, &container).await.unwrap(),
        ContainerStatus::Published
    );

    // Timed out before the answer (1 s client timeout), the post made after: the same.
    let container = client.create_container(token, user, &new).await.unwrap();
    client.wait_container(token, &container).await.unwrap();
    env.fault(fault("instagram.publish", json!({"delay_ms": 1_500})))
        .await;
    let e = client.publish(token, user, &container).await.unwrap_err();
    assert!(matches!(e, ProviderError::OutcomeUnknown { .. }), "{e:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        client.container_status(token, &container).await.unwrap(),
        ContainerStatus::Published
    );

    // A 500 with no effect: the container is still FINISHED, so publishing it is safe.
    let container = client.create_container(token, user, &new).await.unwrap();
    client.wait_container(token, &container).await.unwrap();
    env.fault(fault("instagram.publish", json!({"status": 503})))
        .await;
    let e = client.publish(token, user, &container).await.unwrap_err();
    assert!(matches!(e, ProviderError::OutcomeUnknown { .. }), "{e:?}");
    assert_eq!(
        client.container_status(token, &container).await.unwrap(),
        ContainerStatus::Finished
    );
    client.publish(token, user, &container).await.unwrap();
    assert_eq!(env.instagram_media().await.len(), 3);
    env.sandbox.stop().await;
}

#[tokio::test]
async fn refusals_map_to_what_the_pipeline_does() {
    let env = TestSandbox::fast().await;
    let config = env.instagram();
    let grant = env.connect_instagram(&config, "owner-3").await;
    let client = InstagramClient::from_config(&config).unwrap();
    let (token, user) = (&grant.access_token, &grant.user_id);

    // A PNG at the URL: Instagram cannot use it, and says so for good.
    let png_url = serve(png(50, 50), "image/png").await;
    let e = client
        .create_container(
            token,
            user,
            &NewContainer {
                image_url: &png_url,
                caption: caption(),
                alt_text: None,
            },
        )
        .await
        .unwrap_err();
    match &e {
        ProviderError::Permanent { reason } => {
            assert!(reason.contains("9004/2207052"), "{reason}");
            assert!(!reason.contains(&png_url), "the URL stays out: {reason}");
        }
        other => panic!("{other:?}"),
    }
    // Too many hashtags: refused before any call.
    let before = env.log_len("instagram.media").await;
    let tags: String = (0..31).map(|i| format!("#t{i} ")).collect();
    let e = client
        .create_container(
            token,
            user,
            &NewContainer {
                image_url: &png_url,
                caption: &tags,
                alt_text: None,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Permanent { .. }));
    assert_eq!(env.log_len("instagram.media").await, before);

    // Meta's rate limits: the app's (4) and the account's (17), each named.
    env.fault(fault("instagram.limit", json!({"mode": "app_limit"})))
        .await;
    let e = client.publishing_limit(token, user).await.unwrap_err();
    assert!(is_app_limit(&e), "{e:?}");
    env.fault(fault("instagram.limit", json!({"mode": "account_limit"})))
        .await;
    let e = client.publishing_limit(token, user).await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::RateLimitedUntil { reason, .. } if reason.contains("ACCOUNT")),
        "{e:?}"
    );
    assert!(!is_app_limit(&e));
    // The publishing limit of media_publish.
    env.fault(fault("instagram.publish", json!({"mode": "publish_limit"})))
        .await;
    let e = client.publish(token, user, "1").await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::RateLimitedUntil { reason, .. } if reason.contains("publishing limit")),
        "{e:?}"
    );
    // An invalidated token (190): reconnect; so does a revoked one.
    env.fault(fault("instagram.me", json!({"mode": "token_invalid"})))
        .await;
    assert!(matches!(
        client.me(token).await.unwrap_err(),
        ProviderError::Reconnect { .. }
    ));
    env.control_post(
        "/_sandbox/instagram/tokens/revoke",
        json!({"user_id": grant.user_id}),
    )
    .await;
    assert!(matches!(
        client.refresh(token).await.unwrap_err(),
        ProviderError::Reconnect { .. }
    ));
    env.sandbox.stop().await;
}

#[tokio::test]
async fn refresh_gives_a_new_long_lived_token_and_a_young_one_is_refused() {
    let env = TestSandbox::fast_with(sandbox::Options {
        instagram: sandbox::InstagramOptions {
            refresh_min_age_s: 0,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let config = env.instagram();
    let grant = env.connect_instagram(&config, "owner-4").await;
    let client = InstagramClient::from_config(&config).unwrap();
    let fresh = client.refresh(&grant.access_token).await.unwrap();
    assert_ne!(fresh.access_token, grant.access_token);
    assert_eq!(fresh.expires_in, Duration::from_secs(5_184_000));
    assert_eq!(
        client.me(&fresh.access_token).await.unwrap().user_id,
        grant.user_id
    );
    env.sandbox.stop().await;

    let env = TestSandbox::fast().await;
    let config = env.instagram();
    let grant = env.connect_instagram(&config, "owner-5").await;
    let client = InstagramClient::from_config(&config).unwrap();
    let e = client.refresh(&grant.access_token).await.unwrap_err();
    assert!(matches!(e, ProviderError::Permanent { .. }), "{e:?}");
    env.sandbox.stop().await;
}
