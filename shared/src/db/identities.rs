//! OpenID Connect identities (`user_identities`): an account's ways in besides its password.
//! An identity is found by (issuer, subject) only, never by its e-mail. Removing one keeps
//! at least one way in: a password, or another identity.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::users::Role;
use crate::error::{Error, unique_violation};

/// An identity as the issuer's ID token names it, with what it says about the person.
#[derive(Debug, Clone)]
pub struct Claimed<'a> {
    /// The configured provider's name.
    pub provider: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub email: Option<&'a str>,
}

/// An identity as the profile page lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Identity {
    pub id: i64,
    pub provider: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The account an identity signs in to, with what a session needs.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Holder {
    pub user_id: i64,
    pub role: Role,
    pub session_version: i64,
}

/// The account holding this identity, if any; marks it used.
pub async fn holder(db: &PgPool, issuer: &str, subject: &str) -> Result<Option<Holder>, Error> {
    Ok(sqlx::query_as::<_, Holder>(
        "WITH used AS (
             UPDATE user_identities SET last_used_at = now()
             WHERE issuer = $1 AND subject = $2 RETURNING user_id)
         SELECT u.id AS user_id, u.role, u.session_version FROM users u JOIN used ON used.user_id = u.id",
    )
    .bind(issuer)
    .bind(subject)
    .fetch_optional(db)
    .await?)
}

/// A new owner account signed in through `identity`, without a password, with its empty
/// business profile. `Conflict` when an account already has the e-mail (it is never joined
/// here) or the identity is already held.
pub async fn create_account(
    db: &PgPool,
    email: &str,
    name: &str,
    identity: &Claimed<'_>,
) -> Result<Holder, Error> {
    let mut tx = db.begin().await?;
    let user_id: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, NULL, 'owner')
         RETURNING id",
    )
    .bind(email)
    .bind(name)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some("users_email_lower_key") => {
            Error::Conflict("an account with this e-mail already exists".to_owned())
        }
        _ => Error::from(e),
    })?;
    sqlx::query("INSERT INTO user_profiles (user_id) VALUES ($1)")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    insert(&mut tx, user_id, identity).await?;
    tx.commit().await?;
    Ok(Holder {
        user_id,
        role: Role::Owner,
        session_version: 0,
    })
}

/// Links `identity` to this account. `Conflict` when another account holds it; linking
/// one the account already holds changes nothing.
pub async fn link(db: &PgPool, user_id: i64, identity: &Claimed<'_>) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2",
    )
    .bind(identity.issuer)
    .bind(identity.subject)
    .fetch_optional(&mut *tx)
    .await?;
    match held {
        Some(holder) if holder == user_id => return Ok(()),
        Some(_) => return Err(already_held()),
        None => insert(&mut tx, user_id, identity).await?,
    }
    tx.commit().await?;
    Ok(())
}

fn already_held() -> Error {
    Error::Conflict("this identity already signs in to another account".to_owned())
}

async fn insert(
    tx: &mut sqlx::PgConnection,
    user_id: i64,
    identity: &Claimed<'_>,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO user_identities (user_id, provider, issuer, subject, email, last_used_at)
         VALUES ($1, $2, $3, $4, $5, now())",
    )
    .bind(user_id)
    .bind(identity.provider)
    .bind(identity.issuer)
    .bind(identity.subject)
    .bind(identity.email)
    .execute(tx)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some(_) => already_held(),
        None => Error::from(e),
    })?;
    Ok(())
}

/// The account's identities, oldest first.
pub async fn list(db: &PgPool, user_id: i64) -> Result<Vec<Identity>, Error> {
    Ok(sqlx::query_as::<_, Identity>(
        "SELECT id, provider, email, created_at, last_used_at FROM user_identities
         WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}

/// Whether the account has a password (an account made through a provider has none until
/// its owner sets one).
pub async fn has_password(db: &PgPool, user_id: i64) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar::<_, bool>("SELECT password_hash IS NOT NULL FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(db)
            .await?
            .unwrap_or(false),
    )
}

/// Removes one of the account's identities, unless it is the last way in (no password, no
/// other identity): `Conflict` then. The account's row is locked first, so two removals at
/// once cannot each see the other identity and leave none.
pub async fn unlink(db: &PgPool, user_id: i64, identity_id: i64) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    let has_password: Option<bool> =
        sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let has_password = has_password.ok_or(Error::NotFound("identity"))?;
    let others: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_identities WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(identity_id)
            .fetch_one(&mut *tx)
            .await?;
    if !has_password && others == 0 {
        return Err(Error::Conflict(
            "this is the account's last way in: set a password first".to_owned(),
        ));
    }
    let removed = sqlx::query("DELETE FROM user_identities WHERE id = $1 AND user_id = $2")
        .bind(identity_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(Error::NotFound("identity"));
    }
    tx.commit().await?;
    Ok(())
}
