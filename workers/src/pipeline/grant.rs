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
use shared::db::profiles::{self, RefreshedGrant};
use shared::providers::ProviderError;
use shared::vault::Field;

use super::limits::Resource;
use super::{Pipeline, internal};

/// A token expiring within this is refreshed first (LinkedIn's last for 60 days).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// How soon a job whose owner's grant changed during its refresh runs again, reading the
/// grant as it is then: a deferral (no attempt used), and short, since nothing is
/// waited for.
const GRANT_CHANGED_WAIT: Duration = Duration::from_secs(1);
const GRANT_CHANGED: &str =
    "the owner disconnected or reconnected LinkedIn while its token was refreshed";

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
    // Kept whole: the new tokens are written only over this very grant.
    let Some(from) = row else {
        return Ok(None);
    };
    let Some(access) = from.access_token.clone() else {
        return Ok(None);
    };
    if !expires_soon(from.expires_at) {
        // Another job refreshed it while we waited for the lock.
        return Ok(Some(Sealed {
            access_token: access,
            expires_at: from.expires_at,
        }));
    }
    let usable = from.refresh_expires_at.is_none_or(|t| t > Utc::now());
    let Some(sealed_refresh) = from.refresh_token.as_deref().filter(|_| usable) else {
        return Ok(None);
    };
    let vault = p.vault()?;
    let Ok(refresh_token) = vault.open(user_id, Field::LinkedInRefreshToken, sealed_refresh) else {
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
    // The advisory lock orders refreshes, not the owner's disconnect or reconnect, which
    // may have happened while LinkedIn answered: then the grant we refreshed is gone, and
    // the job starts again from what is stored now (no connection, or another member's).
    let stored = profiles::store_refreshed(&mut tx, user_id, &from, &refreshed)
        .await
        .map_err(internal)?;
    if !stored {
        tracing::info!(
            user.id = user_id,
            "LinkedIn grant changed during its refresh; the refreshed tokens are dropped"
        );
        return Err(JobError::defer_for(
            GRANT_CHANGED_WAIT,
            GRANT_CHANGED.to_owned(),
        ));
    }
    tx.commit().await.map_err(internal)?;
    tracing::info!(user.id = user_id, "LinkedIn grant refreshed");
    Ok(Some(Sealed {
        access_token: refreshed.access_token,
        expires_at: Some(refreshed.expires_at),
    }))
}
