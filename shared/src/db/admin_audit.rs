//! The record of admin actions on queues: who did what, when, to which job or filter, and
//! how many jobs it touched. Written after the action (its count is part of the record);
//! an action whose record fails to be written is reported as failed to the admin.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged};
use crate::error::Error;

text_enum! {
    pub enum AuditAction {
        /// A dead job back to the stream.
        Retry => "retry",
        /// A dead or scheduled job deleted.
        Discard => "discard",
        /// A scheduled job made due now.
        RunNow => "run_now",
        RetryMatching => "retry_matching",
        DiscardMatching => "discard_matching",
        Pause => "pause",
        Resume => "resume",
    }
}

/// One action about to be recorded.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub user_id: i64,
    pub action: AuditAction,
    pub queue: &'a str,
    pub job_id: Option<&'a str>,
    pub filter: Option<serde_json::Value>,
    pub affected: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: i64,
    pub user_email: String,
    pub action: AuditAction,
    pub queue: String,
    pub job_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    pub affected: i64,
}

/// Records an action, with the admin's e-mail as it is now.
pub async fn record(db: &PgPool, entry: &NewAuditEntry<'_>) -> Result<(), Error> {
    sqlx::query!(
        r#"INSERT INTO admin_audit (user_id, user_email, action, queue, job_id, filter, affected)
           SELECT u.id, u.email, $2, $3, $4, $5, $6 FROM users u WHERE u.id = $1"#,
        entry.user_id,
        entry.action.as_str(),
        entry.queue,
        entry.job_id,
        entry.filter,
        entry.affected,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Newest first.
pub async fn list(db: &PgPool, page: Page) -> Result<Paged<AuditEntry>, Error> {
    let items = sqlx::query_as!(
        AuditEntry,
        r#"SELECT id, at, user_id, user_email, action AS "action: AuditAction", queue, job_id,
                  filter, affected
           FROM admin_audit ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2"#,
        page.limit(),
        page.offset(),
    )
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM admin_audit"#)
        .fetch_one(db)
        .await?;
    Ok(Paged::new(items, page, total))
}
