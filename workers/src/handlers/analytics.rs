//! SyncAnalytics (periodic): refreshes the likes, comments, shares and impressions of
//! recent publications, so the dashboard's engagement figure is LinkedIn's. Each post's
//! calls pass the LinkedIn gate; when the gate is closed the run stops and the next period
//! goes on from the least recently synced post.

use jobs::kinds::SyncAnalytics;
use jobs::{JobContext, JobError};
use shared::providers::ProviderError;
use shared::vault::Field;

use crate::pipeline::limits::Resource;
use crate::pipeline::{Pipeline, internal};

/// Posts refreshed per run at most.
const BATCH: i64 = 500;

pub async fn run(p: Pipeline, _job: SyncAnalytics, _ctx: JobContext) -> Result<(), JobError> {
    let window = i32::try_from(p.config.analytics_window_days).unwrap_or(30);
    let every = p.config.analytics_every_secs as f64;
    let due = sqlx::query!(
        r#"SELECT pb.id, pb.user_id, pb.post_urn AS "post_urn!", pr.linkedin_access_token AS "token!"
           FROM publications pb JOIN user_profiles pr ON pr.user_id = pb.user_id
           WHERE pb.state = 'published' AND pb.post_urn IS NOT NULL
             AND pb.published_at > now() - make_interval(days => $1)
             AND (pb.last_synced_at IS NULL
                  OR pb.last_synced_at < now() - make_interval(secs => $2))
             AND pr.linkedin_connected AND NOT pr.linkedin_reconnect_needed
             AND pr.linkedin_access_token IS NOT NULL
           ORDER BY pb.last_synced_at NULLS FIRST, pb.id LIMIT $3"#,
        window,
        every * 0.9,
        BATCH
    )
    .fetch_all(&p.db)
    .await
    .map_err(internal)?;
    let mut synced = 0;
    for post in due {
        // The gate closed: the rest waits for the next period (no attempt used).
        let Ok(spent) = p
            .admit(
                Resource::LinkedInCall,
                post.user_id,
                0,
                &format!("sync-{}", post.id),
            )
            .await
        else {
            break;
        };
        let token = match p
            .vault()?
            .open(post.user_id, Field::LinkedInAccessToken, &post.token)
        {
            Ok(t) => t,
            Err(e) => {
                p.refund(spent).await;
                tracing::warn!(user.id = post.user_id, error = %e, "LinkedIn token does not open");
                continue;
            }
        };
        match p.linkedin.post_stats(&token, &post.post_urn).await {
            Ok(stats) => {
                let clamp = |n: i64| i32::try_from(n.max(0)).unwrap_or(i32::MAX);
                sqlx::query!(
                    r#"UPDATE publications
                       SET likes = $2, comments = $3, shares = $4, impressions = $5,
                           last_synced_at = now()
                       WHERE id = $1"#,
                    post.id,
                    clamp(stats.reactions),
                    clamp(stats.comments),
                    clamp(stats.reshares),
                    clamp(stats.impressions),
                )
                .execute(&p.db)
                .await
                .map_err(internal)?;
                synced += 1;
            }
            Err(ProviderError::Reconnect { .. }) => {
                sqlx::query!(
                    "UPDATE user_profiles SET linkedin_reconnect_needed = true WHERE user_id = $1",
                    post.user_id
                )
                .execute(&p.db)
                .await
                .map_err(internal)?;
            }
            Err(e) if e.is_retryable() => {
                // Back off the whole credential and leave the rest for the next period.
                let _ = p
                    .provider_failed(Resource::LinkedInCall, post.user_id, 0, e)
                    .await;
                break;
            }
            Err(e) => {
                tracing::warn!(publication.id = post.id, error = %e, "analytics not synced");
            }
        }
    }
    tracing::info!(posts = synced, "analytics synced");
    Ok(())
}
