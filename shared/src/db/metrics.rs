//! The dashboard's KPIs. Counts come from the campaigns' counters (kept in the same
//! transaction as the rows they count), so the KPIs cost one indexed scan of a user's
//! campaigns, not a count over leads and contents.

use serde::Serialize;
use sqlx::PgPool;

use crate::error::Error;

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Engagement {
    pub likes: i64,
    pub comments: i64,
    pub shares: i64,
    pub impressions: i64,
    /// likes + comments + shares.
    pub total: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignMetrics {
    pub campaign_id: i64,
    pub name: String,
    pub leads: i64,
    pub contents: i64,
    pub published: i64,
    pub engagement: Engagement,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Metrics {
    pub leads: i64,
    pub contents: i64,
    pub published: i64,
    pub engagement: Engagement,
    pub campaigns: Vec<CampaignMetrics>,
}

/// Per-campaign figures for the user's newest `limit` campaigns, and totals over all.
pub async fn for_user(db: &PgPool, user_id: i64, limit: i64) -> Result<Metrics, Error> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.name, c.leads_count::bigint AS "leads!", c.contents_count::bigint AS "contents!",
                  c.published_count::bigint AS "published!",
                  COALESCE(e.likes, 0) AS "likes!", COALESCE(e.comments, 0) AS "comments!",
                  COALESCE(e.shares, 0) AS "shares!", COALESCE(e.impressions, 0) AS "impressions!"
           FROM campaigns c
           LEFT JOIN LATERAL (
               SELECT sum(p.likes)::bigint AS likes, sum(p.comments)::bigint AS comments,
                      sum(p.shares)::bigint AS shares, sum(p.impressions)::bigint AS impressions
               FROM contents ct JOIN publications p ON p.content_id = ct.id
               WHERE ct.campaign_id = c.id AND c.published_count > 0
           ) e ON true
           WHERE c.user_id = $1
           ORDER BY c.id DESC"#,
        user_id
    )
    .fetch_all(db)
    .await?;
    let mut totals = Metrics {
        leads: 0,
        contents: 0,
        published: 0,
        engagement: Engagement::default(),
        campaigns: Vec::new(),
    };
    for (i, row) in rows.into_iter().enumerate() {
        let engagement = Engagement {
            likes: row.likes,
            comments: row.comments,
            shares: row.shares,
            impressions: row.impressions,
            total: row.likes + row.comments + row.shares,
        };
        totals.leads += row.leads;
        totals.contents += row.contents;
        totals.published += row.published;
        totals.engagement.likes += engagement.likes;
        totals.engagement.comments += engagement.comments;
        totals.engagement.shares += engagement.shares;
        totals.engagement.impressions += engagement.impressions;
        totals.engagement.total += engagement.total;
        if i64::try_from(i).unwrap_or(i64::MAX) < limit {
            totals.campaigns.push(CampaignMetrics {
                campaign_id: row.id,
                name: row.name,
                leads: row.leads,
                contents: row.contents,
                published: row.published,
                engagement,
            });
        }
    }
    Ok(totals)
}
