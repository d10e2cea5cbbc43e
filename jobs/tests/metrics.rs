//! The engine's metrics count what happened to each job, per kind and fate, as a worker's
//! `/metrics` shows them. A test binary of its own: the counters are process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Step, env, step};
use serde::{Deserialize, Serialize};
use test_support::wait_until;

const WAIT: Duration = Duration::from_secs(15);

/// A kind no handler of this worker knows.
#[derive(Serialize, Deserialize)]
struct Stranger;

impl jobs::Job for Stranger {
    const KIND: &'static str = "stranger";
    const QUEUE: &'static str = "steps";
}

fn scrape() -> String {
    let mut registry = prometheus_client::registry::Registry::with_prefix("astrogrowth");
    jobs::metrics::register(&mut registry);
    let mut out = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
    out
}

/// The value of one series, 0 when it is absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fate_is_counted_once_per_kind() {
    let env = env().await;
    let worker = env.worker(4).await;
    let jobs = [
        step("ok"),
        // One retry, then done.
        Step {
            fail: 1,
            ..step("flaky")
        },
        // Deferred twice by the handler (no attempt used), then done.
        Step {
            defer_ms: 20,
            ..step("waits")
        },
        Step {
            permanent: true,
            ..step("gone")
        },
        // Three retries, then dead on the fourth and last attempt.
        Step {
            fail: 10,
            ..step("doomed")
        },
    ];
    for j in &jobs {
        env.client.enqueue(j).await.unwrap();
    }
    env.client.enqueue(&Stranger).await.unwrap();
    let k = "queue=\"steps\",kind=\"step\"";
    let expected = [
        (format!("astrogrowth_jobs_completed_total{{{k}}}"), 3.0),
        (format!("astrogrowth_jobs_retried_total{{{k}}}"), 4.0),
        (format!("astrogrowth_jobs_dead_total{{{k}}}"), 2.0),
        (
            format!("astrogrowth_jobs_deferred_total{{{k},reason=\"handler_wait\"}}"),
            2.0,
        ),
        (
            "astrogrowth_jobs_deferred_total{queue=\"steps\",kind=\"unregistered\",reason=\"unknown_kind\"}"
                .to_owned(),
            1.0,
        ),
    ];
    let done = wait_until(WAIT, || async {
        let text = scrape();
        expected.iter().all(|(s, v)| value(&text, s) == *v)
    })
    .await;
    let text = scrape();
    assert!(done, "expected {expected:?} in\n{text}");
    // The run times, by the fate each run came to.
    for (outcome, n) in [
        ("completed", 3.0),
        ("retried", 4.0),
        ("deferred", 2.0),
        ("dead", 2.0),
    ] {
        let series = format!("astrogrowth_job_duration_seconds_count{{{k},outcome=\"{outcome}\"}}");
        assert_eq!(value(&text, &series), n, "{series}\n{text}");
    }
    // No provider wait here, and the unknown kind never took a label of its own.
    assert_eq!(
        value(
            &text,
            &format!("astrogrowth_jobs_deferred_total{{{k},reason=\"provider_wait\"}}")
        ),
        0.0
    );
    assert!(!text.contains("stranger"), "{text}");
    // The slots: four, none busy once everything is settled.
    assert_eq!(
        value(&text, "astrogrowth_worker_slots{queue=\"steps\"}"),
        4.0
    );
    assert_eq!(
        value(&text, "astrogrowth_worker_slots_busy{queue=\"steps\"}"),
        0.0
    );
    worker.shutdown(WAIT).await;
}
