//! The profile page's e-mail notices: which kinds the owner receives (`shared::mail`).
//! Account mails (a reset she asked for) are not listed: they cannot be turned off.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::mail::{self, MailKind};

use super::{PageCtx, redirect};
use crate::error::ApiResult;
use crate::state::AppState;

/// The `?done=` the profile page answers a save with (`notices-saved` is its message).
pub const SAVED: &str = "notices-saved";

/// One check box: `notices-kind-<kind>` is its label.
#[derive(Debug, Serialize)]
pub struct NoticeRow {
    kind: &'static str,
    on: bool,
}

pub async fn rows(state: &AppState, user_id: i64) -> ApiResult<Vec<NoticeRow>> {
    let off = mail::notices_off(&state.db, user_id).await?;
    Ok(MailKind::NOTICES
        .iter()
        .map(|k| NoticeRow {
            kind: k.as_str(),
            on: !off.contains(k),
        })
        .collect())
}

/// A ticked box is sent as `<kind>=on`; an unticked one is not sent at all.
#[derive(Deserialize)]
pub struct NoticesForm {
    #[serde(default)]
    csrf: String,
    approvals_waiting: Option<String>,
    linkedin_reconnect: Option<String>,
    campaign_error: Option<String>,
    publication_unknown: Option<String>,
}

pub async fn save(
    ctx: PageCtx,
    state: web::Data<AppState>,
    form: web::Form<NoticesForm>,
) -> HttpResponse {
    let user = match ctx.user_posting(&form.csrf).await {
        Ok(user) => user,
        Err(e) => return ctx.respond(Err(e)),
    };
    let ticked = [
        (MailKind::ApprovalsWaiting, &form.approvals_waiting),
        (MailKind::LinkedInReconnect, &form.linkedin_reconnect),
        (MailKind::CampaignError, &form.campaign_error),
        (MailKind::PublicationUnknown, &form.publication_unknown),
    ];
    let off: Vec<MailKind> = ticked
        .iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    match mail::set_notices_off(&state.db, user.id, &off).await {
        // Back to the section, saying it is saved: the profile's own notice sits at the
        // top of the page, out of sight of the section the owner is looking at.
        Ok(()) => redirect(&format!("/profile?done={SAVED}#notices")),
        Err(e) => ctx.respond(Err(e.into())),
    }
}
