#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A Redis that loses everything mid-campaign, with the production reconciler settings
//! (stall age 600 s, a run every 60 s): the workers notice the loss within one heartbeat
//! and one of them reconciles every in-flight row at once, so the campaign completes in
//! seconds, not after the stall age, and nothing is posted twice. Real PostgreSQL, a
//! private Redis, the real api, the sandbox over HTTP, and real `workers` processes.

mod harness;

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;
use test_support::stack::Stack;

use crate::harness::WorkerProcess;

/// Far below the 600 s stall age a routine reconcile waits for.
const HEALED_WITHIN: Duration = Duration::from_secs(60);

#[sqlx::test(migrations = "../migrations")]
async fn a_flushall_mid_campaign_is_healed_in_seconds_without_waiting_for_the_stall_age(
    db: PgPool,
) {
    let mut stack = Stack::start(db).await;
    let defaults = shared::Config::default().pipeline;
    assert_eq!(
        (defaults.stall_after_secs, defaults.reconcile_every_secs),
        (600, 60),
        "this test is about the production settings"
    );
    let owner = stack.connected_owner().await;
    // Slow Gemini so the campaign is mid-way when Redis forgets.
    stack
        .sandbox
        .fault(json!({"route": "gemini.text", "count": 7, "delay_ms": 700}))
        .await;
    // One job at a time per queue: while one text is written the other leads' jobs wait
    // in Redis, so the flush loses them (a job already running survives a flush).
    spawn_narrow_worker(&mut stack, "w1").await;
    spawn_narrow_worker(&mut stack, "w2").await;
    let id = owner.launch("Amnesia", "bakery", "Smallville").await;
    stack
        .wait_status(&owner, id, &["enriching", "generating"], HEALED_WITHIN)
        .await;
    let () = redis::cmd("FLUSHALL")
        .query(&mut stack.redis.conn())
        .unwrap();
    let flushed = Instant::now();
    // The sessions were in Redis too.
    owner.sign_in_as("owner@example.com").await;
    let detail = stack
        .wait_status(&owner, id, &["completed"], HEALED_WITHIN)
        .await;
    eprintln!(
        "FLUSHALL to completed: {:.1} s",
        flushed.elapsed().as_secs_f64()
    );
    assert_eq!(detail["campaign"]["published_count"], 7);
    stack.sandbox.assert_no_double_post().await;
}

/// On a Redis Cluster each master holds only some queues' keys: a failover to an empty
/// replica, or a flush, loses one master's data while the others keep theirs. Whichever
/// master it is, the loss is noticed within a heartbeat and healed as on one server.
#[sqlx::test(migrations = "../migrations")]
async fn on_a_cluster_the_loss_of_any_master_is_healed_in_seconds(db: PgPool) {
    let mut stack = Stack::start_on_cluster(db).await;
    let owner = stack.connected_owner().await;
    spawn_narrow_worker(&mut stack, "w1").await;
    spawn_narrow_worker(&mut stack, "w2").await;
    let masters = stack.cluster.as_ref().unwrap().masters();
    assert_eq!(masters.len(), 3);
    for (i, master) in masters.into_iter().enumerate() {
        stack
            .sandbox
            .fault(json!({"route": "gemini.text", "count": 7, "delay_ms": 700}))
            .await;
        // Seven leads each, other businesses each time (so other posts).
        let industry = ["bakery", "cafe", "florist"][i];
        let id = owner
            .launch(&format!("Amnesia {i}"), industry, "Smallville")
            .await;
        stack
            .wait_status(&owner, id, &["enriching", "generating"], HEALED_WITHIN)
            .await;
        let () = redis::cmd("FLUSHALL")
            .query(&mut stack.cluster.as_ref().unwrap().node_conn(master))
            .unwrap();
        let flushed = Instant::now();
        // The sessions on that master went too.
        owner.sign_in_as("owner@example.com").await;
        let mut detail = stack
            .wait_status(&owner, id, &["ready", "completed"], HEALED_WITHIN)
            .await;
        eprintln!(
            "FLUSHALL of master {master} to {}: {:.1} s",
            detail["campaign"]["status"],
            flushed.elapsed().as_secs_f64()
        );
        if detail["campaign"]["status"] == "ready" {
            // Contents that scored below the auto-approval wait for the owner.
            owner.approve_pending().await;
            detail = stack
                .wait_status(&owner, id, &["completed"], HEALED_WITHIN)
                .await;
        }
        assert_eq!(
            detail["campaign"]["published_count"], detail["campaign"]["leads_count"],
            "{detail}"
        );
    }
    stack.sandbox.assert_no_double_post().await;
}

/// A `workers` process on every pipeline queue, one job at a time on each.
async fn spawn_narrow_worker(stack: &mut Stack, name: &str) {
    let mut env = stack.worker_env.clone();
    env.push(("DATABASE_URL".into(), stack.db_url.clone()));
    let mut worker = WorkerProcess::spawn_with_relay(
        name,
        &stack.redis_url(),
        &stack.redis.dir(),
        &[
            "--queues",
            "scrape,enrich,generate,publish,periodic",
            "--concurrency",
            "1",
        ],
        &env,
    );
    worker.wait_ready().await;
    stack.workers.push(worker);
}
