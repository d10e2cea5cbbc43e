//! SendMail (queue `mail`): composes one mail in the owner's language and hands it to the
//! SMTP server; SendNotices (periodic): queues the notices no single change causes.
//!
//! What a re-delivered SendMail does: the row is marked sent once the server accepted the
//! mail, and a job that finds the mark sends nothing. Only a worker lost between the
//! server's acceptance and the mark sends twice (see `shared::mail`). A refusal for good
//! (5xx) ends the job at once, dead and visible in `/admin`; anything else is retried.

use jobs::error::Chain;
use jobs::kinds::{SendMail, SendNotices};
use jobs::{JobContext, JobError};

use crate::pipeline::{Pipeline, internal};

#[tracing::instrument(name = "pipeline.mail", skip_all, fields(mail.id = job.mail_id, attempt = ctx.attempt))]
pub async fn send(p: Pipeline, job: SendMail, ctx: JobContext) -> Result<(), JobError> {
    let done = shared::mail::deliver(&p.db, &p.mailer, &p.mail_public_url, job.mail_id)
        .await
        .map_err(|e| match e {
            shared::Error::Mail {
                permanent: true, ..
            } => JobError::permanent(Chain(&e)),
            e => internal(e),
        })?;
    if let Some(outcome) = done {
        tracing::info!(mail.id = job.mail_id, outcome, "mail done");
    }
    Ok(())
}

#[tracing::instrument(name = "pipeline.notices", skip_all)]
pub async fn scan(p: Pipeline, _job: SendNotices, _ctx: JobContext) -> Result<(), JobError> {
    let queued = shared::mail::scan::run(&p.db).await.map_err(internal)?;
    if queued > 0 {
        tracing::info!(queued, "notices queued");
    }
    Ok(())
}
