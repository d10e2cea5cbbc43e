//! An in-process sandbox per test and configs pointing the real clients at it. Each test
//! binary uses part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::{Value, json};
use shared::config::{GoogleConfig, LinkedInConfig};

pub struct Env {
    pub sandbox: sandbox::Sandbox,
    pub url: String,
    control: reqwest::Client,
}

impl Env {
    pub async fn start(options: sandbox::Options) -> Self {
        let sandbox = sandbox::Sandbox::start("127.0.0.1:0".parse().unwrap(), options)
            .await
            .unwrap();
        let url = sandbox.url();
        Self {
            sandbox,
            url,
            control: reqwest::Client::new(),
        }
    }

    pub async fn fast() -> Self {
        Self::start(sandbox::Options {
            latency: sandbox::Latency::None,
            ..Default::default()
        })
        .await
    }

    /// The Google settings with the sandbox's prefixes, `key` and 500 ms timeouts.
    pub fn google(&self, key: &str) -> GoogleConfig {
        let mut c = shared::Config::default().providers.google;
        c.places_base_url = format!("{}/places", self.url);
        c.gemini_base_url = format!("{}/gemini", self.url);
        c.api_key = Some(key.into());
        c.places_timeout_ms = 500;
        c.text_timeout_ms = 500;
        c.image_timeout_ms = 500;
        c
    }

    pub fn linkedin(&self, client_id: &str, secret: &str) -> LinkedInConfig {
        let mut c = shared::Config::default().linkedin;
        let www = format!("{}/linkedin-www", self.url);
        let api = format!("{}/linkedin-api", self.url);
        c.client_id = Some(client_id.into());
        c.client_secret = Some(secret.into());
        c.authorize_url = format!("{www}/oauth/v2/authorization");
        c.token_url = format!("{www}/oauth/v2/accessToken");
        c.userinfo_url = format!("{api}/v2/userinfo");
        c.api_base_url = api;
        c.scope = "openid profile w_member_social r_member_postAnalytics".into();
        c.timeout_ms = 500;
        c.image_poll_interval_ms = 10;
        c.image_poll_max_ms = 5_000;
        c
    }

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
            "{fault}: {}",
            r.text().await.unwrap()
        );
    }

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

    pub async fn control_post(&self, path: &str, body: Value) {
        let r = self
            .control
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}");
    }

    pub async fn posts(&self) -> Vec<Value> {
        self.get("/_sandbox/posts")
            .await
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn log_len(&self, route: &str) -> usize {
        self.get(&format!("/_sandbox/log?route={route}"))
            .await
            .as_array()
            .unwrap()
            .len()
    }

    /// Connects a member through the real OAuth client: `?auto=allow`, the redirect's code,
    /// the exchange. Returns the grant.
    pub async fn connect(
        &self,
        config: &LinkedInConfig,
        state: &str,
    ) -> shared::providers::linkedin_oauth::Grant {
        use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
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

pub fn fault(route: &str, extra: Value) -> Value {
    let mut f = json!({"route": route});
    for (k, v) in extra.as_object().unwrap() {
        f[k] = v.clone();
    }
    f
}
