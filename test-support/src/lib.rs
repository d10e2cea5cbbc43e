//! What the workspace's tests share, so each real part is started one way everywhere. A
//! dev-dependency only; each crate's tests turn on the features for the parts they start:
//!
//! - always: private `redis-server` instances and a Redis Cluster ([`TestRedis`],
//!   [`TestCluster`]), a canned HTTP server playing a provider's side of the wire
//!   ([`canned`]), `workers` processes ([`worker_process`]), free ports, and polling until a
//!   condition holds, and a buffer a test's log subscriber writes to ([`LogBuffer`]);
//! - `sandbox`: the sandbox of the provider APIs in process, and configs pointing the real
//!   clients at it ([`sandbox`]);
//! - `app`: the api on port 0 with its visitors ([`app`]), the SMTP sink ([`mail_sink`]),
//!   and the whole system (sandbox, Redis, api, workers) on a `#[sqlx::test]` database
//!   ([`stack`]);
//! - `browser`: headless Chromium over WebDriver and the account steps through the pages
//!   ([`browser`]).
//!
//! PostgreSQL is `#[sqlx::test]`'s: a fresh database per test, migrated, on the server
//! `DATABASE_URL` names (the test command starts a private one).
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a test that cannot start its parts should fail loudly"
)]

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "browser")]
pub mod browser;
pub mod canned;
mod log_buffer;
#[cfg(feature = "app")]
pub mod mail_sink;
mod redis_server;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "app")]
pub mod stack;
#[cfg(feature = "app")]
mod visitor;
pub mod worker_process;

use std::net::TcpListener;
use std::time::{Duration, Instant};

pub use log_buffer::LogBuffer;
pub use redis_server::{TestCerts, TestCluster, TestRedis};

/// The password of every account the helpers make, through the api or the pages.
pub const PASSWORD: &str = "correct horse battery";

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
/// `timeout`. The one way a test waits for something to happen: a fixed sleep either
/// wastes time or, on a busy machine, ends before the thing happened.
pub async fn wait_for(timeout: Duration, what: &str, cond: impl AsyncFnMut() -> bool) {
    assert!(
        poll_until(timeout, cond).await,
        "timed out after {timeout:?} waiting until {what}"
    );
}

/// [`wait_until`] for a condition that keeps what it saw (the closure may borrow mutably),
/// for a test whose failure message shows the last state: polls every 25 ms.
pub async fn poll_until(timeout: Duration, cond: impl AsyncFnMut() -> bool) -> bool {
    poll_every(timeout, Duration::from_millis(25), cond).await
}

/// [`poll_until`] every `every`: for a condition read through the api, whose per-user
/// rate limit (1,200 calls a minute by default) a 25 ms poll would exceed.
pub async fn poll_every(
    timeout: Duration,
    every: Duration,
    mut cond: impl AsyncFnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(every).await;
    }
    cond().await
}

/// Runs `op` until it succeeds or `timeout` passes, then panics with `what` and the last
/// error: for a read that may meet a server being restarted or not yet up.
pub async fn retry<T, E: std::fmt::Display>(
    timeout: Duration,
    what: &str,
    mut op: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match op().await {
            Ok(v) => return v,
            Err(e) if Instant::now() < deadline => {
                eprintln!("{what}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{what}: {e} (still failing after {timeout:?})"),
        }
    }
}

/// [`wait_for`] for code that runs outside a runtime (starting and watching servers):
/// polls `cond` every `every`, blocking the thread.
pub fn wait_for_blocking(
    timeout: Duration,
    every: Duration,
    what: &str,
    mut cond: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting until {what}"
        );
        std::thread::sleep(every);
    }
}
