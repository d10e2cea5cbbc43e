//! RefreshInstagramTokens (periodic): Instagram's long-lived tokens live 60 days and are
//! renewed with `refresh_access_token` once they are over 24 h old and before they expire.
//! Each due owner's token is opened, refreshed and stored back with a compare-and-set (an
//! owner who disconnected or connected another account meanwhile keeps her choice); a token
//! Instagram no longer accepts (code 190) marks her "reconnect needed".

use jobs::kinds::RefreshInstagramTokens;
use jobs::{JobContext, JobError};
use shared::db::instagram;
use shared::providers::ProviderError;
use shared::vault::Field;

use crate::pipeline::{Pipeline, internal};

/// Tokens refreshed per run at most; the rest are due again at the next period.
const BATCH: i64 = 200;

#[tracing::instrument(name = "pipeline.instagram_tokens", skip_all)]
pub async fn run(
    p: Pipeline,
    _job: RefreshInstagramTokens,
    _ctx: JobContext,
) -> Result<(), JobError> {
    let before = chrono::Duration::days(i64::from(p.instagram_config.refresh_before_days));
    let due = instagram::due_for_refresh(&p.db, before, BATCH)
        .await
        .map_err(internal)?;
    let (mut refreshed, mut reconnect) = (0, 0);
    for user_id in due {
        match refresh_one(&p, user_id).await? {
            Outcome::Refreshed => refreshed += 1,
            Outcome::Reconnect => reconnect += 1,
            Outcome::Skipped => {}
        }
    }
    tracing::info!(refreshed, reconnect, "instagram tokens refreshed");
    Ok(())
}

enum Outcome {
    Refreshed,
    Reconnect,
    Skipped,
}

async fn refresh_one(p: &Pipeline, user_id: i64) -> Result<Outcome, JobError> {
    let mut conn =
        p.db.acquire()
            .await
            .map_err(|e| internal(shared::Error::from(e)))?;
    let Some(stored) = instagram::stored_grant(&mut conn, user_id)
        .await
        .map_err(internal)?
    else {
        return Ok(Outcome::Skipped);
    };
    drop(conn);
    let vault = p.vault()?;
    let token = match vault.open(user_id, Field::InstagramAccessToken, &stored.access_token) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(user.id = user_id, error = %jobs::error::Chain(&e), "Instagram token does not open");
            return Ok(Outcome::Skipped);
        }
    };
    match p.instagram.refresh(&token).await {
        Ok(fresh) => {
            let sealed = vault
                .seal(user_id, Field::InstagramAccessToken, &fresh.access_token)
                .map_err(internal)?;
            let expires_at = chrono::Utc::now()
                + chrono::Duration::from_std(fresh.expires_in)
                    .unwrap_or(chrono::Duration::days(60));
            let mut conn =
                p.db.acquire()
                    .await
                    .map_err(|e| internal(shared::Error::from(e)))?;
            let stored_it = instagram::store_refreshed(
                &mut conn,
                user_id,
                &stored.access_token,
                &sealed,
                expires_at,
            )
            .await
            .map_err(internal)?;
            Ok(if stored_it {
                Outcome::Refreshed
            } else {
                Outcome::Skipped
            })
        }
        Err(ProviderError::Reconnect { reason }) => {
            tracing::warn!(user.id = user_id, reason = %reason, "Instagram refused the token: reconnect needed");
            instagram::reconnect_needed(&p.db, user_id)
                .await
                .map_err(internal)?;
            Ok(Outcome::Reconnect)
        }
        // Anything else (a limit, a 5xx, a token Instagram finds too young): the next
        // period tries again; the margin before expiry is weeks.
        Err(e) => {
            tracing::warn!(user.id = user_id, error = %e, "Instagram token refresh failed; next period retries");
            Ok(Outcome::Skipped)
        }
    }
}
