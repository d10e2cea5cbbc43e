#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The website reader ignores proxy settings in the environment: a proxy would connect to
//! the site on its own, past the address checks, and could reach what they refuse. Its
//! own test binary because it sets process-wide environment variables.

// Shared with the provider tests, which use all of it; these use a part.
#[allow(dead_code)]
use std::time::Duration;

use shared::config::{Config, WebsiteConfig};
use shared::website::SiteFetcher;
use test_support::canned::{Canned, Reply};

fn html(body: &str) -> Reply {
    Reply {
        status: 200,
        headers: vec![("content-type".into(), "text/html".into())],
        body: body.into(),
        delay: Duration::ZERO,
    }
}

#[test]
fn proxy_settings_in_the_environment_are_ignored() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let proxy = rt.block_on(Canned::start());
    proxy.push(html("<p>proxy@intercepted.fr</p>"));
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        // SAFETY: the only test of this binary, set before any request reads the variables.
        unsafe { std::env::set_var(name, &proxy.url) };
    }
    for name in ["NO_PROXY", "no_proxy"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }
    rt.block_on(async {
        let site = Canned::start().await;
        site.push(html("<p>hello@site.fr</p>"));
        let fetcher = SiteFetcher::new(&WebsiteConfig {
            allow_private: true,
            timeout_ms: 2_000,
            ..Config::default().website
        })
        .unwrap();
        let found = fetcher.fetch_contacts(&site.url).await.unwrap();
        assert_eq!(found.emails, vec!["hello@site.fr"]);
        assert!(proxy.seen().is_empty(), "the proxy was used");
    });
}
