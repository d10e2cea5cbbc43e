//! Mail to owners. A cause (a reset asked for, a campaign ended in error) writes a row of
//! `mails` and a SendMail outbox row in its own transaction ([`enqueue`], [`notify`]); a
//! worker of the `mail` queue composes the text in the owner's language and hands it to
//! the SMTP server ([`Mailer`]). Request handlers never talk SMTP: a slow or absent mail
//! server delays mail, never a page.
//!
//! Delivery: a mail is marked sent once the server accepted it, and a SendMail that finds
//! it marked sends nothing. The one gap is a worker dying between the server's "250 OK"
//! and that mark: the job runs again and the owner gets the mail twice (for a reset, the
//! second link replaces the first). Nothing is ever lost.

pub mod compose;
pub mod scan;
mod transport;

pub use transport::Mailer;

use sqlx::PgConnection;

use crate::error::Error;
use crate::outbox;

/// What a mail is; the `mails.kind` and `notices_sent.kind` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    PasswordReset,
    /// A sign-up with an address that already has an account: told to its owner, never to
    /// the person signing up (who gets the same answer either way).
    AccountExists,
    ApprovalsWaiting,
    LinkedInReconnect,
    CampaignError,
    PublicationUnknown,
}

impl MailKind {
    /// The notices an owner may turn off, in the profile page's order.
    pub const NOTICES: [Self; 4] = [
        Self::ApprovalsWaiting,
        Self::LinkedInReconnect,
        Self::CampaignError,
        Self::PublicationUnknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::AccountExists => "account_exists",
            Self::ApprovalsWaiting => "approvals_waiting",
            Self::LinkedInReconnect => "linkedin_reconnect",
            Self::CampaignError => "campaign_error",
            Self::PublicationUnknown => "publication_unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::PasswordReset, Self::AccountExists]
            .into_iter()
            .chain(Self::NOTICES)
            .find(|k| k.as_str() == s)
    }

    /// Notices can be turned off; account mails (a reset she asked for) cannot.
    pub fn is_notice(self) -> bool {
        Self::NOTICES.contains(&self)
    }
}

/// Queues a mail in the caller's transaction: it is sent if and only if that commits.
/// Returns the mail's id.
pub async fn enqueue(
    conn: &mut PgConnection,
    user_id: i64,
    kind: MailKind,
    campaign_id: Option<i64>,
    subject_id: Option<i64>,
) -> Result<i64, Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mails (user_id, kind, campaign_id, subject_id)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(campaign_id)
    .bind(subject_id)
    .fetch_one(&mut *conn)
    .await?;
    outbox::push(conn, &jobs::kinds::SendMail { mail_id: id }, Some(user_id)).await?;
    Ok(id)
}

/// "Forgot password" for `address`: one `mails` row addressed to it and its SendMail job,
/// in one transaction. The same two writes whatever the address, with no lookup of it:
/// whether an account has it is found by the mail job
/// (`db::password_resets::look_up`), so the request's time tells nothing. Returns the
/// mail's id.
pub async fn request_reset(db: &sqlx::PgPool, address: &str) -> Result<i64, Error> {
    let mut tx = db.begin().await?;
    let id: i64 =
        sqlx::query_scalar("INSERT INTO mails (kind, address) VALUES ($1, $2) RETURNING id")
            .bind(MailKind::PasswordReset.as_str())
            .bind(address)
            .fetch_one(&mut *tx)
            .await?;
    outbox::push(&mut tx, &jobs::kinds::SendMail { mail_id: id }, None).await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues a notice in the caller's transaction, unless the owner turned this kind off or
/// already got it for this campaign (account-wide notices: `campaign_id` is `None`).
/// Returns whether one was queued.
pub async fn notify(
    conn: &mut PgConnection,
    user_id: i64,
    kind: MailKind,
    campaign_id: Option<i64>,
) -> Result<bool, Error> {
    let first = sqlx::query(
        "INSERT INTO notices_sent (user_id, campaign_id, kind)
         SELECT id, $2, $3 FROM users WHERE id = $1 AND NOT ($3 = ANY (notices_off))
         ON CONFLICT (user_id, campaign_id, kind) DO NOTHING",
    )
    .bind(user_id)
    .bind(campaign_id)
    .bind(kind.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if first {
        enqueue(conn, user_id, kind, campaign_id, None).await?;
    }
    Ok(first)
}

/// The owner's notices turned off, by kind.
pub async fn notices_off(db: &sqlx::PgPool, user_id: i64) -> Result<Vec<MailKind>, Error> {
    let off: Vec<String> = sqlx::query_scalar("SELECT notices_off FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await?
        .unwrap_or_default();
    Ok(off.iter().filter_map(|k| MailKind::parse(k)).collect())
}

/// Sets which notices the owner does not want; account mails cannot be turned off.
pub async fn set_notices_off(
    db: &sqlx::PgPool,
    user_id: i64,
    off: &[MailKind],
) -> Result<(), Error> {
    let off: Vec<&str> = off
        .iter()
        .filter(|k| k.is_notice())
        .map(|k| k.as_str())
        .collect();
    sqlx::query("UPDATE users SET notices_off = $2 WHERE id = $1")
        .bind(user_id)
        .bind(&off)
        .execute(db)
        .await?;
    Ok(())
}

/// Sends one mail if it is still to be sent: composes it, hands it to the SMTP server,
/// then marks it done. Returns what happened (`sent`, why it was skipped, or `None` when
/// it was done already). The SendMail handler's work, callable without a queue.
pub async fn deliver(
    db: &sqlx::PgPool,
    mailer: &Mailer,
    public_url: &str,
    mail_id: i64,
) -> Result<Option<&'static str>, Error> {
    let outcome = match compose::prepare(db, mail_id, public_url).await? {
        compose::Prepared::Done => return Ok(None),
        compose::Prepared::Skip(why) => why,
        compose::Prepared::Send { to, subject, body } => {
            mailer.send(&to, &subject, body).await?;
            "sent"
        }
    };
    sqlx::query("UPDATE mails SET sent_at = now(), outcome = $2 WHERE id = $1")
        .bind(mail_id)
        .bind(outcome)
        .execute(db)
        .await?;
    Ok(Some(outcome))
}
