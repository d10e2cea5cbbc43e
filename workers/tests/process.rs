#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `workers` binary as ops run it: real child processes against a private Redis,
//! killed, stopped, starved of Redis and fed garbage. Each test has its own Redis.

mod harness;

use std::time::{Duration, SystemTime};

use harness::{
    PREFIX, QUEUE, Setup, WorkerConfig, WorkerProcess, done_count, probe, skewed_clock, start_count,
};
use jobs::admin::JobState;
use jobs::kinds::probe::Probe;
use jobs::{EnqueueOptions, now_ms};
use serde_json::json;
use test_support::{TestRedis, free_port, wait_for};
use tokio::time::Instant;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn sigkill_mid_job_reruns_it_on_another_worker() {
    let setup = Setup::new().await;
    let config = WorkerConfig::concurrency(2);
    let mut a = setup.ready_worker("a", &config).await;
    let slow = Probe {
        sleep_ms: 3_000,
        ..probe("slow")
    };
    setup.client.enqueue(&slow).await.unwrap();
    wait_for(10 * SECOND, "worker a starts the job", async || {
        setup.runs("slow").await == ["start:1"]
    })
    .await;

    // A crash: no shutdown code runs, the entry stays in a's pending list.
    a.sigkill();
    let mut b = setup.ready_worker("b", &config).await;
    wait_for(20 * SECOND, "worker b completes the job", async || {
        done_count(&setup.runs("slow").await) > 0
    })
    .await;
    setup.wait_settled(10 * SECOND).await;

    // The interrupted run counts as an attempt; the job completed exactly once.
    assert_eq!(setup.runs("slow").await, ["start:1", "start:2", "done:2"]);
    // Its heartbeats stopped, so the crashed worker is no longer listed as live.
    assert_eq!(setup.live_pids().await, [b.pid()]);
    let sizes = setup.sizes().await;
    assert_eq!(
        (sizes.ready, sizes.in_flight, sizes.scheduled, sizes.dead),
        (0, 0, 0, 0),
        "{sizes:?}"
    );
    assert!(b.is_alive(), "worker b died:\n{}", b.log());
}

/// A crashed worker's read-ahead entry, which it never started, goes
/// back without using an attempt; the job it was running uses one.
#[tokio::test]
async fn sigkill_returns_unstarted_read_ahead_without_an_attempt() {
    let setup = Setup::new().await;
    // Concurrency 1 reads one entry ahead.
    let config = WorkerConfig::concurrency(1);
    let mut a = setup.ready_worker("a", &config).await;
    let slow = Probe {
        sleep_ms: 5_000,
        ..probe("slow")
    };
    setup.client.enqueue(&slow).await.unwrap();
    wait_for(10 * SECOND, "worker a starts the job", async || {
        setup.runs("slow").await == ["start:1"]
    })
    .await;
    setup.client.enqueue(&probe("ahead")).await.unwrap();
    wait_for(10 * SECOND, "worker a reads ahead", async || {
        setup.sizes().await.in_flight == 2
    })
    .await;
    // A keepalive (every third of the visibility timeout) sees it waiting, and says so
    // in Redis: its pending entry's delivery count goes back to 0.
    let stream = jobs::keys::QueueKeys::new(PREFIX, &setup.queue).stream;
    wait_for(
        10 * SECOND,
        "a keepalive marks the read-ahead waiting",
        async || {
            let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
                .arg(&stream)
                .arg(jobs::keys::GROUP)
                .arg("-")
                .arg("+")
                .arg(10)
                .query_async(&mut setup.conn.clone())
                .await
                .unwrap();
            pending.iter().any(|(.., deliveries)| *deliveries == 0)
        },
    )
    .await;
    a.sigkill();
    let mut b = setup.ready_worker("b", &config).await;
    wait_for(30 * SECOND, "worker b runs both", async || {
        done_count(&setup.runs("slow").await) > 0 && done_count(&setup.runs("ahead").await) > 0
    })
    .await;
    setup.wait_settled(10 * SECOND).await;
    assert_eq!(setup.runs("ahead").await, ["start:1", "done:1"]);
    assert_eq!(setup.runs("slow").await, ["start:1", "start:2", "done:2"]);
    assert!(b.is_alive(), "worker b died:\n{}", b.log());
}

#[tokio::test]
async fn sigterm_lets_running_jobs_finish_and_acks_them() {
    let setup = Setup::new().await;
    let config = WorkerConfig {
        concurrency: 10,
        shutdown_deadline_ms: 10_000,
        ..WorkerConfig::default()
    };
    let mut a = setup.ready_worker("a", &config).await;
    let tags: Vec<String> = (0..20).map(|i| format!("term-{i}")).collect();
    let jobs: Vec<Probe> = tags
        .iter()
        .map(|t| Probe {
            sleep_ms: 500,
            ..probe(t.as_str())
        })
        .collect();
    setup.client.enqueue_bulk(&jobs).await.unwrap();
    wait_for(10 * SECOND, "some jobs have started", async || {
        let logs = setup.runs_of(&tags).await;
        logs.iter().filter(|l| !l.is_empty()).count() >= 5
    })
    .await;

    assert!(setup.live_pids().await.contains(&a.pid()));
    let signalled = Instant::now();
    a.sigterm();
    let deadline = Duration::from_millis(config.shutdown_deadline_ms);
    let status = a
        .wait_exit(deadline + 5 * SECOND)
        .await
        .unwrap_or_else(|| panic!("worker still runs {deadline:?} after SIGTERM"));
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}:\n{}", a.log());
    assert!(took < deadline, "shutdown took {took:?}");
    assert!(
        !setup.live_pids().await.contains(&a.pid()),
        "a stopped worker is still listed as live"
    );

    // Everything a started, it finished and acked; the rest is back in the stream.
    let logs = setup.runs_of(&tags).await;
    let started = logs.iter().filter(|l| !l.is_empty()).count();
    for (tag, log) in tags.iter().zip(&logs) {
        if !log.is_empty() {
            assert_eq!(log, &["start:1", "done:1"], "run log of {tag}");
        }
    }
    let sizes = setup.sizes().await;
    assert_eq!(sizes.in_flight, 0, "{sizes:?}");
    assert_eq!(sizes.ready as usize, tags.len() - started, "{sizes:?}");
    assert_eq!((sizes.scheduled, sizes.dead), (0, 0), "{sizes:?}");

    let _b = setup.ready_worker("b", &config).await;
    wait_for(20 * SECOND, "worker b runs the rest", async || {
        let logs = setup.runs_of(&tags).await;
        logs.iter().all(|l| done_count(l) > 0)
    })
    .await;
    setup.wait_settled(10 * SECOND).await;
    let logs = setup.runs_of(&tags).await;
    for (tag, log) in tags.iter().zip(&logs) {
        assert_eq!(log, &["start:1", "done:1"], "run log of {tag}");
    }
}

#[tokio::test]
async fn sigterm_deadline_leaves_unfinished_jobs_to_another_worker() {
    let setup = Setup::new().await;
    let config = WorkerConfig {
        concurrency: 2,
        shutdown_deadline_ms: 1_000,
        ..WorkerConfig::default()
    };
    let mut a = setup.ready_worker("a", &config).await;
    let tags = ["long-0".to_owned(), "long-1".to_owned()];
    let jobs = tags.clone().map(|t| Probe {
        sleep_ms: 4_000,
        ..probe(t)
    });
    setup.client.enqueue_bulk(&jobs).await.unwrap();
    wait_for(10 * SECOND, "both jobs have started", async || {
        setup.runs_of(&tags).await.iter().all(|l| l == &["start:1"])
    })
    .await;

    let signalled = Instant::now();
    a.sigterm();
    let status = a
        .wait_exit(10 * SECOND)
        .await
        .expect("worker exits after its shutdown deadline");
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}:\n{}", a.log());
    assert!(
        took < 3 * SECOND,
        "shutdown took {took:?} for a 1s deadline"
    );
    // Abandoned, not lost: still pending, for crash recovery.
    let sizes = setup.sizes().await;
    assert_eq!((sizes.in_flight, sizes.ready), (2, 0), "{sizes:?}");

    let _b = setup.ready_worker("b", &config).await;
    wait_for(20 * SECOND, "worker b completes both jobs", async || {
        setup.runs_of(&tags).await.iter().all(|l| done_count(l) > 0)
    })
    .await;
    setup.wait_settled(10 * SECOND).await;
    for (tag, log) in tags.iter().zip(setup.runs_of(&tags).await) {
        assert_eq!(log, ["start:1", "start:2", "done:2"], "run log of {tag}");
    }
}

#[tokio::test]
async fn redis_restart_with_aof_loses_nothing() {
    const JOBS: usize = 2_000;
    const WORKERS: usize = 2;
    const CONCURRENCY: usize = 10;
    const RESTARTS: usize = 2;
    let mut setup = Setup::with_aof().await;
    let tags: Vec<String> = (0..JOBS).map(|i| format!("aof-{i}")).collect();
    let jobs: Vec<Probe> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| Probe {
            sleep_ms: if i % 10 == 0 { 200 } else { 20 },
            ..probe(t.as_str())
        })
        .collect();
    for batch in jobs.chunks(500) {
        setup.client.enqueue_bulk(batch).await.unwrap();
    }
    let config = WorkerConfig::concurrency(CONCURRENCY);
    let mut workers = Vec::new();
    for i in 0..WORKERS {
        workers.push(setup.ready_worker(&format!("w{i}"), &config).await);
    }

    // Restart while jobs are running: at about a quarter at once, at about two thirds
    // after an outage longer than the visibility timeout and the clients' retries.
    for (left, outage) in [(1_500, Duration::ZERO), (700, 3 * SECOND)] {
        wait_for(30 * SECOND, "the workers make progress", async || {
            setup.sizes().await.ready <= left
        })
        .await;
        setup.redis.kill();
        // The outage's length is what is tested (longer than the visibility timeout and
        // the clients' retries): nothing to wait for but the time, in other processes.
        tokio::time::sleep(outage).await;
        setup.redis.restart();
    }

    setup.wait_settled(60 * SECOND).await;
    let logs = setup.runs_of(&tags).await;
    let missing: Vec<&String> = tags
        .iter()
        .zip(&logs)
        .filter(|(_, l)| done_count(l) == 0)
        .map(|(t, _)| t)
        .collect();
    let dead = setup
        .admin
        .page(
            &setup.queue,
            JobState::Dead,
            &jobs::admin::JobFilter::default(),
            None,
            20,
        )
        .await
        .unwrap()
        .jobs;
    let dead_errors: Vec<_> = dead.iter().map(|j| j.envelope.last_error()).collect();
    assert!(
        missing.is_empty(),
        "{} jobs never completed, e.g. {:?}; dead: {dead_errors:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(setup.sizes().await.dead, 0, "dead: {dead_errors:?}");
    // A job completed but not yet acked when Redis died runs again: at most what was
    // running at each crash.
    let twice = logs.iter().filter(|l| done_count(l) > 1).count();
    let reruns = logs.iter().filter(|l| start_count(l) > 1).count();
    eprintln!("{twice} jobs completed twice, {reruns} started more than once");
    for (tag, log) in tags.iter().zip(&logs).filter(|(_, l)| done_count(l) > 1) {
        eprintln!("  {tag}: {log:?}");
    }
    assert!(
        twice <= RESTARTS * WORKERS * CONCURRENCY,
        "{twice} jobs completed more than once"
    );
    for w in &mut workers {
        assert!(
            w.is_alive(),
            "worker {} exited after a Redis restart:\n{}",
            w.name(),
            w.log()
        );
    }
}

#[tokio::test]
async fn one_hundred_thousand_due_jobs_all_run() {
    const JOBS: usize = 100_000;
    let setup = Setup::new().await;
    // One shared tag: one list of 200,000 entries instead of 100,000 keys.
    let batch: Vec<Probe> = (0..1_000).map(|_| probe("bulk")).collect();
    let mut last_due = SystemTime::now();
    for _ in 0..JOBS / batch.len() {
        last_due = SystemTime::now() + SECOND;
        let options = EnqueueOptions {
            run_at: Some(last_due),
            ..EnqueueOptions::default()
        };
        setup
            .client
            .enqueue_bulk_with(&batch, options)
            .await
            .unwrap();
    }
    assert_eq!(setup.sizes().await.scheduled as usize, JOBS);
    // Start the worker only once every job is due: 100,000 due at once. Due by the wall
    // clock the worker process reads, so this waits for that clock, not for an event.
    if let Ok(wait) = last_due.duration_since(SystemTime::now()) {
        tokio::time::sleep(wait + Duration::from_millis(50)).await;
    }

    let started = Instant::now();
    let mut worker = setup
        .ready_worker("w", &WorkerConfig::concurrency(50))
        .await;
    let key = harness::runs_key("bulk");
    let mut conn = setup.conn.clone();
    wait_for(80 * SECOND, "every job has run", async || {
        let len: usize = redis::cmd("LLEN")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        len >= 2 * JOBS
    })
    .await;
    setup.wait_settled(10 * SECOND).await;
    eprintln!("{JOBS} due jobs ran in {:?}", started.elapsed());

    let log = setup.runs("bulk").await;
    let starts = log.iter().filter(|r| *r == "start:1").count();
    let dones = log.iter().filter(|r| *r == "done:1").count();
    assert_eq!((starts, dones, log.len()), (JOBS, JOBS, 2 * JOBS));
    let sizes = setup.sizes().await;
    assert_eq!(sizes.dead, 0, "{sizes:?}");
    assert!(worker.is_alive(), "worker died:\n{}", worker.log());
}

#[tokio::test]
async fn malformed_entries_go_to_the_dead_set_and_the_worker_keeps_running() {
    let setup = Setup::new().await;
    let mut worker = setup.ready_worker("w", &WorkerConfig::concurrency(4)).await;
    let stream = format!("{PREFIX}{{{QUEUE}}}:stream");
    let mut conn = setup.conn.clone();
    let mut xadd = async |fields: &[(&str, &[u8])]| -> String {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&stream).arg("*");
        for (k, v) in fields {
            cmd.arg(*k).arg(*v);
        }
        cmd.query_async(&mut conn).await.unwrap()
    };
    let envelope = |id: &str, kind: &str, args: serde_json::Value| {
        json!({
            "id": id, "kind": kind, "queue": QUEUE, "args": args,
            "attempt": 0, "max_attempts": 3, "enqueued_at": now_ms(),
        })
        .to_string()
    };
    let garbage = xadd(&[("e", b"\xff\xfe not json")]).await;
    let no_envelope = xadd(&[("x", b"1")]).await;
    let unknown = envelope("unknown-kind-job", "no_such_kind", json!({}));
    xadd(&[("e", unknown.as_bytes())]).await;
    let bad_args = envelope("bad-args-job", "probe", json!({ "tag": 5 }));
    xadd(&[("e", bad_args.as_bytes())]).await;
    setup.client.enqueue(&probe("after")).await.unwrap();

    wait_for(
        15 * SECOND,
        "three dead jobs, the unknown kind deferred, and the probe done",
        async || {
            let sizes = setup.sizes().await;
            sizes.dead == 3 && sizes.scheduled == 1 && done_count(&setup.runs("after").await) == 1
        },
    )
    .await;

    let dead = setup
        .admin
        .page(
            &setup.queue,
            JobState::Dead,
            &jobs::admin::JobFilter::default(),
            None,
            100,
        )
        .await
        .unwrap()
        .jobs;
    let ids: Vec<&str> = dead.iter().map(|j| j.envelope.id.as_str()).collect();
    let last_error = |id: &str| -> String {
        let job = dead
            .iter()
            .find(|j| j.envelope.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the dead set {ids:?}"));
        assert_eq!(job.envelope.attempt, 1, "{id} was tried more than once");
        job.envelope
            .errors
            .last()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };
    let cases = [
        (format!("entry-{garbage}"), "malformed envelope"),
        (format!("entry-{no_envelope}"), "malformed envelope"),
        ("bad-args-job".to_owned(), "arguments do not match"),
    ];
    for (id, expected) in &cases {
        let message = last_error(id);
        assert!(
            message.contains(expected),
            "dead job {id}: {message:?} should mention {expected:?}"
        );
    }
    // A kind this worker does not know waits, with no attempt used,
    // for a worker that knows it (a rolling deploy), instead of being buried.
    let scheduled = setup
        .admin
        .page(
            &setup.queue,
            JobState::Scheduled,
            &jobs::admin::JobFilter::default(),
            None,
            10,
        )
        .await
        .unwrap()
        .jobs;
    let unknown = &scheduled[0].envelope;
    assert_eq!(unknown.id, "unknown-kind-job");
    assert_eq!(unknown.attempt, 0, "no attempt used");
    let reason = &unknown.deferred.as_ref().expect("deferred").reason;
    assert!(
        reason.contains("no worker here knows kind \"no_such_kind\""),
        "{reason}"
    );
    assert_eq!(setup.runs("after").await, ["start:1", "done:1"]);
    // A probe's run log expires on its own.
    let ttl: i64 = redis::cmd("TTL")
        .arg(workers::handlers::probe::runs_key(PREFIX, "after"))
        .query_async(&mut setup.conn.clone())
        .await
        .unwrap();
    assert!(ttl > 0, "probe run log without a TTL ({ttl})");
    assert!(worker.is_alive(), "worker died:\n{}", worker.log());
}

#[tokio::test]
async fn bad_command_lines_fail_fast_with_a_clear_error() {
    let redis = TestRedis::start();
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--queues", "has space"],
            &["has space", "may contain only"],
        ),
        (
            &["--concurrency", "0"],
            &["concurrency must be between 1 and", "got 0"],
        ),
        (
            &["--queues", QUEUE, "--concurrency", "99999999"],
            &["concurrency must be between 1 and", "got 99999999"],
        ),
        (&["--queues", "a,a"], &["listed twice"]),
    ];
    for (i, (args, expected)) in cases.iter().enumerate() {
        let mut w =
            WorkerProcess::spawn(&format!("bad-{i}"), &redis.url(), &redis.dir(), args, &[]);
        let status = w
            .wait_exit(10 * SECOND)
            .await
            .unwrap_or_else(|| panic!("workers {args:?} still runs after 10s"));
        assert!(!status.success(), "workers {args:?} exited with {status}");
        let log = w.log();
        for e in *expected {
            assert!(log.contains(e), "workers {args:?}: {e:?} not in:\n{log}");
        }
    }

    // Nothing listens at the URL: an error, not a hang.
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let mut w = WorkerProcess::spawn(
        "no-redis",
        &url,
        &redis.dir(),
        &["--queues", QUEUE, "--concurrency", "2"],
        &[],
    );
    let status = w
        .wait_exit(20 * SECOND)
        .await
        .unwrap_or_else(|| panic!("worker still runs 20s after failing to reach {url}"));
    assert!(!status.success(), "exited with {status}");
    let log = w.log();
    assert!(
        log.contains("connecting to redis") && log.contains(&url),
        "no clear message:\n{log}"
    );
}

/// A typo in the command line is reported as such even when Redis is down, without
/// waiting for a connection first.
#[tokio::test]
async fn bad_command_lines_are_refused_before_connecting_to_redis() {
    let redis = TestRedis::start();
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let mut w = WorkerProcess::spawn(
        "typo-no-redis",
        &url,
        &redis.dir(),
        &["--queues", "has space"],
        &[],
    );
    let status = w
        .wait_exit(20 * SECOND)
        .await
        .expect("workers exits on a bad --queues");
    assert!(!status.success());
    let log = w.log();
    assert!(
        log.contains("may contain only"),
        "the bad queue name is not reported:\n{log}"
    );
}

#[tokio::test]
async fn panicking_handler_is_a_failure_not_a_dead_worker() {
    let setup = Setup::new().await;
    let mut worker = setup.ready_worker("w", &WorkerConfig::concurrency(2)).await;
    let boom = Probe {
        panic: true,
        ..probe("boom")
    };
    let options = EnqueueOptions {
        max_attempts: Some(2),
        ..EnqueueOptions::default()
    };
    let id = setup.client.enqueue_with(&boom, options).await.unwrap();
    wait_for(15 * SECOND, "the panicking job is dead", async || {
        setup.sizes().await.dead == 1
    })
    .await;
    let dead = setup
        .admin
        .page(
            &setup.queue,
            JobState::Dead,
            &jobs::admin::JobFilter::default(),
            None,
            10,
        )
        .await
        .unwrap()
        .jobs;
    assert_eq!(dead.len(), 1);
    let envelope = &dead[0].envelope;
    assert_eq!(envelope.id, id.id());
    assert_eq!((envelope.attempt, envelope.errors.len()), (2, 2));
    let message = envelope.last_error().unwrap_or_default();
    assert!(message.contains("panicked"), "last error: {message:?}");
    assert_eq!(setup.runs("boom").await, ["start:1", "start:2"]);
    assert!(worker.is_alive(), "worker died:\n{}", worker.log());

    // The same process goes on with the next job.
    setup.client.enqueue(&probe("after")).await.unwrap();
    wait_for(10 * SECOND, "the next job completes", async || {
        setup.runs("after").await == ["start:1", "done:1"]
    })
    .await;
    setup.wait_settled(5 * SECOND).await;
    assert!(worker.is_alive(), "worker died:\n{}", worker.log());
}

/// A job fetched ahead while every slot is busy waits inside the worker. Waiting longer
/// than the visibility timeout must not get it reclaimed as a dead worker's job.
#[tokio::test]
async fn a_job_waiting_for_a_free_slot_is_not_run_twice() {
    let setup = Setup::new().await;
    // Concurrency 1: the second job is read ahead and waits for the first (3 s > 2 s).
    let _worker = setup.ready_worker("w", &WorkerConfig::concurrency(1)).await;
    let jobs = [
        Probe {
            sleep_ms: 3_000,
            ..probe("long")
        },
        probe("next"),
    ];
    setup.client.enqueue_bulk(&jobs).await.unwrap();
    wait_for(20 * SECOND, "both jobs complete", async || {
        done_count(&setup.runs("next").await) > 0 && done_count(&setup.runs("long").await) > 0
    })
    .await;
    setup.wait_settled(20 * SECOND).await;
    assert_eq!(setup.runs("long").await, ["start:1", "done:1"]);
    assert_eq!(setup.runs("next").await, ["start:1", "done:1"]);
}

/// Hosts' clocks disagree; liveness must not. A worker whose wall clock runs 30 s fast
/// beside two honest ones: an honest worker that stalls for a moment (a pause shorter
/// than the heartbeat lapse, longer than the visibility timeout) keeps its jobs, as it
/// does when every clock agrees, and no job runs twice.
#[tokio::test]
async fn a_worker_with_a_fast_clock_takes_no_live_workers_jobs() {
    let setup = Setup::new().await;
    // Lapse (3 beats, 9 s) above the stall (4 s) above the visibility timeout (2 s).
    let config = WorkerConfig {
        concurrency: 2,
        heartbeat_ms: 3_000,
        ..WorkerConfig::default()
    };
    let mut a = setup.ready_worker("a", &config).await;
    let tags: Vec<String> = (0..4).map(|i| format!("held-{i}")).collect();
    let jobs: Vec<Probe> = tags
        .iter()
        .map(|t| Probe {
            sleep_ms: 8_000,
            ..probe(t.as_str())
        })
        .collect();
    setup.client.enqueue_bulk(&jobs).await.unwrap();
    // Two running on a, two read ahead by a.
    wait_for(10 * SECOND, "worker a holds all four jobs", async || {
        let started = setup
            .runs_of(&tags)
            .await
            .iter()
            .filter(|l| !l.is_empty())
            .count();
        started == 2 && setup.sizes().await.in_flight == 4
    })
    .await;
    let _b = setup.ready_worker("b", &config).await;
    let mut f = harness::probe_worker_with_env("fast", &setup.redis, &config, &skewed_clock(30));
    f.wait_ready().await;
    let keys = jobs::keys::GlobalKeys::new(PREFIX);
    wait_for(
        10 * SECOND,
        "the fast worker beats, 30 s ahead",
        async || {
            let mut conn = setup.conn.clone();
            let listed = jobs::heartbeat::live_workers(&mut conn, &keys, Duration::from_secs(3))
                .await
                .unwrap_or_default();
            listed
                .iter()
                .any(|w| w.pid == f.pid() && w.last_beat > now_ms() + 20_000)
        },
    )
    .await;

    // A stall of worker a, as a VM pause or a long GC would make one. Its length is what
    // is tested (past the visibility timeout, short of the lapse): while it lasts the
    // others may take a's jobs and must not, and nothing marks that they did not.
    signal(a.pid(), "-STOP");
    tokio::time::sleep(4 * SECOND).await;
    signal(a.pid(), "-CONT");

    wait_for(40 * SECOND, "every job completes", async || {
        setup.runs_of(&tags).await.iter().all(|l| done_count(l) > 0)
    })
    .await;
    setup.wait_settled(20 * SECOND).await;
    for (tag, log) in tags.iter().zip(setup.runs_of(&tags).await) {
        assert_eq!(log, ["start:1", "done:1"], "run log of {tag}");
    }
    assert!(a.is_alive(), "worker a died:\n{}", a.log());
    assert!(f.is_alive(), "the fast worker died:\n{}", f.log());
}

fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} {pid}");
}

/// A worker given a `rediss+cluster://` URL speaks TLS to every node of the cluster: the
/// URL names only the nodes' TLS ports, where a clear connection is refused, so the jobs
/// run only if each connection (seeds, and the nodes the slot map names) is TLS. The
/// nodes' certificates come from a CA made for the test, which the worker trusts through
/// `SSL_CERT_FILE`. The test itself reads and writes through the nodes' clear ports.
#[tokio::test]
async fn a_worker_reaches_a_tls_cluster_over_tls() {
    let cluster = tokio::task::spawn_blocking(test_support::TestCluster::start_tls)
        .await
        .unwrap();
    let ca = cluster.certs().unwrap().ca.display().to_string();
    let client = jobs::Client::connect(&cluster.url(), jobs::Settings::default())
        .await
        .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut worker = WorkerProcess::spawn(
        "tls",
        &cluster.tls_url(),
        logs.path(),
        &["--queues", QUEUE, "--concurrency", "4"],
        &[("SSL_CERT_FILE".to_owned(), ca)],
    );
    worker.wait_ready().await;
    let tags: Vec<String> = (0..20).map(|i| format!("tls-{i}")).collect();
    let jobs: Vec<Probe> = tags.iter().map(|t| probe(t.as_str())).collect();
    client.enqueue_bulk(&jobs).await.unwrap();
    let mut conn = client.connection();
    wait_for(20 * SECOND, "every job ran on the TLS worker", async || {
        let mut done = 0;
        for tag in &tags {
            let log: Vec<String> = redis::cmd("LRANGE")
                .arg(harness::runs_key(tag))
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .unwrap_or_default();
            done += usize::from(log == ["start:1", "done:1"]);
        }
        done == tags.len()
    })
    .await;
    assert!(worker.is_alive(), "the worker died:\n{}", worker.log());
}
