//! The admin queue UI (admin role only; an owner gets the 403 page): overview with
//! per-minute charts, live workers, jobs per state with filters and paging, job detail
//! (arguments redacted), retry / discard / run now, bulk retry / discard by filter after a
//! confirmation page, pause / resume, and the audit log. Everything reads and posts
//! without JavaScript; the operations are `crate::admin`, which the JSON API calls too, so both write
//! the same audit rows. A decision redirects back (post/redirect/get) and says what it did
//! once, through a notice kept in the session.

mod audit;
mod bulk;
mod find;
mod job;
mod lists;
mod overview;
mod pause;
mod workers;

use actix_session::SessionExt;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use jobs::QueueName;
use jobs::admin::{JobFilter, JobState};
use serde::{Deserialize, Serialize};
use shared::db::Page;
use shared::db::admin_audit;
use tera::Context;

use super::{PageCtx, Shown, encode, redirect, safe_next};
use crate::admin::{self as service, JobAction, JobSummary, MinuteTotals, QueueSizes, known_queue};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use audit::{AuditQuery, audit};
pub use bulk::{BulkForm, BulkQuery, bulk, confirm};
pub use find::{FindQuery, find};
pub use job::{JobForm, JobQuery, act, job};
pub use lists::{ListQuery, dead, list};
pub use overview::{OverviewQuery, overview};
pub use pause::{PauseForm, pause, resume};
pub use workers::workers;

/// How much of an error message a list shows (the detail shows all of it).
const ERROR_CHARS: usize = 300;
/// Audit rows per page.
const AUDIT_PAGE: u32 = 50;
/// The session key of the one-time notice.
const FLASH: &str = "admin_notice";
/// The states as the pages name them, in the tabs' order.
const STATES: [&str; 4] = ["dead", "ready", "running", "scheduled"];

/// What an action did, shown once on the page it returns to: `admin-notice-<key>`.
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    key: String,
    count: u64,
}

fn flash(ctx: &PageCtx, key: &str, count: u64) {
    let notice = Notice {
        key: key.to_owned(),
        count,
    };
    if ctx.request().get_session().insert(FLASH, notice).is_err() {
        tracing::warn!("admin notice not kept");
    }
}

fn take_flash(ctx: &PageCtx) -> Option<Notice> {
    ctx.request()
        .get_session()
        .remove_as::<Notice>(FLASH)
        .and_then(Result::ok)
}

async fn admin(ctx: &PageCtx) -> ApiResult<CurrentUser> {
    let user = ctx.user().await?;
    user.require_admin()?;
    Ok(user)
}

async fn admin_posting(ctx: &PageCtx, csrf: &str) -> ApiResult<CurrentUser> {
    let user = ctx.user_posting(csrf).await?;
    user.require_admin()?;
    Ok(user)
}

fn render(
    ctx: &PageCtx,
    user: &CurrentUser,
    template: &str,
    mut context: Context,
) -> ApiResult<HttpResponse> {
    context.insert("notice", &take_flash(ctx));
    ctx.render(
        template,
        context,
        Shown {
            user: Some(user),
            ..Shown::default()
        },
    )
}

/// `2026-01-01 12:00:00 UTC`, or empty.
fn when(ms: Option<u64>) -> String {
    ms.and_then(|ms| i64::try_from(ms).ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or_else(String::new, |t| {
            t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        })
}

/// A duration in units both languages write the same way: `45 s`, `12 min`, `3 h 05`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1_000;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        _ => format!("{} h {:02}", s / 3_600, (s % 3_600) / 60),
    }
}

fn slug_of(state: JobState) -> &'static str {
    match state {
        JobState::InFlight => "running",
        other => service::state_name(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_same_in_both_languages() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(59_999), "59 s");
        assert_eq!(duration(61_000), "1 min");
        assert_eq!(duration(3_600_000 + 5 * 60_000), "1 h 05");
    }

    #[test]
    fn a_user_filter_that_is_not_an_id_is_a_message() {
        let q = ListQuery {
            user: "abc".into(),
            ..ListQuery::default()
        };
        assert_eq!(q.filter(), Err("admin-filter-user-invalid"));
        let q = ListQuery {
            user: " 7 ".into(),
            kind: "scrape".into(),
            ..ListQuery::default()
        };
        let f = q.filter().unwrap_or_default();
        assert_eq!((f.user_id, f.kind.as_deref()), (Some(7), Some("scrape")));
    }

    /// Keys the admin templates build from data (`"admin-state-" ~ state`...).
    #[test]
    fn every_admin_built_key_exists_in_both_languages() {
        use super::super::i18n::{Catalog, Lang};
        use shared::db::admin_audit::AuditAction;
        let mut keys: Vec<String> = Vec::new();
        for s in STATES {
            for prefix in ["state", "jobs-title", "jobs-empty", "back-to"] {
                keys.push(format!("admin-{prefix}-{s}"));
            }
        }
        for n in [
            "retried",
            "discarded",
            "run-now",
            "gone",
            "unique-held",
            "bulk-retried",
            "bulk-discarded",
            "paused",
            "resumed",
        ] {
            keys.push(format!("admin-notice-{n}"));
        }
        for a in ["retry", "discard"] {
            for part in ["title", "count", "help", "button"] {
                keys.push(format!("admin-confirm-{part}-{a}"));
            }
        }
        for s in ["overview", "workers", "audit"] {
            keys.push(format!("admin-nav-{s}"));
        }
        for a in [
            AuditAction::Retry,
            AuditAction::Discard,
            AuditAction::RunNow,
            AuditAction::RetryMatching,
            AuditAction::DiscardMatching,
            AuditAction::Pause,
            AuditAction::Resume,
        ] {
            keys.push(format!("admin-action-{}", a.as_str()));
        }
        for k in [
            "admin-chart-throughput",
            "admin-chart-failures",
            "admin-filter-user-invalid",
            "admin-filter-too-long",
        ] {
            keys.push(k.to_owned());
        }
        for lang in [Lang::Fr, Lang::En] {
            let have = Catalog::keys(lang);
            let missing: Vec<&String> = keys.iter().filter(|k| !have.contains(k)).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
    }
}
