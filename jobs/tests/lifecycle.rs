//! Every lifecycle path of the engine, against a private redis-server per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

crate::on_both!(
    enqueued_job_runs_once_and_leaves_nothing_behind,
    bulk_enqueue_runs_every_job_exactly_once,
    delayed_job_waits_until_its_time,
    unique_job_is_enqueued_once_until_it_finishes,
    discarding_a_scheduled_unique_job_releases_its_key,
    retrying_a_dead_unique_job_takes_its_key_or_refuses,
    failing_job_is_retried_with_backoff_then_succeeds,
    exhausted_job_goes_to_the_dead_set_and_can_be_retried_or_discarded,
    permanent_failure_and_panic_are_buried_with_their_reason,
    synchronous_panic_fails_the_job_and_it_is_retried,
    deferral_uses_no_attempt_and_shows_its_reason,
    long_job_keeps_its_claim_and_is_not_run_twice,
    paused_queue_fetches_nothing_until_resumed,
    live_workers_are_listed_with_their_queues_until_they_stop,
    shutdown_finishes_running_jobs_and_leaves_overdue_ones_for_reclaim,
    admin_lists_jobs_per_state_with_paging,
    retry_all_and_discard_all_dead,
    dead_set_is_capped_dropping_the_oldest,
    hung_job_is_cut_off_by_its_timeout,
    a_dead_workers_started_job_uses_an_attempt,
    a_worker_refuses_a_queue_it_has_no_handler_for_unless_asked,
);

use std::time::{Duration, SystemTime};

use common::{Env, Step, SyncPanic, env, fast_settings, step, steps};
use jobs::admin::{JobFilter, JobState};
use jobs::{EnqueueOptions, Enqueued};
use test_support::wait_until;

const WAIT: Duration = Duration::from_secs(10);

async fn enqueued_job_runs_once_and_leaves_nothing_behind(env: Env) {
    let worker = env.worker(4).await;
    let id = env.client.enqueue(&step("a")).await.unwrap();
    assert!(matches!(id, Enqueued::New(_)));
    assert!(wait_until(WAIT, || async { env.runs.done("a") == vec![1] }).await);
    assert!(wait_until(WAIT, || async { env.sizes().await.in_flight == 0 }).await);
    let sizes = env.sizes().await;
    assert_eq!((sizes.ready, sizes.scheduled, sizes.dead), (0, 0, 0));
    // The stream keeps no acked entries.
    let len: u64 = env.raw(redis::cmd("XLEN").arg(env.key("stream"))).await;
    assert_eq!(len, 0);
    worker.shutdown(WAIT).await;
}

async fn bulk_enqueue_runs_every_job_exactly_once(env: Env) {
    let jobs: Vec<Step> = (0..2_000).map(|i| step(&format!("j{i}"))).collect();
    for chunk in jobs.chunks(1_000) {
        let ids = env.client.enqueue_bulk(chunk).await.unwrap();
        assert_eq!(ids.len(), chunk.len());
    }
    let worker = env.worker(20).await;
    assert!(wait_until(WAIT, || async { env.runs.done_count() == 2_000 }).await);
    for i in 0..2_000 {
        assert_eq!(env.runs.done(&format!("j{i}")), vec![1], "job j{i}");
    }
    // Every ack written (the counter moves in the same atomic pipeline), then exactly
    // one count per job (a looser check once accepted 10 missing).
    assert!(wait_until(WAIT, || async { env.sizes().await.in_flight == 0 }).await);
    let processed: u64 =
        jobs::stats::recent(&mut env.client.connection(), &env.client.keys(&steps()), 5)
            .await
            .unwrap()
            .iter()
            .map(|m| m.processed)
            .sum();
    assert_eq!(processed, 2_000, "processed counter");
    worker.shutdown(WAIT).await;
}

async fn delayed_job_waits_until_its_time(env: Env) {
    let worker = env.worker(2).await;
    let start = std::time::Instant::now();
    env.client
        .enqueue_in(&step("later"), Duration::from_millis(700))
        .await
        .unwrap();
    env.client
        .enqueue_at(&step("past"), SystemTime::now() - Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(env.sizes().await.scheduled, 1, "a past time runs now");
    assert!(wait_until(WAIT, || async { env.runs.done("past") == vec![1] }).await);
    assert!(env.runs.done("later").is_empty());
    assert!(wait_until(WAIT, || async { env.runs.done("later") == vec![1] }).await);
    assert!(start.elapsed() >= Duration::from_millis(700));
    worker.shutdown(WAIT).await;
}

async fn unique_job_is_enqueued_once_until_it_finishes(env: Env) {
    let mut job = step("u");
    job.unique = Some("publish:7".into());
    let first = env.client.enqueue(&job).await.unwrap();
    let second = env.client.enqueue(&job).await.unwrap();
    assert!(matches!(first, Enqueued::New(_)));
    assert_eq!(second, Enqueued::Duplicate(first.id().to_owned()));
    // Bulk enqueue honours the same key.
    let bulk = env
        .client
        .enqueue_bulk(&[job.clone(), job.clone()])
        .await
        .unwrap();
    assert!(bulk.iter().all(|e| matches!(e, Enqueued::Duplicate(_))));
    let worker = env.worker(2).await;
    assert!(wait_until(WAIT, || async { env.runs.done("u") == vec![1] }).await);
    // Released on success: the next enqueue is a new job.
    assert!(
        wait_until(WAIT, || async {
            matches!(env.client.enqueue(&job).await.unwrap(), Enqueued::New(_))
        })
        .await
    );
    assert!(wait_until(WAIT, || async { env.runs.done("u") == vec![1, 1] }).await);
    worker.shutdown(WAIT).await;
}

/// Discarding a scheduled unique job used to keep its unique key, so
/// every later enqueue of that job was dropped as a duplicate for 24 h.
async fn discarding_a_scheduled_unique_job_releases_its_key(env: Env) {
    let mut job = step("later");
    job.unique = Some("publish:9".into());
    let opts = || EnqueueOptions {
        run_at: Some(SystemTime::now() + Duration::from_secs(3600)),
        ..EnqueueOptions::default()
    };
    let first = env.client.enqueue_with(&job, opts()).await.unwrap();
    assert!(matches!(first, Enqueued::New(_)));
    assert!(
        env.admin()
            .discard_scheduled(&steps(), first.id())
            .await
            .unwrap()
    );
    let again = env.client.enqueue_with(&job, opts()).await.unwrap();
    assert!(matches!(again, Enqueued::New(_)), "{again:?}");
}

/// An admin retry of a dead unique job takes its key
/// again, and refuses while another job with that key is queued.
async fn retrying_a_dead_unique_job_takes_its_key_or_refuses(env: Env) {
    let worker = env.worker(2).await;
    let mut job = step("gone");
    job.unique = Some("publish:11".into());
    job.permanent = true;
    let id = env.client.enqueue(&job).await.unwrap().id().to_owned();
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 1 }).await);
    worker.shutdown(WAIT).await;
    // The same job enqueued again meanwhile holds the key: the dead one stays dead.
    let newer = env.client.enqueue(&job).await.unwrap();
    assert!(matches!(newer, Enqueued::New(_)));
    let refused = env.admin().retry_dead(&steps(), &id).await;
    assert!(
        matches!(refused, Err(jobs::Error::UniqueHeld { .. })),
        "{refused:?}"
    );
    assert_eq!(env.sizes().await.dead, 1);
    // Retry-all skips it rather than stopping at it.
    assert_eq!(env.admin().retry_all_dead(&steps()).await.unwrap(), 0);
    assert_eq!(env.sizes().await.dead, 1);
    // Once the key is free, the retry takes it: a new enqueue is a duplicate of it.
    let () = env
        .raw(redis::cmd("DEL").arg(env.key("unique:publish:11")))
        .await;
    assert!(env.admin().retry_dead(&steps(), &id).await.unwrap());
    assert_eq!(
        env.client.enqueue(&job).await.unwrap(),
        Enqueued::Duplicate(id.clone())
    );
}

async fn failing_job_is_retried_with_backoff_then_succeeds(env: Env) {
    let worker = env.worker(2).await;
    let mut job = step("flaky");
    job.fail = 2;
    env.client.enqueue(&job).await.unwrap();
    assert!(wait_until(WAIT, || async { env.runs.done("flaky") == vec![3] }).await);
    assert_eq!(env.runs.started("flaky"), vec![1, 2, 3]);
    let stats = jobs::stats::recent(&mut env.client.connection(), &env.client.keys(&steps()), 2)
        .await
        .unwrap();
    assert_eq!(stats.iter().map(|m| m.retried).sum::<u64>(), 2);
    assert_eq!(stats.iter().map(|m| m.failed).sum::<u64>(), 2);
    worker.shutdown(WAIT).await;
}

async fn exhausted_job_goes_to_the_dead_set_and_can_be_retried_or_discarded(env: Env) {
    let worker = env.worker(2).await;
    let mut job = step("doomed");
    job.fail = 100;
    let id = env.client.enqueue(&job).await.unwrap().id().to_owned();
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 1 }).await);
    assert_eq!(env.runs.started("doomed"), vec![1, 2, 3, 4]);
    let admin = env.admin();
    let dead = common::listed(&admin, JobState::Dead, 10).await;
    assert_eq!(dead.len(), 1);
    let env_dead = &dead[0].envelope;
    assert_eq!(env_dead.id, id);
    assert_eq!(env_dead.attempt, 4);
    assert_eq!(env_dead.last_error(), Some("boom on attempt 4"));
    assert!(env_dead.died_at.is_some());
    let found = admin.find(&steps(), &id).await.unwrap().unwrap();
    assert_eq!(found.state, JobState::Dead);
    // Retry: attempts start over (and fail again, back to the dead set).
    assert!(admin.retry_dead(&steps(), &id).await.unwrap());
    assert!(
        !admin.retry_dead(&steps(), &id).await.unwrap(),
        "second retry is a no-op"
    );
    assert!(wait_until(WAIT, || async { env.runs.started("doomed").len() == 8 }).await);
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 1 }).await);
    assert!(admin.discard_dead(&steps(), &id).await.unwrap());
    assert!(!admin.discard_dead(&steps(), &id).await.unwrap());
    assert_eq!(env.sizes().await.dead, 0);
    worker.shutdown(WAIT).await;
}

async fn permanent_failure_and_panic_are_buried_with_their_reason(env: Env) {
    let worker = env.worker(2).await;
    let mut gone = step("gone");
    gone.permanent = true;
    let mut boom = step("boom");
    boom.panic = true;
    env.client.enqueue(&gone).await.unwrap();
    env.client
        .enqueue_with(
            &boom,
            EnqueueOptions {
                max_attempts: Some(2),
                ..EnqueueOptions::default()
            },
        )
        .await
        .unwrap();
    env.client.enqueue(&step("after")).await.unwrap();
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 2 }).await);
    assert_eq!(env.runs.started("gone"), vec![1], "permanent: no retry");
    assert_eq!(env.runs.started("boom"), vec![1, 2]);
    assert!(wait_until(WAIT, || async { env.runs.done("after") == vec![1] }).await);
    let dead = common::listed(&env.admin(), JobState::Dead, 10).await;
    let reasons: Vec<String> = dead
        .iter()
        .map(|d| d.envelope.last_error().unwrap().to_owned())
        .collect();
    assert!(
        reasons.iter().any(|r| r == "the lead no longer exists"),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("panicked") && r.contains("exploded")),
        "{reasons:?}"
    );
    worker.shutdown(WAIT).await;
}

/// A handler that panics while building its future (before its first
/// `.await`) used to escape `catch_unwind`, leaving its entry "running" forever.
async fn synchronous_panic_fails_the_job_and_it_is_retried(env: Env) {
    let worker = env.worker(2).await;
    env.client
        .enqueue(&SyncPanic { tag: "sync".into() })
        .await
        .unwrap();
    env.client.enqueue(&step("after")).await.unwrap();
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 1 }).await);
    assert_eq!(
        env.runs.started("sync"),
        vec![1, 2],
        "retried once, then dead"
    );
    let dead = common::listed(&env.admin(), JobState::Dead, 10).await;
    let reason = dead[0].envelope.last_error().unwrap().to_owned();
    assert!(
        reason.contains("panicked") && reason.contains("before its first await"),
        "{reason}"
    );
    assert!(wait_until(WAIT, || async { env.runs.done("after") == vec![1] }).await);
    assert_eq!(env.sizes().await.in_flight, 0);
    // Nothing is left "running": the shutdown does not wait for a ghost task.
    let report = worker.shutdown(WAIT).await;
    assert_eq!(report.abandoned, 0);
}

async fn deferral_uses_no_attempt_and_shows_its_reason(env: Env) {
    let worker = env.worker(2).await;
    let mut job = step("quota");
    job.defer_ms = 300;
    let id = env
        .client
        .enqueue_with(
            &job,
            EnqueueOptions {
                max_attempts: Some(1),
                ..EnqueueOptions::default()
            },
        )
        .await
        .unwrap()
        .id()
        .to_owned();
    // While deferred, the admin sees why.
    assert!(
        wait_until(WAIT, || async {
            match env.admin().find(&steps(), &id).await.unwrap() {
                Some(v) => {
                    v.state == JobState::Scheduled
                        && v.envelope.deferred.as_ref().map(|d| d.reason.as_str())
                            == Some("waiting for the test's quota")
                }
                None => false,
            }
        })
        .await
    );
    // Deferred twice with one attempt allowed, then it runs: deferrals used no attempt.
    assert!(wait_until(WAIT, || async { env.runs.done("quota") == vec![1] }).await);
    assert_eq!(env.runs.started("quota"), vec![1, 1, 1]);
    assert_eq!(env.sizes().await.dead, 0);
    worker.shutdown(WAIT).await;
}

async fn long_job_keeps_its_claim_and_is_not_run_twice(env: Env) {
    // Two workers; the job runs for twice the visibility timeout.
    let a = env.worker(1).await;
    let b = env.worker(1).await;
    let mut job = step("slow");
    job.sleep_ms = 3_200;
    env.client.enqueue(&job).await.unwrap();
    assert!(wait_until(WAIT, || async { env.runs.done("slow").len() == 1 }).await);
    // Stopped, the workers can start nothing more: a second run is in the record now.
    a.shutdown(WAIT).await;
    b.shutdown(WAIT).await;
    assert_eq!(
        env.runs.started("slow"),
        vec![1],
        "never reclaimed while alive"
    );
}

async fn paused_queue_fetches_nothing_until_resumed(env: Env) {
    let admin = env.admin();
    admin.pause(&steps()).await.unwrap();
    let worker = env.worker(2).await;
    env.client.enqueue(&step("held")).await.unwrap();
    // Proof of absence against a running worker: 1.5 s is seven of its 200 ms fetch
    // blocks and several maintenance rounds, each a chance to take the job past the pause.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(env.runs.started("held").is_empty());
    let sizes = env.sizes().await;
    assert!(sizes.paused);
    assert_eq!(sizes.ready, 1);
    admin.resume(&steps()).await.unwrap();
    assert!(wait_until(WAIT, || async { env.runs.done("held") == vec![1] }).await);
    worker.shutdown(WAIT).await;
}

async fn live_workers_are_listed_with_their_queues_until_they_stop(env: Env) {
    // A worker that died an hour ago, never read out of the registry since.
    let globals = jobs::keys::GlobalKeys::new(&env.prefix);
    let () = env
        .raw(
            redis::cmd("ZADD")
                .arg(&globals.workers)
                .arg(jobs::now_ms() - 3_600_000)
                .arg("long-gone"),
        )
        .await;
    let worker = env.worker(3).await;
    // A beat trims the registry, not only a read of it.
    assert!(
        wait_until(WAIT, || async {
            let score: Option<f64> = env
                .raw(redis::cmd("ZSCORE").arg(&globals.workers).arg("long-gone"))
                .await;
            score.is_none()
        })
        .await
    );
    let id = worker.id().to_owned();
    let interval = Duration::from_millis(200);
    let mut conn = env.client.connection();
    assert!(
        wait_until(WAIT, || {
            let mut conn = conn.clone();
            let globals = globals.clone();
            let id = id.clone();
            async move {
                let live = jobs::heartbeat::live_workers(&mut conn, &globals, interval)
                    .await
                    .unwrap();
                live.iter()
                    .any(|w| w.id == id && w.queues == vec![("steps".to_owned(), 3)])
            }
        })
        .await
    );
    assert_eq!(env.admin().queues().await.unwrap(), vec![steps()]);
    worker.shutdown(WAIT).await;
    let live = jobs::heartbeat::live_workers(&mut conn, &globals, interval)
        .await
        .unwrap();
    assert!(live.iter().all(|w| w.id != id));
}

async fn shutdown_finishes_running_jobs_and_leaves_overdue_ones_for_reclaim(env: Env) {
    let worker = env.worker(2).await;
    let mut quick = step("quick");
    quick.sleep_ms = 200;
    let mut stuck = step("stuck");
    stuck.sleep_ms = 5_000;
    env.client.enqueue(&quick).await.unwrap();
    env.client.enqueue(&stuck).await.unwrap();
    assert!(
        wait_until(WAIT, || async {
            env.runs.started("quick").len() == 1 && env.runs.started("stuck").len() == 1
        })
        .await
    );
    let report = worker.shutdown(Duration::from_millis(800)).await;
    assert_eq!(report.abandoned, 1);
    assert_eq!(
        env.runs.done("quick"),
        vec![1],
        "finished and acked within the deadline"
    );
    assert_eq!(
        env.sizes().await.in_flight,
        1,
        "the overdue job stays pending"
    );
    // Another worker takes it over after the visibility timeout.
    let mut settings = common::fast_settings();
    settings.visibility_timeout = Duration::from_millis(1_000);
    let next = env.worker_with(2, settings).await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            env.runs.done("stuck") == vec![2]
        })
        .await
    );
    assert_eq!(
        env.runs.done("quick"),
        vec![1],
        "the acked job never runs again"
    );
    next.shutdown(WAIT).await;
}

async fn admin_lists_jobs_per_state_with_paging(env: Env) {
    for i in 0..5 {
        env.client.enqueue(&step(&format!("r{i}"))).await.unwrap();
    }
    for i in 0..3 {
        env.client
            .enqueue_in(&step(&format!("s{i}")), Duration::from_secs(3600))
            .await
            .unwrap();
    }
    let admin = env.admin();
    let sizes = env.sizes().await;
    assert_eq!((sizes.ready, sizes.scheduled, sizes.in_flight), (5, 3, 0));
    let all = JobFilter::default();
    let first = admin
        .page(&steps(), JobState::Ready, &all, None, 2)
        .await
        .unwrap();
    let second = admin
        .page(&steps(), JobState::Ready, &all, first.next.as_deref(), 2)
        .await
        .unwrap();
    let third = admin
        .page(&steps(), JobState::Ready, &all, second.next.as_deref(), 2)
        .await
        .unwrap();
    let (page1, page2, page3) = (first.jobs, second.jobs, third.jobs);
    assert_eq!((page1.len(), page2.len(), page3.len()), (2, 2, 1));
    assert_eq!(third.next, None);
    assert_ne!(page1[0].envelope.id, page2[0].envelope.id);
    let scheduled = common::listed(&admin, JobState::Scheduled, 10).await;
    assert_eq!(scheduled.len(), 3);
    let victim = scheduled[0].envelope.id.clone();
    assert_eq!(
        admin.find(&steps(), &victim).await.unwrap().unwrap().state,
        JobState::Scheduled
    );
    assert!(admin.discard_scheduled(&steps(), &victim).await.unwrap());
    assert_eq!(env.sizes().await.scheduled, 2);
    let ready_id = page1[0].envelope.id.clone();
    assert_eq!(
        admin
            .find(&steps(), &ready_id)
            .await
            .unwrap()
            .unwrap()
            .state,
        JobState::Ready
    );
    assert!(admin.find(&steps(), "no-such-id").await.unwrap().is_none());
    // In flight: a consumer that holds two entries.
    common::read_as(&env.client, "holder", 2).await;
    let in_flight = common::listed(&admin, JobState::InFlight, 10).await;
    assert_eq!(in_flight.len(), 2);
    assert_eq!(in_flight[0].consumer.as_deref(), Some("holder"));
    assert_eq!(common::listed(&admin, JobState::Ready, 10).await.len(), 3);
}

async fn retry_all_and_discard_all_dead(env: Env) {
    let worker = env.worker(4).await;
    for i in 0..6 {
        let mut s = step(&format!("d{i}"));
        s.permanent = true;
        env.client.enqueue(&s).await.unwrap();
    }
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 6 }).await);
    let admin = env.admin();
    assert_eq!(admin.retry_all_dead(&steps()).await.unwrap(), 6);
    assert!(wait_until(WAIT, || async { env.runs.started("d5").len() == 2 }).await);
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 6 }).await);
    assert_eq!(admin.discard_all_dead(&steps()).await.unwrap(), 6);
    assert_eq!(env.sizes().await.dead, 0);
    worker.shutdown(WAIT).await;
}

async fn dead_set_is_capped_dropping_the_oldest(env: Env) {
    let mut settings = common::fast_settings();
    settings.dead_max = 3;
    let worker = env.worker_with(4, settings).await;
    for i in 0..5 {
        let mut s = step(&format!("x{i}"));
        s.permanent = true;
        env.client.enqueue(&s).await.unwrap();
        assert!(
            wait_until(WAIT, || async {
                env.runs.started(&format!("x{i}")).len() == 1
            })
            .await
        );
    }
    assert!(wait_until(WAIT, || async { env.sizes().await.in_flight == 0 }).await);
    assert_eq!(env.sizes().await.dead, 3);
    let hlen: u64 = env.raw(redis::cmd("HLEN").arg(env.key("dead:jobs"))).await;
    assert_eq!(hlen, 3);
    // The two dropped jobs are counted, not lost silently.
    assert_eq!(env.sizes().await.dead_dropped, 2);
    let status = workers_status_dropped(&env).await;
    assert_eq!(status, 2);
    worker.shutdown(WAIT).await;
}

/// The per-minute stats count the drops too.
async fn workers_status_dropped(env: &common::Env) -> u64 {
    jobs::stats::recent(&mut env.client.connection(), &env.client.keys(&steps()), 5)
        .await
        .unwrap()
        .iter()
        .map(|m| m.dead_dropped)
        .sum()
}

async fn hung_job_is_cut_off_by_its_timeout(env: Env) {
    let worker = env.worker(2).await;
    env.client.enqueue(&common::Hang).await.unwrap();
    assert!(wait_until(WAIT, || async { env.sizes().await.dead == 1 }).await);
    let dead = common::listed(&env.admin(), JobState::Dead, 1).await;
    let last = dead[0].envelope.last_error().unwrap().to_owned();
    assert!(last.contains("timed out after"), "{last}");
    assert_eq!(dead[0].envelope.attempt, 2);
    worker.shutdown(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_recreates_a_lost_consumer_group_and_keeps_consuming() {
    let mut env = env().await;
    let worker = env.worker(2).await;
    env.client.enqueue(&step("before")).await.unwrap();
    assert!(wait_until(WAIT, || async { env.runs.done("before") == vec![1] }).await);
    // The stream and its group vanish under a blocked read (UNBLOCKED, then NOGROUP).
    let () = redis::cmd("FLUSHALL")
        .query(&mut env.redis.single().conn())
        .unwrap();
    env.client.enqueue(&step("after")).await.unwrap();
    assert!(wait_until(WAIT, || async { env.runs.done("after") == vec![1] }).await);
    // Gone again right before shutdown: handing back finds no group and is not an error
    // that hangs or panics the shutdown.
    let () = redis::cmd("FLUSHALL")
        .query(&mut env.redis.single().conn())
        .unwrap();
    let started = std::time::Instant::now();
    let report = worker.shutdown(WAIT).await;
    assert_eq!(report.abandoned, 0);
    assert!(started.elapsed() < WAIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_even_when_redis_is_gone() {
    let mut env = env().await;
    let worker = env.worker(2).await;
    env.client.enqueue(&step("last")).await.unwrap();
    assert!(wait_until(WAIT, || async { env.runs.done("last") == vec![1] }).await);
    env.redis.single().kill();
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(20), worker.shutdown(WAIT))
        .await
        .expect("shutdown must not wait for Redis forever");
    assert_eq!(report.abandoned, 0);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A job a dead worker had started (the keepalive
/// saw it running) uses an attempt when crash recovery puts it back. The read-ahead half
/// needs a real crash: workers/tests/process.rs
/// sigkill_returns_unstarted_read_ahead_without_an_attempt.
async fn a_dead_workers_started_job_uses_an_attempt(env: Env) {
    let mut long = step("started");
    long.sleep_ms = 60_000;
    env.client.enqueue(&long).await.unwrap();
    let first = env.worker(1).await;
    assert!(
        wait_until(Duration::from_secs(5), || async {
            !env.runs.started("started").is_empty()
        })
        .await
    );
    // The keepalive has seen it running: it claimed the entry afresh (`XCLAIM` resets
    // its idle time), so it is now idle for less than the time since the job started.
    let seen_started = std::time::Instant::now();
    test_support::wait_for(
        fast_settings().visibility_timeout * 2,
        "the keepalive claims the running job",
        async || {
            let pending: Vec<(String, String, u64, u64)> = env
                .raw(
                    redis::cmd("XPENDING")
                        .arg(env.key("stream"))
                        .arg(jobs::keys::GROUP)
                        .arg("-")
                        .arg("+")
                        .arg(10),
                )
                .await;
            let since = u64::try_from(seen_started.elapsed().as_millis()).unwrap();
            pending
                .first()
                .is_some_and(|(_, _, idle, _)| idle + 100 < since)
        },
    )
    .await;
    // Dies without waiting: the job stays pending, the heartbeat is gone.
    first.shutdown(Duration::ZERO).await;
    let second = env.worker(1).await;
    assert!(
        wait_until(Duration::from_secs(15), || async {
            env.runs.started("started").len() == 2
        })
        .await,
        "started {:?}",
        env.runs.started("started")
    );
    second.shutdown(Duration::ZERO).await;
    assert_eq!(env.runs.started("started"), vec![1, 2]);
}

/// A worker does not consume a queue none of its kinds
/// belongs to, unless asked; it would only defer what it reads.
async fn a_worker_refuses_a_queue_it_has_no_handler_for_unless_asked(env: Env) {
    let other = vec![jobs::QueueSpec {
        queue: jobs::QueueName::new("elsewhere").unwrap(),
        concurrency: 1,
    }];
    let refused = jobs::runtime::start(
        &env.redis.url(),
        env.settings(),
        common::registry(&env.runs),
        other.clone(),
    )
    .await;
    let Err(e) = refused else {
        panic!("a worker started on a queue it has no handler for")
    };
    assert!(e.to_string().contains("elsewhere"), "{e}");
    let asked = jobs::runtime::start(
        &env.redis.url(),
        env.settings(),
        common::registry(&env.runs).serve_any_queue(),
        other,
    )
    .await
    .unwrap();
    // Stopped the moment it started, it stops at once, not at the deadline.
    let stopping = std::time::Instant::now();
    let report = asked.shutdown(WAIT).await;
    assert!(
        stopping.elapsed() < WAIT / 2,
        "the stop waited {:?} of its {WAIT:?} deadline",
        stopping.elapsed()
    );
    assert_eq!(report.abandoned, 0);
}
