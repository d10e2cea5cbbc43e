//! The whole system for end-to-end tests: the sandbox (in process, no latency), a private
//! redis-server, the real api on a free port with the fresh database `#[sqlx::test]` made,
//! and real `workers` processes pointed at all three. `Owner` is a browser-like client of
//! the api (cookie jar, CSRF token).
#![allow(
    dead_code,
    reason = "each test file uses a different part of the stack"
)]

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::Config;
use sqlx::PgPool;
use test_support::{TestRedis, free_port};
use tokio::time::Instant;

use crate::harness::WorkerProcess;

pub const VAULT_KEY: [u8; 32] = [9; 32];
pub const PASSWORD: &str = "correct horse battery";

pub struct Stack {
    /// First, so the workers stop (and print their logs on a failure) before the Redis
    /// whose directory holds those logs goes away.
    pub workers: Vec<WorkerProcess>,
    pub db: PgPool,
    /// The test database's URL, for the worker processes.
    pub db_url: String,
    pub redis: TestRedis,
    pub sandbox: sandbox::Sandbox,
    /// `http://127.0.0.1:<port>` of the api.
    pub api: String,
    pub images: tempfile::TempDir,
    /// Extra `AG_*` settings every worker gets.
    pub worker_env: Vec<(String, String)>,
    pub sandbox_http: reqwest::Client,
}

impl Stack {
    pub async fn start(db: PgPool) -> Self {
        Self::start_with(db, sandbox::Options::default(), |_| {}).await
    }

    /// `configure` edits the config the api and (through the environment) the workers get.
    pub async fn start_with(
        db: PgPool,
        mut sandbox_options: sandbox::Options,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        sandbox_options.latency = sandbox::Latency::None;
        let sandbox = sandbox::Sandbox::start("127.0.0.1:0".parse().unwrap(), sandbox_options)
            .await
            .unwrap();
        let redis = TestRedis::start();
        let images = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = Config::default();
        config.api.bind = format!("127.0.0.1:{port}");
        config.api.public_url = format!("http://127.0.0.1:{port}");
        config.api.http_workers = 1;
        config.redis.url = redis.url();
        config.vault.key = Some(STANDARD.encode(VAULT_KEY));
        let s = sandbox.url();
        config.providers.google.places_base_url = format!("{s}/places");
        config.providers.google.gemini_base_url = format!("{s}/gemini");
        config.linkedin.client_id = Some("sandbox-client-id".into());
        config.linkedin.client_secret = Some("sandbox-client-secret".into());
        config.linkedin.authorize_url = format!("{s}/linkedin-www/oauth/v2/authorization");
        config.linkedin.token_url = format!("{s}/linkedin-www/oauth/v2/accessToken");
        config.linkedin.userinfo_url = format!("{s}/linkedin-api/v2/userinfo");
        config.linkedin.api_base_url = format!("{s}/linkedin-api");
        config.linkedin.image_poll_interval_ms = 20;
        config.storage.local_dir = images.path().display().to_string();
        config.website.allow_private = true;
        config.website.timeout_ms = 2_000;
        configure(&mut config);
        let app = api::Application::build_with(config.clone(), db.clone(), None)
            .await
            .unwrap();
        tokio::spawn(app.run_until_stopped());
        let name: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(&db)
            .await
            .unwrap();
        let base = std::env::var("DATABASE_URL").expect("DATABASE_URL (the test command sets it)");
        let mut db_url = url::Url::parse(&base).unwrap();
        db_url.set_path(&format!("/{name}"));
        let worker_env = worker_env(&config);
        Self {
            db,
            db_url: db_url.to_string(),
            redis,
            sandbox,
            api: format!("http://127.0.0.1:{port}"),
            images,
            workers: Vec::new(),
            worker_env,
            sandbox_http: reqwest::Client::new(),
        }
    }

    /// Starts a `workers` process on every pipeline queue (and the periodic one).
    pub async fn spawn_worker(&mut self, name: &str) {
        self.spawn_worker_with(name, &[]).await;
    }

    /// The same, with more command-line arguments (`--metrics-bind ADDR`).
    pub async fn spawn_worker_with(&mut self, name: &str, extra: &[&str]) {
        let mut env = self.worker_env.clone();
        env.push(("DATABASE_URL".into(), self.db_url.clone()));
        let mut args = vec![
            "--queues",
            "scrape,enrich,generate,publish,periodic",
            "--concurrency",
            "8",
        ];
        args.extend_from_slice(extra);
        let mut worker = WorkerProcess::spawn_with_relay(
            name,
            &self.redis.url(),
            &self.redis.dir(),
            &args,
            &env,
        );
        worker.wait_ready().await;
        self.workers.push(worker);
    }

    pub fn owner(&self) -> Owner {
        Owner::new(&self.api)
    }

    /// `owner@example.com`, signed up and in.
    pub async fn signed_up_owner(&self) -> Owner {
        let owner = self.owner();
        owner.sign_up("owner@example.com").await;
        owner
    }

    /// The same, with LinkedIn connected (as member `ana` of the sandbox).
    pub async fn connected_owner(&self) -> Owner {
        let owner = self.signed_up_owner().await;
        owner.connect_linkedin("ana").await;
        owner
    }

    /// Adds a sandbox fault (docs/sandbox.md, "Faults").
    pub async fn fault(&self, fault: Value) {
        let r = self
            .sandbox_http
            .post(format!("{}/_sandbox/faults", self.sandbox.url()))
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
        self.sandbox_http
            .delete(format!("{}/_sandbox/faults", self.sandbox.url()))
            .send()
            .await
            .unwrap();
    }

    /// Every post LinkedIn (the sandbox) stored.
    pub async fn posts(&self) -> Vec<Value> {
        self.sandbox_get("/_sandbox/posts").await
    }

    /// The sandbox's request log of one route.
    pub async fn calls(&self, route: &str) -> Vec<Value> {
        self.sandbox_get(&format!("/_sandbox/log?route={route}"))
            .await
    }

    async fn sandbox_get(&self, path: &str) -> Vec<Value> {
        self.sandbox_http
            .get(format!("{}{path}", self.sandbox.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Asserts no two stored posts have the same author and commentary: the one thing
    /// exactly-once publishing promises LinkedIn's readers.
    pub async fn assert_no_double_post(&self) {
        let posts = self.posts().await;
        let mut seen = std::collections::HashSet::new();
        for p in &posts {
            let key = (p["author"].to_string(), p["commentary"].to_string());
            assert!(seen.insert(key), "posted twice: {p}");
        }
    }

    /// Waits until the campaign's status is one of `want`; panics with the campaign and
    /// the workers' logs otherwise.
    pub async fn wait_status(
        &self,
        owner: &Owner,
        campaign: i64,
        want: &[&str],
        within: Duration,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let c = owner.campaign(campaign).await;
            let status = c["campaign"]["status"].as_str().unwrap_or("").to_owned();
            if want.contains(&status.as_str()) {
                return c;
            }
            let settled = matches!(status.as_str(), "completed" | "error" | "cancelled");
            if settled || Instant::now() > deadline {
                panic!(
                    "campaign {campaign} is {status}, not {want:?}, after {within:?}: {}",
                    serde_json::to_string_pretty(&c["campaign"]).unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The `AG_*` environment that gives a worker the api's configuration.
fn worker_env(c: &Config) -> Vec<(String, String)> {
    let mut env = vec![
        ("AG_VAULT__KEY".into(), STANDARD.encode(VAULT_KEY)),
        (
            "AG_PROVIDERS__GOOGLE__PLACES_BASE_URL".into(),
            c.providers.google.places_base_url.clone(),
        ),
        (
            "AG_PROVIDERS__GOOGLE__GEMINI_BASE_URL".into(),
            c.providers.google.gemini_base_url.clone(),
        ),
        ("AG_LINKEDIN__CLIENT_ID".into(), "sandbox-client-id".into()),
        (
            "AG_LINKEDIN__CLIENT_SECRET".into(),
            "sandbox-client-secret".into(),
        ),
        (
            "AG_LINKEDIN__TOKEN_URL".into(),
            c.linkedin.token_url.clone(),
        ),
        (
            "AG_LINKEDIN__USERINFO_URL".into(),
            c.linkedin.userinfo_url.clone(),
        ),
        (
            "AG_LINKEDIN__API_BASE_URL".into(),
            c.linkedin.api_base_url.clone(),
        ),
        ("AG_LINKEDIN__IMAGE_POLL_INTERVAL_MS".into(), "20".into()),
        ("AG_LINKEDIN__TIMEOUT_MS".into(), "2000".into()),
        (
            "AG_PROVIDERS__GOOGLE__TEXT_TIMEOUT_MS".into(),
            "2000".into(),
        ),
        (
            "AG_PROVIDERS__GOOGLE__IMAGE_TIMEOUT_MS".into(),
            "2000".into(),
        ),
        (
            "AG_PROVIDERS__GOOGLE__PLACES_TIMEOUT_MS".into(),
            "2000".into(),
        ),
        ("AG_STORAGE__LOCAL_DIR".into(), c.storage.local_dir.clone()),
        ("AG_WEBSITE__ALLOW_PRIVATE".into(), "true".into()),
        (
            "AG_WEBSITE__TIMEOUT_MS".into(),
            c.website.timeout_ms.to_string(),
        ),
        ("AG_QUEUE__VISIBILITY_TIMEOUT_MS".into(), "3000".into()),
        ("AG_QUEUE__BLOCK_MS".into(), "500".into()),
        ("AG_WORKERS__HEARTBEAT_INTERVAL_MS".into(), "500".into()),
        ("AG_WORKERS__SHUTDOWN_DEADLINE_MS".into(), "5000".into()),
    ];
    let p = &c.pipeline;
    for (k, v) in [
        ("AUTO_APPROVE_SCORE", p.auto_approve_score.to_string()),
        ("MAX_LEADS", p.max_leads.to_string()),
        ("STALL_AFTER_SECS", p.stall_after_secs.to_string()),
        ("RECONCILE_EVERY_SECS", p.reconcile_every_secs.to_string()),
        ("ANALYTICS_EVERY_SECS", p.analytics_every_secs.to_string()),
        ("GIVE_UP_WAITING_SECS", p.give_up_waiting_secs.to_string()),
        ("THROTTLE_WAIT_SECS", p.throttle_wait_secs.to_string()),
        ("DUPLICATE_WINDOW_SECS", p.duplicate_window_secs.to_string()),
        ("LIMITS__LEADS_PER_DAY", p.limits.leads_per_day.to_string()),
        (
            "LIMITS__CONTENTS_PER_DAY",
            p.limits.contents_per_day.to_string(),
        ),
        (
            "LIMITS__USER_POSTS_PER_DAY",
            p.limits.user_posts_per_day.to_string(),
        ),
    ] {
        env.push((format!("AG_PIPELINE__{k}"), v));
    }
    if let Some(ms) = p.retry_base_ms {
        env.push(("AG_PIPELINE__RETRY_BASE_MS".into(), ms.to_string()));
    }
    let l = &p.limits;
    for (name, rate) in [
        ("PLACES", l.places),
        ("GEMINI_TEXT", l.gemini_text),
        ("IMAGE", l.image),
        ("LINKEDIN_APP", l.linkedin_app),
        ("USER_PLACES", l.user_places),
        ("USER_GEMINI_TEXT", l.user_gemini_text),
        ("USER_IMAGE", l.user_image),
    ] {
        env.push((
            format!("AG_PIPELINE__LIMITS__{name}__PER_MINUTE"),
            rate.per_minute.to_string(),
        ));
        env.push((
            format!("AG_PIPELINE__LIMITS__{name}__BURST"),
            rate.burst.to_string(),
        ));
    }
    env
}

/// A browser of the api: its own cookies, and the CSRF token of its session.
pub struct Owner {
    pub http: reqwest::Client,
    api: String,
    csrf: Mutex<String>,
}

impl Owner {
    fn new(api: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap(),
            api: api.to_owned(),
            csrf: Mutex::new(String::new()),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.api))
            .header("x-csrf-token", self.csrf.lock().unwrap().clone());
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    /// Signs in again (a Redis that lost its data lost the sessions too).
    pub async fn sign_in(&self, email: &str) {
        let body = self
            .ok(
                Method::POST,
                "/api/auth/sign-in",
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        *self.csrf.lock().unwrap() = body["csrf_token"].as_str().unwrap().to_owned();
    }

    pub async fn sign_up(&self, email: &str) {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/auth/sign-up",
                Some(json!({"email": email, "password": PASSWORD, "name": "Ana"})),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        self.sign_in(email).await;
        // These tests follow each post from approval to LinkedIn: publish as soon as
        // approved (the schedule's own tests set slots).
        self.set_schedule(
            json!({"time_zone": "Europe/Paris", "days": [1, 2, 3, 4, 5, 6, 7],
                                 "times": ["09:00"], "per_day": 100, "immediate": true}),
        )
        .await;
    }

    /// Sets the owner's publishing schedule.
    pub async fn set_schedule(&self, schedule: Value) -> Value {
        self.ok(Method::PUT, "/api/profile/schedule", Some(schedule))
            .await
    }

    /// Through the sandbox's OAuth (consent given at once with `auto=allow`), as a browser
    /// would: the api's callback then stores the sealed grant.
    pub async fn connect_linkedin(&self, member: &str) {
        let body = self
            .ok(Method::POST, "/api/profile/linkedin/connect", None)
            .await;
        let url = format!(
            "{}&auto=allow&member={member}",
            body["authorize_url"].as_str().unwrap()
        );
        // The browser ends on the dashboard's profile page (or its 404 while the pages do not
        // exist); what matters is what the callback stored.
        self.http.get(url).send().await.unwrap();
        let profile = self.ok(Method::GET, "/api/profile", None).await;
        assert_eq!(profile["linkedin"]["connected"], true, "{profile}");
    }

    /// Creates and launches a campaign; returns its id.
    pub async fn launch(&self, name: &str, industry: &str, location: &str) -> i64 {
        let c = self
            .ok(
                Method::POST,
                "/api/campaigns",
                Some(json!({"name": name, "industry": industry, "location": location})),
            )
            .await;
        let id = c["id"].as_i64().unwrap();
        self.ok(Method::POST, &format!("/api/campaigns/{id}/launch"), None)
            .await;
        id
    }

    /// A dashboard page in `lang` (the account's language is switched first, as the
    /// language menu does), as HTML.
    pub async fn page_in(&self, lang: &str, path: &str) -> String {
        let switch = self
            .http
            .get(format!("{}/language/{lang}?next={path}", self.api))
            .send()
            .await
            .unwrap();
        assert!(
            switch.status().is_success(),
            "{lang} {path}: {}",
            switch.status()
        );
        switch.text().await.unwrap()
    }

    pub async fn campaign(&self, id: i64) -> Value {
        self.ok(Method::GET, &format!("/api/campaigns/{id}"), None)
            .await
    }

    /// Approves every pending content of the owner; returns how many.
    pub async fn approve_pending(&self) -> usize {
        let pending = self
            .ok(
                Method::GET,
                "/api/contents?status=pending&per_page=100",
                None,
            )
            .await;
        let items = pending["items"].as_array().cloned().unwrap_or_default();
        for c in &items {
            let id = c["id"].as_i64().unwrap();
            self.ok(Method::POST, &format!("/api/contents/{id}/approve"), None)
                .await;
        }
        items.len()
    }
}
