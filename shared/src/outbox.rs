//! The transactional outbox. A change that causes a job (a launch, an approval) writes an
//! outbox row in its own transaction; the relay, running in every api and worker process,
//! moves rows to Redis and deletes them. A Redis outage delays the job, never loses it.
//!
//! Delivery is at least once: if the relay dies between the enqueue and its commit, the rows
//! are enqueued again by the next relay. The pipeline jobs that must not run twice are
//! unique in the queue (their `unique_key`), and every handler is idempotent.
//!
//! A row carries what its job is enqueued with (queue, unique key, attempt budget, the
//! unique key's lifetime), decided from the typed job when the row is written, so the relay
//! knows no job type: a new kind needs no change here.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use jobs::kinds::{EnrichLead, GenerateContent, PublishPost, ScrapeCampaign, SendMail};
use jobs::{Client, EnqueueOptions, Enqueued, Job, JobParts};
use serde_json::value::RawValue;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::Error;

/// The channel the outbox trigger notifies on commit.
const CHANNEL: &str = "ag_outbox";
/// Rows moved per transaction: one pipelined enqueue each, and locks held for a few ms.
const BATCH: i64 = 200;
/// The relay also polls, in case a notification is missed (a dropped listener connection).
const POLL: Duration = Duration::from_secs(2);
/// Backoff after a failed pass (Redis or PostgreSQL down), doubling up to `MAX_PAUSE`.
const MIN_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// Writes a job to the outbox inside the caller's transaction.
pub async fn push<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    user_id: Option<i64>,
) -> Result<(), Error> {
    push_at(conn, job, user_id, None).await
}

/// Writes a job that must not run before `run_at` (a post's slot): the relay enqueues it
/// in the queue's scheduled set for that instant, so no worker waits for it.
///
/// The row gets what the job is enqueued with (its queue, unique key, attempt budget and
/// unique key lifetime) now, from the type, so the relay enqueues it without knowing it.
pub async fn push_at<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    user_id: Option<i64>,
    run_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let parts = JobParts::of(job)?;
    sqlx::query(
        "INSERT INTO outbox (kind, args, user_id, run_at, queue, unique_key, max_attempts, unique_for_ms)
         VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&parts.kind)
    .bind(parts.args.get())
    // The relay gives the envelope the row's user, as a typed enqueue gives it the job's
    // own when the caller names none.
    .bind(user_id.or(parts.user_id))
    .bind(run_at)
    .bind(&parts.queue)
    .bind(&parts.unique_key)
    .bind(i32::try_from(parts.max_attempts).unwrap_or(i32::MAX))
    .bind(i64::try_from(parts.unique_for.as_millis()).unwrap_or(i64::MAX))
    .execute(conn)
    .await?;
    Ok(())
}

/// An outbox row as the relay reads it. The parts are NULL in rows an older release wrote.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    args: String,
    user_id: Option<i64>,
    run_at: Option<DateTime<Utc>>,
    queue: Option<String>,
    unique_key: Option<String>,
    max_attempts: Option<i32>,
    unique_for_ms: Option<i64>,
}

/// One pass: moves up to `BATCH` due rows to Redis and deletes them. Rows another relay
/// holds are skipped (`SKIP LOCKED`), so any number of relays run at once without
/// enqueueing a row twice while both are alive. Returns how many rows were moved.
#[tracing::instrument(level = "debug", name = "outbox.relay", skip_all)]
pub async fn relay_once(db: &PgPool, client: &Client) -> Result<usize, Error> {
    let mut tx = db.begin().await?;
    let rows: Vec<Row> = sqlx::query_as(
        r#"SELECT id, kind, args::text AS args, user_id, run_at,
                  queue, unique_key, max_attempts, unique_for_ms
           FROM outbox
           WHERE next_attempt_at <= now()
           ORDER BY id LIMIT $1
           FOR UPDATE SKIP LOCKED"#,
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut moved = Vec::with_capacity(rows.len());
    // Queues listed for the admin view in this pass: one SADD per queue, not per row.
    let mut registered = BTreeSet::new();
    let mut outage = None;
    for row in rows {
        let (id, kind) = (row.id, row.kind.clone());
        match enqueue(client, row).await {
            // A job with the same unique key is queued or running. It may have read the
            // state before this row's transaction committed (a publish that found nothing
            // approved yet), so deleting the row could lose this request. The row waits
            // and is enqueued once that job is done; handlers are idempotent, so the
            // extra run changes nothing when there was nothing left to do.
            Ok((queue, Enqueued::Duplicate(holder))) => {
                // A holder waiting in the schedule (a job deferred until the owner
                // reconnects LinkedIn, say) is made due now: the change this row records is
                // what it was waiting for.
                wake(client, &queue, &holder).await;
                let reason = format!(
                    "job {holder} with the same unique key is queued or running; \
                     enqueued again once it is done"
                );
                tracing::info!(outbox.id = id, kind = %kind, %reason, "outbox row waits");
                set_aside(&mut tx, id, &reason).await?;
            }
            Ok((queue, Enqueued::New(_))) => {
                moved.push(id);
                if registered.insert(queue.clone())
                    && let Err(e) = register(client, &queue).await
                {
                    outage = Some(e);
                    break;
                }
            }
            // Redis went away mid-pass: delete what did reach it, keep the rest for the
            // next pass, so the outage does not enqueue the first rows twice.
            Err(e) if e.is_transient() => {
                outage = Some(e);
                break;
            }
            // A row that cannot be enqueued (an invalid queue name; a row written without
            // its parts whose kind this build does not know, or whose args do not fit it):
            // set it aside with its reason instead of blocking the rows behind it.
            Err(e) => {
                tracing::error!(outbox.id = id, kind = %kind, error = %jobs::error::Chain(&e), "outbox row cannot be enqueued");
                set_aside(&mut tx, id, &e.to_string()).await?;
            }
        }
    }
    sqlx::query!("DELETE FROM outbox WHERE id = ANY($1)", &moved)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    match outage {
        Some(e) => Err(e),
        None => Ok(moved.len()),
    }
}

/// Skips a row until later (1, 2, 4 … 60 minutes), with the reason visible in the table.
async fn set_aside(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: i64,
    reason: &str,
) -> Result<(), Error> {
    sqlx::query!(
        r#"UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                  next_attempt_at = now() + interval '1 minute' * LEAST(60, power(2, attempts))
           WHERE id = $1"#,
        id,
        reason,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enqueues a row as it was written. Returns the queue it went to and whether it was new.
async fn enqueue(client: &Client, row: Row) -> Result<(String, Enqueued), Error> {
    let parts = match (row.queue, row.max_attempts, row.unique_for_ms) {
        (Some(queue), Some(max_attempts), Some(unique_for_ms)) => JobParts {
            kind: row.kind,
            queue,
            args: RawValue::from_string(row.args)?,
            unique_key: row.unique_key,
            max_attempts: u32::try_from(max_attempts).unwrap_or(1),
            unique_for: Duration::from_millis(u64::try_from(unique_for_ms).unwrap_or(0)),
            user_id: None,
        },
        _ => parts_of_old_row(&row.kind, &row.args)?,
    };
    let queue = parts.queue.clone();
    // The user travels in the envelope: per-user limits, fairness and the admin UI key on it.
    let options = EnqueueOptions {
        run_at: row.run_at.map(SystemTime::from),
        user_id: row.user_id,
        ..EnqueueOptions::default()
    };
    let enqueued = client.enqueue_parts(parts, options).await?;
    Ok((queue, enqueued))
}

/// The parts of a row written without them (by a release before rows carried them, which
/// may still be running while a deploy rolls): taken from its kind's type, as the relay
/// did then, which also refuses arguments that do not fit the kind. These are the kinds
/// such a release could write, and the list stays as it is: rows of any later kind carry
/// their parts.
fn parts_of_old_row(kind: &str, args: &str) -> Result<JobParts, Error> {
    fn typed<J: Job>(args: &str) -> Result<JobParts, Error> {
        let job: J = serde_json::from_str(args)?;
        Ok(JobParts::of(&job)?)
    }
    match kind {
        ScrapeCampaign::KIND => typed::<ScrapeCampaign>(args),
        EnrichLead::KIND => typed::<EnrichLead>(args),
        GenerateContent::KIND => typed::<GenerateContent>(args),
        PublishPost::KIND => typed::<PublishPost>(args),
        SendMail::KIND => typed::<SendMail>(args),
        other => Err(Error::Invalid(format!("unknown job kind {other:?}"))),
    }
}

/// Makes a scheduled holder due now; best effort (the row is kept either way).
async fn wake(client: &Client, queue: &str, holder: &str) {
    let Ok(queue) = jobs::QueueName::new(queue) else {
        return;
    };
    let admin = jobs::admin::Admin::new(client.connection(), client.settings());
    match admin.run_scheduled_now(&queue, holder).await {
        Ok(true) => {
            tracing::info!(job.id = holder, %queue, "waiting job made due by an outbox row")
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(job.id = holder, error = %jobs::error::Chain(&e), "waiting job not woken")
        }
    }
}

/// Lists the queue for the admin view before any worker has consumed it.
async fn register(client: &Client, queue: &str) -> Result<(), Error> {
    let queue = jobs::QueueName::new(queue).map_err(|e| Error::Invalid(e.to_string()))?;
    client.register_queue(&queue).await?;
    Ok(())
}

/// Runs a relay until `stop` is cancelled: woken by the outbox trigger, polling as a
/// fallback, backing off while Redis or PostgreSQL is down.
pub fn spawn_relay(db: PgPool, client: Client, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener: Option<PgListener> = None;
        let mut pause = MIN_PAUSE;
        while !stop.is_cancelled() {
            if listener.is_none() {
                listener = listen(&db).await;
            }
            // Drain: keep going while full batches come back.
            let outcome = loop {
                match relay_once(&db, &client).await {
                    Ok(n) if n as i64 >= BATCH => continue,
                    other => break other,
                }
            };
            let wait = match outcome {
                Ok(_) => {
                    pause = MIN_PAUSE;
                    POLL
                }
                Err(e) => {
                    tracing::warn!(error = %jobs::error::Chain(&e), retry_in_ms = pause.as_millis() as u64, "outbox relay pass failed");
                    let wait = pause;
                    pause = (pause * 2).min(MAX_PAUSE);
                    wait
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                woke = wait_for_notice(&mut listener, wait) => {
                    if !woke {
                        listener = None;
                    }
                }
            }
        }
    })
}

async fn listen(db: &PgPool) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(db).await.ok()?;
    listener.listen(CHANNEL).await.ok()?;
    Some(listener)
}

/// Waits for a notification or the timeout. False when the listener broke (it is then
/// dropped and made again on the next pass).
async fn wait_for_notice(listener: &mut Option<PgListener>, timeout: Duration) -> bool {
    let Some(l) = listener.as_mut() else {
        tokio::time::sleep(timeout).await;
        return true;
    };
    match tokio::time::timeout(timeout, l.try_recv()).await {
        Err(_elapsed) => true,
        Ok(Ok(Some(_))) => true,
        Ok(Ok(None) | Err(_)) => false,
    }
}
