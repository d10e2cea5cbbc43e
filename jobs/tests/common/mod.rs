//! Shared test setup: a private Redis, fast engine settings, and a recording job.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobs::{Client, Job, JobContext, JobError, QueueName, Registry, Settings};
use serde::{Deserialize, Serialize};
use test_support::{TestCluster, TestRedis};

/// Settings that make reclaim, the mover and pause checks happen within a second.
pub fn fast_settings() -> Settings {
    Settings {
        visibility_timeout: Duration::from_millis(1_500),
        block: Duration::from_millis(200),
        mover_interval: Duration::from_millis(50),
        heartbeat_interval: Duration::from_millis(200),
        ..Settings::default()
    }
}

/// A job whose behaviour the test chooses, and whose runs are recorded in memory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Step {
    pub tag: String,
    #[serde(default)]
    pub sleep_ms: u64,
    /// Fail while the attempt number is at most this.
    #[serde(default)]
    pub fail: u32,
    #[serde(default)]
    pub defer_ms: u64,
    #[serde(default)]
    pub panic: bool,
    #[serde(default)]
    pub permanent: bool,
    #[serde(default)]
    pub unique: Option<String>,
}

impl Job for Step {
    const KIND: &'static str = "step";
    const QUEUE: &'static str = "steps";
    const MAX_ATTEMPTS: u32 = 4;
    const BACKOFF: jobs::Backoff = jobs::Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
    };
    fn unique_key(&self) -> Option<String> {
        self.unique.clone()
    }
}

/// A job that never finishes on its own: its kind's timeout must cut it off.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hang;

impl Job for Hang {
    const KIND: &'static str = "hang";
    const QUEUE: &'static str = "steps";
    const MAX_ATTEMPTS: u32 = 2;
    const TIMEOUT: Duration = Duration::from_millis(200);
    const BACKOFF: jobs::Backoff = jobs::Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
    };
}

/// A job whose handler panics before it returns its future (before any `.await`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncPanic {
    pub tag: String,
}

impl Job for SyncPanic {
    const KIND: &'static str = "sync_panic";
    const QUEUE: &'static str = "steps";
    const MAX_ATTEMPTS: u32 = 2;
    const BACKOFF: jobs::Backoff = jobs::Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(20),
    };
}

/// tag → attempts that started, and attempts that completed.
#[derive(Clone, Default)]
pub struct Runs {
    pub started: Arc<Mutex<HashMap<String, Vec<u32>>>>,
    pub done: Arc<Mutex<HashMap<String, Vec<u32>>>>,
    pub deferred: Arc<Mutex<HashMap<String, u32>>>,
    /// Tags in the order their runs completed.
    pub order: Arc<Mutex<Vec<String>>>,
}

impl Runs {
    pub fn started(&self, tag: &str) -> Vec<u32> {
        self.started
            .lock()
            .unwrap()
            .get(tag)
            .cloned()
            .unwrap_or_default()
    }
    pub fn done(&self, tag: &str) -> Vec<u32> {
        self.done
            .lock()
            .unwrap()
            .get(tag)
            .cloned()
            .unwrap_or_default()
    }
    pub fn done_count(&self) -> usize {
        self.done.lock().unwrap().values().map(Vec::len).sum()
    }
}

pub fn registry(runs: &Runs) -> Registry {
    let runs = runs.clone();
    let sync_runs = runs.clone();
    Registry::new()
        .register(move |job: SyncPanic, ctx: JobContext| {
            sync_runs
                .started
                .lock()
                .unwrap()
                .entry(job.tag.clone())
                .or_default()
                .push(ctx.attempt);
            panic!("{} exploded before its first await", job.tag);
            #[allow(unreachable_code)]
            async {
                Ok(())
            }
        })
        .register(|_: Hang, _| async {
            std::future::pending::<()>().await;
            Ok(())
        })
        .register(move |step: Step, ctx: JobContext| {
            let runs = runs.clone();
            async move {
                runs.started
                    .lock()
                    .unwrap()
                    .entry(step.tag.clone())
                    .or_default()
                    .push(ctx.attempt);
                if step.defer_ms > 0 {
                    let mut deferred = runs.deferred.lock().unwrap();
                    let n = deferred.entry(step.tag.clone()).or_default();
                    if *n < 2 {
                        *n += 1;
                        return Err(JobError::defer_for(
                            Duration::from_millis(step.defer_ms),
                            "waiting for the test's quota",
                        ));
                    }
                }
                if step.sleep_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(step.sleep_ms)).await;
                }
                if step.panic {
                    panic!("step {} exploded", step.tag);
                }
                if step.permanent {
                    return Err(JobError::permanent("the lead no longer exists"));
                }
                if ctx.attempt <= step.fail {
                    return Err(JobError::retryable(format!(
                        "boom on attempt {}",
                        ctx.attempt
                    )));
                }
                runs.done
                    .lock()
                    .unwrap()
                    .entry(step.tag.clone())
                    .or_default()
                    .push(ctx.attempt);
                runs.order.lock().unwrap().push(step.tag.clone());
                Ok(())
            }
        })
}

pub fn steps() -> QueueName {
    QueueName::new("steps").unwrap()
}

/// Where a test's Redis is: a private server of its own, or the test binary's shared
/// Redis Cluster (three masters, a replica each), where the test keeps to a key prefix
/// of its own.
pub enum Target {
    Single(TestRedis),
    Cluster(&'static TestCluster),
}

impl Target {
    pub fn url(&self) -> String {
        match self {
            Self::Single(r) => r.url(),
            Self::Cluster(c) => c.url(),
        }
    }

    /// The private server, for the tests that kill or flush it (never run on the cluster).
    pub fn single(&mut self) -> &mut TestRedis {
        match self {
            Self::Single(r) => r,
            Self::Cluster(_) => panic!("this test needs a private redis-server"),
        }
    }
}

pub struct Env {
    pub redis: Target,
    pub client: Client,
    pub runs: Runs,
    /// The key prefix of this test (`ag:` on its own server).
    pub prefix: String,
}

/// A test on a private redis-server.
pub async fn env() -> Env {
    env_on(Target::Single(TestRedis::start()), "ag:".to_owned()).await
}

/// A test on the shared Redis Cluster, under a prefix no other test of the binary uses.
pub async fn cluster_env() -> Env {
    let prefix = format!("t{}:", uuid::Uuid::now_v7().simple());
    env_on(Target::Cluster(TestCluster::shared()), prefix).await
}

async fn env_on(redis: Target, prefix: String) -> Env {
    let settings = Settings {
        prefix: prefix.clone(),
        ..fast_settings()
    };
    let client = Client::connect(&redis.url(), settings).await.unwrap();
    Env {
        redis,
        client,
        runs: Runs::default(),
        prefix,
    }
}

/// Runs each named `async fn(Env)` twice: `name::single` on a private redis-server and
/// `name::cluster` on the shared Redis Cluster, where every command, transaction and
/// script whose keys span slots is refused.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn single() {
                    super::$name($crate::common::env().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn cluster() {
                    super::$name($crate::common::cluster_env().await).await;
                }
            }
        )*
    };
}

impl Env {
    /// This test's settings: the fast ones under its prefix.
    pub fn settings(&self) -> Settings {
        Settings {
            prefix: self.prefix.clone(),
            ..fast_settings()
        }
    }

    /// A key of the steps queue by its suffix (`stream`, `dead:jobs`), under this prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{{steps}}:{suffix}", self.prefix)
    }

    /// One raw command on the engine's own connection, for assertions on keys.
    pub async fn raw<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
        cmd.query_async(&mut self.client.connection())
            .await
            .unwrap()
    }

    pub async fn worker(&self, concurrency: usize) -> jobs::Running {
        self.worker_with(concurrency, fast_settings()).await
    }

    /// Starts a worker with `settings` under this test's prefix.
    pub async fn worker_with(&self, concurrency: usize, settings: Settings) -> jobs::Running {
        let settings = Settings {
            prefix: self.prefix.clone(),
            ..settings
        };
        jobs::runtime::start(
            &self.redis.url(),
            settings,
            registry(&self.runs),
            vec![jobs::QueueSpec {
                queue: steps(),
                concurrency,
            }],
        )
        .await
        .unwrap()
    }

    pub fn admin(&self) -> jobs::admin::Admin {
        jobs::admin::Admin::new(self.client.connection(), self.client.settings())
    }

    pub async fn sizes(&self) -> jobs::admin::QueueSizes {
        self.admin().sizes(&steps()).await.unwrap()
    }
}

pub fn step(tag: &str) -> Step {
    Step {
        tag: tag.to_owned(),
        ..Step::default()
    }
}

/// Reads up to `count` entries as consumer `name` and never acks them: a worker that
/// dies right after its read.
pub async fn read_as(client: &Client, name: &str, count: usize) -> Vec<jobs::stream::RawEntry> {
    let keys = client.keys(&steps());
    let mut conn = client.connection();
    jobs::stream::ensure_group(&mut conn, &keys).await.unwrap();
    jobs::stream::read(&mut conn, &keys, name, count, Duration::from_millis(1))
        .await
        .unwrap()
}

/// The first `limit` jobs of the steps queue in `state`, unfiltered, as the admin UI's
/// first page lists them.
pub async fn listed(
    admin: &jobs::admin::Admin,
    state: jobs::admin::JobState,
    limit: usize,
) -> Vec<jobs::admin::JobView> {
    admin
        .page(
            &steps(),
            state,
            &jobs::admin::JobFilter::default(),
            None,
            limit,
        )
        .await
        .unwrap()
        .jobs
}
