//! The record of admin actions on queues: who did what, when, to which job or filter, and
//! how many jobs it touched. The row is written before the action ([`open`]), so no action
//! goes unrecorded: one whose row cannot be written is not carried out. Its count is set
//! once the action is done ([`settle`]); an action that found nothing to do takes its row
//! back ([`withdraw`]). A row left at 0 affected is an action that failed part-way, or whose
//! count could not be written: it may have touched jobs.

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

/// One action about to be carried out.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub user_id: i64,
    pub action: AuditAction,
    pub queue: &'a str,
    pub job_id: Option<&'a str>,
    pub filter: Option<serde_json::Value>,
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

/// Records an action about to be carried out, with the admin's e-mail as it is now and 0
/// jobs affected until [`settle`]; returns the row's id. Written on its own, not in a
/// transaction held open across the action: the action is in Redis, and a commit failing
/// after it would leave it unrecorded.
pub async fn open(db: &PgPool, entry: &NewAuditEntry<'_>) -> Result<i64, Error> {
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO admin_audit (user_id, user_email, action, queue, job_id, filter, affected)
         SELECT u.id, u.email, $2, $3, $4, $5, 0 FROM users u WHERE u.id = $1
         RETURNING id",
    )
    .bind(entry.user_id)
    .bind(entry.action.as_str())
    .bind(entry.queue)
    .bind(entry.job_id)
    .bind(&entry.filter)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("user"))
}

/// How many jobs the recorded action changed.
pub async fn settle(db: &PgPool, id: i64, affected: i64) -> Result<(), Error> {
    sqlx::query("UPDATE admin_audit SET affected = $2 WHERE id = $1")
        .bind(id)
        .bind(affected.max(0))
        .execute(db)
        .await?;
    Ok(())
}

/// The recorded action found nothing to act on (the job had gone): it did nothing, so it
/// leaves no row, as a refused request leaves none.
pub async fn withdraw(db: &PgPool, id: i64) -> Result<(), Error> {
    sqlx::query("DELETE FROM admin_audit WHERE id = $1")
        .bind(id)
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
