#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Periodic jobs: any number of processes run the schedule, each period's job is enqueued
//! once.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use test_support::TestRedis;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tick {
    period: u64,
}

impl jobs::Job for Tick {
    const KIND: &'static str = "tick";
    const QUEUE: &'static str = "ticks";
}

#[tokio::test]
async fn three_schedulers_enqueue_each_period_once() {
    let redis = TestRedis::start();
    let stop = CancellationToken::new();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let client = jobs::Client::connect(&redis.url(), jobs::Settings::default())
            .await
            .unwrap();
        tasks.push(jobs::periodic::spawn(
            client,
            Duration::from_millis(200),
            |period| Tick { period },
            stop.clone(),
        ));
    }
    // Five periods enqueued, by whichever scheduler claimed each.
    let mut conn = redis.conn();
    test_support::wait_for(
        Duration::from_secs(10),
        "five periods are enqueued",
        async || periods_in(&mut conn).len() >= 5,
    )
    .await;
    stop.cancel();
    for t in tasks {
        t.await.unwrap();
    }
    let periods = periods_in(&mut conn);
    let distinct: BTreeSet<u64> = periods.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        periods.len(),
        "a period enqueued twice: {periods:?}"
    );
}

/// The period of each job in the stream, in stream order.
fn periods_in(conn: &mut redis::Connection) -> Vec<u64> {
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg("ag:{ticks}:stream")
        .arg("-")
        .arg("+")
        .query(conn)
        .unwrap();
    entries
        .ids
        .iter()
        .map(|e| {
            let raw: String = e.get(jobs::keys::ENVELOPE_FIELD).unwrap();
            let envelope = jobs::Envelope::decode(raw.as_bytes()).unwrap();
            serde_json::from_str::<Tick>(envelope.args.get())
                .unwrap()
                .period
        })
        .collect()
}
