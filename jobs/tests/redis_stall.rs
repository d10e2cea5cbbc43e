//! A worker that is alive and merely could not reach Redis must not
//! lose its jobs to another worker. Redis is frozen (SIGSTOP) for twice the visibility
//! timeout, twice, while two workers run jobs and right after many finish: no job may
//! start twice, and none may be lost.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{env, step};
use test_support::wait_until;

const JOBS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_stall_longer_than_the_visibility_timeout_runs_no_job_twice() {
    let mut env = env().await;
    let settings = common::fast_settings();
    let stall = settings.visibility_timeout * 2;
    let a = env.worker_with(10, settings.clone()).await;
    let b = env.worker_with(10, settings).await;
    let jobs: Vec<_> = (0..JOBS)
        .map(|i| {
            let mut s = step(&format!("s{i}"));
            s.sleep_ms = 300;
            s
        })
        .collect();
    env.client.enqueue_bulk(&jobs).await.unwrap();
    for round in 1..=2 {
        // Some jobs running, some just finished with their acks still batched.
        assert!(
            wait_until(Duration::from_secs(20), || async {
                env.runs.done_count() >= round * 60
            })
            .await
        );
        env.redis.single().freeze();
        // The fault itself: a real Redis frozen for twice the visibility timeout, the time
        // the workers must not mistake for each other's death.
        tokio::time::sleep(stall).await;
        env.redis.single().thaw();
        let before = env.runs.done_count();
        assert!(
            wait_until(Duration::from_secs(20), || async {
                env.runs.done_count() > before
            })
            .await,
            "no job finished after Redis came back"
        );
    }
    assert!(
        wait_until(Duration::from_secs(60), || async {
            env.runs.done_count() >= JOBS
        })
        .await,
        "done {} of {JOBS}",
        env.runs.done_count()
    );
    assert!(
        wait_until(Duration::from_secs(20), || async {
            let s = env.sizes().await;
            s.in_flight == 0 && s.ready == 0 && s.scheduled == 0
        })
        .await,
        "{:?}",
        env.sizes().await
    );
    let twice: Vec<String> = (0..JOBS)
        .map(|i| format!("s{i}"))
        .filter(|tag| env.runs.started(tag).len() != 1 || env.runs.done(tag).len() != 1)
        .collect();
    assert!(
        twice.is_empty(),
        "{} jobs did not run exactly once: {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
    assert_eq!(env.sizes().await.dead, 0);
    a.shutdown(Duration::from_secs(10)).await;
    b.shutdown(Duration::from_secs(10)).await;
}

/// Writes a heartbeat for worker `id` now, as a live worker process would.
async fn beat(env: &common::Env, id: &str) {
    let now = jobs::now_ms();
    let info = jobs::heartbeat::WorkerInfo {
        id: id.to_owned(),
        host: "test".into(),
        pid: 1,
        queues: vec![("steps".into(), 1)],
        started_at: now,
        last_beat: now,
        busy: Vec::new(),
        jobs: Vec::new(),
        owners: Vec::new(),
    };
    let keys = jobs::keys::GlobalKeys::new(&env.client.settings().prefix);
    let mut conn = env.client.connection();
    jobs::heartbeat::beat(
        &mut conn,
        &keys,
        &info,
        common::fast_settings().heartbeat_interval,
    )
    .await
    .unwrap();
}

/// Reclaim takes entries only from consumers whose heartbeat has lapsed: an entry idle
/// past the visibility timeout under a worker that still beats stays with it (that
/// worker could not reach Redis, or its keepalive is late), while a silent worker's
/// entry is taken and run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclaim_leaves_a_live_workers_entries_and_takes_a_dead_ones() {
    let env = env().await;
    env.client.enqueue(&step("alive")).await.unwrap();
    assert_eq!(
        common::read_as(&env.client, "alive-worker", 1).await.len(),
        1
    );
    env.client.enqueue(&step("dead")).await.unwrap();
    assert_eq!(
        common::read_as(&env.client, "dead-worker", 1).await.len(),
        1
    );
    let settings = common::fast_settings();
    let worker = env.worker_with(2, settings.clone()).await;
    // The live worker beats until the dead one's job ran again: the reclaim that took it
    // judged the live one's entry, read earlier and so idle longer, in the same pass. Well
    // short of the last resort (`LAST_RESORT_FACTOR` visibility timeouts), which would
    // take a live worker's entry too.
    let mut last_beat = None::<std::time::Instant>;
    test_support::wait_for(
        settings.visibility_timeout * 6,
        "the dead worker's job runs again",
        async || {
            if last_beat.is_none_or(|at| at.elapsed() >= settings.heartbeat_interval) {
                beat(&env, "alive-worker").await;
                last_beat = Some(std::time::Instant::now());
            }
            !env.runs.done("dead").is_empty()
        },
    )
    .await;
    worker.shutdown(Duration::from_secs(5)).await;
    // Read and not marked waiting by a keepalive: counts as started, an attempt used.
    assert_eq!(
        env.runs.done("dead"),
        vec![2],
        "the dead worker's job runs again"
    );
    assert!(
        env.runs.started("alive").is_empty(),
        "a live worker's job was taken from it: {:?}",
        env.runs.started("alive")
    );
    assert_eq!(env.sizes().await.in_flight, 1);
}
