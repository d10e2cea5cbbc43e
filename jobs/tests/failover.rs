//! A master of a Redis Cluster dies under load (SIGKILL) and its replica takes over.
//!
//! What the engine guarantees, and this test checks, with `enqueue_replicas = 1`:
//! - every job whose enqueue returned Ok (the master and one replica held it) runs to
//!   completion: the promoted replica has it;
//! - delivery stays at least once: a job a worker finished may run again when its ack
//!   (asynchronously replicated, like every write) was lost with the dead master, so the
//!   repeats are bounded by the jobs finished around the kill, never a whole queue;
//! - the same worker process goes on after the failover: nothing is restarted.
//!
//! An enqueue that failed (the cluster was electing, or the replica did not confirm in
//! time) is retried by the producer, as a real one would: that job may then run twice.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Runs, fast_settings, registry, step, steps};
use futures::FutureExt as _;
use jobs::{Client, Settings};
use test_support::TestCluster;
use test_support::{wait_for, wait_until};

/// Jobs a worker may hold at once (running plus read-ahead): more repeats than a few
/// batches of these would mean acks were lost beyond the failover window.
const CONCURRENCY: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_dies_under_load_and_no_acknowledged_job_is_lost() {
    let mut cluster = TestCluster::start();
    let settings = Settings {
        enqueue_replicas: 1,
        enqueue_replicas_timeout: Duration::from_millis(500),
        ..fast_settings()
    };
    let url = cluster.url();
    let client = Client::connect(&url, settings.clone()).await.unwrap();
    let runs = Runs::default();
    let mut worker = jobs::runtime::start(
        &url,
        settings,
        registry(&runs),
        vec![jobs::QueueSpec {
            queue: steps(),
            concurrency: CONCURRENCY,
        }],
    )
    .await
    .unwrap();

    // A steady producer: one job after another, each retried until acknowledged.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let producer = {
        let (client, acked, failures) = (client.clone(), acked.clone(), failures.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !*stop_rx.borrow() {
                let tag = format!("j{n}");
                let mut job = step(&tag);
                job.sleep_ms = 2;
                // The producer's own pace and its pause before a retry, as a real one
                // has: the load, not a wait of the test.
                loop {
                    match client.enqueue(&job).await {
                        Ok(_) => break,
                        Err(e) => {
                            failures.lock().unwrap().push(e.to_string());
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                acked.lock().unwrap().push(tag);
                n += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    // Load before the kill, then the master of the queue's slot dies.
    assert!(
        wait_until(Duration::from_secs(20), || async {
            runs.done_count() >= 200
        })
        .await
    );
    let victim = cluster.master_of(&client.keys(&steps()).stream);
    let before = acked.lock().unwrap().len();
    cluster.kill_node(victim);
    let killed_at = Instant::now();

    // Its replica takes over; the old master comes back as a replica, so the new master
    // has a replica to confirm enqueues again.
    wait_for(
        Duration::from_secs(30),
        "a replica takes over the slot",
        async || {
            cluster
                .try_master_of(&client.keys(&steps()).stream)
                .is_some_and(|m| m != victim)
        },
    )
    .await;
    let failover = killed_at.elapsed();
    cluster.restart_node(victim);
    cluster.wait_healthy(Duration::from_secs(30));

    // Load after the failover, on the same worker and producer.
    let after = acked.lock().unwrap().len();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            acked.lock().unwrap().len() >= after + 200
        })
        .await,
        "the producer did not go on after the failover"
    );
    stop_tx.send(true).unwrap();
    producer.await.unwrap();
    let acked: Vec<String> = acked.lock().unwrap().clone();

    // Every acknowledged job runs, on the worker that was there all along.
    let all_done = wait_until(Duration::from_secs(60), || async {
        acked.iter().all(|t| !runs.done(t).is_empty())
    })
    .await;
    let missing: Vec<&String> = acked.iter().filter(|t| runs.done(t).is_empty()).collect();
    assert!(
        all_done,
        "{} acknowledged jobs never ran (of {}): {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(10)]
    );
    let repeated: HashSet<&String> = acked.iter().filter(|t| runs.done(t).len() > 1).collect();
    assert!(
        repeated.len() <= 4 * CONCURRENCY,
        "{} jobs ran more than once: more than the failover window explains",
        repeated.len()
    );
    // A queue's worker that stopped has said so on this channel already.
    if let Some(reason) = worker.failed().now_or_never() {
        panic!("a queue's worker stopped: {reason}");
    }
    eprintln!(
        "failover in {failover:?}; {} jobs acknowledged ({before} before the kill), {} enqueue \
         errors retried, {} jobs ran twice",
        acked.len(),
        failures.lock().unwrap().len(),
        repeated.len()
    );
    worker.shutdown(Duration::from_secs(10)).await;
}
