//! The api as its clients see it: `spawn_app` runs the real `Application` on port 0 with its
//! own redis-server and the fresh database `#[sqlx::test]` made, and gives the test
//! visitors (one cookie jar each) plus readers for what the api left behind (outbox rows,
//! queued jobs). Contents are written by workers in production; `insert_content` writes
//! them in SQL. `TEST_LOG=1 cargo test -p api` shows the app's logs.
//!
//! A test sometimes ends about 5 s late, and with `--nocapture` prints "failed to delete
//! database": sqlx 0.8's `Pool::close` can miss a connection the app's worker thread was
//! still handing back (its release ping races the close), so `DROP DATABASE` waits for it.
//! Harmless: the next run drops that database first.

use std::sync::{Arc, Once};
use std::time::Duration;

pub use crate::PASSWORD;
pub use crate::visitor::{Visitor, error_code, retry_after};
use crate::{TestCluster, TestRedis};
use api::Application;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jobs::QueueName;
use jobs::keys::QueueKeys;
use serde_json::Value;
use shared::Config;
use shared::db::users::{self, NewUser, Role};
use shared::providers::linkedin_oauth::LinkedInConnect;
use sqlx::PgPool;

/// The vault key of every test app: 32 bytes, so sealed tokens can be opened in assertions.
pub const VAULT_KEY: [u8; 32] = [7; 32];
/// The queue key prefix of the default config.
pub const PREFIX: &str = "ag:";
/// Where the api thinks browsers reach it; LinkedIn redirects are built from it.
pub const PUBLIC_URL: &str = "http://app.test";
/// How long `wait_for_jobs` gives the outbox relay (it is woken by NOTIFY, so it
/// normally takes milliseconds; its fallback poll is every 2 s).
const RELAY_DEADLINE: Duration = Duration::from_secs(10);

pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub db: PgPool,
    /// Killing it is how a test takes Redis away from the running app.
    pub redis: AppRedis,
    /// The first user's visitor; `visitor()` makes more.
    pub user: Visitor,
    /// The clock the app judges sessions' idleness on: stop it and move it forward to
    /// make a session idle without waiting.
    pub clock: api::clock::Clock,
}

/// The app's Redis: a private redis-server, or the test binary's shared Redis Cluster.
pub enum AppRedis {
    Single(TestRedis),
    Cluster(&'static TestCluster),
}

impl AppRedis {
    pub fn url(&self) -> String {
        match self {
            Self::Single(r) => r.url(),
            Self::Cluster(c) => c.url(),
        }
    }

    /// A connection to the private server (tests of one server only).
    pub fn conn(&self) -> redis::Connection {
        match self {
            Self::Single(r) => r.conn(),
            Self::Cluster(_) => panic!("this test needs a private redis-server"),
        }
    }

    /// Kills the private server (tests of one server only).
    pub fn kill(&mut self) {
        match self {
            Self::Single(r) => r.kill(),
            Self::Cluster(_) => panic!("this test needs a private redis-server"),
        }
    }
}

/// The app on the shared Redis Cluster (three masters with a replica each).
pub async fn spawn_app_on_cluster(db: PgPool) -> TestApp {
    spawn_app_on(db, AppRedis::Cluster(TestCluster::shared()), |_| {}, None).await
}

pub async fn spawn_app(db: PgPool) -> TestApp {
    spawn_app_with(db, |_| {}, None).await
}

/// `configure` edits the test config before the app is built; `linkedin` replaces the
/// client the config would give (none: LinkedIn is not configured, connect answers 503).
pub async fn spawn_app_with(
    db: PgPool,
    configure: impl FnOnce(&mut Config),
    linkedin: Option<Arc<dyn LinkedInConnect>>,
) -> TestApp {
    spawn_app_on(
        db,
        AppRedis::Single(TestRedis::start()),
        configure,
        linkedin,
    )
    .await
}

async fn spawn_app_on(
    db: PgPool,
    redis: AppRedis,
    configure: impl FnOnce(&mut Config),
    linkedin: Option<Arc<dyn LinkedInConnect>>,
) -> TestApp {
    init_logs();
    let mut config = test_config(&redis.url());
    configure(&mut config);
    let app = Application::build_with(config, db.clone(), linkedin)
        .await
        .expect("test app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let clock = app.clock();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        user: Visitor::new(&address),
        clock,
        address,
        db,
        redis,
    }
}

/// Port 0, the test vault key, one HTTP worker. The database URL is never used: the pool
/// comes from `#[sqlx::test]`.
pub fn test_config(redis_url: &str) -> Config {
    let mut config = Config::default();
    config.api.bind = "127.0.0.1:0".into();
    config.api.public_url = PUBLIC_URL.into();
    config.api.http_workers = 1;
    config.redis.url = redis_url.into();
    config.vault.key = Some(STANDARD.encode(VAULT_KEY));
    config.storage.local_dir = std::env::temp_dir()
        .join("ag-api-test-images")
        .display()
        .to_string();
    config
}

fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .init();
        }
    });
}

impl std::ops::Deref for TestApp {
    type Target = Visitor;

    fn deref(&self) -> &Visitor {
        &self.user
    }
}

impl TestApp {
    /// A second browser: another cookie jar, signed in as nobody yet.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.address)
    }

    /// A new browser signed up as `email`.
    pub async fn other_user(&self, email: &str) -> Visitor {
        let browser = self.visitor();
        browser.sign_up(email).await;
        browser
    }

    /// An admin account, made the way `api create-user --admin` makes it (there is no
    /// sign-up for admins), signed in in a new browser.
    pub async fn admin(&self, email: &str) -> Visitor {
        let hash = api::password::hash(PASSWORD.into()).await.unwrap();
        users::create(
            &self.db,
            &NewUser {
                email,
                name: "Root",
                password_hash: &hash,
                role: Role::Admin,
            },
        )
        .await
        .unwrap();
        let browser = self.visitor();
        browser.sign_in_as(email).await;
        browser
    }

    pub async fn user_id(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Outbox rows of this job kind the relay has not moved yet.
    pub async fn outbox_rows(&self, kind: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = $1")
            .bind(kind)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Jobs waiting in a queue: its stream (`ag:{scrape}:stream`) plus its scheduled set.
    pub async fn jobs_in_queue(&self, queue: &str) -> u64 {
        let keys = QueueKeys::new(PREFIX, &QueueName::new(queue).unwrap());
        let mut conn = jobs::connect(&self.redis.url(), Duration::from_secs(5))
            .await
            .unwrap();
        let (ready, scheduled): (u64, u64) = redis::pipe()
            .cmd("XLEN")
            .arg(&keys.stream)
            .cmd("ZCARD")
            .arg(&keys.scheduled)
            .query_async(&mut conn)
            .await
            .unwrap();
        ready + scheduled
    }

    /// The envelopes of the jobs ready in a queue's stream, oldest first (as JSON: `kind`,
    /// `args`, ...): what a worker would take next.
    pub async fn ready_jobs(&self, queue: &str) -> Vec<Value> {
        let keys = QueueKeys::new(PREFIX, &QueueName::new(queue).unwrap());
        let mut conn = jobs::connect(&self.redis.url(), Duration::from_secs(5))
            .await
            .unwrap();
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&keys.stream)
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .unwrap();
        reply
            .ids
            .iter()
            .map(|entry| {
                let envelope: String = entry.get("e").expect("a job envelope");
                serde_json::from_str(&envelope).unwrap()
            })
            .collect()
    }

    /// Waits until the relay has moved every `kind` row out of the outbox and `queue` holds
    /// `expected` jobs; fails with both counts if that does not happen in time.
    pub async fn wait_for_jobs(&self, kind: &str, queue: &str, expected: u64) {
        let (mut rows, mut jobs) = (0, 0);
        let moved = crate::poll_until(RELAY_DEADLINE, async || {
            rows = self.outbox_rows(kind).await;
            jobs = self.jobs_in_queue(queue).await;
            rows == 0 && jobs == expected
        })
        .await;
        assert!(
            moved,
            "expected 0 {kind} outbox rows and {expected} jobs in {queue}; \
             have {rows} rows and {jobs} jobs"
        );
    }

    /// A lead of a campaign, as the scrape job would store it.
    pub async fn insert_lead(&self, campaign_id: i64, name: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO leads (campaign_id, place_id, business_name, city, website, rating)
             VALUES ($1, $2, $3, 'Lyon', 'https://example.com', 4.5) RETURNING id",
        )
        .bind(campaign_id)
        .bind(format!("place-{name}"))
        .bind(name)
        .fetch_one(&self.db)
        .await
        .unwrap()
    }

    /// A lead and its content, as the generate job would store them; returns the content id.
    pub async fn insert_content(&self, campaign_id: i64, score: i16, status: &str) -> i64 {
        let lead_id = self
            .insert_lead(campaign_id, &format!("lead-{}", next_suffix()))
            .await;
        sqlx::query_scalar(
            "INSERT INTO contents (lead_id, campaign_id, user_id, text, hashtags, quality_score,
                                   score_breakdown, status)
             SELECT $1, c.id, c.user_id, 'Fresh bread every morning in Lyon.',
                    ARRAY['bakery', 'lyon'], $3, '{\"relevance\": 30}', $4
             FROM campaigns c WHERE c.id = $2
             RETURNING id",
        )
        .bind(lead_id)
        .bind(campaign_id)
        .bind(score)
        .bind(status)
        .fetch_one(&self.db)
        .await
        .unwrap()
    }

    /// Publishes pipeline events on the users' channels the way the workers do
    /// (`shared::events`, on this app's Redis).
    pub async fn publisher(&self) -> shared::events::Events {
        let conn = jobs::connect(&self.redis.url(), Duration::from_secs(5))
            .await
            .unwrap();
        shared::events::Events::new(conn, PREFIX)
    }

    /// Marks LinkedIn connected in SQL, for tests about approvals rather than OAuth.
    pub async fn connect_linkedin_in_db(&self, user_id: i64) {
        sqlx::query(
            "UPDATE user_profiles SET linkedin_connected = true,
                    linkedin_access_token = '\\x01'::bytea,
                    linkedin_member_urn = 'urn:li:person:test',
                    linkedin_token_expires_at = now() + interval '60 days'
             WHERE user_id = $1",
        )
        .bind(user_id)
        .execute(&self.db)
        .await
        .unwrap();
    }
}

/// The URL of the database `#[sqlx::test]` made for this test, for processes (workers) that
/// connect on their own: `DATABASE_URL` with that database's name.
pub async fn database_url(db: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(db)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL (the test command sets it)");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn next_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
