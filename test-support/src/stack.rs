//! The whole system for end-to-end tests: the sandbox (in process, no latency), a private
//! redis-server, the real api on a free port with the fresh database `#[sqlx::test]` made,
//! and real `workers` processes pointed at all three. Its owners are [`Visitor`]s of the api.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use shared::Config;
use sqlx::PgPool;

use crate::app::{VAULT_KEY, Visitor, database_url};
use crate::sandbox::{CLIENT_ID, CLIENT_SECRET, TestSandbox};
use crate::worker_process::WorkerProcess;
use crate::{TestCluster, TestRedis, free_port};

/// How often a test reads the api while it waits: 10 reads a second, half an owner's rate
/// limit (1,200 calls a minute), so a wait never makes its own 429.
pub const API_POLL: Duration = Duration::from_millis(100);

pub struct Stack {
    /// First, so the workers stop (and print their logs on a failure) before the Redis
    /// whose directory holds those logs goes away.
    pub workers: Vec<WorkerProcess>,
    pub db: PgPool,
    /// The test database's URL, for the worker processes.
    pub db_url: String,
    pub redis: TestRedis,
    /// A Redis Cluster of the test's own (three masters with a replica each) that the api
    /// and the workers use instead of `redis` (which then only holds the workers' logs).
    pub cluster: Option<TestCluster>,
    pub sandbox: TestSandbox,
    /// `http://127.0.0.1:<port>` of the api.
    pub api: String,
    pub images: tempfile::TempDir,
    /// Extra `AG_*` settings every worker gets.
    pub worker_env: Vec<(String, String)>,
}

impl Stack {
    pub async fn start(db: PgPool) -> Self {
        Self::start_with(db, sandbox::Options::default(), |_| {}).await
    }

    /// `configure` edits the config the api and (through the environment) the workers get;
    /// the sandbox runs without latency whatever `sandbox_options` say.
    pub async fn start_with(
        db: PgPool,
        sandbox_options: sandbox::Options,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        Self::start_on(db, sandbox_options, configure, None).await
    }

    /// The whole system on a Redis Cluster of its own, so the test may flush or kill its
    /// nodes without touching another test's data.
    pub async fn start_on_cluster(db: PgPool) -> Self {
        let cluster = tokio::task::spawn_blocking(TestCluster::start)
            .await
            .expect("start the test cluster");
        Self::start_on(db, sandbox::Options::default(), |_| {}, Some(cluster)).await
    }

    async fn start_on(
        db: PgPool,
        sandbox_options: sandbox::Options,
        configure: impl FnOnce(&mut Config),
        cluster: Option<TestCluster>,
    ) -> Self {
        let sandbox = TestSandbox::fast_with(sandbox_options).await;
        let redis = TestRedis::start();
        let images = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = Config::default();
        config.api.bind = format!("127.0.0.1:{port}");
        config.api.public_url = format!("http://127.0.0.1:{port}");
        config.api.http_workers = 1;
        config.redis.url = cluster
            .as_ref()
            .map_or_else(|| redis.url(), TestCluster::url);
        config.vault.key = Some(STANDARD.encode(VAULT_KEY));
        sandbox.point(&mut config);
        config.linkedin.image_poll_interval_ms = 20;
        config.storage.local_dir = images.path().display().to_string();
        config.website.allow_private = true;
        config.website.timeout_ms = 2_000;
        configure(&mut config);
        let app = api::Application::build_with(config.clone(), db.clone(), None)
            .await
            .unwrap();
        tokio::spawn(app.run_until_stopped());
        let worker_env = worker_env(&config);
        Self {
            db_url: database_url(&db).await,
            db,
            redis,
            cluster,
            sandbox,
            api: format!("http://127.0.0.1:{port}"),
            images,
            workers: Vec::new(),
            worker_env,
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
            &self.redis_url(),
            &self.redis.dir(),
            &args,
            &env,
        );
        worker.wait_ready().await;
        self.workers.push(worker);
    }

    /// The URL the api and the workers use: the cluster's when there is one.
    pub fn redis_url(&self) -> String {
        self.cluster
            .as_ref()
            .map_or_else(|| self.redis.url(), TestCluster::url)
    }

    /// A visitor of the api, signed in as nobody yet.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.api)
    }

    /// An owner signed up and in as `email`, who publishes as soon as a post is approved.
    pub async fn owner(&self, email: &str) -> Visitor {
        let owner = self.visitor();
        owner.sign_up(email).await;
        owner.publish_immediately().await;
        owner
    }

    /// `owner@example.com`, signed up and in.
    pub async fn signed_up_owner(&self) -> Visitor {
        self.owner("owner@example.com").await
    }

    /// The same, with LinkedIn connected (as member `ana` of the sandbox).
    pub async fn connected_owner(&self) -> Visitor {
        let owner = self.signed_up_owner().await;
        owner.connect_linkedin("ana").await;
        owner
    }

    /// Waits until the campaign's status is one of `want`; panics with the campaign and
    /// the workers' logs otherwise.
    pub async fn wait_status(
        &self,
        owner: &Visitor,
        campaign: i64,
        want: &[&str],
        within: Duration,
    ) -> Value {
        let mut c = Value::Null;
        let mut status = String::new();
        let found = crate::poll_every(within, API_POLL, async || {
            c = owner.campaign(campaign).await;
            status = c["campaign"]["status"].as_str().unwrap_or("").to_owned();
            let settled = matches!(status.as_str(), "completed" | "error" | "cancelled");
            want.contains(&status.as_str()) || settled
        })
        .await;
        assert!(
            found && want.contains(&status.as_str()),
            "campaign {campaign} is {status}, not {want:?}, after {within:?}: {}",
            serde_json::to_string_pretty(&c["campaign"]).unwrap()
        );
        c
    }

    /// Waits until no job of `queues` is ready, in flight or scheduled, and no outbox row
    /// waits to become one: the work is over, so nothing more can happen without a new
    /// cause. What a test waits for before it asserts that something did not happen.
    pub async fn wait_idle(&self, queues: &[&str], within: Duration) {
        let admin = jobs::admin::Admin::new(
            jobs::connect(&self.redis_url(), Duration::from_secs(5))
                .await
                .expect("the stack's Redis answers"),
            &jobs::Settings::default(),
        );
        let mut busy = Vec::new();
        let idle = crate::poll_until(within, async || {
            busy.clear();
            for queue in queues {
                let name = jobs::QueueName::new(queue).expect("a valid queue name");
                let s = admin.sizes(&name).await.expect("the queue sizes are read");
                if s.ready + s.in_flight + s.scheduled > 0 {
                    busy.push(format!("{queue}: {s:?}"));
                }
            }
            let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
                .fetch_one(&self.db)
                .await
                .expect("the outbox is counted");
            if outbox > 0 {
                busy.push(format!("{outbox} outbox rows"));
            }
            busy.is_empty()
        })
        .await;
        assert!(idle, "still busy after {within:?}: {busy:?}");
    }

    /// The jobs of `queue` waiting in its schedule (deferred or delayed), once `want` holds
    /// for them; panics with how many there were after `within` otherwise.
    pub async fn scheduled_jobs(
        &self,
        queue: &str,
        within: Duration,
        want: impl Fn(&[jobs::admin::JobView]) -> bool,
    ) -> Vec<jobs::admin::JobView> {
        let admin = jobs::admin::Admin::new(
            jobs::connect(&self.redis_url(), Duration::from_secs(5))
                .await
                .expect("the stack's Redis answers"),
            &jobs::Settings::default(),
        );
        let name = jobs::QueueName::new(queue).expect("a valid queue name");
        let mut page = Vec::new();
        let found = crate::poll_until(within, async || {
            page = admin
                .page(
                    &name,
                    jobs::admin::JobState::Scheduled,
                    &jobs::admin::JobFilter::default(),
                    None,
                    100,
                )
                .await
                .expect("the scheduled jobs are listed")
                .jobs;
            want(&page)
        })
        .await;
        assert!(
            found,
            "{} scheduled in {queue} after {within:?}",
            page.len()
        );
        page
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
        ("AG_LINKEDIN__CLIENT_ID".into(), CLIENT_ID.into()),
        ("AG_LINKEDIN__CLIENT_SECRET".into(), CLIENT_SECRET.into()),
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
        (
            "THROTTLE_FIRST_WAIT_MS",
            p.throttle_first_wait_ms.to_string(),
        ),
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
