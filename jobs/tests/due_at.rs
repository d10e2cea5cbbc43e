//! When a job became due, as its handler learns it: the instant it was enqueued for (a
//! post's slot, long after the enqueue), or its enqueue. Waits, deferrals and failed
//! attempts move the job's next run, never that instant: a bound on waiting counts from it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::fast_settings;
use jobs::{Client, Job, JobError, QueueName, Registry};
use serde::{Deserialize, Serialize};
use test_support::TestRedis;
use test_support::wait_until;

const WAIT: Duration = Duration::from_secs(10);

/// Waits twice (a provider's "later", then one of our limits), fails once, then succeeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    tag: String,
}

impl Job for Slot {
    const KIND: &'static str = "slot";
    const QUEUE: &'static str = "slots";
    const BACKOFF: jobs::Backoff = jobs::Backoff {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(50),
    };
}

/// Each run's (tag, enqueued_at, due_at).
type Seen = Arc<Mutex<Vec<(String, u64, u64)>>>;

fn registry(seen: Seen) -> Registry {
    Registry::new().register(move |job: Slot, ctx: jobs::JobContext| {
        let seen = seen.clone();
        async move {
            let run = {
                let mut seen = seen.lock().unwrap();
                seen.push((job.tag, ctx.enqueued_at, ctx.due_at));
                seen.len()
            };
            match run {
                1 => Err(JobError::RetryAfter {
                    delay: Duration::from_millis(100),
                    message: "429".into(),
                }),
                2 => Err(JobError::defer_for(Duration::from_millis(100), "budget")),
                3 => Err(JobError::retryable("503")),
                _ => Ok(()),
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_due_from_the_instant_it_was_enqueued_for_through_its_waits() {
    let redis = TestRedis::start();
    let client = Client::connect(&redis.url(), fast_settings())
        .await
        .unwrap();
    let seen = Seen::default();
    let worker = jobs::runtime::start(
        &redis.url(),
        fast_settings(),
        registry(seen.clone()),
        vec![jobs::QueueSpec {
            queue: QueueName::new("slots").unwrap(),
            concurrency: 1,
        }],
    )
    .await
    .unwrap();
    // Enqueued now for an instant 600 ms away (a post's slot, in miniature).
    let slot = SystemTime::now() + Duration::from_millis(600);
    let slot_ms = u64::try_from(
        slot.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    client
        .enqueue_at(
            &Slot {
                tag: "later".into(),
            },
            slot,
        )
        .await
        .unwrap();
    assert!(wait_until(WAIT, || async { seen.lock().unwrap().len() == 4 }).await);
    let runs = seen.lock().unwrap().clone();
    for (_, enqueued_at, due_at) in &runs {
        assert!(*enqueued_at + 500 <= slot_ms, "enqueued before its slot");
        assert_eq!(*due_at, slot_ms, "due at its slot, whatever came between");
    }
    // Enqueued to run now: due from its enqueue.
    seen.lock().unwrap().clear();
    client.enqueue(&Slot { tag: "now".into() }).await.unwrap();
    assert!(wait_until(WAIT, || async { seen.lock().unwrap().len() == 4 }).await);
    for (_, enqueued_at, due_at) in seen.lock().unwrap().iter() {
        assert_eq!(due_at, enqueued_at);
    }
    worker.shutdown(WAIT).await;
}
