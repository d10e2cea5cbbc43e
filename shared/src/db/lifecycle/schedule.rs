//! An approved content's place in the owner's publishing schedule: `approved` with a slot
//! (`scheduled_at`) waits for it, and its PublishPost sits in the queue's scheduled set
//! until then; `approved` without one was taken out of the schedule by the owner and waits
//! for her.
//!
//! ```text
//! approved ──(approve, auto-approve: next free slot)──▶ scheduled(t) ──(slot comes)──▶ publishing
//!                     scheduled(t) ──move──▶ scheduled(t')      ──publish now──▶ scheduled(now)
//!                     scheduled(t) ──unschedule──▶ unscheduled ──move / place──▶ scheduled(t')
//!                     (schedule changed) ──reflow──▶ every unstarted one in a new slot
//!                     (campaign cancelled) ──▶ out of the schedule
//! ```
//!
//! A content's PublishPost goes to the outbox when it takes a slot it has no job for
//! (`publish_queued_slot` remembers the slot of the last one written). A reflow leaves the
//! contents whose slot to come did not change without a new job: their job already waits
//! in the queue's scheduled set, and a second one would meet it there (same unique key),
//! wake it before its time and keep its outbox row waiting until the slot.
//!
//! A cancelled campaign's approved contents leave the schedule when it is cancelled: their
//! jobs find the campaign cancelled and do nothing, so their slots would stay taken by
//! posts that never go out, count against the owner's posts a day, and be invisible to her.
//!
//! Every change here runs under a lock on the owner's `users` row, so two placements never
//! pick the same slot, and takes that lock before any content's row (the same order
//! everywhere: no deadlock). A move, an unschedule or a "publish now" is refused once the
//! content's publication row exists: from then on a job may be past the decision to POST,
//! and the exactly-once rules of the publication (its send lease, its uncertain sends)
//! own the content. The publishing job makes that row only while the content is due, in
//! one statement that locks the content's row (`publication::start`); a move locks the
//! row and then looks for the publication, so of a move and a job racing, exactly one
//! wins: the move (the job finds the content no longer due and does nothing) or the job
//! (the move is refused with a message).

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use crate::db::contents::ContentStatus;
use crate::db::profiles;
use crate::error::Error;
use crate::outbox;
use crate::schedule::{Schedule, ScheduleSpec, Taken, parse_time_zone};

/// A `posting_schedules` row: time zone, days, times, per day, immediate.
type Row = (String, Vec<i16>, Vec<i16>, i16, bool);

/// The owner's schedule, or the default one if she never set it.
pub async fn load(conn: &mut PgConnection, user_id: i64) -> Result<Schedule, Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT time_zone, days, times, per_day, immediate FROM posting_schedules WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    let Some((tz, days, times, per_day, immediate)) = row else {
        return Ok(Schedule::default());
    };
    Ok(Schedule {
        time_zone: parse_time_zone(&tz)?,
        days: days.into_iter().map(|d| d as u8).collect(),
        times: times.into_iter().map(|t| t as u16).collect(),
        per_day: per_day as u16,
        immediate,
    })
}

/// Whether the owner saved a schedule (else the page offers her browser's time zone).
pub async fn is_set(db: &PgPool, user_id: i64) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM posting_schedules WHERE user_id = $1)")
            .bind(user_id)
            .fetch_one(db)
            .await?,
    )
}

/// Saves the owner's schedule and reflows every content not yet being published into
/// the new slots, in the order they were in. Returns how many were placed again.
pub async fn save(db: &PgPool, user_id: i64, spec: &ScheduleSpec) -> Result<u64, Error> {
    let schedule = Schedule::from_spec(spec)?;
    let mut tx = db.begin().await?;
    lock_owner(&mut tx, user_id).await?;
    let days: Vec<i16> = schedule.days.iter().map(|d| i16::from(*d)).collect();
    let times: Vec<i16> = schedule.times.iter().map(|t| *t as i16).collect();
    sqlx::query(
        r#"INSERT INTO posting_schedules (user_id, time_zone, days, times, per_day, immediate)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (user_id) DO UPDATE
           SET time_zone = $2, days = $3, times = $4, per_day = $5, immediate = $6,
               updated_at = now()"#,
    )
    .bind(user_id)
    .bind(schedule.time_zone.name())
    .bind(&days)
    .bind(&times)
    .bind(schedule.per_day as i16)
    .bind(schedule.immediate)
    .execute(&mut *tx)
    .await?;
    let moved = reflow(&mut tx, user_id, &schedule).await?;
    tx.commit().await?;
    Ok(moved)
}

/// Takes the owner's schedule lock; first in every transaction that places a content.
pub async fn lock_owner(conn: &mut PgConnection, user_id: i64) -> Result<(), Error> {
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A just-approved content takes the owner's next free slot (now, with an immediate
/// schedule), and its PublishPost goes to the outbox for that instant when LinkedIn is
/// connected (else the reconnect queues it). In the approval's transaction, which took
/// `lock_owner` before it moved the content.
pub async fn place(
    conn: &mut PgConnection,
    user_id: i64,
    content_id: i64,
) -> Result<DateTime<Utc>, Error> {
    let schedule = load(&mut *conn, user_id).await?;
    let taken = taken(&mut *conn, user_id, &schedule, Some(content_id)).await?;
    let at = next_slot(&schedule, &taken)?;
    set_slot(&mut *conn, content_id, Some(at)).await?;
    if profiles::linkedin_ready(&mut *conn, user_id).await? {
        enqueue(conn, user_id, content_id, at).await?;
    }
    Ok(at)
}

/// How long after "publish now" the post's job is due: the owner can still take it back
/// (an undo is a move or an unschedule, refused once the job started its publication).
/// The job may start [`super::publication::DUE_EARLY`] before its slot, so the owner has
/// about ten seconds.
pub const PUBLISH_NOW_GRACE: Duration = Duration::seconds(15);

/// Publishes the content now instead of in its slot (a scheduled or unscheduled one):
/// its slot becomes [`PUBLISH_NOW_GRACE`] from now. Refused while her publishing is
/// paused: the job would only wait, and the resume would give it a slot to come.
pub async fn publish_now(db: &PgPool, user_id: i64, content_id: i64) -> Result<Slot, Error> {
    let mut tx = db.begin().await?;
    lock_owner(&mut tx, user_id).await?;
    lock_unstarted(&mut tx, user_id, content_id, "published now").await?;
    if paused_since(&mut tx, user_id).await?.is_some() {
        return Err(Error::Conflict(
            "your publishing is paused: resume it to publish this post now".into(),
        ));
    }
    let at = now_second() + PUBLISH_NOW_GRACE;
    set_slot(&mut tx, content_id, Some(at)).await?;
    let queued = profiles::linkedin_ready(&mut tx, user_id).await?;
    if queued {
        enqueue(&mut tx, user_id, content_id, at).await?;
    }
    tx.commit().await?;
    Ok(Slot {
        content_id,
        scheduled_at: Some(at),
        queued,
    })
}

/// When the owner paused all her publishing, if she did.
pub async fn paused_since(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(sqlx::query_scalar::<_, Option<DateTime<Utc>>>(
        "SELECT publishing_paused_at FROM user_profiles WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// Pauses all the owner's publishing: every PublishPost whose slot comes meanwhile waits
/// (the job defers, spending no attempt) until she resumes. A publication already started
/// goes on: past the decision to post, stopping it could leave a post half sent. A second
/// pause keeps the first instant.
pub async fn pause(db: &PgPool, user_id: i64) -> Result<DateTime<Utc>, Error> {
    let mut tx = db.begin().await?;
    lock_owner(&mut tx, user_id).await?;
    let at: Option<DateTime<Utc>> = sqlx::query_scalar(
        r#"UPDATE user_profiles SET publishing_paused_at = COALESCE(publishing_paused_at, now())
           WHERE user_id = $1 RETURNING publishing_paused_at"#,
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    tx.commit().await?;
    at.ok_or(Error::NotFound("profile"))
}

/// Resumes the owner's publishing: the posts waiting take the slots to come again, in
/// their order (a reflow), so those whose slot passed during the pause do not all go out
/// at once; the jobs that waited for a passed slot find their content moved and do
/// nothing. Returns how many were placed; resuming what is not paused places none.
pub async fn resume(db: &PgPool, user_id: i64) -> Result<u64, Error> {
    let mut tx = db.begin().await?;
    lock_owner(&mut tx, user_id).await?;
    if paused_since(&mut tx, user_id).await?.is_none() {
        return Ok(0);
    }
    sqlx::query("UPDATE user_profiles SET publishing_paused_at = NULL WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let schedule = load(&mut tx, user_id).await?;
    let placed = reflow(&mut tx, user_id, &schedule).await?;
    tx.commit().await?;
    Ok(placed)
}

/// Whether the owner's paused publishing holds this content's job back: paused, and its
/// publication not started (a started one goes on, see [`pause`]).
pub async fn held_by_pause(db: &PgPool, user_id: i64, content_id: i64) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        r#"SELECT EXISTS (SELECT 1 FROM user_profiles
                          WHERE user_id = $1 AND publishing_paused_at IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM publications WHERE content_id = $2)"#,
    )
    .bind(user_id)
    .bind(content_id)
    .fetch_one(db)
    .await?)
}

/// Moves the content to another free slot of the schedule (also puts an unscheduled one
/// back). `at` must be one of the owner's slots, in the future, and free.
pub async fn move_to(
    db: &PgPool,
    user_id: i64,
    content_id: i64,
    at: DateTime<Utc>,
) -> Result<Slot, Error> {
    let mut tx = db.begin().await?;
    lock_owner(&mut tx, user_id).await?;
    let current = lock_unstarted(&mut tx, user_id, content_id, "moved").await?;
    if current == Some(at) {
        // Already there: nothing changes (a second click of the same move).
        let queued = profiles::linkedin_ready(&mut tx, user_id).await?;
        return Ok(Slot {
            content_id,
            scheduled_at: Some(at),
            queued,
        });
    }
    let schedule = load(&mut tx, user_id).await?;
    if at <= Utc::now() {
        return Err(Error::Invalid(
            "at: that time has passed; choose a slot to come".into(),
        ));
    }
    if !schedule.is_slot(at) {
        return Err(Error::Invalid(
            "at: that time is not one of your posting slots".into(),
        ));
    }
    let taken = taken(&mut tx, user_id, &schedule, Some(content_id)).await?;
    if !taken.is_free(&schedule, at) {
        return Err(Error::Conflict(
            "that slot is taken, or its day already has as many posts as your schedule \
             allows: choose another"
                .into(),
        ));
    }
    set_slot(&mut tx, content_id, Some(at)).await?;
    let queued = profiles::linkedin_ready(&mut tx, user_id).await?;
    if queued {
        enqueue(&mut tx, user_id, content_id, at).await?;
    }
    tx.commit().await?;
    Ok(Slot {
        content_id,
        scheduled_at: Some(at),
        queued,
    })
}

/// Takes the content out of the schedule: it stays approved and waits for the owner; a
/// job already queued for its slot finds it unscheduled and does nothing.
pub async fn unschedule(db: &PgPool, user_id: i64, content_id: i64) -> Result<Slot, Error> {
    let mut tx = db.begin().await?;
    lock_owner(&mut tx, user_id).await?;
    lock_unstarted(&mut tx, user_id, content_id, "taken out of the schedule").await?;
    set_slot(&mut tx, content_id, None).await?;
    tx.commit().await?;
    Ok(Slot {
        content_id,
        scheduled_at: None,
        queued: false,
    })
}

/// A content's place after a change.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Slot {
    pub content_id: i64,
    /// When it publishes; `null` when it is out of the schedule.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Its PublishPost is queued for that instant (LinkedIn is connected).
    pub queued: bool,
}

/// Every approved content whose publishing has not started takes a slot of `schedule`
/// again, keeping their order; the unscheduled ones stay out, and so do the contents of a
/// cancelled campaign. Contents whose slot passed while LinkedIn was not connected get new
/// slots to come, instead of all going at once. Only a content without a job for its new
/// slot gets one (see the module). Returns how many were placed.
pub async fn reflow(
    conn: &mut PgConnection,
    user_id: i64,
    schedule: &Schedule,
) -> Result<u64, Error> {
    // (id, slot of its last job, campaign cancelled)
    let rows: Vec<(i64, Option<DateTime<Utc>>, bool)> = sqlx::query_as(
        r#"SELECT c.id, c.publish_queued_slot, cp.status = 'cancelled'
           FROM contents c JOIN campaigns cp ON cp.id = c.campaign_id
           WHERE c.user_id = $1 AND c.status = 'approved' AND c.scheduled_at IS NOT NULL
           ORDER BY c.scheduled_at, c.id FOR UPDATE OF c"#,
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    // Looked at after the locks: a publication made before them is seen (see the module).
    let started: Vec<i64> =
        sqlx::query_scalar("SELECT content_id FROM publications WHERE content_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?;
    let unstarted: Vec<_> = rows
        .into_iter()
        .filter(|(id, _, _)| !started.contains(id))
        .collect();
    let cleared: Vec<i64> = unstarted.iter().map(|r| r.0).collect();
    sqlx::query("UPDATE contents SET scheduled_at = NULL WHERE id = ANY($1)")
        .bind(&cleared)
        .execute(&mut *conn)
        .await?;
    let mut taken = taken(&mut *conn, user_id, schedule, None).await?;
    let ready = profiles::linkedin_ready(&mut *conn, user_id).await?;
    let mut placed = 0;
    for (id, queued, cancelled) in unstarted {
        if cancelled {
            continue;
        }
        let at = next_slot(schedule, &taken)?;
        taken.add(schedule, at);
        set_slot(&mut *conn, id, Some(at)).await?;
        // A slot that has come (an immediate schedule's "now") is written again even when
        // its job exists: that job may be waiting for the reconnect this reflow is part
        // of, and the relay wakes a waiting job of the same slot.
        if ready && (queued != Some(at) || at <= Utc::now()) {
            enqueue(&mut *conn, user_id, id, at).await?;
        }
        placed += 1;
    }
    Ok(placed)
}

/// Takes a cancelled campaign's approved contents whose publishing has not started out
/// of the schedule, in the cancel's transaction (which took `lock_owner` first).
pub async fn release_cancelled(conn: &mut PgConnection, campaign_id: i64) -> Result<u64, Error> {
    let released = sqlx::query(
        r#"UPDATE contents c SET scheduled_at = NULL, updated_at = now()
           WHERE c.campaign_id = $1 AND c.status = 'approved' AND c.scheduled_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM publications pb WHERE pb.content_id = c.id)"#,
    )
    .bind(campaign_id)
    .execute(conn)
    .await?;
    Ok(released.rows_affected())
}

/// The next free slot, or now with an immediate schedule.
fn next_slot(schedule: &Schedule, taken: &Taken) -> Result<DateTime<Utc>, Error> {
    if schedule.immediate {
        return Ok(now_second());
    }
    schedule.next_free(Utc::now(), taken).ok_or_else(|| {
        Error::Conflict(
            "your schedule has no free slot in the coming year: add days or times".into(),
        )
    })
}

/// Slots are whole seconds: the job carries its slot in seconds and compares it.
fn now_second() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
}

/// The owner's posts placed from the start of today (her time) on, published or waiting,
/// but `except` (the content being placed) and the waiting posts of a cancelled campaign,
/// which will never go out (a published one did, and counts).
async fn taken(
    conn: &mut PgConnection,
    user_id: i64,
    schedule: &Schedule,
    except: Option<i64>,
) -> Result<Taken, Error> {
    let since = Utc::now() - Duration::days(2);
    let rows: Vec<DateTime<Utc>> = sqlx::query_scalar(
        r#"SELECT c.scheduled_at FROM contents c JOIN campaigns cp ON cp.id = c.campaign_id
           WHERE c.user_id = $1 AND c.status IN ('approved', 'published')
             AND (c.status = 'published' OR cp.status <> 'cancelled')
             AND c.scheduled_at >= $2 AND c.id <> COALESCE($3, 0)"#,
    )
    .bind(user_id)
    .bind(since)
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(Taken::new(schedule, rows))
}

async fn set_slot(
    conn: &mut PgConnection,
    content_id: i64,
    at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    sqlx::query("UPDATE contents SET scheduled_at = $2, updated_at = now() WHERE id = $1")
        .bind(content_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The content's PublishPost for its slot, in the outbox with that run-at time; the
/// content remembers the slot its job is for.
async fn enqueue(
    conn: &mut PgConnection,
    user_id: i64,
    content_id: i64,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    outbox::push_at(
        &mut *conn,
        &jobs::kinds::PublishPost::for_slot(content_id, at.timestamp()),
        Some(user_id),
        Some(at),
    )
    .await?;
    sqlx::query("UPDATE contents SET publish_queued_slot = $2 WHERE id = $1")
        .bind(content_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the owner's approved content whose publishing has not started; returns its
/// current slot. The refusals say why, for the owner.
async fn lock_unstarted(
    conn: &mut PgConnection,
    user_id: i64,
    content_id: i64,
    verb: &str,
) -> Result<Option<DateTime<Utc>>, Error> {
    let row: Option<(ContentStatus, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT status, scheduled_at FROM contents WHERE id = $1 AND user_id = $2 FOR UPDATE",
    )
    .bind(content_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((status, at)) = row else {
        return Err(Error::NotFound("content"));
    };
    if status != ContentStatus::Approved {
        return Err(Error::Conflict(format!(
            "content is {status}; only an approved content waiting for its slot can be {verb}"
        )));
    }
    // A new statement after the lock: it sees a publication committed before it.
    let started: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM publications WHERE content_id = $1)")
            .bind(content_id)
            .fetch_one(&mut *conn)
            .await?;
    if started {
        return Err(Error::Conflict(format!(
            "publishing of this content has started; it can no longer be {verb}"
        )));
    }
    Ok(at)
}

/// The content's slot, as the publishing job checks it before it starts.
pub async fn slot_of(db: &PgPool, content_id: i64) -> Result<Option<DateTime<Utc>>, Error> {
    Ok(sqlx::query_scalar::<_, Option<DateTime<Utc>>>(
        "SELECT scheduled_at FROM contents WHERE id = $1",
    )
    .bind(content_id)
    .fetch_optional(db)
    .await?
    .flatten())
}

/// The slots of some of the owner's contents, for the pages that list them.
pub async fn slots(
    db: &PgPool,
    user_id: i64,
    content_ids: &[i64],
) -> Result<std::collections::HashMap<i64, DateTime<Utc>>, Error> {
    let rows: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
        r#"SELECT id, scheduled_at FROM contents
           WHERE user_id = $1 AND id = ANY($2) AND status = 'approved'
             AND scheduled_at IS NOT NULL"#,
    )
    .bind(user_id)
    .bind(content_ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// One line of the owner's schedule page.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Upcoming {
    pub content_id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub business_name: String,
    pub text: String,
    pub hashtags: Vec<String>,
    /// It has a picture (`GET /api/contents/{content_id}/image`).
    pub has_image: bool,
    /// `null`: taken out of the schedule, waiting for the owner.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Its publication has started (a job is sending it): it can no longer be moved.
    pub started: bool,
}

/// The owner's approved contents not yet published: scheduled ones by slot, then the
/// unscheduled ones.
pub async fn upcoming(db: &PgPool, user_id: i64, limit: i64) -> Result<Vec<Upcoming>, Error> {
    Ok(sqlx::query_as(
        r#"SELECT c.id AS content_id, c.campaign_id, cp.name AS campaign_name, l.business_name,
                  c.text, c.hashtags, c.image_key IS NOT NULL AS has_image, c.scheduled_at,
                  EXISTS (SELECT 1 FROM publications pb WHERE pb.content_id = c.id) AS started
           FROM contents c
           JOIN campaigns cp ON cp.id = c.campaign_id
           JOIN leads l ON l.id = c.lead_id
           WHERE c.user_id = $1 AND c.status = 'approved' AND cp.status <> 'cancelled'
           ORDER BY c.scheduled_at NULLS LAST, c.id
           LIMIT $2"#,
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The owner's slots on the local days `from..=to` that are still to come, each with
/// whether a post can move into it (free, and its day not full), for the calendar. None
/// with an immediate schedule.
pub async fn slots_between(
    db: &PgPool,
    user_id: i64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<(DateTime<Utc>, bool)>, Error> {
    let mut conn = db.acquire().await?;
    let schedule = load(&mut conn, user_id).await?;
    if schedule.immediate {
        return Ok(Vec::new());
    }
    let taken = taken(&mut conn, user_id, &schedule, None).await?;
    let now = Utc::now();
    Ok(from
        .iter_days()
        .take_while(|d| *d <= to)
        .flat_map(|d| schedule.slots_on(d))
        .filter(|t| *t > now)
        .map(|t| (t, taken.is_free(&schedule, t)))
        .collect())
}

/// The next `n` free slots of the owner's schedule, for a move.
pub async fn free_slots(db: &PgPool, user_id: i64, n: usize) -> Result<Vec<DateTime<Utc>>, Error> {
    let mut conn = db.acquire().await?;
    let schedule = load(&mut conn, user_id).await?;
    if schedule.immediate {
        return Ok(Vec::new());
    }
    let taken = taken(&mut conn, user_id, &schedule, None).await?;
    Ok(schedule
        .slots_after(Utc::now())
        .filter(|t| taken.is_free(&schedule, *t))
        .take(n)
        .collect())
}
