//! The Instagram connection of a business profile: the long-lived token (sealed by the
//! vault, as LinkedIn's is; this module never sees it in clear), the account it publishes
//! as, and the state the owner sees (connected, reconnect needed, expiry).

use chrono::{DateTime, Duration as Span, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::error::Error;

/// The permission that lets us read a post's insights.
pub const INSIGHTS_SCOPE: &str = "instagram_business_manage_insights";

/// What the owner may know of the connection: never the token.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct InstagramStatus {
    pub connected: bool,
    /// Instagram refused the token (code 190): publishing there waits until the owner
    /// connects again.
    pub reconnect_needed: bool,
    /// The app-scoped Instagram user id.
    pub user_id: Option<String>,
    /// The account's username, so the owner sees which account posts.
    pub username: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the grant lets us read her posts' insights.
    pub insights: bool,
}

/// An Instagram grant, its token sealed for this user's row.
pub struct SealedInstagramGrant {
    pub access_token: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub user_id: String,
    pub username: Option<String>,
    /// The permissions granted, comma-separated.
    pub scope: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StatusRow {
    instagram_connected: bool,
    instagram_reconnect_needed: bool,
    instagram_user_id: Option<String>,
    instagram_username: Option<String>,
    instagram_token_expires_at: Option<DateTime<Utc>>,
    instagram_scope: Option<String>,
}

pub async fn status(db: &PgPool, user_id: i64) -> Result<InstagramStatus, Error> {
    let row = sqlx::query_as::<_, StatusRow>(
        r#"SELECT instagram_connected, instagram_reconnect_needed, instagram_user_id,
                  instagram_username, instagram_token_expires_at, instagram_scope
           FROM user_profiles WHERE user_id = $1"#,
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("profile"))?;
    Ok(InstagramStatus {
        connected: row.instagram_connected,
        reconnect_needed: row.instagram_reconnect_needed,
        user_id: row.instagram_user_id,
        username: row.instagram_username,
        expires_at: row.instagram_token_expires_at,
        insights: row.instagram_connected
            && row
                .instagram_scope
                .as_deref()
                .is_some_and(|s| s.split([',', ' ']).any(|p| p == INSIGHTS_SCOPE)),
    })
}

/// The permissions as stored: comma-separated, at most the column's 1,000 characters.
pub fn normalize_scope(scope: Option<&str>) -> Option<String> {
    let joined = scope?
        .split([' ', ','])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    (!joined.is_empty()).then(|| joined.chars().take(1000).collect())
}

/// Stores a new connection (inside the caller's transaction), clearing "reconnect needed".
/// The token's issue time starts now: Instagram refreshes only tokens 24 h old.
pub async fn connect(
    conn: &mut PgConnection,
    user_id: i64,
    grant: &SealedInstagramGrant,
) -> Result<(), Error> {
    let done = sqlx::query(
        r#"UPDATE user_profiles
           SET instagram_access_token = $2, instagram_token_expires_at = $3,
               instagram_token_issued_at = now(), instagram_user_id = $4,
               instagram_username = $5, instagram_scope = $6, instagram_connected = true,
               instagram_reconnect_needed = false, updated_at = now()
           WHERE user_id = $1"#,
    )
    .bind(user_id)
    .bind(&grant.access_token)
    .bind(grant.expires_at)
    .bind(&grant.user_id)
    .bind(&grant.username)
    .bind(normalize_scope(grant.scope.as_deref()))
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("profile"));
    }
    Ok(())
}

/// Forgets the token, not just the flag: a disconnected account keeps nothing usable.
pub async fn disconnect(db: &PgPool, user_id: i64) -> Result<(), Error> {
    sqlx::query(
        r#"UPDATE user_profiles
           SET instagram_access_token = NULL, instagram_token_expires_at = NULL,
               instagram_token_issued_at = NULL, instagram_user_id = NULL,
               instagram_username = NULL, instagram_scope = NULL,
               instagram_connected = false, instagram_reconnect_needed = false,
               updated_at = now()
           WHERE user_id = $1"#,
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Instagram refused the owner's token (code 190): publishing there waits until she
/// connects again, and her profile page asks her to.
pub async fn reconnect_needed(db: &PgPool, user_id: i64) -> Result<(), Error> {
    sqlx::query(
        "UPDATE user_profiles SET instagram_reconnect_needed = true, updated_at = now()
         WHERE user_id = $1 AND instagram_connected",
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a publication to Instagram can go now.
pub async fn ready(conn: &mut PgConnection, user_id: i64) -> Result<bool, Error> {
    Ok(sqlx::query_scalar::<_, bool>(
        "SELECT instagram_connected AND NOT instagram_reconnect_needed
         FROM user_profiles WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?
    .unwrap_or(false))
}

/// The connected owner's grant as stored (sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredInstagramGrant {
    pub access_token: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub user_id: String,
}

/// `None` when Instagram is not connected.
pub async fn stored_grant(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<StoredInstagramGrant>, Error> {
    Ok(sqlx::query_as(
        r#"SELECT instagram_access_token AS access_token,
                  instagram_token_expires_at AS expires_at,
                  instagram_token_issued_at AS issued_at, instagram_user_id AS user_id
           FROM user_profiles
           WHERE user_id = $1 AND instagram_connected AND instagram_access_token IS NOT NULL
             AND instagram_token_expires_at IS NOT NULL AND instagram_user_id IS NOT NULL"#,
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// Stores a refreshed token in place of the one it was made from: a compare-and-set on the
/// sealed token (each seal draws a fresh nonce), so a refresh that finishes after the owner
/// disconnected or connected another account writes nothing (`false`).
pub async fn store_refreshed(
    conn: &mut PgConnection,
    user_id: i64,
    from: &[u8],
    access_token: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<bool, Error> {
    let done = sqlx::query(
        r#"UPDATE user_profiles
           SET instagram_access_token = $2, instagram_token_expires_at = $3,
               instagram_token_issued_at = now(), instagram_reconnect_needed = false,
               updated_at = now()
           WHERE user_id = $1 AND instagram_connected AND instagram_access_token = $4"#,
    )
    .bind(user_id)
    .bind(access_token)
    .bind(expires_at)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Owners whose token the periodic job refreshes now: connected and healthy, at least
/// 24 h old (Instagram refuses younger ones), not expired, and expiring within `before`.
pub async fn due_for_refresh(db: &PgPool, before: Span, limit: i64) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar(
        r#"SELECT user_id FROM user_profiles
           WHERE instagram_connected AND NOT instagram_reconnect_needed
             AND instagram_token_issued_at <= now() - interval '24 hours'
             AND instagram_token_expires_at > now()
             AND instagram_token_expires_at <= now() + make_interval(secs => $1)
           ORDER BY instagram_token_expires_at
           LIMIT $2"#,
    )
    .bind(before.num_seconds() as f64)
    .bind(limit)
    .fetch_all(db)
    .await?)
}
