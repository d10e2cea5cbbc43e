//! The end of a pipeline job that will not run again, and what it does to its row.
//!
//! The engine decides a job's fate from what the handler answers (a permanent refusal or
//! the last failed attempt: the dead set). The job's row in PostgreSQL (the campaign of a
//! scrape, the lead of an enrichment or a generation, the publication of a post) must end
//! at the same moment, with the reason, or the campaign waits forever for a job that is
//! gone. Every pipeline handler is registered through [`step`], which sees the answer
//! before the engine does and, when it ends the job, calls the kind's `end` first.
//!
//! A wait uses no attempt, so a provider that keeps saying "later" (429s, a quota, a grant
//! to reconnect) would keep a job alive forever: a provider's wait (`RetryAfter`) that
//! comes after `pipeline.give_up_waiting_secs` since the job became due ends it too, with
//! the provider's last word as the reason. A job becomes due when it is enqueued, or at
//! the instant it was enqueued for: a post's PublishPost is enqueued at approval for a
//! slot that may be weeks away, and only its wait at the slot counts (an owner's move or
//! "publish now" enqueues a new job, due from then). Our own limits (`Defer`: the daily
//! budgets, our rate gates) always reopen and are never cut short.

use std::future::Future;
use std::time::Duration;

use jobs::{JobContext, JobError};

use super::Pipeline;

/// Why the job ends now, or `None` when the engine will run it again (a retry with
/// attempts left, or a wait).
pub fn ending(e: &JobError, ctx: &JobContext, give_up_waiting: Duration) -> Option<String> {
    match e {
        JobError::Permanent(reason) => Some(reason.clone()),
        JobError::Retryable(reason) if ctx.attempt >= ctx.max_attempts => Some(format!(
            "{reason} (gave up after {} attempts)",
            ctx.max_attempts
        )),
        JobError::Retryable(_) | JobError::Defer { .. } => None,
        JobError::RetryAfter { message, .. } => {
            waited_enough(ctx.due_at, give_up_waiting).then(|| {
                format!(
                    "{message} (gave up after waiting {})",
                    human(give_up_waiting)
                )
            })
        }
    }
}

/// Runs a pipeline handler; when its answer ends the job, `end` records the reason in
/// the job's row before the engine buries the job. A wait that ran past the bound is
/// turned into that permanent end. If `end` itself fails (PostgreSQL away), the job is
/// retried instead, so the row is not left behind by a buried job.
pub async fn step<J, Run, RunFut, End, EndFut>(
    p: Pipeline,
    job: J,
    ctx: JobContext,
    run: Run,
    end: End,
) -> Result<(), JobError>
where
    J: Clone,
    Run: FnOnce(Pipeline, J, JobContext) -> RunFut,
    RunFut: Future<Output = Result<(), JobError>>,
    End: FnOnce(Pipeline, J, String) -> EndFut,
    EndFut: Future<Output = Result<(), JobError>>,
{
    let give_up = Duration::from_secs(p.config.give_up_waiting_secs);
    let result = run(p.clone(), job.clone(), ctx.clone()).await;
    let Err(e) = result else {
        return Ok(());
    };
    let Some(reason) = ending(&e, &ctx, give_up) else {
        return Err(within_bound(e, &ctx, give_up));
    };
    tracing::warn!(job.id = %ctx.id, kind = %ctx.kind, reason = %reason, "pipeline step ends");
    match end(p, job, reason.clone()).await {
        Ok(()) => Err(JobError::Permanent(reason)),
        Err(not_recorded) => Err(JobError::Retryable(format!(
            "{reason}; the end could not be recorded ({not_recorded}), trying again"
        ))),
    }
}

/// A provider's wait that would run past the give-up bound comes back at the bound
/// instead, so the job ends then (with the provider's last word), not after the whole
/// wait (a LinkedIn member's daily limit, a reconnect wait).
fn within_bound(e: JobError, ctx: &JobContext, give_up: Duration) -> JobError {
    let JobError::RetryAfter { delay, message } = e else {
        return e;
    };
    let bound_ms = ctx
        .due_at
        .saturating_add(u64::try_from(give_up.as_millis()).unwrap_or(u64::MAX));
    let left = Duration::from_millis(bound_ms.saturating_sub(jobs::now_ms()));
    JobError::RetryAfter {
        delay: delay.min(left.max(Duration::from_millis(100))),
        message,
    }
}

/// Whether the job has waited on providers as long as it may: a step that can still
/// give the owner something without the part that keeps waiting (a content without its
/// image) does so then.
pub fn waited_enough(due_at: u64, give_up: Duration) -> bool {
    Duration::from_millis(jobs::now_ms().saturating_sub(due_at)) >= give_up
}

/// "3 days", "2 h", "40 min", "12 s".
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 2 * 86_400 {
        format!("{} days", s / 86_400)
    } else if s >= 2 * 3600 {
        format!("{} h", s / 3600)
    } else if s >= 120 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job enqueued a month ago for a slot that came `due_ago` ago.
    fn ctx(attempt: u32, due_ago: Duration) -> JobContext {
        let now = jobs::now_ms();
        JobContext {
            id: "j".into(),
            kind: "k".into(),
            queue: "q".into(),
            attempt,
            max_attempts: 5,
            user_id: None,
            enqueued_at: now - 30 * 86_400_000,
            due_at: now - u64::try_from(due_ago.as_millis()).unwrap(),
        }
    }

    #[test]
    fn which_answers_end_the_job() {
        let bound = Duration::from_secs(3600);
        let fresh = Duration::from_secs(1);
        let old = Duration::from_secs(7200);
        // (answer, attempt, time since due) → ends?
        let cases = [
            (JobError::Permanent("refused".into()), 1, fresh, true),
            (JobError::Retryable("500".into()), 4, fresh, false),
            (JobError::Retryable("500".into()), 5, fresh, true),
            (JobError::defer_for(fresh, "daily budget"), 5, old, false),
            (
                JobError::RetryAfter {
                    delay: fresh,
                    message: "429".into(),
                },
                5,
                fresh,
                false,
            ),
            (
                JobError::RetryAfter {
                    delay: fresh,
                    message: "429".into(),
                },
                1,
                old,
                true,
            ),
        ];
        for (e, attempt, age, ends) in cases {
            let got = ending(&e, &ctx(attempt, age), bound);
            assert_eq!(
                got.is_some(),
                ends,
                "{e:?} at attempt {attempt}, due {age:?} ago"
            );
        }
        let why = ending(
            &JobError::RetryAfter {
                delay: fresh,
                message: "Gemini: throttled".into(),
            },
            &ctx(1, old),
            bound,
        );
        assert_eq!(
            why.as_deref(),
            Some("Gemini: throttled (gave up after waiting 60 min)")
        );
    }
}
