//! The content gallery: list with filters, the approval queue, approve / reject / edit.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::contents::{self, Content, ContentFilter, ContentStatus};
use shared::db::{Page, Paged, lifecycle};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validation;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentQuery {
    pub status: Option<ContentStatus>,
    pub campaign_id: Option<i64>,
    /// Only contents scoring at least this (0–100).
    #[param(minimum = 0, maximum = 100)]
    pub min_score: Option<i16>,
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// LinkedIn's limit on a post's text; the page that edits a post checks the same.
pub const POST_MAX_CHARS: usize = 3000;

/// Only a pending content of the caller's can be edited (404 for another's or none, 409
/// once approved, rejected or published).
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditContent {
    /// 1–3,000 characters (LinkedIn's limit), trimmed; not only whitespace; no control
    /// characters other than newline, carriage return and tab.
    #[schema(
        min_length = 1,
        max_length = 3000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub text: String,
    /// Replaces the hashtags when given: at most 30, each one word of 1–100 characters
    /// (a leading `#` is dropped), without control, bidi-override or zero-width characters.
    #[schema(max_items = 30, inline, value_type = Option<Vec<Hashtag>>)]
    pub hashtags: Option<Vec<String>>,
}

/// One hashtag as `PUT /api/contents/{id}` accepts it (schema only).
pub struct Hashtag;

const HASHTAG_PATTERN: &str = r"^#*[^\s#\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\s\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$";

impl utoipa::PartialSchema for Hashtag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(100))
            .pattern(Some(HASHTAG_PATTERN))
            .into()
    }
}

impl ToSchema for Hashtag {}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalResult {
    pub content: Content,
    /// False when LinkedIn is not connected: publishing starts once it is.
    pub queued_for_publishing: bool,
    /// Its slot in the owner's schedule: when it publishes.
    pub scheduled_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The user's contents, newest first, filtered by status, campaign and minimum score.
#[utoipa::path(get, path = "/api/contents", tag = "contents", operation_id = "list_contents", params(ContentQuery),
    responses((status = 200, body = Paged<Content>)))]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ContentQuery>,
) -> ApiResult<HttpResponse> {
    if let Some(s) = query.min_score
        && !(0..=100).contains(&s)
    {
        return Err(ApiError::Invalid(
            "min_score must be between 0 and 100".into(),
        ));
    }
    let filter = ContentFilter {
        status: query.status,
        campaign_id: query.campaign_id,
        min_score: query.min_score,
    };
    let page = Page::new(query.page, query.per_page)?;
    Ok(HttpResponse::Ok().json(contents::list(&state.db, user.id, &filter, page).await?))
}

/// Contents waiting for the owner's decision.
#[utoipa::path(get, path = "/api/contents/pending", tag = "contents",
    params(crate::routes::campaigns::PageQuery),
    responses((status = 200, body = Paged<Content>)))]
pub async fn pending(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<crate::routes::campaigns::PageQuery>,
) -> ApiResult<HttpResponse> {
    let filter = ContentFilter {
        status: Some(ContentStatus::Pending),
        ..ContentFilter::default()
    };
    let page = query.page()?;
    Ok(HttpResponse::Ok().json(contents::list(&state.db, user.id, &filter, page).await?))
}

#[utoipa::path(get, path = "/api/contents/{id}", tag = "contents", operation_id = "get_content",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, body = Content)))]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(contents::get(&state.db, user.id, *id).await?))
}

/// Approve a pending content; with LinkedIn connected it is queued for publishing (once:
/// approving again answers 409 and queues nothing).
#[utoipa::path(post, path = "/api/contents/{id}/approve", tag = "contents",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, body = ApprovalResult)))]
#[tracing::instrument(name = "approve", skip_all, fields(content.id = %id))]
pub async fn approve(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let approval = lifecycle::content::approve(&state.db, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(ApprovalResult {
        content: approval.content,
        queued_for_publishing: approval.queued_for_publishing,
        scheduled_at: approval.scheduled_at,
    }))
}

#[utoipa::path(post, path = "/api/contents/{id}/reject", tag = "contents",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, body = Content)))]
#[tracing::instrument(name = "reject", skip_all, fields(content.id = %id))]
pub async fn reject(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(lifecycle::content::reject(&state.db, user.id, *id).await?))
}

/// Replace the text (and optionally the hashtags) of a pending content.
#[utoipa::path(put, path = "/api/contents/{id}", tag = "contents",
    params(("id" = i64, Path, description = "content id")), request_body = EditContent,
    responses((status = 200, body = Content),
        (status = 404, description = "no pending or other content of yours with this id"),
        (status = 409, description = "the content is no longer pending"),
        (status = 422, description = "text or hashtags break the constraints above")))]
#[tracing::instrument(name = "edit", skip_all, fields(content.id = %id))]
pub async fn edit(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    body: web::Json<EditContent>,
) -> ApiResult<HttpResponse> {
    let text = validation::multiline("text", &body.text, POST_MAX_CHARS)?;
    let hashtags = match &body.hashtags {
        None => None,
        Some(tags) => {
            if tags.len() > 30 {
                return Err(ApiError::Invalid("at most 30 hashtags".into()));
            }
            let mut clean = Vec::with_capacity(tags.len());
            for tag in tags {
                let tag = validation::required("hashtag", tag, 100)?;
                let tag = tag.trim_start_matches('#');
                if tag.is_empty() || tag.chars().any(char::is_whitespace) {
                    return Err(ApiError::Invalid(format!(
                        "hashtag {tag:?} must be one word"
                    )));
                }
                clean.push(tag.to_owned());
            }
            Some(clean)
        }
    };
    let content = contents::edit(&state.db, user.id, *id, &text, hashtags.as_deref()).await?;
    Ok(HttpResponse::Ok().json(content))
}

/// The content's image, to its owner only (404 for anyone else's, or a content without
/// one). Private cache: the bytes never change under a key, but they are not public.
#[utoipa::path(get, path = "/api/contents/{id}/image", tag = "contents",
    params(("id" = i64, Path, description = "content id")),
    responses((status = 200, description = "the image (PNG or JPEG)", content_type = "image/png"),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn image(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let content = contents::get(&state.db, user.id, *id).await?;
    let Some(key) = content.image_key else {
        return Err(ApiError::NotFound("image"));
    };
    let Some(object) = state.storage.get(&key).await? else {
        return Err(ApiError::NotFound("image"));
    };
    Ok(HttpResponse::Ok()
        .content_type(object.content_type)
        .insert_header(("cache-control", "private, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(object.bytes))
}
