//! Batched acknowledgement of completed jobs.

use std::sync::Arc;
use std::time::Duration;

use crate::connection::Conn;
use tokio::sync::{mpsc, oneshot};

use crate::connection::{Settings, now_ms};
use crate::error::Error;
use crate::keys::{GROUP, QueueKeys};
use crate::holdings::Holdings;
use crate::scripts::SCRIPTS;

/// A completed job: its entry, and the unique key it may still hold.
#[derive(Debug)]
pub struct Completion {
    pub entry_id: Arc<str>,
    pub unique: Option<(String, String)>,
}

enum Msg {
    Done(Completion),
    Flush(oneshot::Sender<()>),
}

/// Sends completions to the acker task. Cloned into every job's outcome future.
#[derive(Clone)]
pub struct AckHandle {
    tx: mpsc::UnboundedSender<Msg>,
}

impl AckHandle {
    /// Queues the ack; the acker writes it with the others that arrived meanwhile.
    pub fn ack(&self, completion: Completion) -> Result<(), Error> {
        self.tx
            .send(Msg::Done(completion))
            .map_err(|_| Error::Config("the acker has stopped".into()))
    }

    /// Returns once everything queued before the call is written to Redis.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
    /// `flush`, bounded: with Redis down the acker retries forever, and closing a worker
    /// must end. False when the acks were not all written in time; those jobs will run
    /// again (acks are late, never lost).
    pub async fn flush_within(&self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.flush()).await.is_ok()
    }
}

/// Acks completions in batches: while one XACK+XDEL pipeline is on the wire, the next
/// batch collects, so a busy queue pays one round trip per batch rather than per job.
/// A batch that fails on a Redis outage is kept and written again; it is never dropped,
/// because a dropped ack means a job run twice.
pub(crate) fn spawn(
    conn: Conn,
    keys: Arc<QueueKeys>,
    settings: Arc<Settings>,
    holdings: Arc<Holdings>,
) -> (AckHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(conn, keys, settings, holdings, rx));
    (AckHandle { tx }, task)
}

async fn run(
    conn: Conn,
    keys: Arc<QueueKeys>,
    settings: Arc<Settings>,
    holdings: Arc<Holdings>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) {
    let max = settings.ack_batch.max(1);
    let mut batch: Vec<Completion> = Vec::with_capacity(max);
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        let Some(first) = rx.recv().await else { break };
        push(first, &mut batch, &mut waiters);
        while batch.len() < max {
            match rx.try_recv() {
                Ok(msg) => push(msg, &mut batch, &mut waiters),
                Err(_) => break,
            }
        }
        write_until_done(&conn, &keys, &settings, &batch).await;
        // Only now may the keepalive let go of these entries: until the ack is written
        // they are pending, and an entry left idle would be reclaimed and run again.
        holdings.acked(batch.iter().map(|c| &c.entry_id));
        batch.clear();
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
    }
}

fn push(msg: Msg, batch: &mut Vec<Completion>, waiters: &mut Vec<oneshot::Sender<()>>) {
    match msg {
        Msg::Done(c) => batch.push(c),
        Msg::Flush(w) => waiters.push(w),
    }
}

async fn write_until_done(
    conn: &Conn,
    keys: &QueueKeys,
    settings: &Settings,
    batch: &[Completion],
) {
    if batch.is_empty() {
        return;
    }
    let mut pause = Duration::from_millis(20);
    loop {
        match ack_batch(conn.clone(), keys, settings, batch).await {
            Ok(acked) => {
                if acked < batch.len() {
                    tracing::warn!(queue = %keys.queue, jobs = batch.len() - acked,
                        "completed jobs had already been reclaimed by another worker; they may run again");
                }
                return;
            }
            Err(e) => {
                tracing::warn!(queue = %keys.queue, error = %crate::error::Chain(&e), jobs = batch.len(),
                    "ack failed, retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Acks a batch: XACK and XDEL, the `processed` counter, and the release of unique keys,
/// each only for entries that were still pending. Returns how many entries were acked now.
///
/// A batch without unique keys (most jobs) goes out as one MULTI/EXEC; one with unique keys
/// needs `ack.lua`, which acks those entries one by one to know whose key it may release.
/// The script costs about 20 µs of Redis time per call more than the transaction, which is
/// 10–25% of steady throughput (bench W1), hence the two paths.
#[tracing::instrument(level = "debug", skip_all, fields(queue = %keys.queue, jobs = batch.len()))]
pub async fn ack_batch(
    conn: Conn,
    keys: &QueueKeys,
    settings: &Settings,
    batch: &[Completion],
) -> Result<usize, Error> {
    if batch.iter().any(|c| c.unique.is_some()) {
        ack_with_unique_keys(conn, keys, settings, batch).await
    } else {
        ack_plain(conn, keys, settings, batch).await
    }
}

/// One transaction: XACK, XDEL, `processed` += the batch. When XACK took fewer entries than
/// the batch (a reclaim took some, which is rare and logged), a second call takes the
/// difference back, so the counter counts only what was acked. Deleting the id of an entry
/// XACK did not take is harmless: the reclaim that took it already deleted it.
async fn ack_plain(
    mut conn: Conn,
    keys: &QueueKeys,
    settings: &Settings,
    batch: &[Completion],
) -> Result<usize, Error> {
    let stats = keys.stats_minute(now_ms() / 60_000);
    let mut pipe = redis::pipe();
    pipe.atomic();
    let ack = pipe.cmd("XACK").arg(&keys.stream).arg(GROUP);
    for c in batch {
        ack.arg(&*c.entry_id);
    }
    let del = pipe.cmd("XDEL").arg(&keys.stream);
    for c in batch {
        del.arg(&*c.entry_id);
    }
    del.ignore();
    pipe.cmd("HINCRBY")
        .arg(&stats)
        .arg("processed")
        .arg(batch.len())
        .ignore();
    pipe.cmd("EXPIRE")
        .arg(&stats)
        .arg(settings.stats_ttl.as_secs())
        .ignore();
    let (acked,): (usize,) = pipe.query_async(&mut conn).await?;
    if acked < batch.len() {
        let over = i64::try_from(batch.len() - acked).unwrap_or(i64::MAX);
        let () = redis::cmd("HINCRBY")
            .arg(&stats)
            .arg("processed")
            .arg(-over)
            .query_async(&mut conn)
            .await?;
    }
    Ok(acked)
}

/// `ack.lua`: entries with a unique key one by one, the others in one XACK and XDEL.
async fn ack_with_unique_keys(
    mut conn: Conn,
    keys: &QueueKeys,
    settings: &Settings,
    batch: &[Completion],
) -> Result<usize, Error> {
    let stats = keys.stats_minute(now_ms() / 60_000);
    let mut inv = SCRIPTS.ack.key(&keys.stream);
    inv.key(&stats);
    inv.arg(GROUP).arg(settings.stats_ttl.as_secs());
    let mut unique_keys = 2;
    for c in batch {
        inv.arg(&*c.entry_id);
        match &c.unique {
            Some((key, job_id)) => {
                unique_keys += 1;
                inv.key(key).arg(job_id).arg(unique_keys);
            }
            None => {
                inv.arg("").arg(0);
            }
        }
    }
    let acked: usize = inv.invoke_async(&mut conn).await?;
    Ok(acked)
}
