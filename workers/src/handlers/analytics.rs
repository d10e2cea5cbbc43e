//! SyncAnalytics (periodic): refreshes the likes, comments, shares and impressions of
//! recent publications, so the dashboard's engagement figure is LinkedIn's. Each post's
//! calls pass the LinkedIn gates. When the app's gate is closed the run stops and the next
//! period goes on from the least recently synced post; when only a member's is (LinkedIn
//! said she reached her own limit) her posts wait and the others' are synced.

use std::collections::HashSet;

use jobs::kinds::SyncAnalytics;
use jobs::{JobContext, JobError};
use shared::db::profiles;
use shared::db::publications::{self, Engagement};
use shared::providers::ProviderError;
use shared::vault::Field;

use crate::pipeline::limits::{self, Resource};
use crate::pipeline::{Pipeline, internal};

/// Posts refreshed per run at most.
const BATCH: i64 = 500;

#[tracing::instrument(name = "pipeline.analytics", skip_all)]
pub async fn run(p: Pipeline, _job: SyncAnalytics, _ctx: JobContext) -> Result<(), JobError> {
    let window = i32::try_from(p.config.analytics_window_days).unwrap_or(30);
    let every = std::time::Duration::from_secs(p.config.analytics_every_secs).mul_f64(0.9);
    let due = publications::due_for_sync(&p.db, window, every, BATCH)
        .await
        .map_err(internal)?;
    let mut synced = 0;
    // Members whose own LinkedIn limit is reached: their posts wait for the next period.
    let mut waiting = HashSet::new();
    for post in due {
        if waiting.contains(&post.user_id) {
            continue;
        }
        let spent = match p
            .admit_for(
                Resource::LinkedInCall,
                post.user_id,
                0,
                &format!("sync-{}", post.id),
            )
            .await
        {
            Ok(spent) => spent,
            Err(refusal) if refusal.this_user_only => {
                waiting.insert(post.user_id);
                continue;
            }
            // A gate everyone shares closed: the rest waits for the next period (no
            // attempt used).
            Err(_) => break,
        };
        let token = match p
            .vault()?
            .open(post.user_id, Field::LinkedInAccessToken, &post.token)
        {
            Ok(t) => t,
            Err(e) => {
                p.refund(spent).await;
                tracing::warn!(user.id = post.user_id, error = %jobs::error::Chain(&e), "LinkedIn token does not open");
                continue;
            }
        };
        match p.linkedin.post_stats(&token, &post.post_urn).await {
            Ok(stats) => {
                let clamp = |n: i64| i32::try_from(n.max(0)).unwrap_or(i32::MAX);
                let engagement = Engagement {
                    likes: clamp(stats.reactions),
                    comments: clamp(stats.comments),
                    shares: clamp(stats.reshares),
                    impressions: clamp(stats.impressions),
                };
                publications::synced(&p.db, post.id, engagement)
                    .await
                    .map_err(internal)?;
                synced += 1;
            }
            Err(ProviderError::Reconnect { .. }) => {
                profiles::reconnect_needed(&p.db, post.user_id)
                    .await
                    .map_err(internal)?;
            }
            Err(e) if limits::member_limit(&e).is_some() => {
                // Her own limit on this endpoint: her posts wait for the next period, the
                // others' are synced. Her gate stays open: LinkedIn counts each endpoint
                // apart, and her posting has its own limit.
                tracing::info!(user.id = post.user_id, error = %jobs::error::Chain(&e), "LinkedIn member limit: her analytics wait");
                waiting.insert(post.user_id);
            }
            Err(e @ ProviderError::Misconfigured { .. }) => {
                // LinkedIn does not serve what we send (its version): no post of anyone's
                // can be synced until an operator changes it; the pipeline reports it.
                let _ = p
                    .provider_failed(Resource::LinkedInCall, post.user_id, 0, e)
                    .await;
                break;
            }
            Err(e) if e.is_retryable() => {
                // Back off the whole credential and leave the rest for the next period.
                let _ = p
                    .provider_failed(Resource::LinkedInCall, post.user_id, 0, e)
                    .await;
                break;
            }
            Err(e) => {
                tracing::warn!(publication.id = post.id, error = %jobs::error::Chain(&e), "analytics not synced");
            }
        }
    }
    tracing::info!(posts = synced, "analytics synced");
    Ok(())
}
