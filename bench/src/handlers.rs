//! The benchmark's handlers: `noop` counts, `sleep` waits 20 ms then counts, `lat` records its
//! pickup latency (the workloads are in `bin/bench_run/`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::jobs::{Lat, Noop, Sleep, Traced};
use jobs::Conn;
use jobs::{JobContext, JobError, Registry};

pub fn registry(redis: Conn) -> Registry {
    let (r1, r2, r3, r4) = (redis.clone(), redis.clone(), redis.clone(), redis);
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
        .register(move |job: Traced, ctx: JobContext| {
            let mut conn = r4.clone();
            async move {
                trace(&mut conn, "start", job.seq, ctx.attempt).await?;
                tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
                trace(&mut conn, "done", job.seq, ctx.attempt).await
            }
        })
}

/// Where `traced` jobs record their runs: `<event> <seq> <pid> <attempt> <local_ms>
/// <redis_ms>`, one list entry per start and per completion.
pub const TRACED_KEY: &str = "bench:{traced}";
/// The records already written, so a retried write lands once: a write whose reply was
/// lost to a cut link may still have landed (or land when the link heals), and a second
/// copy would read as a second run. Same hash slot as [`TRACED_KEY`].
const TRACED_SEEN_KEY: &str = "bench:{traced}:seen";

/// How long a `traced` job keeps trying to write one record before it gives up.
const TRACE_PATIENCE: Duration = Duration::from_secs(120);

/// Appends one record, once. `local_ms` is when this process took the step (a start decided
/// while Redis was out of reach keeps that moment); `redis_ms` is Redis's clock when the
/// record landed. The write is retried until it lands, so a run on a host cut off from
/// Redis is still recorded once the link is back: a test must see every run, not only
/// those whose host could reach Redis at the time.
async fn trace(conn: &mut Conn, event: &str, seq: u64, attempt: u32) -> Result<(), JobError> {
    let record = format!(
        "{event} {seq} {} {attempt} {}",
        std::process::id(),
        unix_ms()
    );
    let script = redis::Script::new(
        "if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end \
         local t = redis.call('TIME') \
         return redis.call('RPUSH', KEYS[1], ARGV[1] .. ' ' .. (t[1] * 1000 + math.floor(t[2] / 1000)))",
    );
    let deadline = tokio::time::Instant::now() + TRACE_PATIENCE;
    loop {
        let res: Result<i64, _> = script
            .key(TRACED_KEY)
            .key(TRACED_SEEN_KEY)
            .arg(&record)
            .invoke_async(conn)
            .await;
        match res {
            Ok(_) => return Ok(()),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(JobError::retryable(e));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

async fn incr_done(conn: &mut Conn) -> Result<(), JobError> {
    let _: i64 = redis::cmd("INCR")
        .arg("bench:done")
        .query_async(conn)
        .await
        .map_err(JobError::retryable)?;
    Ok(())
}
