//! Password resets: asked for by address, used once through the mailed link, 30 minutes
//! long. The request only records the address (`mail::request_reset`); the mail job looks
//! it up and makes the reset ([`look_up`]). Only the SHA-256 of the link's token is
//! stored; the token is made by the mail job when it sends the link (`mail::compose`), so
//! it exists only in the mail itself.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::Error;

/// How long a link works, counted from the request.
pub const VALID_MINUTES: i64 = 30;

/// The stored form of a token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// What the mail job found for a reset asked for by address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// An account has the address: its reset exists and the mail is now hers.
    Account,
    /// No account has it: the mail is marked done with [`NO_ACCOUNT`], nothing is sent.
    NoAccount,
    /// The mail was looked up before (a job delivered again), or is no such request.
    Earlier,
}

/// The outcome of a reset mail for an address no account has.
pub const NO_ACCOUNT: &str = "no account has this address";

/// The mail job's part of "forgot password": the request wrote the same row for any
/// address (`mail::request_reset`), so its answer took the same time; here the address is
/// looked up. With an account, the reset is made (valid [`VALID_MINUTES`] from the
/// request, not from now) and the mail given to her; without, the mail is marked done.
/// The address is forgotten either way. One transaction, the mail's row locked, so a job
/// delivered twice makes one reset.
pub async fn look_up(db: &PgPool, mail_id: i64) -> Result<Lookup, Error> {
    let mut tx = db.begin().await?;
    let asked: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT address, created_at FROM mails
         WHERE id = $1 AND user_id IS NULL AND address IS NOT NULL AND sent_at IS NULL
         FOR UPDATE",
    )
    .bind(mail_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((address, asked_at)) = asked else {
        return Ok(Lookup::Earlier);
    };
    let user: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
            .bind(&address)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(user_id) = user else {
        sqlx::query("UPDATE mails SET address = NULL, sent_at = now(), outcome = $2 WHERE id = $1")
            .bind(mail_id)
            .bind(NO_ACCOUNT)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Lookup::NoAccount);
    };
    let reset: i64 = sqlx::query_scalar(
        "INSERT INTO password_resets (user_id, created_at, expires_at)
         VALUES ($1, $2, $2 + make_interval(mins => $3)) RETURNING id",
    )
    .bind(user_id)
    .bind(asked_at)
    .bind(i32::try_from(VALID_MINUTES).unwrap_or(30))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE mails SET user_id = $2, subject_id = $3, address = NULL WHERE id = $1")
        .bind(mail_id)
        .bind(user_id)
        .bind(reset)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Lookup::Account)
}

/// Gives the reset a fresh token (the mail job, as it sends the link); `None` when it was
/// used or expired meanwhile, and then no link is sent.
pub async fn issue_token(
    db: &PgPool,
    reset_id: i64,
    token: &str,
) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(sqlx::query_scalar(
        "UPDATE password_resets SET token_hash = $2
         WHERE id = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING expires_at",
    )
    .bind(reset_id)
    .bind(hash(token))
    .fetch_optional(db)
    .await?)
}

/// Whether the link's token is one that still works (the reset page checks before it asks
/// for a new password).
pub async fn is_valid(db: &PgPool, token: &str) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM password_resets
                        WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now())",
    )
    .bind(hash(token))
    .fetch_one(db)
    .await?)
}

/// Uses the token: sets the new password, ends every session of the account (the session
/// version moves on, as "sign out everywhere" does), and spends this reset and every other
/// open one of the account, all in one transaction. `None` when the token is unknown,
/// used or expired.
pub async fn complete(db: &PgPool, token: &str, password_hash: &str) -> Result<Option<i64>, Error> {
    let mut tx = db.begin().await?;
    let user: Option<i64> = sqlx::query_scalar(
        "UPDATE password_resets SET used_at = now()
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id",
    )
    .bind(hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = user else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE users SET password_hash = $2, session_version = session_version + 1
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(password_hash)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(user_id))
}
