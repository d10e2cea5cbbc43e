//! What was published, and its engagement as last synced from LinkedIn.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged};
use crate::error::Error;

text_enum! {
    pub enum PublicationState {
        /// Written before the POST: a retry finds it and does not post blindly again.
        Publishing => "publishing",
        Published => "published",
        /// The POST may or may not have created a post; a human looks.
        Unknown => "unknown",
        Failed => "failed",
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Publication {
    pub id: i64,
    pub content_id: i64,
    pub platform: String,
    pub state: PublicationState,
    pub post_urn: Option<String>,
    pub post_url: Option<String>,
    pub error: Option<String>,
    pub likes: i32,
    pub comments: i32,
    pub shares: i32,
    pub impressions: i32,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

/// A user's publications, newest first; `state` narrows to one state (`unknown` is the
/// owner's to-do list).
pub async fn list(
    db: &PgPool,
    user_id: i64,
    state: Option<PublicationState>,
    page: Page,
) -> Result<Paged<Publication>, Error> {
    let state = state.map(PublicationState::as_str);
    let items = sqlx::query_as!(
        Publication,
        r#"SELECT id, content_id, platform, state AS "state: PublicationState", post_urn,
                  post_url, error, likes, comments, shares, impressions, created_at,
                  published_at, last_synced_at
           FROM publications WHERE user_id = $1 AND ($2::text IS NULL OR state = $2)
           ORDER BY id DESC LIMIT $3 OFFSET $4"#,
        user_id,
        state,
        page.limit(),
        page.offset(),
    )
    .fetch_all(db)
    .await?;
    let total = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM publications
           WHERE user_id = $1 AND ($2::text IS NULL OR state = $2)"#,
        user_id,
        state
    )
    .fetch_one(db)
    .await?;
    Ok(Paged::new(items, page, total))
}

/// How the owner settles a publication whose outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The post is on LinkedIn: its address, `https://www.linkedin.com/feed/update/urn:li:…`.
    MarkPublished { url: String },
    /// It is not: publish it again (once more, identically).
    PublishAgain,
}

pub async fn get(db: &PgPool, user_id: i64, id: i64) -> Result<Publication, Error> {
    sqlx::query_as!(
        Publication,
        r#"SELECT id, content_id, platform, state AS "state: PublicationState", post_urn,
                  post_url, error, likes, comments, shares, impressions, created_at,
                  published_at, last_synced_at
           FROM publications WHERE id = $1 AND user_id = $2"#,
        id,
        user_id,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound("publication"))
}

/// The URN in a LinkedIn post address (`…/feed/update/urn:li:share:7/`). Only LinkedIn's own
/// hosts over https, on the default port and without credentials: the address is shown to
/// the owner as a link, and `evillinkedin.com` also ends with `linkedin.com`.
pub(crate) fn post_urn(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let linkedin = matches!(parsed.host_str()?, "linkedin.com" | "www.linkedin.com");
    if parsed.scheme() != "https"
        || !linkedin
        || parsed.port().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return None;
    }
    let segment = parsed
        .path_segments()?
        .find(|s| s.starts_with("urn:li:share:") || s.starts_with("urn:li:ugcPost:"))?;
    let id = segment.rsplit(':').next()?;
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| segment.to_owned())
}

#[cfg(test)]
mod tests {
    use super::post_urn;

    #[test]
    fn only_a_linkedin_post_address_gives_a_urn() {
        assert_eq!(
            post_urn("https://www.linkedin.com/feed/update/urn:li:share:7123/").as_deref(),
            Some("urn:li:share:7123")
        );
        assert_eq!(
            post_urn("https://evil.example/feed/update/urn:li:share:1/"),
            None
        );
        assert_eq!(
            post_urn("http://www.linkedin.com/feed/update/urn:li:share:1/"),
            None
        );
        assert_eq!(post_urn("https://www.linkedin.com/in/someone"), None);
        assert_eq!(
            post_urn("https://evillinkedin.com/feed/update/urn:li:share:1/"),
            None
        );
        assert_eq!(
            post_urn("https://linkedin.com/feed/update/urn:li:share:2").as_deref(),
            Some("urn:li:share:2")
        );
        assert_eq!(post_urn("not a url"), None);
    }
}

/// A published post whose engagement is due for a refresh, with its owner's sealed token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueForSync {
    pub id: i64,
    pub user_id: i64,
    pub post_urn: String,
    pub token: Vec<u8>,
}

/// The scope LinkedIn's member post analytics need (Community Management API).
pub const ANALYTICS_SCOPE: &str = "r_member_postAnalytics";

/// Posts published within `window_days`, not synced for `every`, of owners whose LinkedIn
/// works and whose grant holds [`ANALYTICS_SCOPE`] (a grant stored before scopes were kept,
/// NULL, asked for it and is tried); least recently synced first.
pub async fn due_for_sync(
    db: &PgPool,
    window_days: i32,
    every: std::time::Duration,
    limit: i64,
) -> Result<Vec<DueForSync>, Error> {
    Ok(sqlx::query_as::<_, DueForSync>(
        r#"SELECT pb.id, pb.user_id, pb.post_urn, pr.linkedin_access_token AS token
           FROM publications pb JOIN user_profiles pr ON pr.user_id = pb.user_id
           WHERE pb.state = 'published' AND pb.post_urn IS NOT NULL
             AND pb.published_at > now() - make_interval(days => $1)
             AND (pb.last_synced_at IS NULL
                  OR pb.last_synced_at < now() - make_interval(secs => $2))
             AND pr.linkedin_connected AND NOT pr.linkedin_reconnect_needed
             AND pr.linkedin_access_token IS NOT NULL
             AND (pr.linkedin_scope IS NULL
                  OR $4 = ANY(string_to_array(pr.linkedin_scope, ' ')))
           ORDER BY pb.last_synced_at NULLS FIRST, pb.id LIMIT $3"#,
    )
    .bind(window_days)
    .bind(every.as_secs_f64())
    .bind(limit)
    .bind(ANALYTICS_SCOPE)
    .fetch_all(db)
    .await?)
}

/// LinkedIn's counts for one post, as last synced.
#[derive(Debug, Clone, Copy)]
pub struct Engagement {
    pub likes: i32,
    pub comments: i32,
    pub shares: i32,
    pub impressions: i32,
}

pub async fn synced(db: &PgPool, id: i64, engagement: Engagement) -> Result<(), Error> {
    sqlx::query!(
        r#"UPDATE publications
           SET likes = $2, comments = $3, shares = $4, impressions = $5,
               last_synced_at = now()
           WHERE id = $1"#,
        id,
        engagement.likes,
        engagement.comments,
        engagement.shares,
        engagement.impressions,
    )
    .execute(db)
    .await?;
    Ok(())
}
