//! Password resets: asked for by address, used once through the mailed link, 30 minutes
//! long. Only the SHA-256 of the link's token is stored; the token is made by the mail job
//! when it sends the link (`mail::compose`), so it exists only in the mail itself.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::error::Error;
use crate::mail::{self, MailKind};

/// How long a link works, counted from the request.
pub const VALID_MINUTES: i64 = 30;

/// The stored form of a token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A reset for the account with this address, and its mail, in one transaction. `None`
/// (and nothing written) when no account has the address: the caller answers the same.
pub async fn request(db: &PgPool, email: &str) -> Result<Option<i64>, Error> {
    let mut tx = db.begin().await?;
    let user: Option<i64> =
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(user_id) = user else {
        return Ok(None);
    };
    let reset: i64 = sqlx::query_scalar(
        "INSERT INTO password_resets (user_id, expires_at)
         VALUES ($1, now() + make_interval(mins => $2)) RETURNING id",
    )
    .bind(user_id)
    .bind(i32::try_from(VALID_MINUTES).unwrap_or(30))
    .fetch_one(&mut *tx)
    .await?;
    mail::enqueue(&mut tx, user_id, MailKind::PasswordReset, None, Some(reset)).await?;
    tx.commit().await?;
    Ok(Some(user_id))
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
