#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The publishing schedule against real PostgreSQL: approvals take slots, a full day rolls
//! to the next slot day, a change of schedule reflows what is not being published, and a
//! move racing the publishing job's start never lets both through.

use std::time::Duration;

use chrono::{DateTime, Utc};
use shared::db::contents;
use shared::db::lifecycle::{self, in_flight, publication, schedule};
use shared::outbox;
use shared::schedule::{Schedule, ScheduleSpec};
use sqlx::PgPool;
use test_support::TestRedis;

/// An owner with LinkedIn connected and a `ready` campaign of `n` pending contents.
async fn owner_with_pending(db: &PgPool, n: usize) -> (i64, i64, Vec<i64>) {
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, name) VALUES ('o@example.com', 'x', 'O') RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO user_profiles (user_id, linkedin_connected, linkedin_access_token,
                                      linkedin_member_urn)
           VALUES ($1, true, '\x00', 'urn:li:person:o')"#,
    )
    .bind(user)
    .execute(db)
    .await
    .unwrap();
    let (campaign, ids) = campaign_with_pending(db, user, n).await;
    (user, campaign, ids)
}

/// Another `ready` campaign of the owner, with `n` pending contents.
async fn campaign_with_pending(db: &PgPool, user: i64, n: usize) -> (i64, Vec<i64>) {
    let campaign: i64 = sqlx::query_scalar(
        r#"INSERT INTO campaigns (user_id, name, industry, location, status, leads_count,
                                  enriched_count, contents_count)
           VALUES ($1, 'C', 'bakery', 'Lyon', 'ready', $2, $2, $2) RETURNING id"#,
    )
    .bind(user)
    .bind(n as i32)
    .fetch_one(db)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let lead: i64 = sqlx::query_scalar(
            r#"INSERT INTO leads (campaign_id, place_id, business_name, stage)
               VALUES ($1, $2, 'B', 'generated') RETURNING id"#,
        )
        .bind(campaign)
        .bind(format!("p{i}"))
        .fetch_one(db)
        .await
        .unwrap();
        let id: i64 = sqlx::query_scalar(
            r#"INSERT INTO contents (lead_id, campaign_id, user_id, text, quality_score, status)
               VALUES ($1, $2, $3, $4, 80, 'pending') RETURNING id"#,
        )
        .bind(lead)
        .bind(campaign)
        .bind(user)
        .bind(format!("post {i}"))
        .fetch_one(db)
        .await
        .unwrap();
        ids.push(id);
    }
    (campaign, ids)
}

fn spec(days: &[u8], times: &[&str], per_day: u16) -> ScheduleSpec {
    ScheduleSpec {
        time_zone: "Europe/Paris".into(),
        days: days.to_vec(),
        times: times.iter().map(|t| (*t).to_owned()).collect(),
        per_day,
        immediate: false,
    }
}

async fn slot(db: &PgPool, id: i64) -> Option<DateTime<Utc>> {
    schedule::slot_of(db, id).await.unwrap()
}

/// The outbox rows of a content's PublishPost: (slot in the args, run_at).
async fn queued(db: &PgPool, id: i64) -> Vec<(Option<i64>, Option<DateTime<Utc>>)> {
    let rows: Vec<(serde_json::Value, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT args, run_at FROM outbox WHERE kind = 'publish_post' AND (args->>'content_id')::bigint = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(db)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(args, at)| (args["slot"].as_i64(), at))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn approvals_take_slots_and_a_full_day_rolls_to_the_next(db: PgPool) {
    let (user, campaign, ids) = owner_with_pending(&db, 3).await;
    // Every day at 9:00 and 14:00, one post a day: three approvals, three days.
    schedule::save(
        &db,
        user,
        &spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00", "14:00"], 1),
    )
    .await
    .unwrap();
    let plan = Schedule::from_spec(&spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00", "14:00"], 1)).unwrap();
    let mut slots = Vec::new();
    for id in &ids {
        let approval = lifecycle::content::approve(&db, user, *id).await.unwrap();
        assert!(approval.queued_for_publishing);
        let at = approval.scheduled_at.unwrap();
        assert_eq!(slot(&db, *id).await, Some(at));
        assert!(
            at > Utc::now() && plan.is_slot(at),
            "{at} is not a slot to come"
        );
        // Its job waits in the outbox for exactly that instant, carrying the slot.
        assert_eq!(queued(&db, *id).await, [(Some(at.timestamp()), Some(at))]);
        slots.push(at);
    }
    let days: Vec<_> = slots.iter().map(|t| plan.local_date(*t)).collect();
    assert!(
        days[0] < days[1] && days[1] < days[2],
        "one a day: {days:?}"
    );
    assert_eq!((days[1] - days[0]).num_days(), 1, "{days:?}");
    // Posts waiting for their slots keep the campaign `ready`.
    let mut conn = db.acquire().await.unwrap();
    assert_eq!(
        lifecycle::campaign::complete(&mut conn, campaign)
            .await
            .unwrap(),
        None
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_schedule_reflows_what_is_not_being_published(db: PgPool) {
    let (user, _campaign, ids) = owner_with_pending(&db, 4).await;
    for id in &ids {
        lifecycle::content::approve(&db, user, *id).await.unwrap();
    }
    let before: Vec<_> = futures_slots(&db, &ids).await;
    // One is being published (its publication exists), one was taken out of the schedule.
    sqlx::query(
        "INSERT INTO publications (content_id, user_id, state) VALUES ($1, $2, 'publishing')",
    )
    .bind(ids[0])
    .bind(user)
    .execute(&db)
    .await
    .unwrap();
    schedule::unschedule(&db, user, ids[1]).await.unwrap();
    // Mondays at 10:00 only, one a day.
    let new = spec(&[1], &["10:00"], 1);
    let moved = schedule::save(&db, user, &new).await.unwrap();
    assert_eq!(moved, 2);
    let plan = Schedule::from_spec(&new).unwrap();
    assert_eq!(slot(&db, ids[0]).await, before[0], "started: untouched");
    assert_eq!(slot(&db, ids[1]).await, None, "unscheduled: stays out");
    let (a, b) = (
        slot(&db, ids[2]).await.unwrap(),
        slot(&db, ids[3]).await.unwrap(),
    );
    for t in [a, b] {
        assert!(plan.is_slot(t), "{t} is not a Monday 10:00 in Paris");
    }
    // In the order they were in, a week apart; each with a job for its new slot.
    assert_eq!(b - a, chrono::Duration::weeks(1));
    assert_eq!(
        queued(&db, ids[3]).await.last(),
        Some(&(Some(b.timestamp()), Some(b)))
    );
}

async fn futures_slots(db: &PgPool, ids: &[i64]) -> Vec<Option<DateTime<Utc>>> {
    let mut out = Vec::new();
    for id in ids {
        out.push(slot(db, *id).await);
    }
    out
}

#[sqlx::test(migrations = "../migrations")]
async fn moves_are_checked_and_unscheduled_posts_wait(db: PgPool) {
    let (user, campaign, ids) = owner_with_pending(&db, 2).await;
    for id in &ids {
        lifecycle::content::approve(&db, user, *id).await.unwrap();
    }
    let taken = slot(&db, ids[1]).await.unwrap();
    // Not a slot, passed, taken: each refused with its reason.
    let odd = taken + chrono::Duration::minutes(7);
    let e = schedule::move_to(&db, user, ids[0], odd).await.unwrap_err();
    assert!(
        e.to_string().contains("not one of your posting slots"),
        "{e}"
    );
    let e = schedule::move_to(&db, user, ids[0], Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("passed"), "{e}");
    let e = schedule::move_to(&db, user, ids[0], taken)
        .await
        .unwrap_err();
    assert!(matches!(e, shared::Error::Conflict(_)), "{e}");
    // A free slot: moved, with a job for it.
    let free = schedule::free_slots(&db, user, 3).await.unwrap();
    let moved = schedule::move_to(&db, user, ids[0], free[2]).await.unwrap();
    assert_eq!(moved.scheduled_at, Some(free[2]));
    assert_eq!(
        queued(&db, ids[0]).await.last(),
        Some(&(Some(free[2].timestamp()), Some(free[2])))
    );
    // Out of the schedule: no publication can start, the campaign stays `ready`.
    schedule::unschedule(&db, user, ids[0]).await.unwrap();
    let started = publication::start(&db, ids[0], user, "post 0", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(started.is_none());
    let mut conn = db.acquire().await.unwrap();
    assert_eq!(
        lifecycle::campaign::complete(&mut conn, campaign)
            .await
            .unwrap(),
        None
    );
    // Publish now: due once its few seconds to take it back have passed.
    let now = schedule::publish_now(&db, user, ids[0]).await.unwrap();
    let at = now.scheduled_at.unwrap();
    let ahead = (at - Utc::now()).num_seconds();
    assert!((10..=15).contains(&ahead), "{ahead}");
    // Another user's content, or a pending one: 404 / 409.
    let e = schedule::unschedule(&db, user + 1, ids[1])
        .await
        .unwrap_err();
    assert!(matches!(e, shared::Error::NotFound(_)), "{e}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reconciler_leaves_posts_waiting_for_their_slot(db: PgPool) {
    let (user, _campaign, ids) = owner_with_pending(&db, 2).await;
    for id in &ids {
        lifecycle::content::approve(&db, user, *id).await.unwrap();
    }
    // Even with no stall age (after a Redis loss), a slot to come is not "late".
    let late = in_flight::publications(&db, Duration::ZERO, 100)
        .await
        .unwrap();
    assert!(late.is_empty(), "{late:?}");
    let waiting = in_flight::scheduled(&db, 100).await.unwrap();
    assert_eq!(waiting.len(), 2);
    // Once its slot has come, it is.
    sqlx::query("UPDATE contents SET scheduled_at = now() - interval '1 minute' WHERE id = $1")
        .bind(ids[0])
        .execute(&db)
        .await
        .unwrap();
    let late = in_flight::publications(&db, Duration::ZERO, 100)
        .await
        .unwrap();
    assert_eq!(late.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[0]]);
}

/// The publishing job starts the publication of a due content while the owner moves it to a
/// later slot, many times over: exactly one of the two wins each time. Either the move
/// (and the job finds the content not due: no publication), or the job (and the move is
/// refused, saying publishing has started). Never both, never neither.
#[sqlx::test(migrations = "../migrations")]
async fn a_move_racing_the_publish_job_never_both_wins(db: PgPool) {
    const ROUNDS: usize = 30;
    let (user, _campaign, ids) = owner_with_pending(&db, ROUNDS).await;
    schedule::save(
        &db,
        user,
        &spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00", "14:00"], 100),
    )
    .await
    .unwrap();
    let (mut moves, mut starts) = (0, 0);
    for id in ids {
        lifecycle::content::approve(&db, user, id).await.unwrap();
        // Its slot has come: the job is about to start it.
        sqlx::query("UPDATE contents SET scheduled_at = date_trunc('second', now()) WHERE id = $1")
            .bind(id)
            .execute(&db)
            .await
            .unwrap();
        let target = schedule::free_slots(&db, user, 1).await.unwrap()[0];
        let (moved, started) = tokio::join!(
            schedule::move_to(&db, user, id, target),
            publication::start(&db, id, user, "post", Duration::from_secs(60)),
        );
        let started = started.unwrap();
        let row: Option<i64> =
            sqlx::query_scalar("SELECT id FROM publications WHERE content_id = $1")
                .bind(id)
                .fetch_optional(&db)
                .await
                .unwrap();
        match moved {
            Ok(slot) => {
                moves += 1;
                assert!(started.is_none(), "moved and started: {slot:?}");
                assert!(row.is_none());
                assert_eq!(schedule::slot_of(&db, id).await.unwrap(), Some(target));
            }
            Err(e) => {
                starts += 1;
                assert!(
                    e.to_string()
                        .contains("publishing of this content has started"),
                    "{e}"
                );
                assert!(started.is_some() && row.is_some());
            }
        }
    }
    assert_eq!(moves + starts, ROUNDS);
}

async fn outbox_rows(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(db)
        .await
        .unwrap()
}

/// Relays the outbox to Redis until a pass moves nothing; returns the rows left (set
/// aside by the relay).
async fn relay(db: &PgPool, client: &jobs::Client) -> i64 {
    while outbox::relay_once(db, client).await.unwrap() > 0 {}
    outbox_rows(db).await
}

/// PublishPost jobs waiting in the publish queue's scheduled set.
fn scheduled_jobs(redis: &TestRedis) -> usize {
    let mut conn = redis.conn();
    redis::cmd("ZCARD")
        .arg("ag:{publish}:scheduled")
        .query(&mut conn)
        .unwrap()
}

/// Saving the schedule again, or reconnecting LinkedIn, moves no post: nothing is written
/// for them. A job written again for the same slot would meet the waiting one in the queue
/// (same unique key), wake it before its time, and wait in the outbox until the slot.
#[sqlx::test(migrations = "../migrations")]
async fn saving_an_unchanged_schedule_leaves_no_outbox_row(db: PgPool) {
    let redis = TestRedis::start();
    let client = jobs::Client::connect(&redis.url(), jobs::Settings::default())
        .await
        .unwrap();
    let (user, _campaign, ids) = owner_with_pending(&db, 20).await;
    let week = spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00", "14:00"], 2);
    schedule::save(&db, user, &week).await.unwrap();
    for id in &ids {
        lifecycle::content::approve(&db, user, *id).await.unwrap();
    }
    assert_eq!(relay(&db, &client).await, 0);
    assert_eq!(
        scheduled_jobs(&redis),
        20,
        "each post's job waits for its slot"
    );
    let before = futures_slots(&db, &ids).await;
    // The same schedule, saved again: every post keeps its slot and its job.
    let placed = schedule::save(&db, user, &week).await.unwrap();
    assert_eq!(placed, 20);
    assert_eq!(futures_slots(&db, &ids).await, before);
    assert_eq!(relay(&db, &client).await, 0, "no outbox row is left");
    // A reconnect: the same.
    let mut tx = db.begin().await.unwrap();
    contents::queue_waiting_approvals(&mut tx, user)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(futures_slots(&db, &ids).await, before);
    assert_eq!(relay(&db, &client).await, 0, "no outbox row is left");
    assert_eq!(
        scheduled_jobs(&redis),
        20,
        "no job was woken before its slot"
    );
    // A schedule that moves them: each gets a job for its new slot.
    let other = spec(&[1, 2, 3, 4, 5, 6, 7], &["10:00"], 2);
    schedule::save(&db, user, &other).await.unwrap();
    assert_eq!(relay(&db, &client).await, 0);
    for id in &ids {
        let at = slot(&db, *id).await.unwrap();
        assert_eq!(queued(&db, *id).await, [], "relayed");
        assert!(Schedule::from_spec(&other).unwrap().is_slot(at));
    }
    assert_eq!(
        scheduled_jobs(&redis),
        40,
        "the new slots' jobs beside the old ones"
    );
}

/// Posts placed while LinkedIn was not connected have no job: the reconnect writes them,
/// slot unchanged or not.
#[sqlx::test(migrations = "../migrations")]
async fn a_reconnect_queues_the_posts_placed_without_linkedin(db: PgPool) {
    let (user, _campaign, ids) = owner_with_pending(&db, 2).await;
    sqlx::query("UPDATE user_profiles SET linkedin_reconnect_needed = true WHERE user_id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    for id in &ids {
        let approval = lifecycle::content::approve(&db, user, *id).await.unwrap();
        assert!(!approval.queued_for_publishing);
        assert_eq!(queued(&db, *id).await, []);
    }
    let before = futures_slots(&db, &ids).await;
    sqlx::query("UPDATE user_profiles SET linkedin_reconnect_needed = false WHERE user_id = $1")
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    contents::queue_waiting_approvals(&mut tx, user)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(futures_slots(&db, &ids).await, before);
    for (id, at) in ids.iter().zip(before) {
        let at = at.unwrap();
        assert_eq!(queued(&db, *id).await, [(Some(at.timestamp()), Some(at))]);
    }
}

/// A cancelled campaign's approved posts leave the schedule: their slots are free for the
/// owner's other posts, they no longer count against her posts a day, and a move to one of
/// their slots is not refused.
#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_campaigns_posts_leave_the_schedule(db: PgPool) {
    let (user, cancelled, gone) = owner_with_pending(&db, 3).await;
    let (_kept, ids) = campaign_with_pending(&db, user, 3).await;
    // One post a day, at 09:00.
    schedule::save(&db, user, &spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00"], 1))
        .await
        .unwrap();
    let mut held = Vec::new();
    for id in &gone {
        held.push(
            lifecycle::content::approve(&db, user, *id)
                .await
                .unwrap()
                .scheduled_at
                .unwrap(),
        );
    }
    lifecycle::campaign::cancel(&db, user, cancelled)
        .await
        .unwrap();
    for id in &gone {
        assert_eq!(slot(&db, *id).await, None, "out of the schedule");
    }
    // The other campaign's first post takes the first day the cancelled ones held.
    let first = lifecycle::content::approve(&db, user, ids[0])
        .await
        .unwrap();
    assert_eq!(first.scheduled_at, Some(held[0]));
    // Their other days are free for a move.
    let free = schedule::free_slots(&db, user, 2).await.unwrap();
    assert_eq!(free, held[1..]);
    schedule::move_to(&db, user, ids[0], held[2]).await.unwrap();
    // A campaign cancelled before its posts left the schedule on cancel (an older
    // release): its posts hold no slot either, and a saved schedule leaves them out.
    sqlx::query("UPDATE contents SET scheduled_at = $2 WHERE id = $1")
        .bind(gone[0])
        .bind(held[0])
        .execute(&db)
        .await
        .unwrap();
    let second = lifecycle::content::approve(&db, user, ids[1])
        .await
        .unwrap();
    assert_eq!(second.scheduled_at, Some(held[0]));
    schedule::save(&db, user, &spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00"], 1))
        .await
        .unwrap();
    assert_eq!(slot(&db, gone[0]).await, None);
    // The upcoming list never showed them.
    let upcoming = schedule::upcoming(&db, user, 100).await.unwrap();
    assert!(upcoming.iter().all(|u| !gone.contains(&u.content_id)));
}

/// With an immediate schedule a reconnect places the waiting posts "now", which may be the
/// very second they were placed in: their job, which met the expired grant and waits for
/// the reconnect, is written again, so the relay wakes it.
#[sqlx::test(migrations = "../migrations")]
async fn a_reconnect_wakes_the_posts_that_are_due(db: PgPool) {
    let (user, _campaign, ids) = owner_with_pending(&db, 3).await;
    let mut now = spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00"], 100);
    now.immediate = true;
    schedule::save(&db, user, &now).await.unwrap();
    for id in &ids {
        lifecycle::content::approve(&db, user, *id).await.unwrap();
    }
    sqlx::query("DELETE FROM outbox")
        .execute(&db)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    contents::queue_waiting_approvals(&mut tx, user)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for id in &ids {
        let at = slot(&db, *id).await.unwrap();
        assert_eq!(queued(&db, *id).await, [(Some(at.timestamp()), Some(at))]);
    }
}

/// A pause keeps the posts' slots; a resume places those whose slot passed meanwhile in
/// slots to come, each with a job for its new slot, and leaves the others as they were.
#[sqlx::test(migrations = "../migrations")]
async fn a_resume_gives_the_posts_whose_slot_passed_slots_to_come(db: PgPool) {
    let (user, _, ids) = owner_with_pending(&db, 2).await;
    schedule::save(&db, user, &spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00"], 1))
        .await
        .unwrap();
    for id in &ids {
        lifecycle::content::approve(&db, user, *id).await.unwrap();
    }
    let later = slot(&db, ids[1]).await.unwrap();
    let paused = schedule::pause(&db, user).await.unwrap();
    assert_eq!(
        schedule::pause(&db, user).await.unwrap(),
        paused,
        "the first instant"
    );
    assert!(schedule::held_by_pause(&db, user, ids[0]).await.unwrap());
    // The first one's slot passes while paused.
    let passed = Utc::now() - chrono::Duration::hours(1);
    sqlx::query("UPDATE contents SET scheduled_at = $2, publish_queued_slot = $2 WHERE id = $1")
        .bind(ids[0])
        .bind(passed)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(schedule::resume(&db, user).await.unwrap(), 2);
    assert!(!schedule::held_by_pause(&db, user, ids[0]).await.unwrap());
    let first = slot(&db, ids[0]).await.unwrap();
    assert!(first > Utc::now(), "{first}");
    let second = slot(&db, ids[1]).await.unwrap();
    assert!(first < second, "in their order");
    assert!(second >= later);
    let jobs = queued(&db, ids[0]).await;
    assert!(
        jobs.iter()
            .any(|(slot, _)| *slot == Some(first.timestamp())),
        "a job for its new slot: {jobs:?}"
    );
    // Nothing to resume: nothing moves.
    assert_eq!(schedule::resume(&db, user).await.unwrap(), 0);
    assert_eq!(slot(&db, ids[0]).await, Some(first));
}

/// "Publish now" puts the post a few seconds ahead, with its job for then; a move back in
/// those seconds is the undo, refused once the publication started.
#[sqlx::test(migrations = "../migrations")]
async fn publish_now_leaves_seconds_to_take_it_back(db: PgPool) {
    let (user, _, ids) = owner_with_pending(&db, 1).await;
    schedule::save(&db, user, &spec(&[1, 2, 3, 4, 5, 6, 7], &["09:00"], 1))
        .await
        .unwrap();
    lifecycle::content::approve(&db, user, ids[0])
        .await
        .unwrap();
    let placed = slot(&db, ids[0]).await.unwrap();
    let now = schedule::publish_now(&db, user, ids[0]).await.unwrap();
    let at = now.scheduled_at.unwrap();
    let ahead = at - Utc::now();
    assert!(
        ahead > chrono::Duration::seconds(10) && ahead <= schedule::PUBLISH_NOW_GRACE,
        "{ahead}"
    );
    assert!(
        queued(&db, ids[0])
            .await
            .iter()
            .any(|(slot, _)| *slot == Some(at.timestamp()))
    );
    schedule::move_to(&db, user, ids[0], placed).await.unwrap();
    assert_eq!(slot(&db, ids[0]).await, Some(placed));
    // Paused: refused, with why.
    schedule::pause(&db, user).await.unwrap();
    let refused = schedule::publish_now(&db, user, ids[0]).await.unwrap_err();
    assert!(refused.to_string().contains("paused"), "{refused}");
}
