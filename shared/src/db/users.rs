//! Accounts. The e-mail is unique whatever its case; the password is stored only as an
//! argon2id hash, made by the caller (hashing is CPU work the api runs off its event loop).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use crate::error::{Error, unique_violation};

text_enum! {
    /// Owners run campaigns; admins also see the queue UI.
    pub enum Role {
        Owner => "owner",
        Admin => "admin",
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_signed_in_at: Option<DateTime<Utc>>,
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

text_enum! {
    /// An owner's language for the pages and her mail (`users.language`): the one her
    /// browser asked for at sign-up, or the one she switched to since. None (an account made
    /// without either), the browser's decides the pages, and mail is in French.
    pub enum Language {
        French => "fr",
        English => "en",
    }
}

/// What sign-in needs to check a password. Not `Debug`: it holds the hash.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub user_id: i64,
    pub role: Role,
    /// `None` for an account made through an OpenID Connect provider whose owner has not
    /// set a password (through "forgot password"): no password signs in to it.
    pub password_hash: Option<String>,
    pub session_version: i64,
}

/// What every authenticated request checks its session against: the role as it is now,
/// and the version a session must carry to be still valid. The language rides along so the
/// pages know it without another query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCheck {
    pub role: Role,
    pub session_version: i64,
    pub language: Option<Language>,
}

/// Creates the account and its empty business profile together.
pub async fn create(db: &PgPool, new: &NewUser<'_>) -> Result<User, Error> {
    let mut tx = db.begin().await?;
    let user = sqlx::query_as!(
        User,
        r#"INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
           RETURNING id, email, name, role AS "role: Role", created_at, last_signed_in_at"#,
        new.email,
        new.name,
        new.password_hash,
        new.role.as_str(),
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match unique_violation(&e) {
        Some("users_email_lower_key") => {
            Error::Conflict("an account with this e-mail already exists".to_owned())
        }
        _ => Error::from(e),
    })?;
    sqlx::query!("INSERT INTO user_profiles (user_id) VALUES ($1)", user.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn find(db: &PgPool, id: i64) -> Result<User, Error> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, name, role AS "role: Role", created_at, last_signed_in_at
           FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("user"))
}

/// The e-mail addresses of these users, by id (the admin UI names owners by them); ids
/// without an account are left out.
pub async fn emails(db: &PgPool, ids: &[i64]) -> Result<Vec<(i64, String)>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_as::<_, (i64, String)>("SELECT id, email FROM users WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(db)
            .await?,
    )
}

pub async fn credentials(db: &PgPool, email: &str) -> Result<Option<Credentials>, Error> {
    Ok(sqlx::query_as::<_, Credentials>(
        "SELECT id AS user_id, role, password_hash, session_version
         FROM users WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(db)
    .await?)
}

pub async fn record_sign_in(db: &PgPool, id: i64) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET last_signed_in_at = now() WHERE id = $1",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One primary-key read per authenticated request; `None` when the account is gone.
pub async fn session_check(db: &PgPool, id: i64) -> Result<Option<SessionCheck>, Error> {
    Ok(sqlx::query_as!(
        SessionCheck,
        r#"SELECT role AS "role: Role", session_version, language AS "language: Language"
           FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?)
}

/// The pages' language for this account from now on, on every device it signs in from.
pub async fn set_language(db: &PgPool, id: i64, language: Language) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET language = $2 WHERE id = $1",
        id,
        language.as_str()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends every session of the account (sign out everywhere): they carry the old version.
pub async fn end_sessions(db: &PgPool, id: i64) -> Result<(), Error> {
    sqlx::query!(
        "UPDATE users SET session_version = session_version + 1 WHERE id = $1",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Sets a new password and role for an existing account (the demo seeding and ops use it),
/// and ends its sessions: one made with the old password or role is not valid any more.
pub async fn reset(
    db: &PgPool,
    email: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, Error> {
    sqlx::query_as!(
        User,
        r#"UPDATE users SET password_hash = $2, role = $3, session_version = session_version + 1
           WHERE lower(email) = lower($1)
           RETURNING id, email, name, role AS "role: Role", created_at, last_signed_in_at"#,
        email,
        password_hash,
        role.as_str(),
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("user"))
}
