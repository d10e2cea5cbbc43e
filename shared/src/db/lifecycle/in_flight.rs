//! The rows whose state says a job should exist for them (the states with an arrow out
//! that a job takes), and that have not moved for a while: the reconciler enqueues their
//! job again when Redis lost it. Terminal states never appear here, so work that ended is
//! never run again.

use std::time::Duration;

use chrono::{DateTime, Utc};

use sqlx::PgPool;

use crate::db::leads::LeadStage;
use crate::error::Error;

/// A row and the owner whose job it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owned {
    pub id: i64,
    pub user_id: i64,
}

/// A lead waiting for its enrichment (`found`) or its content (`enriched`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitingLead {
    pub id: i64,
    pub user_id: i64,
    pub stage: LeadStage,
}

/// Campaigns `scraping` since before `stall` ago (oldest first, at most `limit`).
pub async fn scrapes(db: &PgPool, stall: Duration, limit: i64) -> Result<Vec<Owned>, Error> {
    Ok(sqlx::query_as!(
        Owned,
        r#"SELECT id, user_id FROM campaigns
           WHERE status = 'scraping' AND updated_at < now() - make_interval(secs => $1)
           ORDER BY updated_at LIMIT $2"#,
        stall.as_secs_f64(),
        limit
    )
    .fetch_all(db)
    .await?)
}

/// Leads of running campaigns still `found` or `enriched` since before `stall` ago.
pub async fn leads(db: &PgPool, stall: Duration, limit: i64) -> Result<Vec<WaitingLead>, Error> {
    Ok(sqlx::query_as!(
        WaitingLead,
        r#"SELECT l.id, c.user_id, l.stage AS "stage: LeadStage"
           FROM leads l JOIN campaigns c ON c.id = l.campaign_id
           WHERE l.stage IN ('found', 'enriched')
             AND l.updated_at < now() - make_interval(secs => $1)
             AND c.status IN ('enriching', 'generating', 'ready')
           ORDER BY l.updated_at LIMIT $2"#,
        stall.as_secs_f64(),
        limit
    )
    .fetch_all(db)
    .await?)
}

/// A content whose publishing should be under way: due, or waiting for its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Publishing {
    pub id: i64,
    pub user_id: i64,
    pub scheduled_at: DateTime<Utc>,
}

/// Approved contents of owners who can publish, with no publication or one still
/// `publishing`, unchanged since before `stall` ago and whose slot came before `stall`
/// ago: a content waiting for its slot is not late, and its job sits in the queue's
/// scheduled set. Contents waiting for a reconnect are left out: the owner's reconnect
/// queues them; those the owner took out of the schedule wait for her.
pub async fn publications(
    db: &PgPool,
    stall: Duration,
    limit: i64,
) -> Result<Vec<Publishing>, Error> {
    Ok(sqlx::query_as(
        r#"SELECT c.id, c.user_id, c.scheduled_at FROM contents c
           JOIN campaigns cp ON cp.id = c.campaign_id
           JOIN user_profiles pr ON pr.user_id = c.user_id
           LEFT JOIN publications pb ON pb.content_id = c.id
           WHERE c.status = 'approved' AND cp.status <> 'cancelled'
             AND c.scheduled_at IS NOT NULL
             AND pr.linkedin_connected AND NOT pr.linkedin_reconnect_needed
             AND (pb.id IS NULL OR pb.state = 'publishing')
             AND GREATEST(c.updated_at, pb.updated_at, c.scheduled_at)
                 < now() - make_interval(secs => $1)
           ORDER BY c.updated_at LIMIT $2"#,
    )
    .bind(stall.as_secs_f64())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Approved contents of owners who can publish whose slot is still to come and whose
/// publishing has not started: after Redis lost its data, their jobs are gone from the
/// scheduled set, and each is enqueued again for its slot.
pub async fn scheduled(db: &PgPool, limit: i64) -> Result<Vec<Publishing>, Error> {
    Ok(sqlx::query_as(
        r#"SELECT c.id, c.user_id, c.scheduled_at FROM contents c
           JOIN campaigns cp ON cp.id = c.campaign_id
           JOIN user_profiles pr ON pr.user_id = c.user_id
           WHERE c.status = 'approved' AND cp.status <> 'cancelled'
             AND c.scheduled_at > now()
             AND pr.linkedin_connected AND NOT pr.linkedin_reconnect_needed
             AND NOT EXISTS (SELECT 1 FROM publications pb WHERE pb.content_id = c.id)
           ORDER BY c.scheduled_at LIMIT $1"#,
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}
