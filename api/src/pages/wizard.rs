//! The new-campaign wizard: name → industry → city, one question per page so it reads on
//! a phone. No server-side draft: the answers so far ride along in hidden fields, every
//! post re-checks all of them, and only the last step writes (create, then launch).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use shared::db::campaigns::{self, NewCampaign};
use shared::db::lifecycle;
use tera::Context;

use super::account::FieldError;
use super::{PageCtx, Shown, redirect};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::validation::{self, Problem};

/// The steps, in order: the form field each asks for and its length limit (the API's).
const STEPS: [(&str, usize); 3] = [("name", 120), ("industry", 100), ("city", 120)];

#[derive(Debug, Deserialize)]
pub struct WizardForm {
    #[serde(default)]
    csrf: String,
    /// 1-based: the step whose answer this post brings.
    #[serde(default = "first")]
    step: usize,
    #[serde(default)]
    name: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    city: String,
    /// Present when "Back" was pressed.
    back: Option<String>,
}

fn first() -> usize {
    1
}

impl WizardForm {
    fn answer(&self, field: &str) -> &str {
        match field {
            "name" => &self.name,
            "industry" => &self.industry,
            _ => &self.city,
        }
    }
}

pub async fn start(ctx: PageCtx) -> HttpResponse {
    let result = async {
        let user = ctx.user().await?;
        show_step(
            &ctx,
            &user,
            1,
            &[("name", ""), ("industry", ""), ("city", "")],
            None,
        )
    }
    .await;
    ctx.respond(result)
}

pub async fn step(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<WizardForm>,
) -> HttpResponse {
    ctx.respond(advance(&ctx, &state, &form).await)
}

#[tracing::instrument(name = "wizard", skip_all, fields(step = form.step))]
async fn advance(ctx: &PageCtx, state: &AppState, form: &WizardForm) -> ApiResult<HttpResponse> {
    let user = ctx.user_posting(&form.csrf).await?;
    let step = form.step.clamp(1, STEPS.len());
    let answers: Vec<(&str, &str)> = STEPS
        .iter()
        .map(|(field, _)| (*field, form.answer(field).trim()))
        .collect();
    if form.back.is_some() {
        return show_step(ctx, &user, step.saturating_sub(1).max(1), &answers, None);
    }
    // Every answer up to this step is checked again: hidden fields come from the browser.
    let mut checked = Vec::new();
    for (index, (field, max)) in STEPS.iter().enumerate().take(step) {
        match validation::required_text(form.answer(field), *max) {
            Ok(value) => checked.push(value),
            Err(problem) => return show_step(ctx, &user, index + 1, &answers, Some(problem)),
        }
    }
    if step < STEPS.len() {
        return show_step(ctx, &user, step + 1, &answers, None);
    }
    let [name, industry, location] = <[String; 3]>::try_from(checked)
        .map_err(|_| crate::error::ApiError::internal("wizard answers missing"))?;
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
    let campaign = lifecycle::campaign::launch(
        &state.db,
        user.id,
        campaign.id,
        state.config.pipeline.max_running_campaigns,
    )
    .await?;
    tracing::info!(
        campaign.id = campaign.id,
        "campaign launched from the wizard"
    );
    Ok(redirect(&format!("/campaigns/{}/launched", campaign.id)))
}

/// Step `step` (1-based) with the answers so far, and the problem with its own answer.
fn show_step(
    ctx: &PageCtx,
    user: &CurrentUser,
    step: usize,
    answers: &[(&str, &str)],
    problem: Option<Problem>,
) -> ApiResult<HttpResponse> {
    let (field, max) = STEPS[step.clamp(1, STEPS.len()) - 1];
    let mut context = Context::new();
    context.insert("step", &step);
    context.insert("steps", &STEPS.len());
    context.insert("field", field);
    context.insert("max", &max);
    context.insert(
        "value",
        answers
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, v)| v),
    );
    // The other answers travel as hidden fields.
    let hidden: Vec<(&str, &str)> = answers
        .iter()
        .filter(|(f, _)| *f != field)
        .copied()
        .collect();
    context.insert("hidden", &hidden);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    if let Some(p) = problem {
        context.insert("error", &FieldError::from(p));
    }
    ctx.render(
        "wizard.html",
        context,
        Shown {
            user: Some(user),
            status: Some(status),
            ..Shown::default()
        },
    )
}
