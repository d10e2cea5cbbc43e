#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The website fetcher and the contact extractor against the sandbox's sites over HTTP:
//! what each site publishes (whatever its form: links, text, JSON-LD, `[at]`, a contact
//! page) is what comes out, and each hostile site mode ends in its own clear error.

use serde_json::json;
use shared::config::{Config, WebsiteConfig};
use shared::providers::places::{PlaceQuery, PlacesClient};
use shared::website::{SiteFetcher, WebsiteError};
use test_support::sandbox::TestSandbox;

fn fetcher(allow_private: bool, timeout_ms: u64) -> SiteFetcher {
    SiteFetcher::new(&WebsiteConfig {
        allow_private,
        timeout_ms,
        ..Config::default().website
    })
    .unwrap()
}

/// The websites of a search's businesses, as Places gives them.
async fn websites(sb: &TestSandbox) -> Vec<String> {
    let mut config = Config::default().providers.google;
    config.places_base_url = format!("{}/places", sb.url);
    let places = PlacesClient::from_config(&config).unwrap();
    let query = PlaceQuery {
        text_query: "bakery in Lyon".into(),
        ..PlaceQuery::default()
    };
    places
        .search(&query, 60)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|p| p.website)
        .collect()
}

#[tokio::test]
async fn every_published_contact_is_found() {
    let sb = TestSandbox::fast().await;
    let sites = websites(&sb).await;
    assert!(sites.len() >= 30, "{} sites", sites.len());
    let fetcher = fetcher(true, 5_000);
    for site in sites {
        let slug = site
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let found = fetcher.fetch_contacts(&site).await.unwrap();
        match sandbox::published_contacts(42, &slug) {
            Some((email, phone)) => {
                let phone: String = phone
                    .chars()
                    .filter(|c| *c == '+' || c.is_ascii_digit())
                    .collect();
                assert_eq!(found.emails, vec![email], "{site}");
                // The national form "(514) 555-0199" and the international "+1 514-555-0199"
                // are one number; either comes first depending on the form.
                let national = phone.trim_start_matches("+1").to_owned();
                assert!(
                    found.phones.iter().any(|p| *p == phone || *p == national),
                    "{site}: {:?} vs {phone}",
                    found.phones
                );
            }
            None => {
                assert!(found.emails.is_empty(), "{site}: {:?}", found.emails);
                assert!(found.phones.is_empty(), "{site}: {:?}", found.phones);
            }
        }
    }
}

#[tokio::test]
async fn hostile_sites_end_in_clear_errors() {
    let sb = TestSandbox::fast().await;
    let site = websites(&sb).await.remove(0);
    let fetcher = fetcher(true, 1_000);
    for (mode, expect) in [
        ("huge", "larger than"),
        ("hang", "did not answer within 1 s"),
        ("redirect_loop", "redirects more than 5 times"),
        ("not_html", "not HTML (application/pdf)"),
    ] {
        sb.fault(json!({"route": "site", "count": 0, "mode": mode}))
            .await;
        let started = std::time::Instant::now();
        let err = fetcher.fetch(&site).await.unwrap_err();
        assert!(err.to_string().contains(expect), "{mode}: {err}");
        assert!(
            started.elapsed().as_secs() < 5,
            "{mode} took {:?}",
            started.elapsed()
        );
        sb.clear_faults().await;
    }
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let sb = TestSandbox::fast().await;
    let site = websites(&sb).await.remove(0);
    let err = fetcher(false, 1_000).fetch(&site).await.unwrap_err();
    assert!(
        matches!(
            err,
            WebsiteError::Forbidden {
                why: "loopback",
                ..
            }
        ),
        "{err}"
    );
    // By name too: the check is on the resolved address, not on the spelling.
    let by_name = site.replace("127.0.0.1", "localhost");
    let err = fetcher(false, 1_000).fetch(&by_name).await.unwrap_err();
    assert!(matches!(err, WebsiteError::Forbidden { .. }), "{err}");
    assert!(fetcher(true, 1_000).fetch(&site).await.is_ok());
}
