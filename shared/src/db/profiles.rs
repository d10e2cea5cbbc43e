//! The business profile, and the LinkedIn connection it holds. Tokens arrive here already
//! sealed by the vault and leave sealed; this module never sees them in clear.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::error::Error;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub business_name: Option<String>,
    pub business_type: Option<String>,
    pub location: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub linkedin: LinkedInStatus,
}

/// What the owner may know of the connection: never the tokens.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedInStatus {
    pub connected: bool,
    /// LinkedIn refused the token: publishing waits until the owner connects again.
    pub reconnect_needed: bool,
    pub member_urn: Option<String>,
    /// The member's name as LinkedIn gave it, so the owner sees which account posts.
    pub member_name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes LinkedIn granted, space-separated; `None` when not connected or connected
    /// before they were kept.
    pub scope: Option<String>,
    /// Whether the grant lets us read her posts' engagement (post analytics): false when
    /// the scopes LinkedIn granted lack it, so the dashboard says why engagement is missing.
    pub analytics: bool,
}

/// Whether a grant's scopes (space- or comma-separated, as LinkedIn answers them) let us read
/// post analytics. An unknown scope (a grant stored before scopes were kept) asked for them.
pub fn grants_analytics(scope: Option<&str>) -> bool {
    scope.is_none_or(|s| {
        s.split([' ', ','])
            .any(|p| p == crate::db::publications::ANALYTICS_SCOPE)
    })
}

/// LinkedIn's `scope` as stored: space-separated, whatever LinkedIn separated it with, at
/// most the column's 1,000 characters; `None` when it said nothing.
pub fn normalize_scope(scope: Option<&str>) -> Option<String> {
    let joined = scope?
        .split([' ', ','])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then(|| joined.chars().take(1000).collect())
}

/// The fields an owner edits; `None` clears a field.
#[derive(Debug, Clone)]
pub struct ProfileUpdate {
    pub business_name: Option<String>,
    pub business_type: Option<String>,
    pub location: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
}

/// A LinkedIn grant, sealed for this user's row.
pub struct SealedGrant {
    pub access_token: Vec<u8>,
    pub refresh_token: Option<Vec<u8>>,
    pub expires_at: DateTime<Utc>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub member_urn: String,
    pub member_name: Option<String>,
    /// The member's photo and its type, kept to show to the owner.
    pub member_picture: Option<(Vec<u8>, String)>,
    /// The scopes granted (see [`normalize_scope`]).
    pub scope: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    business_name: Option<String>,
    business_type: Option<String>,
    location: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    linkedin_connected: bool,
    linkedin_reconnect_needed: bool,
    linkedin_member_urn: Option<String>,
    linkedin_member_name: Option<String>,
    linkedin_token_expires_at: Option<DateTime<Utc>>,
    linkedin_scope: Option<String>,
}

pub async fn get(db: &PgPool, user_id: i64) -> Result<Profile, Error> {
    let row = sqlx::query_as::<_, ProfileRow>(
        r#"SELECT business_name, business_type, location, phone, website,
                  linkedin_connected, linkedin_reconnect_needed, linkedin_member_urn,
                  linkedin_member_name, linkedin_token_expires_at, linkedin_scope
           FROM user_profiles WHERE user_id = $1"#,
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("profile"))?;
    Ok(Profile {
        business_name: row.business_name,
        business_type: row.business_type,
        location: row.location,
        phone: row.phone,
        website: row.website,
        linkedin: LinkedInStatus {
            connected: row.linkedin_connected,
            reconnect_needed: row.linkedin_reconnect_needed,
            member_urn: row.linkedin_member_urn,
            member_name: row.linkedin_member_name,
            expires_at: row.linkedin_token_expires_at,
            analytics: row.linkedin_connected && grants_analytics(row.linkedin_scope.as_deref()),
            scope: row.linkedin_scope,
        },
    })
}

pub async fn update(db: &PgPool, user_id: i64, update: &ProfileUpdate) -> Result<Profile, Error> {
    let done = sqlx::query!(
        r#"UPDATE user_profiles
           SET business_name = $2, business_type = $3, location = $4, phone = $5, website = $6,
               updated_at = now()
           WHERE user_id = $1"#,
        user_id,
        update.business_name,
        update.business_type,
        update.location,
        update.phone,
        update.website,
    )
    .execute(db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("profile"));
    }
    get(db, user_id).await
}

/// Inside the caller's transaction, so the approved contents waiting for a connection are
/// queued for publishing in the same commit.
pub async fn connect_linkedin(
    conn: &mut PgConnection,
    user_id: i64,
    grant: &SealedGrant,
) -> Result<(), Error> {
    let done = sqlx::query(
        r#"UPDATE user_profiles
           SET linkedin_access_token = $2, linkedin_refresh_token = $3,
               linkedin_token_expires_at = $4, linkedin_refresh_expires_at = $5,
               linkedin_member_urn = $6, linkedin_member_name = $7, linkedin_connected = true,
               linkedin_reconnect_needed = false, linkedin_scope = $8,
               linkedin_member_picture = $9, linkedin_member_picture_type = $10,
               updated_at = now()
           WHERE user_id = $1"#,
    )
    .bind(user_id)
    .bind(&grant.access_token)
    .bind(&grant.refresh_token)
    .bind(grant.expires_at)
    .bind(grant.refresh_expires_at)
    .bind(&grant.member_urn)
    .bind(&grant.member_name)
    .bind(&grant.scope)
    .bind(grant.member_picture.as_ref().map(|p| &p.0))
    .bind(grant.member_picture.as_ref().map(|p| &p.1))
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("profile"));
    }
    Ok(())
}

/// The connected member's photo and its content type, if LinkedIn gave one.
pub async fn member_picture(db: &PgPool, user_id: i64) -> Result<Option<(Vec<u8>, String)>, Error> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> = sqlx::query_as(
        r#"SELECT linkedin_member_picture, linkedin_member_picture_type FROM user_profiles
           WHERE user_id = $1 AND linkedin_connected"#,
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some((Some(bytes), Some(kind))) => Some((bytes, kind)),
        _ => None,
    })
}

/// Who posts for the owner, as her previews show it: the member's name and whether a
/// photo is kept (served by `/profile/linkedin-picture`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Author {
    pub name: Option<String>,
    pub has_picture: bool,
}

pub async fn author(db: &PgPool, user_id: i64) -> Result<Author, Error> {
    let row: Option<(Option<String>, bool)> = sqlx::query_as(
        r#"SELECT CASE WHEN linkedin_connected THEN linkedin_member_name END,
                  linkedin_connected AND linkedin_member_picture IS NOT NULL
           FROM user_profiles WHERE user_id = $1"#,
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|(name, has_picture)| Author { name, has_picture })
        .unwrap_or_default())
}

/// Forgets the tokens, not just the flag: a disconnected account keeps nothing usable.
pub async fn disconnect_linkedin(db: &PgPool, user_id: i64) -> Result<(), Error> {
    sqlx::query(
        r#"UPDATE user_profiles
           SET linkedin_access_token = NULL, linkedin_refresh_token = NULL,
               linkedin_token_expires_at = NULL, linkedin_refresh_expires_at = NULL,
               linkedin_member_urn = NULL, linkedin_member_name = NULL,
               linkedin_member_picture = NULL, linkedin_member_picture_type = NULL,
               linkedin_scope = NULL, linkedin_connected = false,
               linkedin_reconnect_needed = false, updated_at = now()
           WHERE user_id = $1"#,
    )
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether an approval can go straight to publishing. Usable inside a transaction.
pub async fn linkedin_ready(conn: &mut PgConnection, user_id: i64) -> Result<bool, Error> {
    Ok(sqlx::query_scalar!(
        r#"SELECT linkedin_connected AND NOT linkedin_reconnect_needed AS "ready!"
           FROM user_profiles WHERE user_id = $1"#,
        user_id
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or(false))
}

/// LinkedIn refused the owner's token: publishing waits until she connects again, and the
/// dashboard asks her to.
pub async fn reconnect_needed(db: &PgPool, user_id: i64) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    sqlx::query!(
        "UPDATE user_profiles SET linkedin_reconnect_needed = true, updated_at = now() WHERE user_id = $1",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    // Her posts wait until she reconnects: tell her by mail, once until her grant is
    // healthy again (the notice scan then forgets this one).
    crate::mail::notify(
        &mut tx,
        user_id,
        crate::mail::MailKind::LinkedInReconnect,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The advisory-lock space of grant refreshes (high half; the owner's id is the low half).
const REFRESH_LOCK_SPACE: i64 = 0x7266_7368 << 32;

/// Takes the owner's refresh lock for the rest of the transaction: several publishing
/// jobs of hers that find the token about to expire make one refresh between them.
pub async fn lock_refresh(conn: &mut PgConnection, user_id: i64) -> Result<(), Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(REFRESH_LOCK_SPACE | (user_id & 0xffff_ffff))
        .execute(conn)
        .await?;
    Ok(())
}

/// The connected owner's grant as stored (sealed), for a refresh.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredGrant {
    pub access_token: Option<Vec<u8>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_token: Option<Vec<u8>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

/// `None` when LinkedIn is not connected.
pub async fn stored_grant(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<StoredGrant>, Error> {
    Ok(sqlx::query_as(
        r#"SELECT linkedin_access_token AS access_token, linkedin_token_expires_at AS expires_at,
                  linkedin_refresh_token AS refresh_token,
                  linkedin_refresh_expires_at AS refresh_expires_at
           FROM user_profiles WHERE user_id = $1 AND linkedin_connected"#,
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?)
}

/// A refreshed grant, sealed; the refresh token stays when LinkedIn did not send a new one.
pub struct RefreshedGrant {
    pub access_token: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub refresh_token: Option<Vec<u8>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The scopes the refresh granted (see [`normalize_scope`]); `None` keeps the stored ones.
    pub scope: Option<String>,
}

/// Stores a refreshed grant in place of the one it was made from, which also clears
/// "reconnect needed". `from` is the grant as the refresh read it: the write is a
/// compare-and-set on its sealed tokens (sealing draws a fresh nonce, so every connect
/// stores bytes no earlier grant had). `false`, and nothing written, when the owner
/// disconnected or connected again (perhaps as another member) while LinkedIn answered:
/// her choice stands, and a refresh of the grant she dropped must neither bring its tokens
/// back nor overwrite the new member's.
pub async fn store_refreshed(
    conn: &mut PgConnection,
    user_id: i64,
    from: &StoredGrant,
    grant: &RefreshedGrant,
) -> Result<bool, Error> {
    let done = sqlx::query(
        r#"UPDATE user_profiles
           SET linkedin_access_token = $2, linkedin_token_expires_at = $3,
               linkedin_refresh_token = COALESCE($4, linkedin_refresh_token),
               linkedin_refresh_expires_at = COALESCE($5, linkedin_refresh_expires_at),
               linkedin_scope = COALESCE($6, linkedin_scope),
               linkedin_reconnect_needed = false, updated_at = now()
           WHERE user_id = $1 AND linkedin_connected
             AND linkedin_access_token IS NOT DISTINCT FROM $7
             AND linkedin_refresh_token IS NOT DISTINCT FROM $8"#,
    )
    .bind(user_id)
    .bind(&grant.access_token)
    .bind(grant.expires_at)
    .bind(&grant.refresh_token)
    .bind(grant.refresh_expires_at)
    .bind(&grant.scope)
    .bind(&from.access_token)
    .bind(&from.refresh_token)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
