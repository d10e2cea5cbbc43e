//! The sandbox of the provider APIs, in process on a free port: one per test, so faults and
//! logs never leak between tests. Configs point the real clients (or the whole app) at it,
//! and its control routes (`/_sandbox/...`, docs/sandbox.md) are one call each.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use shared::Config;
use shared::config::{GoogleConfig, InstagramConfig, LinkedInConfig};
use shared::providers::instagram_oauth::{InstagramConnect, InstagramGrant, InstagramOAuth};
use shared::providers::linkedin_oauth::{Grant, LinkedInConnect, LinkedInOAuth};

/// The LinkedIn app the sandbox's OAuth accepts in the app and stack tests.
pub const CLIENT_ID: &str = "sandbox-client-id";
pub const CLIENT_SECRET: &str = "sandbox-client-secret";

/// The name the tests give the sandbox's OpenID Connect provider (`/sign-in/oidc/sandbox`).
pub const OIDC_PROVIDER: &str = "sandbox";

pub struct TestSandbox {
    pub sandbox: sandbox::Sandbox,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    control: reqwest::Client,
    /// What it was started with, for [`TestSandbox::restart`].
    options: sandbox::Options,
}

impl TestSandbox {
    /// With the sandbox's own latencies, as `options` says.
    pub async fn start(options: sandbox::Options) -> Self {
        let sandbox = sandbox::Sandbox::start("127.0.0.1:0".parse().unwrap(), options.clone())
            .await
            .expect("the sandbox starts");
        let url = sandbox.url();
        Self {
            sandbox,
            url,
            control: reqwest::Client::new(),
            options,
        }
    }

    /// Stops it and starts a new one on the same address with the same options: the
    /// restarted sandbox remembers nothing (tokens, posts), as after `just demo` again.
    pub async fn restart(&mut self) {
        let addr = self.sandbox.addr();
        // A stand-in holds the field while the old one stops and frees the address.
        let stand_in =
            sandbox::Sandbox::start("127.0.0.1:0".parse().unwrap(), self.options.clone())
                .await
                .expect("a stand-in sandbox starts");
        std::mem::replace(&mut self.sandbox, stand_in).stop().await;
        let again = crate::retry(
            Duration::from_secs(10),
            &format!("rebinding {addr}"),
            async || sandbox::Sandbox::start(addr, self.options.clone()).await,
        )
        .await;
        std::mem::replace(&mut self.sandbox, again).stop().await;
    }

    /// Without latency, and the LinkedIn app approved for every product the sandbox knows
    /// (post analytics too): what tests of the provider clients want. The whole stack's
    /// tests start from the strict default instead ([`TestSandbox::fast_with`]).
    pub async fn fast() -> Self {
        Self::fast_with(sandbox::Options {
            linkedin_products: all_products(),
            ..sandbox::Options::default()
        })
        .await
    }

    /// `options` without latency.
    pub async fn fast_with(options: sandbox::Options) -> Self {
        Self::start(sandbox::Options {
            latency: sandbox::Latency::None,
            ..options
        })
        .await
    }

    /// The Google settings with the sandbox's prefixes, `key` and 500 ms timeouts.
    pub fn google(&self, key: &str) -> GoogleConfig {
        let mut c = Config::default().providers.google;
        c.places_base_url = format!("{}/places", self.url);
        c.gemini_base_url = format!("{}/gemini", self.url);
        c.api_key = Some(key.into());
        c.places_timeout_ms = 500;
        c.text_timeout_ms = 500;
        c.image_timeout_ms = 500;
        c
    }

    /// The LinkedIn settings with the sandbox's URLs, this app, and 500 ms timeouts.
    pub fn linkedin(&self, client_id: &str, secret: &str) -> LinkedInConfig {
        let mut c = Config::default().linkedin;
        let www = format!("{}/linkedin-www", self.url);
        let api = format!("{}/linkedin-api", self.url);
        c.client_id = Some(client_id.into());
        c.client_secret = Some(secret.into());
        c.authorize_url = format!("{www}/oauth/v2/authorization");
        c.token_url = format!("{www}/oauth/v2/accessToken");
        c.userinfo_url = format!("{api}/v2/userinfo");
        c.api_base_url = api;
        // The clients' tests read post analytics too (see `fast`).
        c.analytics = true;
        c.timeout_ms = 500;
        c.image_poll_interval_ms = 10;
        c.image_poll_max_ms = 5_000;
        c.image_unpolled_wait_ms = 200;
        c
    }

    /// Points a whole config's providers at the sandbox, keeping its timeouts and API key:
    /// Places, Gemini, and LinkedIn as the app [`CLIENT_ID`].
    pub fn point(&self, config: &mut Config) {
        let google = &mut config.providers.google;
        google.places_base_url = format!("{}/places", self.url);
        google.gemini_base_url = format!("{}/gemini", self.url);
        let linkedin = self.linkedin(CLIENT_ID, CLIENT_SECRET);
        let c = &mut config.linkedin;
        c.client_id = linkedin.client_id;
        c.client_secret = linkedin.client_secret;
        c.authorize_url = linkedin.authorize_url;
        c.token_url = linkedin.token_url;
        c.userinfo_url = linkedin.userinfo_url;
        c.api_base_url = linkedin.api_base_url;
        c.image_unpolled_wait_ms = linkedin.image_unpolled_wait_ms;
    }

    /// Configures the sandbox's OpenID Connect provider as [`OIDC_PROVIDER`], its button
    /// saying "Continue with Sandbox ID".
    pub fn point_oidc(&self, config: &mut Config) {
        config.oidc.providers.insert(
            OIDC_PROVIDER.into(),
            shared::config::OidcProviderConfig {
                issuer: format!("{}/oidc", self.url),
                client_id: sandbox::OIDC_CLIENT_ID.into(),
                client_secret: Some(sandbox::OIDC_CLIENT_SECRET.into()),
                display_name: Some("Sandbox ID".into()),
            },
        );
    }

    /// Adds a fault (docs/sandbox.md, "Faults"); see [`fault`] to build one.
    pub async fn fault(&self, fault: Value) {
        let r = self
            .control
            .post(format!("{}/_sandbox/faults", self.url))
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "fault {fault} refused: {}",
            r.text().await.unwrap()
        );
    }

    pub async fn clear_faults(&self) {
        let r = self
            .control
            .delete(format!("{}/_sandbox/faults", self.url))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "faults not cleared: {}",
            r.status()
        );
    }

    /// A control route's JSON answer.
    pub async fn get(&self, path: &str) -> Value {
        self.control
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A control route that takes a JSON body (`/_sandbox/tokens/expire`, ...).
    pub async fn control_post(&self, path: &str, body: Value) {
        let r = self
            .control
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// Every post LinkedIn (the sandbox) stored.
    pub async fn posts(&self) -> Vec<Value> {
        array(self.get("/_sandbox/posts").await)
    }

    /// The request log of one route (`places.search`, `linkedin.posts`, ...).
    pub async fn log(&self, route: &str) -> Vec<Value> {
        array(self.get(&format!("/_sandbox/log?route={route}")).await)
    }

    pub async fn log_len(&self, route: &str) -> usize {
        self.log(route).await.len()
    }

    /// Asserts no two stored posts have the same author and commentary: the one thing
    /// exactly-once publishing promises LinkedIn's readers.
    pub async fn assert_no_double_post(&self) {
        let mut seen = HashSet::new();
        for p in &self.posts().await {
            let key = (p["author"].to_string(), p["commentary"].to_string());
            assert!(seen.insert(key), "posted twice: {p}");
        }
    }

    /// Connects a member through the real OAuth client: `?auto=allow`, the redirect's code,
    /// the exchange. Returns the grant.
    pub async fn connect(&self, config: &LinkedInConfig, state: &str) -> Grant {
        let oauth = LinkedInOAuth::from_config(config).unwrap().unwrap();
        let redirect_uri = "http://127.0.0.1:9/callback";
        let url = format!("{}&auto=allow", oauth.authorize_url(state, redirect_uri));
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let r = browser.get(url).send().await.unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(q["state"], state);
        oauth.exchange_code(&q["code"], redirect_uri).await.unwrap()
    }
}

/// The Instagram app the sandbox accepts by default.
pub const INSTAGRAM_APP_ID: &str = "sandbox-instagram-app-id";
pub const INSTAGRAM_APP_SECRET: &str = "sandbox-instagram-app-secret";

impl TestSandbox {
    /// The Instagram settings with the sandbox's URLs, its default app, insights asked
    /// for, 1 s timeouts and a fast container poll.
    pub fn instagram(&self) -> InstagramConfig {
        InstagramConfig {
            client_id: Some(INSTAGRAM_APP_ID.into()),
            client_secret: Some(INSTAGRAM_APP_SECRET.into()),
            authorize_url: format!("{}/instagram-www/oauth/authorize", self.url),
            token_url: format!("{}/instagram-api/oauth/access_token", self.url),
            graph_base_url: format!("{}/instagram-graph", self.url),
            insights: true,
            timeout_ms: 1_000,
            container_poll_interval_ms: 10,
            container_poll_max_ms: 2_000,
            ..InstagramConfig::default()
        }
    }

    /// Connects an Instagram account through the real client: `?auto=allow`, the
    /// redirect's code, the exchanges. Each `state` is its own account.
    pub async fn connect_instagram(&self, config: &InstagramConfig, state: &str) -> InstagramGrant {
        let oauth = InstagramOAuth::from_config(config).unwrap().unwrap();
        let redirect_uri = "http://127.0.0.1:9/api/profile/instagram/callback";
        let url = format!("{}&auto=allow", oauth.authorize_url(state, redirect_uri));
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let r = browser.get(url).send().await.unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(q["state"], state);
        oauth.exchange_code(&q["code"], redirect_uri).await.unwrap()
    }

    /// Every post Instagram (the sandbox) published.
    pub async fn instagram_media(&self) -> Vec<Value> {
        array(self.get("/_sandbox/instagram/media").await)
    }
}

/// Every LinkedIn product the sandbox knows: the two self-serve ones and the Community
/// Management API (post analytics).
pub fn all_products() -> Vec<String> {
    sandbox::LINKEDIN_PRODUCTS
        .map(|(name, _)| name.to_owned())
        .to_vec()
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        other => panic!("not a JSON array: {other}"),
    }
}

/// A fault on `route` with the fields of `extra` (`{"status": 500, "times": 2}`, ...).
pub fn fault(route: &str, extra: Value) -> Value {
    let mut f = json!({ "route": route });
    for (k, v) in extra.as_object().expect("the fault's fields as an object") {
        f[k] = v.clone();
    }
    f
}
