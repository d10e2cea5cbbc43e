//! Jobs in a state, page by page, and one job by id.

use jobs::QueueName;
use jobs::admin::{JobFilter, JobState, JobView};

use super::queues::all_queues;
use super::views::{JobPage, summary};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Jobs per list page unless asked otherwise.
pub const LIST_PAGE: usize = 50;

/// A page of jobs in `job_state` matching `filter`.
pub async fn list_jobs(
    state: &AppState,
    queue: &QueueName,
    job_state: JobState,
    filter: &JobFilter,
    cursor: Option<&str>,
    limit: usize,
) -> ApiResult<JobPage> {
    let page = state
        .queue_admin
        .page(queue, job_state, filter, cursor, limit)
        .await?;
    Ok(JobPage {
        jobs: page.jobs.iter().map(summary).collect(),
        next_cursor: page.next,
        scanned: page.scanned,
        budget_spent: page.budget_spent,
    })
}

/// A job of this queue by id, or 404.
pub async fn find_job(state: &AppState, queue: &QueueName, id: &str) -> ApiResult<JobView> {
    if id.is_empty() || id.len() > 200 {
        return Err(ApiError::NotFound("job"));
    }
    state
        .queue_admin
        .find(queue, id)
        .await?
        .ok_or(ApiError::NotFound("job"))
}

/// A job by id in any queue (dead jobs are found in O(1); others by a bounded scan).
pub async fn find_anywhere(state: &AppState, id: &str) -> ApiResult<Option<JobView>> {
    let id = id.trim();
    if id.is_empty() || id.len() > 200 {
        return Ok(None);
    }
    for queue in all_queues(state).await? {
        if let Some(view) = state.queue_admin.find(&queue, id).await? {
            return Ok(Some(view));
        }
    }
    Ok(None)
}
