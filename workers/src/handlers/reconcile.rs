//! Reconcile (periodic, one at a time across all processes): PostgreSQL is the truth
//! (design.md D2). Work whose rows say a job should exist, but which has not moved for
//! `pipeline.stall_after_secs`, is enqueued again: a job lost with Redis's data (a crash
//! before the AOF fsync, a failover, a FLUSHALL) or one that never reached Redis. When a
//! worker notices that Redis lost everything, a run flagged `after_redis_loss` takes every
//! in-flight row at once, whatever its age. Every pipeline job is unique in the queue and
//! every handler idempotent, so enqueueing work that was in fact only slow (deferred for a
//! daily limit, say) changes nothing.

use jobs::kinds::{EnrichLead, GenerateContent, PublishPost, Reconcile, ScrapeCampaign};
use jobs::{EnqueueOptions, Enqueued, Job, JobContext, JobError};

use crate::pipeline::{Pipeline, internal};

/// Rows looked at per kind and run: a backlog bigger than this is taken over a few runs.
const BATCH: i64 = 2_000;

pub async fn run(p: Pipeline, job: Reconcile, _ctx: JobContext) -> Result<(), JobError> {
    // After a Redis loss no in-flight row has a job any more: all of them, at once.
    let stall = if job.after_redis_loss {
        0
    } else {
        i64::try_from(p.config.stall_after_secs).unwrap_or(i64::MAX)
    };
    let scrapes = sqlx::query!(
        r#"SELECT id, user_id FROM campaigns
           WHERE status = 'scraping' AND updated_at < now() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2"#,
        stall as f64,
        BATCH
    )
    .fetch_all(&p.db)
    .await
    .map_err(internal)?;
    let mut again = 0;
    for c in scrapes {
        again += enqueue(&p, &ScrapeCampaign { campaign_id: c.id }, c.user_id).await?;
    }
    let leads = sqlx::query!(
        r#"SELECT l.id, l.stage, c.user_id FROM leads l JOIN campaigns c ON c.id = l.campaign_id
           WHERE l.stage IN ('found', 'enriched')
             AND l.updated_at < now() - make_interval(secs => $1)
             AND c.status IN ('enriching', 'generating', 'ready')
           ORDER BY l.updated_at LIMIT $2"#,
        stall as f64,
        BATCH
    )
    .fetch_all(&p.db)
    .await
    .map_err(internal)?;
    for l in leads {
        again += if l.stage == "found" {
            enqueue(&p, &EnrichLead { lead_id: l.id }, l.user_id).await?
        } else {
            enqueue(&p, &GenerateContent { lead_id: l.id }, l.user_id).await?
        };
    }
    let approved = sqlx::query!(
        r#"SELECT c.id, c.user_id FROM contents c
           JOIN campaigns cp ON cp.id = c.campaign_id
           JOIN user_profiles pr ON pr.user_id = c.user_id
           LEFT JOIN publications pb ON pb.content_id = c.id
           WHERE c.status = 'approved' AND cp.status <> 'cancelled'
             AND pr.linkedin_connected AND NOT pr.linkedin_reconnect_needed
             AND (pb.id IS NULL OR pb.state = 'publishing')
             AND GREATEST(c.updated_at, pb.updated_at) < now() - make_interval(secs => $1)
           ORDER BY c.updated_at LIMIT $2"#,
        stall as f64,
        BATCH
    )
    .fetch_all(&p.db)
    .await
    .map_err(internal)?;
    for c in approved {
        again += enqueue(&p, &PublishPost { content_id: c.id }, c.user_id).await?;
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
async fn enqueue<J: Job>(p: &Pipeline, job: &J, user_id: i64) -> Result<u32, JobError> {
    let options = EnqueueOptions {
        user_id: Some(user_id),
        ..EnqueueOptions::default()
    };
    match p.queue.enqueue_with(job, options).await {
        Ok(Enqueued::New(_)) => Ok(1),
        Ok(Enqueued::Duplicate(_)) => Ok(0),
        Err(e) => Err(JobError::retryable(e)),
    }
}
