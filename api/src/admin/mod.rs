//! The admin operations on the queues, shared by both front ends: the JSON routes for ops
//! scripts (`routes::admin`, `/api/admin/*`) and the admin pages (`pages::admin`). Overview,
//! live workers, jobs per state with filters, job detail with redacted arguments, retry /
//! discard / run now, bulk retry / discard by filter, pause / resume, and the audit log
//! every action writes to before it acts. The callers check the admin role.
//!
//! Every read here is O(1) or O(page) in Redis whatever the backlog (see `jobs::admin`):
//! counts are ZCARD / XLEN / group summaries, charts read the per-minute counter hashes,
//! and filtered dead lists page through the dead set's kind and user indexes. Argument
//! text is searched with a bounded scan that returns a cursor to continue from.

mod actions;
mod listing;
mod queues;
mod views;

pub use actions::{act_on_job, act_on_matching, count_dead, filter_of, set_paused};
pub use listing::{LIST_PAGE, find_anywhere, find_job, list_jobs};
pub use queues::{
    CHART_MINUTES, MAX_CHART_MINUTES, all_queues, known_queue, overview_of, queue_sizes, workers_of,
};
pub use views::{
    Affected, BusyJob, Count, DeferralView, JobAction, JobDetail, JobErrorView, JobPage,
    JobSummary, MinuteTotals, Overview, QueueSizes, Worker, WorkerQueue, detail, parse_state,
    state_name, summary,
};
