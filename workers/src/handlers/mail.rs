//! SendMail (queue `mail`): composes one mail in the owner's language and hands it to the
//! SMTP server; SendNotices (periodic): queues the notices no single change causes.
//!
//! What a re-delivered SendMail does: the row is marked sent once the server accepted the
//! mail, and a job that finds the mark sends nothing. Only a worker lost between the
//! server's acceptance and the mark sends twice (see `shared::mail`). A refusal for good
//! (5xx) ends the job at once, dead and visible in `/admin`; anything else is retried.

use jobs::kinds::{SendMail, SendNotices};
use jobs::{JobContext, JobError};
use shared::mail::compose::{self, Prepared};

use crate::pipeline::{Pipeline, internal};

pub async fn send(p: Pipeline, job: SendMail, _ctx: JobContext) -> Result<(), JobError> {
    let prepared = compose::prepare(&p.db, job.mail_id, &p.mail_public_url)
        .await
        .map_err(internal)?;
    let outcome = match prepared {
        Prepared::Done => return Ok(()),
        Prepared::Skip(why) => why,
        Prepared::Send { to, subject, body } => {
            p.mailer.send(&to, &subject, body).await.map_err(|e| {
                if e.is_transient() {
                    JobError::retryable(&e)
                } else {
                    JobError::permanent(&e)
                }
            })?;
            "sent"
        }
    };
    sqlx::query("UPDATE mails SET sent_at = now(), outcome = $2 WHERE id = $1")
        .bind(job.mail_id)
        .bind(outcome)
        .execute(&p.db)
        .await
        .map_err(internal)?;
    tracing::info!(mail.id = job.mail_id, outcome, "mail done");
    Ok(())
}

pub async fn scan(p: Pipeline, _job: SendNotices, _ctx: JobContext) -> Result<(), JobError> {
    let queued = shared::mail::scan::run(&p.db).await.map_err(internal)?;
    if queued > 0 {
        tracing::info!(queued, "notices queued");
    }
    Ok(())
}
