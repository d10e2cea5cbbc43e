//! `GET /media/signed/{key}?exp=&sig=`: an image served without a session to whoever holds
//! a URL the workers signed minutes ago (shared/src/signed_url.rs). Instagram downloads the
//! image of each post from such a URL during the container call; nothing else is served
//! this way, and a guessed, altered or expired URL is a 404 that says nothing more.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::signed_url;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The prefix of the keys served: the JPEG copies made for Instagram, never the originals.
pub const SERVED_PREFIX: &str = "instagram/";

#[derive(Debug, Deserialize)]
pub struct Signature {
    #[serde(default)]
    exp: i64,
    #[serde(default)]
    sig: String,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/media/signed/{key:.+}", web::get().to(serve));
}

pub async fn serve(
    state: web::Data<AppState>,
    key: web::Path<String>,
    query: web::Query<Signature>,
) -> ApiResult<HttpResponse> {
    let key = key.into_inner();
    let signing = signed_url::key_from(state.vault.key_material());
    let now = chrono::Utc::now().timestamp();
    if !key.starts_with(SERVED_PREFIX)
        || key.contains("..")
        || !signed_url::verify(&signing, &key, query.exp, &query.sig, now)
    {
        return Err(ApiError::NotFound("image"));
    }
    let Some(object) = state.storage.get(&key).await? else {
        return Err(ApiError::NotFound("image"));
    };
    Ok(HttpResponse::Ok()
        .content_type(object.content_type)
        .insert_header(("cache-control", "private, no-store"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(object.bytes))
}
