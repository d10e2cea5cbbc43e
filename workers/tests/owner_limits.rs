#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Limits that do not punish others: the day's budgets are held per owner as well as
//! app-wide. Real api, real workers, the sandbox over HTTP.

mod harness;

use std::time::Duration;

use sqlx::PgPool;
use test_support::stack::Stack;
use test_support::wait_for;

const RUN: Duration = Duration::from_secs(60);

/// The leads of a campaign that are enriched (or further).
async fn enriched(db: &PgPool, campaign: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM leads WHERE campaign_id = $1 AND stage <> 'found'")
        .bind(campaign)
        .fetch_one(db)
        .await
        .unwrap()
}

/// With a day's budget of 5 leads per owner (and plenty app-wide), an owner whose campaign
/// found 7 gets 5 enriched today and 2 waiting with the reason; another owner's campaign
/// gets its own 5, not what is left of the first one's (before, the first owner's campaign
/// took all 7, and nine such campaigns the whole app's day).
#[sqlx::test(migrations = "../migrations")]
async fn one_owners_campaigns_cannot_use_the_whole_days_budget(db: PgPool) {
    let mut stack = Stack::start_with(db.clone(), sandbox::Options::default(), |c| {
        c.pipeline.limits.user_leads_per_day = 5;
        c.pipeline.limits.leads_per_day = 500;
    })
    .await;
    stack
        .worker_env
        .push(("AG_PIPELINE__LIMITS__USER_LEADS_PER_DAY".into(), "5".into()));
    stack.spawn_worker("w1").await;
    let ana = stack.connected_owner().await;
    let first = ana.launch("Ana's", "bakery", "Smallville").await;
    let bob = stack.owner("bob@example.com").await;
    bob.connect_linkedin("bob").await;
    let second = bob.launch("Bob's", "bakery", "Smallville").await;
    wait_for(RUN, "the owners' budgets are used", async || {
        enriched(&db, first).await >= 5 && enriched(&db, second).await >= 5
    })
    .await;
    // The leads past each owner's budget wait in the schedule, deferred: once all four
    // are there, none of them can be enriched today.
    let waiting = stack
        .scheduled_jobs("enrich", RUN, |page| {
            page.iter()
                .filter(|j| j.envelope.deferred.is_some())
                .count()
                == 4
        })
        .await;
    for job in waiting.iter().filter(|j| j.envelope.deferred.is_some()) {
        let reason = &job.envelope.deferred.as_ref().unwrap().reason;
        assert!(reason.contains("lead"), "{reason}");
    }
    assert_eq!(enriched(&db, first).await, 5);
    assert_eq!(enriched(&db, second).await, 5);
    let detail = ana.campaign(first).await;
    assert_eq!(detail["campaign"]["status"], "enriching");
}
