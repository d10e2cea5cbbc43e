//! What the workspace's tests share, so each real part is started one way everywhere:
//! private `redis-server` instances and a Redis Cluster ([`TestRedis`], [`TestCluster`]),
//! free ports, and polling until a condition holds. The app, sandbox and browser harnesses
//! stay with the crate whose parts they start (api, workers), since this crate sits below
//! all of them. A dev-dependency only.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a test that cannot start its parts should fail loudly"
)]

mod redis_server;

use std::net::TcpListener;
use std::time::{Duration, Instant};

pub use redis_server::{TestCluster, TestRedis};

/// A port on 127.0.0.1 nothing listens on now (bound, then released): for a server a test
/// starts whose URL must be known before it binds.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; says whether it held, for
/// a test that asserts with its own message.
pub async fn wait_until<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond().await
}

/// Polls `cond` every 25 ms; panics saying what it waited for if it still fails after
/// `timeout`.
pub async fn wait_for(timeout: Duration, what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
