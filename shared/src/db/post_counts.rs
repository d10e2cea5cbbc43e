//! Where an owner's posts stand, counted once for every page that shows it (home, a
//! campaign, the Posts gallery, the schedule): when each page counted in its own way, home
//! said "nothing to do" while the campaign page asked her to approve posts that had
//! approved themselves and sat in the schedule.
//!
//! Every post is in exactly one bucket, so the buckets add up to the posts made. Nothing
//! here names a platform: a post "needs her" whatever network it was going to.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::error::Error;

/// A post still approved this long after its slot did not go out when planned: a limit or
/// an outage holds it. Publishing takes seconds once the slot comes; a quarter of an hour
/// leaves room for a retry without calling every short delay a problem.
pub const LATE_AFTER: Duration = Duration::minutes(15);

/// The owner's posts by where they stand (of one campaign, or all of hers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PostCounts {
    /// The text is written, the image is being made: not shown for approval yet.
    pub generating: i64,
    /// Waiting for her approval.
    pub to_approve: i64,
    /// Approved, with a slot to come (or being published right now).
    pub scheduled: i64,
    /// The earliest slot to come among the scheduled ones.
    pub next_at: Option<DateTime<Utc>>,
    /// Approved, taken out of the schedule by her: they wait until she puts them back.
    pub unscheduled: i64,
    /// Approved, their slot passed [`LATE_AFTER`] ago and not out yet: waiting on a limit,
    /// an outage or a reconnect.
    pub late: i64,
    /// The network did not say whether the post went out: she must look and tell us.
    pub unknown: i64,
    pub published: i64,
    pub failed: i64,
    pub rejected: i64,
}

impl PostCounts {
    /// What she has to act on: posts to approve aside, the ones that went wrong or are
    /// stuck.
    pub fn needing_her(&self) -> i64 {
        self.failed + self.unknown + self.late
    }

    /// All posts, whatever their state.
    pub fn total(&self) -> i64 {
        self.generating
            + self.to_approve
            + self.scheduled
            + self.unscheduled
            + self.unknown
            + self.published
            + self.failed
            + self.rejected
    }
}

/// The counts of `user_id`'s posts, of one campaign when `campaign_id` is given, as of
/// `now` (what "to come" and "late" are measured from). One indexed scan of her contents:
/// the `EXISTS` on publications (not a join) counts a post once even when it goes to
/// several networks. A cancelled campaign's approved posts left the schedule and never go
/// out: they count as unscheduled, as the schedule page does not list them either.
pub async fn of_owner(
    db: &PgPool,
    user_id: i64,
    campaign_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<PostCounts, Error> {
    Ok(sqlx::query_as::<_, PostCounts>(
        r#"WITH c AS (
               SELECT ct.status, ct.scheduled_at, cp.status = 'cancelled' AS cancelled,
                      EXISTS (SELECT 1 FROM publications pb
                              WHERE pb.content_id = ct.id AND pb.state = 'unknown') AS unknown
               FROM contents ct JOIN campaigns cp ON cp.id = ct.campaign_id
               WHERE ct.user_id = $1 AND ($2::bigint IS NULL OR ct.campaign_id = $2)
           ), a AS (
               SELECT *,
                      status = 'approved' AND NOT unknown AND NOT cancelled
                          AND scheduled_at IS NOT NULL AS in_schedule
               FROM c
           )
           SELECT count(*) FILTER (WHERE status = 'generating') AS generating,
                  count(*) FILTER (WHERE status = 'pending') AS to_approve,
                  count(*) FILTER (WHERE in_schedule AND scheduled_at >= $3 - $4::interval)
                      AS scheduled,
                  min(scheduled_at) FILTER (WHERE in_schedule AND scheduled_at >= $3) AS next_at,
                  count(*) FILTER (WHERE status = 'approved' AND NOT unknown
                                   AND (cancelled OR scheduled_at IS NULL)) AS unscheduled,
                  count(*) FILTER (WHERE in_schedule AND scheduled_at < $3 - $4::interval)
                      AS late,
                  count(*) FILTER (WHERE status = 'approved' AND unknown) AS unknown,
                  count(*) FILTER (WHERE status = 'published') AS published,
                  count(*) FILTER (WHERE status = 'failed') AS failed,
                  count(*) FILTER (WHERE status = 'rejected') AS rejected
           FROM a"#,
    )
    .bind(user_id)
    .bind(campaign_id)
    .bind(now)
    .bind(LATE_AFTER)
    .fetch_one(db)
    .await?)
}
