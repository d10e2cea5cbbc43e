//! Campaigns: create a draft, launch it (→ `scraping`, ScrapeCampaign via the outbox), list,
//! detail with its leads and contents, cancel.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::campaigns::{self, Campaign, NewCampaign};
use shared::db::contents::{self, Content};
use shared::db::leads::{self, Lead};
use shared::db::{Page, Paged, lifecycle};
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::validation;

/// How many leads and contents the detail embeds; the lists page through the rest.
const DETAIL_ROWS: i64 = 100;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCampaign {
    /// 1–120 characters, trimmed.
    #[schema(example = "Spring bakeries", min_length = 1, max_length = 120)]
    pub name: String,
    /// 1–100 characters, trimmed: what businesses to look for.
    #[schema(example = "bakery", min_length = 1, max_length = 100)]
    pub industry: String,
    /// 1–120 characters, trimmed: the city or area.
    #[schema(example = "Lyon", min_length = 1, max_length = 120)]
    pub location: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based, default 1.
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, shared::Error> {
        Page::new(self.page, self.per_page)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    pub campaign: Campaign,
    /// The first 100 leads, in the order found.
    pub leads: Vec<Lead>,
    /// The newest 100 contents.
    pub contents: Vec<Content>,
}

/// Create a campaign as a draft.
#[utoipa::path(post, path = "/api/campaigns", tag = "campaigns", request_body = CreateCampaign,
    responses((status = 201, body = Campaign)))]
#[tracing::instrument(name = "create", skip_all)]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: web::Json<CreateCampaign>,
) -> ApiResult<HttpResponse> {
    let name = validation::required("name", &body.name, 120)?;
    let industry = validation::required("industry", &body.industry, 100)?;
    let location = validation::required("location", &body.location, 120)?;
    let campaign = campaigns::create(
        &state.db,
        user.id,
        &NewCampaign {
            name: &name,
            industry: &industry,
            location: &location,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(campaign))
}

/// The user's campaigns, newest first.
#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", operation_id = "list_campaigns", params(PageQuery),
    responses((status = 200, body = Paged<Campaign>)))]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = campaigns::list(&state.db, user.id, query.page()?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One campaign with its counts, status, leads and contents.
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "campaigns",
    params(("id" = i64, Path, description = "campaign id")),
    responses((status = 200, body = CampaignDetail)))]
pub async fn detail(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let campaign = campaigns::get(&state.db, user.id, *id).await?;
    let (leads, contents) = tokio::try_join!(
        leads::list_for_campaign(&state.db, campaign.id, DETAIL_ROWS),
        contents::list_for_campaign(&state.db, campaign.id, DETAIL_ROWS),
    )?;
    Ok(HttpResponse::Ok().json(CampaignDetail {
        campaign,
        leads,
        contents,
    }))
}

/// Start the pipeline: `draft` (or `error`) → `scraping`. 409 from any other status.
#[utoipa::path(post, path = "/api/campaigns/{id}/launch", tag = "campaigns",
    params(("id" = i64, Path, description = "campaign id")),
    responses((status = 202, body = Campaign)))]
#[tracing::instrument(name = "launch", skip_all, fields(campaign.id = %id))]
pub async fn launch(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let campaign = lifecycle::campaign::launch(
        &state.db,
        user.id,
        *id,
        state.config.pipeline.max_running_campaigns,
    )
    .await?;
    tracing::info!(campaign.id = campaign.id, "campaign launched");
    Ok(HttpResponse::Accepted().json(campaign))
}

/// Stop the campaign; its pending jobs find it cancelled and do nothing.
#[utoipa::path(post, path = "/api/campaigns/{id}/cancel", tag = "campaigns",
    params(("id" = i64, Path, description = "campaign id")),
    responses((status = 200, body = Campaign)))]
#[tracing::instrument(name = "cancel", skip_all, fields(campaign.id = %id))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let campaign = lifecycle::campaign::cancel(&state.db, user.id, *id).await?;
    Ok(HttpResponse::Ok().json(campaign))
}
