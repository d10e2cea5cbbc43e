//! A Redis that loses everything (FLUSHALL here; a restart without persistence or a
//! failover to an empty replica look the same) is noticed by every worker within one
//! heartbeat: the queue registry, the consumer groups and the worker registry are back,
//! and the schedule enqueues its after-loss job once across processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::fast_settings;
use jobs::{Client, Job, QueueName, Registry};
use serde::{Deserialize, Serialize};
use test_support::TestRedis;
use test_support::{poll_until, wait_until};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Ping;

impl Job for Ping {
    const KIND: &'static str = "ping";
    const QUEUE: &'static str = "probe";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sweep {
    period: u64,
    after_loss: bool,
}

impl Job for Sweep {
    const KIND: &'static str = "sweep";
    const QUEUE: &'static str = "periodic";
}

fn registry() -> Registry {
    Registry::new()
        .register(|_: Ping, _| async { Ok(()) })
        .register(|_: Sweep, _| async { Ok(()) })
}

async fn worker(redis: &TestRedis, queues: &[&str]) -> jobs::Running {
    jobs::runtime::start(
        &redis.url(),
        fast_settings(),
        registry(),
        queues
            .iter()
            .map(|q| jobs::QueueSpec {
                queue: QueueName::new(q).unwrap(),
                concurrency: 2,
            })
            .collect(),
    )
    .await
    .unwrap()
}

fn registered(redis: &TestRedis) -> BTreeSet<String> {
    redis::cmd("SMEMBERS")
        .arg("ag:queues")
        .query(&mut redis.conn())
        .unwrap()
}

fn has_group(redis: &TestRedis, queue: &str) -> bool {
    redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(format!("ag:{{{queue}}}:stream"))
        .query::<redis::Value>(&mut redis.conn())
        .is_ok_and(|v| matches!(v, redis::Value::Array(groups) if !groups.is_empty()))
}

/// The beat is 200 ms: "within one heartbeat" gets two beats of room for scheduling.
const ONE_BEAT: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_flushall_every_live_queue_is_listed_again_within_one_heartbeat() {
    let redis = TestRedis::start();
    let one = worker(&redis, &["probe"]).await;
    let two = worker(&redis, &["periodic"]).await;
    let client = Client::connect(&redis.url(), fast_settings())
        .await
        .unwrap();
    let admin = jobs::admin::Admin::new(client.connection(), client.settings());
    let want: BTreeSet<String> = ["periodic", "probe"].map(String::from).into();
    assert_eq!(registered(&redis), want);
    let () = redis::cmd("FLUSHALL").query(&mut redis.conn()).unwrap();
    assert!(registered(&redis).is_empty());
    // What the admin overview and `workers status` list, within one heartbeat.
    let mut listed = BTreeSet::new();
    let mut live = 0;
    let back = poll_until(ONE_BEAT, async || {
        listed = admin
            .queues()
            .await
            .unwrap()
            .iter()
            .map(|q| q.to_string())
            .collect();
        live = admin.live_workers().await.unwrap().len();
        listed == want && live == 2 && has_group(&redis, "probe") && has_group(&redis, "periodic")
    })
    .await;
    assert!(
        back,
        "one heartbeat after the flush: queues {listed:?}, {live} live workers, groups \
         probe {} periodic {}",
        has_group(&redis, "probe"),
        has_group(&redis, "periodic")
    );
    // And the queues work: a job enqueued now runs.
    client.enqueue(&Ping).await.unwrap();
    assert!(
        wait_until(WAIT, || async {
            let s = admin
                .sizes(&QueueName::new("probe").unwrap())
                .await
                .unwrap();
            jobs::stats::recent(
                &mut client.connection(),
                &client.keys(&QueueName::new("probe").unwrap()),
                2,
            )
            .await
            .unwrap()
            .iter()
            .map(|m| m.processed)
            .sum::<u64>()
                == 1
                && s.ready + s.in_flight == 0
        })
        .await
    );
    one.shutdown(WAIT).await;
    two.shutdown(WAIT).await;
}

/// Two processes run the schedule (a period far longer than the test): after a flush the
/// after-loss job is enqueued once, at once, and a second loss gets its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_loss_enqueues_one_after_loss_job_across_processes() {
    let redis = TestRedis::start();
    let stop = CancellationToken::new();
    let mut running = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        // A worker on another queue: the sweeps stay in the periodic stream to be counted.
        let w = worker(&redis, &["probe"]).await;
        let client = Client::connect(&redis.url(), fast_settings())
            .await
            .unwrap();
        tasks.push(jobs::periodic::spawn_with_losses(
            client,
            Duration::from_secs(3_600),
            |period| Sweep {
                period,
                after_loss: false,
            },
            w.redis_losses(),
            |period| Sweep {
                period,
                after_loss: true,
            },
            stop.clone(),
        ));
        running.push(w);
    }
    let sweeps = || -> Vec<bool> {
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg("ag:{periodic}:stream")
            .arg("-")
            .arg("+")
            .query(&mut redis.conn())
            .unwrap();
        entries
            .ids
            .iter()
            .map(|e| {
                let raw: String = e.get(jobs::keys::ENVELOPE_FIELD).unwrap();
                let envelope = jobs::Envelope::decode(raw.as_bytes()).unwrap();
                serde_json::from_str::<Sweep>(envelope.args.get())
                    .unwrap()
                    .after_loss
            })
            .collect()
    };
    assert!(wait_until(WAIT, || async { sweeps() == vec![false] }).await);
    for _ in 0..2 {
        let () = redis::cmd("FLUSHALL").query(&mut redis.conn()).unwrap();
        // Both processes notice the loss within a beat and race to enqueue its job; the
        // loser's refused claim leaves no trace, so "once" is judged after that beat.
        tokio::time::sleep(ONE_BEAT).await;
        assert_eq!(sweeps(), vec![true], "one after-loss job per loss");
    }
    stop.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    for w in running {
        w.shutdown(WAIT).await;
    }
}
