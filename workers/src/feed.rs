//! `workers probe`: enqueues diagnostic probe jobs, once or as a steady feed. The demo
//! uses a mixed feed so every lifecycle path shows in `workers status`: most jobs
//! succeed, some fail once and are retried, some are deferred, a few die.

use std::time::Duration;

use jobs::kinds::probe::Probe;
use jobs::{Client, EnqueueOptions, QueueName};

use crate::error::Error;

/// The `n`-th probe of a mixed feed.
pub fn mixed(n: u64) -> Probe {
    let mut p = Probe {
        tag: format!("feed-{n}"),
        sleep_ms: 20 + (n * 37) % 200,
        ..Probe::default()
    };
    match n % 50 {
        7 | 19 | 33 => p.fail_attempts = 1,
        11 => p.defer_ms = 2_000,
        42 if n % 200 == 42 => p.permanent = true,
        _ => {}
    }
    p
}

/// Enqueues `count` probes (0 = forever) to `queue`, one every `every`.
pub async fn run(
    client: &Client,
    queue: &QueueName,
    count: u64,
    every: Duration,
    mix: bool,
) -> Result<u64, Error> {
    let options = EnqueueOptions {
        queue: Some(queue.clone()),
        ..EnqueueOptions::default()
    };
    let mut n = 0;
    while count == 0 || n < count {
        let probe = if mix {
            mixed(n)
        } else {
            Probe {
                tag: format!("probe-{n}"),
                ..Probe::default()
            }
        };
        client.enqueue_with(&probe, options.clone()).await?;
        n += 1;
        if !every.is_zero() {
            tokio::time::sleep(every).await;
        }
    }
    Ok(n)
}
