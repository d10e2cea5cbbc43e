//! The dashboard's KPIs. Counts come from the campaigns' counters (kept in the same
//! transaction as the rows they count), so the KPIs cost one indexed scan of a user's
//! campaigns, not a count over leads and contents.

use serde::Serialize;
use sqlx::PgPool;

use super::Page;
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
    /// Totals over all of the user's campaigns.
    pub leads: i64,
    pub contents: i64,
    pub published: i64,
    pub engagement: Engagement,
    /// How many campaigns the user has: `campaigns` is one page of them.
    pub campaign_count: i64,
    /// The requested page of campaigns, newest first.
    pub campaigns: Vec<CampaignMetrics>,
}

/// Totals over all the user's campaigns, summed in PostgreSQL (two indexed aggregates: the
/// campaigns' counters and the user's publications), and the figures of one page of
/// campaigns: a user with thousands of campaigns costs no more memory than one with fifty.
pub async fn for_user(db: &PgPool, user_id: i64, page: Page) -> Result<Metrics, Error> {
    let totals = sqlx::query!(
        r#"SELECT count(*) AS "campaigns!",
                  COALESCE(sum(leads_count), 0)::bigint AS "leads!",
                  COALESCE(sum(contents_count), 0)::bigint AS "contents!",
                  COALESCE(sum(published_count), 0)::bigint AS "published!"
           FROM campaigns WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await?;
    let engagement = sqlx::query!(
        r#"SELECT COALESCE(sum(likes), 0)::bigint AS "likes!",
                  COALESCE(sum(comments), 0)::bigint AS "comments!",
                  COALESCE(sum(shares), 0)::bigint AS "shares!",
                  COALESCE(sum(impressions), 0)::bigint AS "impressions!"
           FROM publications WHERE user_id = $1"#,
        user_id
    )
    .fetch_one(db)
    .await?;
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
           ORDER BY c.id DESC
           LIMIT $2 OFFSET $3"#,
        user_id,
        page.limit(),
        page.offset(),
    )
    .fetch_all(db)
    .await?;
    let campaigns = rows
        .into_iter()
        .map(|row| CampaignMetrics {
            campaign_id: row.id,
            name: row.name,
            leads: row.leads,
            contents: row.contents,
            published: row.published,
            engagement: Engagement {
                likes: row.likes,
                comments: row.comments,
                shares: row.shares,
                impressions: row.impressions,
                total: row.likes + row.comments + row.shares,
            },
        })
        .collect();
    Ok(Metrics {
        leads: totals.leads,
        contents: totals.contents,
        published: totals.published,
        engagement: Engagement {
            likes: engagement.likes,
            comments: engagement.comments,
            shares: engagement.shares,
            impressions: engagement.impressions,
            total: engagement.likes + engagement.comments + engagement.shares,
        },
        campaign_count: totals.campaigns,
        campaigns,
    })
}

/// One UTC day of the home page's charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCounts {
    pub day: chrono::NaiveDate,
    pub leads: i64,
    pub contents: i64,
    pub published: i64,
}

/// Leads found, contents written and posts published per UTC day over the last `days` days
/// (today included), every day present (zeros too), oldest first. One statement: each count
/// is one indexed range of the user's rows (campaigns then their leads, `contents_user_id_idx`,
/// `publications_state_idx`) grouped by day, joined to the generated days.
pub async fn per_day(db: &PgPool, user_id: i64, days: i32) -> Result<Vec<DayCounts>, Error> {
    Ok(sqlx::query_as!(
        DayCounts,
        r#"WITH since AS (
               SELECT date_trunc('day', now(), 'UTC') - make_interval(days => $2 - 1) AS t
           ),
           lead_days AS (
               SELECT date_trunc('day', l.created_at, 'UTC') AS day, count(*) AS n
               FROM since, campaigns c JOIN leads l ON l.campaign_id = c.id
               WHERE c.user_id = $1 AND l.created_at >= since.t
               GROUP BY 1
           ),
           content_days AS (
               SELECT date_trunc('day', ct.created_at, 'UTC') AS day, count(*) AS n
               FROM since, contents ct
               WHERE ct.user_id = $1 AND ct.created_at >= since.t
               GROUP BY 1
           ),
           published_days AS (
               SELECT date_trunc('day', p.published_at, 'UTC') AS day, count(*) AS n
               FROM since, publications p
               WHERE p.user_id = $1 AND p.state = 'published' AND p.published_at >= since.t
               GROUP BY 1
           )
           SELECT (d.day AT TIME ZONE 'UTC')::date AS "day!",
                  COALESCE(l.n, 0) AS "leads!",
                  COALESCE(c.n, 0) AS "contents!",
                  COALESCE(p.n, 0) AS "published!"
           FROM since
           CROSS JOIN generate_series(since.t, date_trunc('day', now(), 'UTC'), interval '1 day')
                AS d(day)
           LEFT JOIN lead_days l ON l.day = d.day
           LEFT JOIN content_days c ON c.day = d.day
           LEFT JOIN published_days p ON p.day = d.day
           ORDER BY d.day"#,
        user_id,
        days,
    )
    .fetch_all(db)
    .await?)
}
