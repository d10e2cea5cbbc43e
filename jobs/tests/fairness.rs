//! Owners take turns: one owner's backlog does not hold another owner's jobs behind it, and
//! the turns keep every guarantee of the engine (nothing lost or run twice, unique keys,
//! pause, due jobs). Each test runs on a private redis-server and on the Redis Cluster.
//! The assertions are on the order jobs complete in, never on durations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Env, Step, fast_settings, steps};
use jobs::{Client, EnqueueOptions, Enqueued, Settings};
use test_support::wait_until;

const BIG: i64 = 1;
const SMALL: i64 = 2;

fn owned(user_id: i64) -> EnqueueOptions {
    EnqueueOptions {
        user_id: Some(user_id),
        ..EnqueueOptions::default()
    }
}

fn jobs_of(prefix: &str, n: usize, sleep_ms: u64) -> Vec<Step> {
    (0..n)
        .map(|i| Step {
            tag: format!("{prefix}-{i}"),
            sleep_ms,
            ..Step::default()
        })
        .collect()
}

/// How many of the big owner's jobs completed before the small owner's last one.
fn big_before_last_small(env: &Env) -> usize {
    let order = env.runs.order.lock().unwrap().clone();
    let last_small = order
        .iter()
        .rposition(|t| t.starts_with("small-"))
        .expect("the small owner's jobs ran");
    order[..last_small]
        .iter()
        .filter(|t| t.starts_with("big-"))
        .count()
}

async fn all_done(env: &Env, n: usize) -> bool {
    wait_until(Duration::from_secs(60), || async {
        env.runs.done_count() >= n
    })
    .await
}

/// A backlog of 200 jobs of one owner, then 5 of another, on 4 slots.
async fn backlog_then_small(env: &Env, turns: bool) -> usize {
    let settings = Settings {
        owner_turns: turns,
        ..env.settings()
    };
    let client = Client::connect(&env.redis.url(), settings).await.unwrap();
    client
        .enqueue_bulk_with(&jobs_of("big", 200, 5), owned(BIG))
        .await
        .unwrap();
    for step in jobs_of("small", 5, 5) {
        client.enqueue_with(&step, owned(SMALL)).await.unwrap();
    }
    let worker = env
        .worker_with(
            4,
            Settings {
                owner_turns: turns,
                ..fast_settings()
            },
        )
        .await;
    assert!(all_done(env, 205).await, "every job ran");
    worker.shutdown(Duration::from_secs(5)).await;
    big_before_last_small(env)
}

async fn a_small_owner_waits_behind_one_job_per_turn_not_the_backlog(env: Env) {
    let before = backlog_then_small(&env, true).await;
    // What the four slots had started, then one big job per small one.
    assert!(
        before <= 4 + 8 + 5,
        "{before} of the big owner's 200 jobs completed before the small owner's last"
    );
    let sizes = env.sizes().await;
    assert_eq!((sizes.ready, sizes.waiting_turn), (0, 0));
}

/// A Redis that forgot its scripts (a restart, SCRIPT FLUSH) while owners wait: the read
/// whose admit call fails still delivers its entries, the script is loaded again, and every
/// job runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_keep_their_turns_after_redis_forgets_its_scripts() {
    let env = common::env().await;
    env.client
        .enqueue_bulk_with(&jobs_of("big", 60, 20), owned(BIG))
        .await
        .unwrap();
    env.client
        .enqueue_bulk_with(&jobs_of("small", 5, 20), owned(SMALL))
        .await
        .unwrap();
    let worker = env.worker(2).await;
    assert!(
        wait_until(Duration::from_secs(10), || async {
            env.runs.done_count() >= 4
        })
        .await
    );
    let () = env.raw(redis::cmd("SCRIPT").arg("FLUSH")).await;
    assert!(all_done(&env, 65).await, "every job ran after the flush");
    let done = env.runs.done.lock().unwrap().clone();
    assert!(done.values().all(|runs| runs.len() == 1), "a job ran twice");
    let sizes = env.sizes().await;
    assert_eq!(
        (sizes.ready, sizes.waiting_turn, sizes.in_flight),
        (0, 0, 0)
    );
    worker.shutdown(Duration::from_secs(5)).await;
}

/// The control: first come, first served, the small owner waits for the whole backlog.
/// It shows the test above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_turns_a_small_owner_waits_for_the_whole_backlog() {
    let env = common::env().await;
    let before = backlog_then_small(&env, false).await;
    assert!(before >= 190, "only {before} big jobs ran first");
}

/// Three owners and jobs without an owner, two workers, one of which stops half way and a
/// third that starts: every job runs exactly once, and no list or counter is left over.
async fn nothing_is_lost_or_run_twice_while_owners_take_turns(env: Env) {
    let a = env.worker(3).await;
    let b = env.worker(3).await;
    let mut total = 0;
    for owner in 1..=3 {
        let jobs = jobs_of(&format!("o{owner}"), 60, 2);
        env.client
            .enqueue_bulk_with(&jobs, owned(owner))
            .await
            .unwrap();
        total += jobs.len();
    }
    let plain = jobs_of("plain", 30, 2);
    env.client.enqueue_bulk(&plain).await.unwrap();
    total += plain.len();
    assert!(
        wait_until(Duration::from_secs(30), || async {
            env.runs.done_count() >= total / 3
        })
        .await,
        "a third of the jobs ran before the first worker stops"
    );
    a.shutdown(Duration::from_secs(5)).await;
    let c = env.worker(3).await;
    assert!(all_done(&env, total).await, "every job ran");
    // Stopped, the workers can run nothing more: a second run of any job is in the record.
    b.shutdown(Duration::from_secs(5)).await;
    c.shutdown(Duration::from_secs(5)).await;
    let done = env.runs.done.lock().unwrap().clone();
    assert_eq!(done.len(), total);
    assert!(done.values().all(|runs| runs.len() == 1), "a job ran twice");
    let sizes = env.sizes().await;
    assert_eq!(
        (sizes.ready, sizes.waiting_turn, sizes.in_flight),
        (0, 0, 0)
    );
    let owners: u64 = env
        .raw(redis::cmd("ZCARD").arg(env.key("fair:owners")))
        .await;
    let waiting: u64 = env
        .raw(redis::cmd("LLEN").arg(env.key("fair:waiting")))
        .await;
    assert_eq!((owners, waiting), (0, 0));
}

/// A unique job that waits for its owner's turn still holds its key: a second copy is a
/// duplicate until the first ran.
async fn a_unique_job_waiting_its_turn_keeps_its_key(env: Env) {
    env.client
        .enqueue_bulk_with(&jobs_of("big", 50, 0), owned(BIG))
        .await
        .unwrap();
    let unique = Step {
        tag: "unique".into(),
        unique: Some("report:7".into()),
        ..Step::default()
    };
    let first = env
        .client
        .enqueue_with(&unique, owned(SMALL))
        .await
        .unwrap();
    let Enqueued::New(id) = first else {
        panic!("the first copy is new: {first:?}")
    };
    let second = env
        .client
        .enqueue_with(&unique, owned(SMALL))
        .await
        .unwrap();
    assert_eq!(second, Enqueued::Duplicate(id));
    let sizes = env.sizes().await;
    assert_eq!((sizes.ready, sizes.waiting_turn), (51, 50));
    let worker = env.worker(2).await;
    assert!(all_done(&env, 51).await);
    assert_eq!(env.runs.done("unique").len(), 1);
    let third = env
        .client
        .enqueue_with(&unique, owned(SMALL))
        .await
        .unwrap();
    assert!(matches!(third, Enqueued::New(_)), "{third:?}");
    worker.shutdown(Duration::from_secs(5)).await;
}

/// A paused queue lets nobody in: the jobs wait, counted as ready, until it resumes.
async fn a_paused_queue_lets_no_owner_in(env: Env) {
    let admin = env.admin();
    admin.pause(&steps()).await.unwrap();
    let worker = env.worker(2).await;
    env.client
        .enqueue_bulk_with(&jobs_of("big", 10, 0), owned(BIG))
        .await
        .unwrap();
    env.client
        .enqueue_bulk_with(&jobs_of("small", 3, 0), owned(SMALL))
        .await
        .unwrap();
    // Proof of absence against a running worker: 600 ms is three of its 200 ms fetch
    // blocks, each a chance to take a job past the pause.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(env.runs.done_count(), 0, "a paused queue ran a job");
    let sizes = env.sizes().await;
    assert_eq!((sizes.ready, sizes.waiting_turn), (13, 12));
    assert!(sizes.oldest_ready_at.is_some());
    admin.resume(&steps()).await.unwrap();
    assert!(all_done(&env, 13).await);
    worker.shutdown(Duration::from_secs(5)).await;
}

/// A burst of one owner's scheduled jobs coming due together waits for turns too, so
/// another owner's jobs enqueued right after are not stuck behind the whole burst.
async fn jobs_coming_due_together_wait_their_turns(env: Env) {
    let worker = env.worker(2).await;
    let due = std::time::SystemTime::now() + Duration::from_millis(300);
    env.client
        .enqueue_bulk_with(
            &jobs_of("big", 100, 5),
            EnqueueOptions {
                run_at: Some(due),
                ..owned(BIG)
            },
        )
        .await
        .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || async {
            env.runs.done_count() >= 4
        })
        .await
    );
    for step in jobs_of("small", 3, 5) {
        env.client.enqueue_with(&step, owned(SMALL)).await.unwrap();
    }
    assert!(all_done(&env, 103).await);
    let before = big_before_last_small(&env);
    assert!(
        before <= 4 + 6 + 6,
        "{before} of the 100 due jobs completed before the small owner's last"
    );
    worker.shutdown(Duration::from_secs(5)).await;
}

/// The admin's view of who holds the slots: running jobs per owner from the heartbeats,
/// waiting jobs from the owners' lists.
async fn the_admin_sees_the_busiest_owners(env: Env) {
    env.client
        .enqueue_bulk_with(&jobs_of("big", 40, 100), owned(BIG))
        .await
        .unwrap();
    env.client
        .enqueue_bulk_with(&jobs_of("small", 2, 100), owned(SMALL))
        .await
        .unwrap();
    let worker = env.worker(3).await;
    let admin = env.admin();
    let mut seen = Vec::new();
    let found = test_support::poll_until(Duration::from_secs(10), async || {
        let workers = admin.live_workers().await.unwrap();
        seen = admin.owners(&steps(), &workers, 10).await.unwrap();
        seen.first()
            .is_some_and(|o| o.user_id == BIG && o.running > 0 && o.waiting_turn > 20)
    })
    .await;
    assert!(found, "{seen:?}");
    assert!(seen.iter().map(|o| o.running).sum::<u64>() <= 3);
    worker.shutdown(Duration::from_secs(5)).await;
}

on_both!(
    a_small_owner_waits_behind_one_job_per_turn_not_the_backlog,
    nothing_is_lost_or_run_twice_while_owners_take_turns,
    a_unique_job_waiting_its_turn_keeps_its_key,
    a_paused_queue_lets_no_owner_in,
    jobs_coming_due_together_wait_their_turns,
    the_admin_sees_the_busiest_owners,
);
