//! The transactional outbox. A change that causes a job (a launch, an approval) writes an
//! outbox row in its own transaction; the relay, running in every api and worker process,
//! moves rows to Redis and deletes them. A Redis outage delays the job, never loses it.
//!
//! Delivery is at least once: if the relay dies between the enqueue and its commit, the rows
//! are enqueued again by the next relay. The pipeline jobs that must not run twice are
//! unique in the queue (their `unique_key`), and every handler is idempotent.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use jobs::kinds::{EnrichLead, GenerateContent, PublishPost, ScrapeCampaign, SendMail};
use jobs::{Client, EnqueueOptions, Enqueued, Job};
use serde::de::DeserializeOwned;
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
pub async fn push_at<J: Job>(
    conn: &mut PgConnection,
    job: &J,
    user_id: Option<i64>,
    run_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let args = serde_json::to_value(job)?;
    sqlx::query("INSERT INTO outbox (kind, args, user_id, run_at) VALUES ($1, $2, $3, $4)")
        .bind(J::KIND)
        .bind(args)
        .bind(user_id)
        .bind(run_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// One pass: moves up to `BATCH` due rows to Redis and deletes them. Rows another relay
/// holds are skipped (`SKIP LOCKED`), so any number of relays run at once without
/// enqueueing a row twice while both are alive. Returns how many rows were moved.
#[tracing::instrument(level = "debug", name = "outbox.relay", skip_all)]
pub async fn relay_once(db: &PgPool, client: &Client) -> Result<usize, Error> {
    let mut tx = db.begin().await?;
    let rows = sqlx::query!(
        r#"SELECT id, kind, args, user_id, run_at FROM outbox
           WHERE next_attempt_at <= now()
           ORDER BY id LIMIT $1
           FOR UPDATE SKIP LOCKED"#,
        BATCH
    )
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
        match enqueue(client, &row.kind, row.args, row.user_id, row.run_at).await {
            // A job with the same unique key is queued or running. It may have read the
            // state before this row's transaction committed (a publish that found nothing
            // approved yet), so deleting the row could lose this request. The row waits
            // and is enqueued once that job is done; handlers are idempotent, so the
            // extra run changes nothing when there was nothing left to do.
            Ok((queue, Enqueued::Duplicate(holder))) => {
                // A holder waiting in the schedule (a job deferred until the owner
                // reconnects LinkedIn, say) is made due now: the change this row records is
                // what it was waiting for.
                wake(client, queue, &holder).await;
                let reason = format!(
                    "job {holder} with the same unique key is queued or running; \
                     enqueued again once it is done"
                );
                tracing::info!(outbox.id = row.id, kind = %row.kind, %reason, "outbox row waits");
                set_aside(&mut tx, row.id, &reason).await?;
            }
            Ok((queue, Enqueued::New(_))) => {
                moved.push(row.id);
                if registered.insert(queue)
                    && let Err(e) = register(client, queue).await
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
            // A row this build cannot enqueue (a kind from a newer release, bad args):
            // set it aside with its reason instead of blocking the rows behind it.
            Err(e) => {
                tracing::error!(outbox.id = row.id, kind = %row.kind, error = %jobs::error::Chain(&e), "outbox row cannot be enqueued");
                set_aside(&mut tx, row.id, &e.to_string()).await?;
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

/// The typed job for a row, so the queue, unique key and attempt budget come from the type.
/// Returns the queue it went to and whether it was new.
async fn enqueue(
    client: &Client,
    kind: &str,
    args: serde_json::Value,
    user_id: Option<i64>,
    run_at: Option<DateTime<Utc>>,
) -> Result<(&'static str, Enqueued), Error> {
    // The user travels in the envelope: per-user limits, fairness and the admin UI key on it.
    let options = EnqueueOptions {
        run_at: run_at.map(SystemTime::from),
        user_id,
        ..EnqueueOptions::default()
    };
    match kind {
        ScrapeCampaign::KIND => enqueue_as::<ScrapeCampaign>(client, args, options).await,
        EnrichLead::KIND => enqueue_as::<EnrichLead>(client, args, options).await,
        GenerateContent::KIND => enqueue_as::<GenerateContent>(client, args, options).await,
        PublishPost::KIND => enqueue_as::<PublishPost>(client, args, options).await,
        SendMail::KIND => enqueue_as::<SendMail>(client, args, options).await,
        other => Err(Error::Invalid(format!("unknown job kind {other:?}"))),
    }
}

async fn enqueue_as<J: Job + DeserializeOwned>(
    client: &Client,
    args: serde_json::Value,
    options: EnqueueOptions,
) -> Result<(&'static str, Enqueued), Error> {
    let job: J = serde_json::from_value(args)?;
    let enqueued = client.enqueue_with(&job, options).await?;
    Ok((J::QUEUE, enqueued))
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
