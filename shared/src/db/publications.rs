//! What was published, and its engagement as last synced from LinkedIn.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::text_enum::text_enum;
use super::{Page, Paged, progress};
use crate::error::{Error, unique_violation};
use crate::outbox;

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

/// Settles an `unknown` publication. 404 for another user's, 409 for one that is not
/// `unknown`, 400 for an address that is not a LinkedIn post's.
pub async fn resolve(
    db: &PgPool,
    user_id: i64,
    id: i64,
    resolution: &Resolution,
) -> Result<Publication, Error> {
    let mut tx = db.begin().await?;
    let current = sqlx::query!(
        "SELECT content_id, state FROM publications WHERE id = $1 AND user_id = $2 FOR UPDATE",
        id,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("publication"))?;
    if current.state != PublicationState::Unknown.as_str() {
        return Err(Error::Conflict(format!(
            "publication is {}; only one whose outcome is unknown can be resolved",
            current.state
        )));
    }
    match resolution {
        Resolution::MarkPublished { url } => {
            let urn = post_urn(url).ok_or_else(|| {
                Error::Invalid(
                    "url must be the LinkedIn post's address, \
                     https://www.linkedin.com/feed/update/urn:li:share:… (or :ugcPost:…)"
                        .to_owned(),
                )
            })?;
            let marked = sqlx::query!(
                r#"UPDATE publications
                   SET state = 'published', post_urn = $2, post_url = $3, published_at = now(),
                       resolved_by = 'owner_marked', updated_at = now()
                   WHERE id = $1"#,
                id,
                urn,
                url
            )
            .execute(&mut *tx)
            .await;
            // One post is one publication: the URN is unique, and the owner pasting the
            // address of a post another publication holds is told so.
            if let Err(e) = &marked
                && unique_violation(e) == Some("publications_post_urn_key")
            {
                return Err(Error::Conflict(format!(
                    "{urn} is already recorded for another publication; \
                     paste the address of this publication's own post"
                )));
            }
            marked?;
            let campaign_id = sqlx::query_scalar!(
                r#"UPDATE contents SET status = 'published', updated_at = now()
                   WHERE id = $1 AND status = 'approved' RETURNING campaign_id"#,
                current.content_id
            )
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(campaign_id) = campaign_id {
                sqlx::query!(
                    "UPDATE campaigns SET published_count = published_count + 1 WHERE id = $1",
                    campaign_id
                )
                .execute(&mut *tx)
                .await?;
                progress::complete(&mut tx, campaign_id).await?;
            }
        }
        Resolution::PublishAgain => {
            sqlx::query!(
                r#"UPDATE publications
                   SET state = 'publishing', uncertain_sends = 0, error = NULL,
                       resolved_by = 'owner_republished', updated_at = now()
                   WHERE id = $1"#,
                id
            )
            .execute(&mut *tx)
            .await?;
            outbox::push(
                &mut tx,
                &jobs::kinds::PublishPost {
                    content_id: current.content_id,
                },
                Some(user_id),
            )
            .await?;
        }
    }
    tx.commit().await?;
    get(db, user_id, id).await
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
fn post_urn(url: &str) -> Option<String> {
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
