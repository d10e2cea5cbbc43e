//! Reconcile (periodic, one at a time across all processes): PostgreSQL is the truth,
//! Redis a cache of work. Work whose rows say a job should exist, but which has not moved for
//! `pipeline.stall_after_secs`, is enqueued again: a job lost with Redis's data (a crash
//! before the AOF fsync, a failover, a FLUSHALL) or one that never reached Redis. When a
//! worker notices that Redis lost everything, a run flagged `after_redis_loss` takes every
//! in-flight row at once, whatever its age. Every pipeline job is unique in the queue and
//! every handler idempotent, so enqueueing work that was in fact only slow (deferred for a
//! daily limit, say) changes nothing.
//!
//! The kind of each job comes from the row and its stage (a found lead is enriched, an
//! enriched one generated), not from a list of kinds, and each is enqueued typed, so its
//! queue, unique key and attempt budget are the ones the outbox stores for the same job.

use jobs::kinds::{EnrichLead, GenerateContent, PublishPost, Reconcile, ScrapeCampaign};
use std::time::Duration;

use jobs::{EnqueueOptions, Enqueued, Job, JobContext, JobError};
use shared::db::leads::LeadStage;
use shared::db::lifecycle::in_flight;

use crate::pipeline::{Pipeline, internal};

/// Rows looked at per kind and run: a backlog bigger than this is taken over a few runs.
const BATCH: i64 = 2_000;

#[tracing::instrument(name = "pipeline.reconcile", skip_all, fields(after_redis_loss = job.after_redis_loss))]
pub async fn run(p: Pipeline, job: Reconcile, _ctx: JobContext) -> Result<(), JobError> {
    // After a Redis loss no in-flight row has a job any more: all of them, at once.
    let stall = if job.after_redis_loss {
        Duration::ZERO
    } else {
        Duration::from_secs(p.config.stall_after_secs)
    };
    let mut again = 0;
    for c in in_flight::scrapes(&p.db, stall, BATCH)
        .await
        .map_err(internal)?
    {
        again += enqueue(&p, &ScrapeCampaign { campaign_id: c.id }, c.user_id, None).await?;
    }
    for l in in_flight::leads(&p.db, stall, BATCH)
        .await
        .map_err(internal)?
    {
        again += match l.stage {
            LeadStage::Found => enqueue(&p, &EnrichLead { lead_id: l.id }, l.user_id, None).await?,
            _ => enqueue(&p, &GenerateContent { lead_id: l.id }, l.user_id, None).await?,
        };
    }
    // The job of a content's slot (the same unique key as the one its approval queued,
    // so a job still waiting is not doubled).
    for c in in_flight::publications(&p.db, stall, BATCH)
        .await
        .map_err(internal)?
    {
        let job = PublishPost::for_slot(c.id, c.scheduled_at.timestamp());
        again += enqueue(&p, &job, c.user_id, None).await?;
    }
    // After a loss, the jobs of slots to come are gone from the scheduled set too: each
    // goes back for its slot, never earlier.
    if job.after_redis_loss {
        for c in in_flight::scheduled(&p.db, BATCH).await.map_err(internal)? {
            let job = PublishPost::for_slot(c.id, c.scheduled_at.timestamp());
            again += enqueue(&p, &job, c.user_id, Some(c.scheduled_at)).await?;
        }
    }
    if job.after_redis_loss {
        tracing::warn!(
            jobs = again,
            "reconciler enqueued the in-flight pipeline work a Redis loss took"
        );
    } else if again > 0 {
        tracing::warn!(
            jobs = again,
            "reconciler enqueued stalled pipeline work again"
        );
    }
    Ok(())
}

/// 1 when a job was enqueued, 0 when its unique key says it is queued or running.
async fn enqueue<J: Job>(
    p: &Pipeline,
    job: &J,
    user_id: i64,
    run_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<u32, JobError> {
    let options = EnqueueOptions {
        user_id: Some(user_id),
        run_at: run_at.map(std::time::SystemTime::from),
        ..EnqueueOptions::default()
    };
    match p.queue.enqueue_with(job, options).await {
        Ok(Enqueued::New(_)) => Ok(1),
        Ok(Enqueued::Duplicate(_)) => Ok(0),
        Err(e) => Err(JobError::retryable(jobs::error::Chain(&e))),
    }
}
