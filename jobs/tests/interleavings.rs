//! Property: whatever the interleaving of enqueue, fetch, ack, fail, defer, crash and
//! reclaim, no job is lost and no job is delivered again once its ack went through.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::{Step, steps};
use jobs::ack::{Completion, ack_batch};
use jobs::admin::{Admin, JobFilter, JobState};
use jobs::settle::Settler;
use jobs::{Client, EnqueueOptions, Envelope};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use test_support::TestRedis;

#[derive(Debug, Clone)]
enum Op {
    Enqueue(usize),
    Fetch { consumer: usize, count: usize },
    Ack(usize),
    Fail(usize),
    Defer(usize),
    Crash(usize),
    Reclaim(usize),
    MoveDue,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1usize..5).prop_map(Op::Enqueue),
        4 => (0usize..3, 1usize..5).prop_map(|(consumer, count)| Op::Fetch { consumer, count }),
        4 => any::<usize>().prop_map(Op::Ack),
        2 => any::<usize>().prop_map(Op::Fail),
        1 => any::<usize>().prop_map(Op::Defer),
        1 => (0usize..3).prop_map(Op::Crash),
        1 => (0usize..3).prop_map(Op::Reclaim),
        1 => Just(Op::MoveDue),
    ]
}

struct Held {
    consumer: usize,
    entry: String,
    envelope: Envelope,
}

struct Model {
    enqueued: HashSet<String>,
    acked: HashMap<String, usize>,
    held: Vec<Held>,
}

impl Model {
    fn new() -> Self {
        Self {
            enqueued: HashSet::new(),
            acked: HashMap::new(),
            held: Vec::new(),
        }
    }

    fn take(&mut self, i: usize) -> Option<Held> {
        if self.held.is_empty() {
            None
        } else {
            let n = self.held.len();
            Some(self.held.swap_remove(i % n))
        }
    }
}

struct World {
    client: Client,
    settler: Settler,
    admin: Admin,
}

async fn fetch(
    world: &World,
    model: &mut Model,
    consumer: usize,
    count: usize,
) -> Result<(), TestCaseError> {
    let entries = common::read_as(&world.client, &format!("c{consumer}"), count).await;
    for e in entries {
        let envelope = Envelope::decode(e.envelope.as_deref().unwrap()).unwrap();
        prop_assert!(
            !model.acked.contains_key(&envelope.id),
            "job {} delivered again after its ack",
            envelope.id
        );
        model.held.push(Held {
            consumer,
            entry: e.id,
            envelope,
        });
    }
    Ok(())
}

async fn ack(world: &World, model: &mut Model, held: Held) {
    let keys = world.client.keys(&steps());
    let done = ack_batch(
        world.client.connection(),
        &keys,
        world.client.settings(),
        &[Completion {
            entry_id: Arc::from(held.entry.as_str()),
            unique: None,
        }],
    )
    .await
    .unwrap();
    if done == 1 {
        *model.acked.entry(held.envelope.id).or_default() += 1;
    }
}

async fn apply(world: &World, model: &mut Model, op: Op) -> Result<(), TestCaseError> {
    match op {
        Op::Enqueue(n) => {
            let jobs: Vec<Step> = (0..n).map(|i| common::step(&format!("p{i}"))).collect();
            let options = EnqueueOptions {
                max_attempts: Some(3),
                ..EnqueueOptions::default()
            };
            for e in world
                .client
                .enqueue_bulk_with(&jobs, options)
                .await
                .unwrap()
            {
                model.enqueued.insert(e.id().to_owned());
            }
        }
        Op::Fetch { consumer, count } => fetch(world, model, consumer, count).await?,
        Op::Ack(i) => {
            if let Some(h) = model.take(i) {
                ack(world, model, h).await;
            }
        }
        Op::Fail(i) => {
            if let Some(h) = model.take(i) {
                world
                    .settler
                    .retry(&h.entry, &h.envelope, Duration::ZERO, "injected failure")
                    .await
                    .unwrap();
            }
        }
        Op::Defer(i) => {
            if let Some(h) = model.take(i) {
                world
                    .settler
                    .defer(&h.entry, &h.envelope, jobs::now_ms(), "injected deferral")
                    .await
                    .unwrap();
            }
        }
        Op::Crash(consumer) => model.held.retain(|h| h.consumer != consumer),
        Op::Reclaim(consumer) => {
            let mut conn = world.client.connection();
            jobs::reclaim::reclaim(
                &mut conn,
                &world.settler,
                &format!("c{consumer}"),
                take_all(),
            )
            .await
            .unwrap();
        }
        Op::MoveDue => {
            let keys = world.client.keys(&steps());
            jobs::scheduler::move_due(&mut world.client.connection(), &keys, 100, true)
                .await
                .unwrap();
        }
    }
    Ok(())
}

/// A reclaim that judges every other consumer dead and every entry idle: the model's
/// crashes have no heartbeats to lapse.
fn take_all() -> jobs::reclaim::ReclaimPolicy {
    jobs::reclaim::ReclaimPolicy {
        min_idle: Duration::ZERO,
        heartbeat_lapse: Duration::ZERO,
        judge_heartbeats: true,
        judge_within: Duration::from_secs(60),
    }
}

/// Crashes every holder, then reclaims, moves and acks until nothing is left.
async fn drain(world: &World, model: &mut Model) -> Result<(), TestCaseError> {
    model.held.clear();
    let keys = world.client.keys(&steps());
    for _ in 0..200 {
        // A retry is due a millisecond after it was made: the next round sees it due.
        let tick = jobs::now_ms();
        while jobs::now_ms() <= tick {
            tokio::task::yield_now().await;
        }
        let mut conn = world.client.connection();
        jobs::scheduler::move_due(&mut conn, &keys, 1_000, true)
            .await
            .unwrap();
        jobs::reclaim::reclaim(&mut conn, &world.settler, "drain", take_all())
            .await
            .unwrap();
        fetch(world, model, 9, 1_000).await?;
        while let Some(h) = model.take(0) {
            ack(world, model, h).await;
        }
        let sizes = world.admin.sizes(&steps()).await.unwrap();
        if sizes.ready == 0 && sizes.in_flight == 0 && sizes.scheduled == 0 {
            return Ok(());
        }
    }
    Err(TestCaseError::fail("queue did not drain"))
}

#[test]
fn no_interleaving_loses_a_job_or_reruns_an_acked_one() {
    let redis = TestRedis::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let world = rt.block_on(async {
        let client = Client::connect(&redis.url(), common::fast_settings())
            .await
            .unwrap();
        let settler = Settler::new(
            client.connection(),
            Arc::new(client.keys(&steps())),
            Arc::new(client.settings().clone()),
        );
        let admin = Admin::new(client.connection(), client.settings());
        World {
            client,
            settler,
            admin,
        }
    });
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(op(), 1..60), |ops| {
            rt.block_on(async {
                let () = redis::cmd("FLUSHALL")
                    .query_async(&mut world.client.connection())
                    .await
                    .unwrap();
                let mut model = Model::new();
                for op in ops {
                    apply(&world, &mut model, op).await?;
                }
                drain(&world, &mut model).await?;
                let dead: HashSet<String> = common::listed(&world.admin, JobState::Dead, 500)
                    .await
                    .into_iter()
                    .map(|v| v.envelope.id)
                    .collect();
                for id in &model.enqueued {
                    let acks = model.acked.get(id).copied().unwrap_or(0);
                    let is_dead = dead.contains(id);
                    prop_assert!(
                        (acks == 1) ^ is_dead,
                        "job {id}: acked {acks} times, dead: {is_dead}"
                    );
                }
                prop_assert_eq!(model.acked.len() + dead.len(), model.enqueued.len());
                // The admin indexes follow: nothing waits, so no retry or deferral is
                // counted, and the kind index holds exactly the dead jobs.
                let sizes = world.admin.sizes(&steps()).await.unwrap();
                prop_assert_eq!((sizes.retrying, sizes.deferred), (0, 0));
                let by_kind = JobFilter::new(Some("step"), None, None);
                prop_assert_eq!(
                    world.admin.count_dead(&steps(), &by_kind).await.unwrap(),
                    dead.len() as u64
                );
                Ok(())
            })
        })
        .unwrap();
}
