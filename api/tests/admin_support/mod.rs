//! What the admin tests plant in the app's Redis: failed jobs buried by the engine itself
//! (so the dead set's kind and user indexes are written as in production), and a live
//! worker's heartbeat.
#![allow(dead_code, reason = "each admin test file uses a part")]

use std::sync::Arc;

use jobs::settle::Settler;
use jobs::{Client, Envelope, QueueName, Settings};
use serde_json::{Value, json};

use test_support::app::TestApp;

pub async fn client(app: &TestApp) -> Client {
    Client::connect(&app.redis.url(), Settings::default())
        .await
        .unwrap()
}

/// A job of `kind` that failed its last attempt with `error`, in `queue`'s dead set.
pub async fn bury(
    app: &TestApp,
    queue: &str,
    id: &str,
    kind: &str,
    user_id: Option<i64>,
    args: Value,
    error: &str,
) {
    let client = client(app).await;
    let q = QueueName::new(queue).unwrap();
    client.register_queue(&q).await.unwrap();
    let settler = Settler::new(
        client.connection(),
        Arc::new(client.keys(&q)),
        Arc::new(client.settings().clone()),
    );
    let mut envelope = json!({
        "id": id, "kind": kind, "queue": queue, "args": args,
        "attempt": 4, "max_attempts": 5, "enqueued_at": jobs::now_ms() - 60_000,
    });
    if let Some(u) = user_id {
        envelope["user_id"] = u.into();
    }
    let envelope = Envelope::decode(envelope.to_string().as_bytes()).unwrap();
    settler.bury(None, &envelope, error).await.unwrap();
}

/// A worker process's heartbeat, running one job of `queue` for a minute already.
pub async fn worker_beat(app: &TestApp, queue: &str, job_id: &str) {
    let client = client(app).await;
    let now = jobs::now_ms();
    let info = jobs::heartbeat::WorkerInfo {
        id: "worker-1.example:4242:ab12".into(),
        host: "worker-1.example".into(),
        pid: 4242,
        queues: vec![(queue.to_owned(), 4)],
        started_at: now - 3_600_000,
        last_beat: now,
        busy: vec![(queue.to_owned(), 1)],
        jobs: vec![jobs::heartbeat::BusyJob {
            queue: queue.to_owned(),
            id: job_id.to_owned(),
            kind: "scrape_campaign".into(),
            started_at: now - 61_000,
        }],
        owners: vec![jobs::heartbeat::OwnerRunning {
            queue: queue.to_owned(),
            user_id: 7,
            running: 1,
        }],
    };
    jobs::heartbeat::beat(
        &mut client.connection(),
        &jobs::keys::GlobalKeys::new("ag:"),
        &info,
        std::time::Duration::from_secs(60),
    )
    .await
    .unwrap();
}

/// Jobs in a queue's stream (ready or running).
pub async fn stream_len(app: &TestApp, queue: &str) -> u64 {
    let client = client(app).await;
    let keys = client.keys(&QueueName::new(queue).unwrap());
    redis::cmd("XLEN")
        .arg(&keys.stream)
        .query_async(&mut client.connection())
        .await
        .unwrap()
}

/// Admin audit rows as (action, queue, affected), oldest first.
pub async fn audit_rows(app: &TestApp) -> Vec<(String, String, i64)> {
    sqlx::query_as("SELECT action, queue, affected FROM admin_audit ORDER BY id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// `n` failed jobs of `kind` in `queue`'s dead set, buried by the engine over one
/// connection; `args(i)` gives the arguments of the i-th.
pub async fn bury_many(
    app: &TestApp,
    queue: &str,
    n: usize,
    kind: &str,
    args: impl Fn(usize) -> Value,
) {
    let client = client(app).await;
    let q = QueueName::new(queue).unwrap();
    client.register_queue(&q).await.unwrap();
    let settler = Settler::new(
        client.connection(),
        Arc::new(client.keys(&q)),
        Arc::new(client.settings().clone()),
    );
    for i in 0..n {
        let envelope = json!({
            "id": format!("{queue}-dead-{i}"), "kind": kind, "queue": queue, "args": args(i),
            "attempt": 4, "max_attempts": 5, "enqueued_at": jobs::now_ms() - 60_000,
        });
        let envelope = Envelope::decode(envelope.to_string().as_bytes()).unwrap();
        settler.bury(None, &envelope, "boom").await.unwrap();
    }
}
