//! What the admin operations answer: queues, workers and jobs as both front ends show
//! them, and the names of job states and actions.

use jobs::admin::{JobState, JobView};
use serde::Serialize;
use shared::db::admin_audit::AuditAction;
use utoipa::ToSchema;

use crate::redact::redact_json;

/// How many jobs a queue holds in each state, and how it is doing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueSizes {
    pub queue: String,
    /// Waiting to run: in the stream, not yet delivered to a worker, or waiting for its
    /// owner's turn to enter the stream.
    pub ready: u64,
    /// Of `ready`, the jobs waiting for their owner's turn (owners take turns, so one
    /// owner's backlog does not hold the others' jobs behind it).
    pub waiting_turn: u64,
    /// Delivered and not yet acked: running (or held by a worker that died).
    pub in_flight: u64,
    /// Everything in the scheduled set: delayed jobs, retries waiting for their backoff
    /// and deferrals.
    pub scheduled: u64,
    /// Of `scheduled`, the retries waiting for their backoff.
    pub retrying: u64,
    /// Of `scheduled`, the deferred jobs (waiting without using an attempt).
    pub deferred: u64,
    pub dead: u64,
    /// Dead jobs the dead-set cap dropped, oldest first, since the queue began.
    pub dead_dropped: u64,
    pub paused: bool,
    /// How long the oldest ready job has waited, ms; `null` when none waits.
    pub lag_ms: Option<u64>,
    /// Jobs completed in the last 60 minutes.
    pub processed_last_hour: u64,
    /// Failed attempts (retried or buried) in the last 60 minutes.
    pub failed_last_hour: u64,
}

/// One minute of all queues together.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MinuteTotals {
    /// Minutes since the Unix epoch (UTC).
    pub minute: u64,
    pub processed: u64,
    /// Failed attempts: retried plus buried.
    pub failed: u64,
    pub dead: u64,
    pub deferred: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub queues: Vec<QueueSizes>,
    /// Oldest first, the current minute last.
    pub minutes: Vec<MinuteTotals>,
    /// Worker processes with a recent heartbeat.
    pub live_workers: usize,
    /// Per queue with owners' jobs running or waiting for a turn, the busiest owners.
    pub owners: Vec<QueueOwners>,
}

/// The busiest owners of one queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueOwners {
    pub queue: String,
    pub owners: Vec<OwnerShare>,
}

/// One owner's jobs in a queue: running now on live workers, and waiting for the owner's
/// turn to enter the queue's stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerShare {
    pub user_id: i64,
    /// `null` when the account no longer exists.
    pub email: Option<String>,
    pub running: u64,
    pub waiting_turn: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerQueue {
    pub queue: String,
    pub concurrency: usize,
    /// Jobs running now.
    pub busy: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BusyJob {
    pub queue: String,
    pub id: String,
    pub kind: String,
    pub started_at: u64,
    /// How long it has run at the last heartbeat, ms.
    pub runtime_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Worker {
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub queues: Vec<WorkerQueue>,
    /// The longest running jobs (at most 20 per queue).
    pub jobs: Vec<BusyJob>,
    pub started_at: u64,
    pub last_beat: u64,
    /// How long ago the last heartbeat was, ms.
    pub beat_age_ms: u64,
}

/// A job in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobSummary {
    pub id: String,
    pub kind: String,
    pub queue: String,
    /// `ready`, `in_flight`, `scheduled` or `dead`.
    pub state: String,
    pub user_id: Option<i64>,
    /// Attempts used.
    pub attempt: u32,
    pub max_attempts: u32,
    /// ms since the epoch.
    pub enqueued_at: u64,
    pub run_at: Option<u64>,
    pub died_at: Option<u64>,
    pub last_error: Option<String>,
    /// Why it waits, when it was deferred.
    pub deferred_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobErrorView {
    pub at: u64,
    pub attempt: u32,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeferralView {
    /// When it runs again, ms.
    pub until: u64,
    pub reason: String,
    /// Deferrals in a row.
    pub count: u32,
}

/// Everything about one job, arguments with secrets redacted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub summary: JobSummary,
    /// The arguments; values under keys that look like secrets are `"[redacted]"`.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// The last five failed attempts, oldest first.
    pub errors: Vec<JobErrorView>,
    pub deferred: Option<DeferralView>,
    pub unique_key: Option<String>,
    /// In flight: the worker holding it, and for how long (ms) since its last claim.
    pub consumer: Option<String>,
    pub idle_ms: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
    /// Jobs read to make this page.
    pub scanned: usize,
    /// The search read its budget (5,000 jobs) before the page was full: continue with
    /// `next_cursor`.
    pub budget_spent: bool,
}

/// How many dead jobs match a filter.
#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    /// Exact when `exact`; otherwise how many matched among the `scanned` newest.
    pub count: u64,
    /// False when a text search stopped at its budget (5,000 jobs read, as a list page):
    /// more of the older jobs may match.
    pub exact: bool,
    /// Jobs read to count; 0 when an index answered.
    pub scanned: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Affected {
    /// How many jobs the action changed.
    pub affected: u64,
}

/// What an admin does to one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAction {
    /// A dead job back to the stream, attempts reset.
    Retry,
    /// A dead or scheduled job deleted.
    Discard,
    /// A scheduled job made due now.
    RunNow,
}

impl JobAction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "retry" => Some(Self::Retry),
            "discard" => Some(Self::Discard),
            "run-now" | "run_now" => Some(Self::RunNow),
            _ => None,
        }
    }

    pub(super) fn audit(self) -> AuditAction {
        match self {
            Self::Retry => AuditAction::Retry,
            Self::Discard => AuditAction::Discard,
            Self::RunNow => AuditAction::RunNow,
        }
    }
}

/// A state by its wire name.
pub fn parse_state(s: &str) -> Option<JobState> {
    match s {
        "ready" => Some(JobState::Ready),
        "in_flight" | "running" => Some(JobState::InFlight),
        "scheduled" => Some(JobState::Scheduled),
        "dead" => Some(JobState::Dead),
        _ => None,
    }
}

pub fn state_name(s: JobState) -> &'static str {
    match s {
        JobState::Ready => "ready",
        JobState::InFlight => "in_flight",
        JobState::Scheduled => "scheduled",
        JobState::Dead => "dead",
    }
}

pub fn summary(view: &JobView) -> JobSummary {
    let e = &view.envelope;
    JobSummary {
        id: e.id.clone(),
        kind: e.kind.clone(),
        queue: e.queue.clone(),
        state: state_name(view.state).to_owned(),
        user_id: e.user_id,
        attempt: e.attempt,
        max_attempts: e.max_attempts,
        enqueued_at: e.enqueued_at,
        run_at: e.run_at,
        died_at: e.died_at,
        last_error: e.last_error().map(str::to_owned),
        deferred_reason: e.deferred.as_ref().map(|d| d.reason.clone()),
    }
}

pub fn detail(view: &JobView) -> JobDetail {
    let e = &view.envelope;
    JobDetail {
        summary: summary(view),
        args: redact_json(e.args.get()),
        errors: e
            .errors
            .iter()
            .map(|r| JobErrorView {
                at: r.at,
                attempt: r.attempt,
                message: r.message.clone(),
            })
            .collect(),
        deferred: e.deferred.as_ref().map(|d| DeferralView {
            until: d.until,
            reason: d.reason.clone(),
            count: d.count,
        }),
        unique_key: e.unique_key.clone(),
        consumer: view.consumer.clone(),
        idle_ms: view.idle_ms,
    }
}
