//! The benchmark's handlers: `noop` counts, `sleep` waits 20 ms then counts, `lat` records its
//! pickup latency (the workloads are in `bin/bench_run.rs`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::jobs::{Lat, Noop, Sleep};
use jobs::Conn;
use jobs::{JobError, Registry};

pub fn registry(redis: Conn) -> Registry {
    let (r1, r2, r3) = (redis.clone(), redis.clone(), redis);
    Registry::new()
        .register(move |_: Noop, _| {
            let mut conn = r1.clone();
            async move { incr_done(&mut conn).await }
        })
        .register(move |_: Sleep, _| {
            let mut conn = r2.clone();
            async move {
                crate::precise_sleep::sleep(Duration::from_millis(20))
                    .await
                    .map_err(JobError::retryable)?;
                incr_done(&mut conn).await
            }
        })
        .register(move |job: Lat, _| {
            let mut conn = r3.clone();
            async move {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs_f64() * 1000.0)
                    .unwrap_or(0.0);
                let () = redis::cmd("RPUSH")
                    .arg("bench:lat")
                    .arg(now - job.enqueued_at_ms)
                    .query_async(&mut conn)
                    .await
                    .map_err(JobError::retryable)?;
                Ok(())
            }
        })
}

async fn incr_done(conn: &mut Conn) -> Result<(), JobError> {
    let _: i64 = redis::cmd("INCR")
        .arg("bench:done")
        .query_async(conn)
        .await
        .map_err(JobError::retryable)?;
    Ok(())
}
