//! The diagnostic `probe` job: proves a queue works end to end, and lets tests drive
//! every lifecycle path (slow jobs, failures, panics, deferrals) through a real worker.

use std::time::Duration;

use jobs::Conn;
use jobs::kinds::probe::Probe;
use jobs::{JobContext, JobError, Registry};

/// Where the runs of a probe tag are logged: one list entry per run start
/// (`start:<attempt>`) and one per completed run (`done:<attempt>`).
pub fn runs_key(prefix: &str, tag: &str) -> String {
    format!("{prefix}probe:runs:{tag}")
}

pub fn register(registry: Registry, redis: Conn, prefix: &str) -> Registry {
    let prefix = prefix.to_owned();
    registry.register(move |job: Probe, ctx: JobContext| {
        let conn = redis.clone();
        let key = runs_key(&prefix, &job.tag);
        run(conn, key, job, ctx)
    })
}

async fn run(mut conn: Conn, key: String, job: Probe, ctx: JobContext) -> Result<(), JobError> {
    log(&mut conn, &key, &format!("start:{}", ctx.attempt)).await?;
    if job.defer_ms > 0 && ctx.attempt == 1 {
        let deferred: bool = redis::cmd("SET")
            .arg(format!("{key}:deferred"))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(RUNS_TTL_SECS)
            .query_async::<Option<String>>(&mut conn)
            .await
            .map_err(JobError::retryable)?
            .is_some();
        if deferred {
            return Err(JobError::defer_for(
                Duration::from_millis(job.defer_ms),
                "probe asked to be deferred",
            ));
        }
    }
    if job.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
    }
    if job.panic {
        panic!("probe {} panicked on purpose", job.tag);
    }
    if job.permanent {
        // The cause, in the message the admin pages show: "failed permanently" alone
        // read as a mystery next to "attempt 1 of 5".
        return Err(JobError::permanent(format!(
            "probe {} failed permanently because it was sent with `permanent: true`; a \
             permanent error is not retried, so attempt {} was its last",
            job.tag, ctx.attempt
        )));
    }
    if ctx.attempt <= job.fail_attempts {
        return Err(JobError::retryable(format!(
            "probe {} failed attempt {} because it was sent with `fail_attempts: {}`",
            job.tag, ctx.attempt, job.fail_attempts
        )));
    }
    log(&mut conn, &key, &format!("done:{}", ctx.attempt)).await
}

/// How long a probe's run log is kept: long enough to read it, short enough that a
/// steady probe feed (the demo's, an ops check's) does not grow Redis forever.
const RUNS_TTL_SECS: u64 = 24 * 3600;

async fn log(conn: &mut Conn, key: &str, entry: &str) -> Result<(), JobError> {
    let () = redis::pipe()
        .cmd("RPUSH")
        .arg(key)
        .arg(entry)
        .ignore()
        .cmd("EXPIRE")
        .arg(key)
        .arg(RUNS_TTL_SECS)
        .ignore()
        .query_async(conn)
        .await
        .map_err(JobError::retryable)?;
    Ok(())
}
