//! The one summary of where an owner's posts stand (`shared::db::post_counts`), as home,
//! a campaign page and the Posts gallery show it, each line a link to exactly the posts it
//! counts (`macros.html`, `post_counts`). The schedule page can show the same with
//! [`view`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::db::lifecycle::schedule;
use shared::db::post_counts::{self, PostCounts};

use super::i18n::{Catalog, Lang};
use super::times;
use crate::state::AppState;

/// The counts with what the template writes of them.
#[derive(Debug, Clone, Serialize)]
pub struct CountsView {
    #[serde(flatten)]
    pub counts: PostCounts,
    pub needing_her: i64,
    pub total: i64,
    /// "Tue 9 Dec, 9:00 (Paris time)": the next scheduled post's slot, in her time zone.
    pub next_label: Option<String>,
    /// The gallery's campaign filter for the links (`&campaign=7`), empty for all posts.
    pub campaign_query: String,
}

impl CountsView {
    pub fn new(counts: PostCounts, next_label: Option<String>, campaign_id: Option<i64>) -> Self {
        Self {
            needing_her: counts.needing_her(),
            total: counts.total(),
            next_label,
            campaign_query: campaign_id
                .map(|id| format!("&campaign={id}"))
                .unwrap_or_default(),
            counts,
        }
    }
}

/// The counts of `user_id`'s posts (of one campaign), with the next slot written in her
/// time zone.
pub async fn view(
    state: &AppState,
    user_id: i64,
    campaign_id: Option<i64>,
    lang: Lang,
    catalog: &Catalog,
) -> Result<CountsView, shared::Error> {
    let counts = post_counts::of_owner(&state.db, user_id, campaign_id, Utc::now()).await?;
    let next_label = match counts.next_at {
        Some(at) => Some(next_label(state, user_id, at, lang, catalog).await?),
        None => None,
    };
    Ok(CountsView::new(counts, next_label, campaign_id))
}

async fn next_label(
    state: &AppState,
    user_id: i64,
    at: DateTime<Utc>,
    lang: Lang,
    catalog: &Catalog,
) -> Result<String, shared::Error> {
    let mut conn = state.db.acquire().await?;
    let tz = schedule::load(&mut conn, user_id).await?.time_zone;
    Ok(times::slot_in_zone(at, tz, lang, catalog))
}
