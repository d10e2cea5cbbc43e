//! An owner's LinkedIn grant, refreshed before it runs out when LinkedIn gave a refresh
//! token, so the owner is asked to reconnect only when nothing else can be done.
//!
//! Refreshes of one owner are taken one at a time (a PostgreSQL advisory lock on the
//! owner, held in the transaction that stores the new tokens): several publishing jobs
//! of hers that find the token about to expire make one refresh between them, and the
//! others read the token it stored.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs::JobError;
use shared::db::profiles::{self, RefreshedGrant, StoredGrant};
use shared::providers::ProviderError;
use shared::vault::Field;

use super::limits::Resource;
use super::{Pipeline, internal};

/// A token expiring within this is refreshed first (LinkedIn's last for 60 days).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// The sealed access token and when it expires.
pub struct Sealed {
    pub access_token: Vec<u8>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Whether a token expiring at `expires_at` should be refreshed now.
pub fn expires_soon(expires_at: Option<DateTime<Utc>>) -> bool {
    let ahead = chrono::Duration::from_std(REFRESH_AHEAD).unwrap_or_default();
    expires_at.is_some_and(|t| t <= Utc::now() + ahead)
}

/// Refreshes the owner's grant if it still expires soon once the lock is ours; returns the
/// token to use, or `None` when it cannot be refreshed (no refresh token, or LinkedIn
/// refused it: only the owner can reconnect).
pub async fn refresh(
    p: &Pipeline,
    user_id: i64,
    campaign_id: i64,
) -> Result<Option<Sealed>, JobError> {
    let mut tx = p.db.begin().await.map_err(internal)?;
    profiles::lock_refresh(&mut tx, user_id)
        .await
        .map_err(internal)?;
    let row = profiles::stored_grant(&mut tx, user_id)
        .await
        .map_err(internal)?;
    let Some(StoredGrant {
        access_token: Some(access),
        expires_at,
        refresh_token,
        refresh_expires_at,
    }) = row
    else {
        return Ok(None);
    };
    if !expires_soon(expires_at) {
        // Another job refreshed it while we waited for the lock.
        return Ok(Some(Sealed {
            access_token: access,
            expires_at,
        }));
    }
    let usable = refresh_expires_at.is_none_or(|t| t > Utc::now());
    let Some(sealed_refresh) = refresh_token.filter(|_| usable) else {
        return Ok(None);
    };
    let vault = p.vault()?;
    let Ok(refresh_token) = vault.open(user_id, Field::LinkedInRefreshToken, &sealed_refresh)
    else {
        return Ok(None);
    };
    let fresh = match p.linkedin.refresh(&refresh_token).await {
        Ok(fresh) => fresh,
        Err(ProviderError::Reconnect { .. } | ProviderError::Permanent { .. }) => {
            tracing::info!(user.id = user_id, "LinkedIn refused the refresh token");
            return Ok(None);
        }
        Err(e) => {
            return Err(p
                .provider_failed(Resource::LinkedInCall, user_id, campaign_id, e)
                .await);
        }
    };
    let now = Utc::now();
    let span = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(60));
    let access = vault
        .seal(user_id, Field::LinkedInAccessToken, &fresh.access_token)
        .map_err(internal)?;
    let new_refresh = fresh
        .refresh_token
        .as_deref()
        .map(|t| vault.seal(user_id, Field::LinkedInRefreshToken, t))
        .transpose()
        .map_err(internal)?;
    let refreshed = RefreshedGrant {
        access_token: access,
        expires_at: now + span(fresh.expires_in),
        refresh_token: new_refresh,
        refresh_expires_at: fresh.refresh_expires_in.map(|d| now + span(d)),
        scope: profiles::normalize_scope(fresh.scope.as_deref()),
    };
    profiles::store_refreshed(&mut tx, user_id, &refreshed)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(user.id = user_id, "LinkedIn grant refreshed");
    Ok(Some(Sealed {
        access_token: refreshed.access_token,
        expires_at: Some(refreshed.expires_at),
    }))
}
