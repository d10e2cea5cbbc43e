//! A unique key lives as long as its job: a job that waits (scheduled, deferred, retried)
//! past its kind's `UNIQUE_FOR` still blocks a second copy, and lets go when it ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::fast_settings;
use jobs::{Client, Enqueued, Job, JobError, QueueName, Registry};
use serde::{Deserialize, Serialize};
use test_support::TestRedis;
use test_support::wait_until;

const WAIT: Duration = Duration::from_secs(10);

/// A unique job whose key, by its kind, should block a copy for 400 ms only.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Post {
    content_id: i64,
    /// What the first run answers: "defer" or "fail".
    first: String,
}

impl Job for Post {
    const KIND: &'static str = "post";
    const QUEUE: &'static str = "posts";
    const UNIQUE_FOR: Duration = Duration::from_millis(400);
    const BACKOFF: jobs::Backoff = jobs::Backoff {
        base: Duration::from_millis(1_500),
        cap: Duration::from_millis(1_500),
    };
    fn unique_key(&self) -> Option<String> {
        Some(format!("post:{}", self.content_id))
    }
}

/// Runs `Post`: the first run defers or fails as the job says (waiting 1.5 s, well past
/// the 400 ms window), the next one succeeds. Counts runs that succeeded.
fn registry(done: Arc<AtomicU32>, runs: Arc<AtomicU32>) -> Registry {
    Registry::new().register(move |post: Post, _ctx| {
        let (done, runs) = (done.clone(), runs.clone());
        async move {
            if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(match post.first.as_str() {
                    "defer" => {
                        JobError::defer_for(Duration::from_millis(1_500), "daily post limit")
                    }
                    _ => JobError::retryable("LinkedIn answered 503"),
                });
            }
            done.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    })
}

async fn start(redis: &TestRedis, done: &Arc<AtomicU32>, runs: &Arc<AtomicU32>) -> jobs::Running {
    jobs::runtime::start(
        &redis.url(),
        fast_settings(),
        registry(done.clone(), runs.clone()),
        vec![jobs::QueueSpec {
            queue: QueueName::new("posts").unwrap(),
            concurrency: 2,
        }],
    )
    .await
    .unwrap()
}

/// A job deferred after its first run keeps its key until it is done, then releases it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_job_deferred_past_its_window_keeps_its_key_until_done() {
    let redis = TestRedis::start();
    let client = Client::connect(&redis.url(), fast_settings())
        .await
        .unwrap();
    let (done, runs) = (Arc::default(), Arc::<AtomicU32>::default());
    let worker = start(&redis, &done, &runs).await;
    let post = Post {
        content_id: 7,
        first: "defer".to_owned(),
    };
    let original = client.enqueue(&post).await.unwrap();
    assert!(matches!(original, Enqueued::New(_)));
    assert!(wait_until(WAIT, || async { runs.load(Ordering::SeqCst) == 1 }).await);
    // Past the kind's 400 ms window, the job still waits in the scheduled set: a second
    // copy is refused. The window is a key's expiry on Redis's own clock, which a test
    // cannot move: 700 ms is the window and 300 ms more for Redis to expire it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(done.load(Ordering::SeqCst), 0, "the job still waits");
    assert_eq!(
        client.enqueue(&post).await.unwrap(),
        Enqueued::Duplicate(original.id().to_owned()),
        "a job that waits past UNIQUE_FOR let a copy in"
    );
    // Done: the key is released, the next enqueue is a new job.
    assert!(wait_until(WAIT, || async { done.load(Ordering::SeqCst) == 1 }).await);
    assert!(
        wait_until(WAIT, || async {
            matches!(client.enqueue(&post).await.unwrap(), Enqueued::New(_))
        })
        .await
    );
    worker.shutdown(WAIT).await;
}

/// A retry's delay is jittered (it may be anything up to the backoff's ceiling), so this
/// one reads the key's expiry instead of waiting: it must reach the retry's run time plus
/// the kind's window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_job_retried_keeps_its_key_until_due_plus_its_window() {
    let redis = TestRedis::start();
    let client = Client::connect(&redis.url(), fast_settings())
        .await
        .unwrap();
    let (done, runs) = (Arc::default(), Arc::<AtomicU32>::default());
    let worker = start(&redis, &done, &runs).await;
    let post = Post {
        content_id: 8,
        first: "fail".to_owned(),
    };
    let original = client.enqueue(&post).await.unwrap();
    let mut conn = redis.conn();
    let mut retry_at = None;
    assert!(
        wait_until(WAIT, || {
            let score: Option<u64> = redis::cmd("ZSCORE")
                .arg("ag:{posts}:scheduled:retrying")
                .arg(original.id())
                .query(&mut conn)
                .unwrap();
            retry_at = score;
            async move { score.is_some() }
        })
        .await
    );
    let pexpire_at: i64 = redis::cmd("PEXPIRETIME")
        .arg("ag:{posts}:unique:post:8")
        .query(&mut conn)
        .unwrap();
    let retry_at = i64::try_from(retry_at.unwrap()).unwrap();
    assert!(
        pexpire_at >= retry_at + 400 - 50,
        "the key expires at {pexpire_at}, before the retry at {retry_at} plus the window"
    );
    assert!(wait_until(WAIT, || async { done.load(Ordering::SeqCst) == 1 }).await);
    assert!(
        wait_until(WAIT, || async {
            matches!(client.enqueue(&post).await.unwrap(), Enqueued::New(_))
        })
        .await
    );
    worker.shutdown(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_job_scheduled_past_its_window_keeps_its_key_until_done() {
    let redis = TestRedis::start();
    let client = Client::connect(&redis.url(), fast_settings())
        .await
        .unwrap();
    let post = Post {
        content_id: 9,
        first: "succeed".to_owned(),
    };
    let original = client
        .enqueue_in(&post, Duration::from_millis(1_500))
        .await
        .unwrap();
    // The window is a key's expiry on Redis's own clock, which a test cannot move: 700 ms
    // is the 400 ms window and 300 ms more for Redis to expire it, still well before the
    // job's run at 1.5 s.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        client.enqueue(&post).await.unwrap(),
        Enqueued::Duplicate(original.id().to_owned()),
        "a job scheduled past UNIQUE_FOR let a copy in"
    );
    let bulk = client
        .enqueue_bulk(std::slice::from_ref(&post))
        .await
        .unwrap();
    assert_eq!(bulk, vec![Enqueued::Duplicate(original.id().to_owned())]);
    // The first run (which fails here) and its retry both keep the key; the success frees it.
    let (done, runs) = (Arc::default(), Arc::<AtomicU32>::default());
    let worker = start(&redis, &done, &runs).await;
    assert!(wait_until(WAIT, || async { done.load(Ordering::SeqCst) == 1 }).await);
    assert!(
        wait_until(WAIT, || async {
            matches!(client.enqueue(&post).await.unwrap(), Enqueued::New(_))
        })
        .await
    );
    worker.shutdown(WAIT).await;
}
