//! What admins do to jobs and queues: each action is written to the audit log before it
//! is carried out, so none goes unrecorded.

use jobs::QueueName;
use jobs::admin::{JobFilter, JobState};
use shared::db::admin_audit::{self, AuditAction, NewAuditEntry};

use super::views::{Count, JobAction};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Writes the audit row of an action about to be carried out; the action must not start if
/// this fails, so that none goes unrecorded. Returns the row, to [`settle`] or [`withdraw`].
async fn audit_before(
    state: &AppState,
    user: &CurrentUser,
    action: AuditAction,
    queue: &QueueName,
    job_id: Option<&str>,
    filter: Option<&JobFilter>,
) -> ApiResult<i64> {
    let filter = filter
        .map(|f| serde_json::json!({ "kind": f.kind, "user_id": f.user_id, "text": f.text() }));
    let entry = NewAuditEntry {
        user_id: user.id,
        action,
        queue: queue.as_str(),
        job_id,
        filter,
    };
    Ok(admin_audit::open(&state.db, &entry).await?)
}

/// Sets the count on a row whose action is done. A failure is logged, not answered: the
/// action happened and is recorded (with 0), and an admin told it failed would repeat it.
async fn settle(state: &AppState, row: i64, affected: u64) {
    let affected = i64::try_from(affected).unwrap_or(i64::MAX);
    if let Err(e) = admin_audit::settle(&state.db, row, affected).await {
        tracing::warn!(error = %jobs::error::Chain(&e), audit.id = row, affected, "admin audit count not written");
    }
}

/// Takes back the row of an action that did nothing (its job had gone, or another job held
/// its unique key). Left in place on failure: a row too many is the safe side.
async fn withdraw(state: &AppState, row: i64) {
    if let Err(e) = admin_audit::withdraw(&state.db, row).await {
        tracing::warn!(error = %jobs::error::Chain(&e), audit.id = row, "admin audit row of a no-op left in place");
    }
}

/// Retry, discard or run one job now, recorded first. `false`: no job in a state the action
/// applies to (gone, or never there). Another job holding its unique key is a 409.
pub async fn act_on_job(
    state: &AppState,
    user: &CurrentUser,
    queue: &QueueName,
    id: &str,
    action: JobAction,
) -> ApiResult<bool> {
    let row = audit_before(state, user, action.audit(), queue, Some(id), None).await?;
    let admin = &state.queue_admin;
    let done = match action {
        JobAction::Retry => match admin.retry_dead(queue, id).await {
            Err(jobs::Error::UniqueHeld { holder, .. }) => {
                withdraw(state, row).await;
                return Err(ApiError::Conflict(format!(
                    "job {holder} with the same unique key is queued; this one stays dead"
                )));
            }
            other => other?,
        },
        JobAction::Discard => {
            admin.discard_dead(queue, id).await? || admin.discard_scheduled(queue, id).await?
        }
        JobAction::RunNow => admin.run_scheduled_now(queue, id).await?,
    };
    tracing::info!(user.id = user.id, queue = %queue, job.id = id, ?action, done, "admin action on a job");
    if done {
        settle(state, row, 1).await;
    } else {
        withdraw(state, row).await;
    }
    Ok(done)
}

/// How many dead jobs match `filter`, without reading the whole dead set: the indexes answer
/// a kind or user filter exactly; a text search reads with the list's bounded scan, page
/// after page, until [`jobs::admin::SCAN_BUDGET`] jobs were read (the last page may read up
/// to that many again), holding one page in memory at a time.
pub async fn count_dead(
    state: &AppState,
    queue: &QueueName,
    filter: &JobFilter,
) -> ApiResult<Count> {
    let admin = &state.queue_admin;
    if filter.text().is_none() {
        let count = admin.count_dead(queue, filter).await?;
        return Ok(Count {
            count,
            exact: true,
            scanned: 0,
        });
    }
    let mut count = 0;
    let mut scanned = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = admin
            .page(
                queue,
                JobState::Dead,
                filter,
                cursor.as_deref(),
                jobs::admin::MAX_PAGE,
            )
            .await?;
        count += page.jobs.len() as u64;
        scanned += page.scanned;
        match page.next {
            None => {
                return Ok(Count {
                    count,
                    exact: true,
                    scanned,
                });
            }
            Some(_) if page.budget_spent || scanned >= jobs::admin::SCAN_BUDGET => {
                return Ok(Count {
                    count,
                    exact: false,
                    scanned,
                });
            }
            next => cursor = next,
        }
    }
}

/// Retries or discards every dead job matching `filter` that died by `cutoff_ms`, recorded
/// first, then with the count.
pub async fn act_on_matching(
    state: &AppState,
    user: &CurrentUser,
    queue: &QueueName,
    filter: &JobFilter,
    retry: bool,
    cutoff_ms: u64,
) -> ApiResult<u64> {
    let action = if retry {
        AuditAction::RetryMatching
    } else {
        AuditAction::DiscardMatching
    };
    let row = audit_before(state, user, action, queue, None, Some(filter)).await?;
    let admin = &state.queue_admin;
    let n = if retry {
        admin.retry_dead_matching(queue, filter, cutoff_ms).await?
    } else {
        admin
            .discard_dead_matching(queue, filter, cutoff_ms)
            .await?
    };
    tracing::info!(user.id = user.id, queue = %queue, ?filter, ?action, n, "admin bulk action");
    settle(state, row, n).await;
    Ok(n)
}

/// Pauses (or resumes) a queue, recorded first.
pub async fn set_paused(
    state: &AppState,
    user: &CurrentUser,
    queue: &QueueName,
    paused: bool,
) -> ApiResult<()> {
    let action = if paused {
        AuditAction::Pause
    } else {
        AuditAction::Resume
    };
    audit_before(state, user, action, queue, None, None).await?;
    if paused {
        state.queue_admin.pause(queue).await?;
    } else {
        state.queue_admin.resume(queue).await?;
    }
    tracing::info!(user.id = user.id, queue = %queue, paused, "admin paused or resumed a queue");
    Ok(())
}

pub fn filter_of(kind: Option<&str>, user_id: Option<i64>, q: Option<&str>) -> JobFilter {
    JobFilter::new(kind, user_id, q)
}
