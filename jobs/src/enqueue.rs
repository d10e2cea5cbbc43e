//! Producing jobs: one, in bulk, at a time, unique.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::connection::Conn;
use serde_json::value::RawValue;

use crate::connection::{Settings, connect, now_ms, to_ms};
use crate::envelope::Envelope;
use crate::error::Error;
use crate::job::Job;
use crate::keys::{ENVELOPE_FIELD, GlobalKeys, QueueKeys, QueueName};
use crate::scripts::{SCRIPTS, evalsha};

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job with this id.
    New(String),
    /// A job with the same unique key is already queued or running: its id.
    Duplicate(String),
}

impl Enqueued {
    pub fn id(&self) -> &str {
        match self {
            Self::New(id) | Self::Duplicate(id) => id,
        }
    }
}

/// Per-call choices; the defaults come from the job type.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    /// Another queue than `J::QUEUE` (ops can move a kind to a dedicated queue).
    pub queue: Option<QueueName>,
    /// Run no earlier than this; `None` or a past time means now.
    pub run_at: Option<SystemTime>,
    pub trace: Option<String>,
    /// Another attempt budget than `J::MAX_ATTEMPTS`.
    pub max_attempts: Option<u32>,
    /// The user the job runs for, when the job's own `user_id()` does not know it (the
    /// pipeline's jobs carry ids only; the outbox row and the handler that causes the job do).
    pub user_id: Option<i64>,
}

/// The producer side of the engine. Cheap to clone: one multiplexed connection, shared.
#[derive(Clone)]
pub struct Client {
    conn: Conn,
    settings: Arc<Settings>,
}

impl Client {
    pub async fn connect(url: &str, settings: Settings) -> Result<Self, Error> {
        let conn = connect(url, Duration::from_secs(10)).await?;
        Ok(Self::with_connection(conn, settings))
    }

    pub fn with_connection(conn: Conn, settings: Settings) -> Self {
        Self {
            conn,
            settings: Arc::new(settings),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn connection(&self) -> Conn {
        self.conn.clone()
    }

    pub fn keys(&self, queue: &QueueName) -> QueueKeys {
        QueueKeys::new(&self.settings.prefix, queue)
    }

    pub async fn enqueue<J: Job>(&self, job: &J) -> Result<Enqueued, Error> {
        self.enqueue_with(job, EnqueueOptions::default()).await
    }

    pub async fn enqueue_in<J: Job>(&self, job: &J, delay: Duration) -> Result<Enqueued, Error> {
        let options = EnqueueOptions {
            run_at: Some(SystemTime::now() + delay),
            ..EnqueueOptions::default()
        };
        self.enqueue_with(job, options).await
    }

    pub async fn enqueue_at<J: Job>(&self, job: &J, at: SystemTime) -> Result<Enqueued, Error> {
        let options = EnqueueOptions {
            run_at: Some(at),
            ..EnqueueOptions::default()
        };
        self.enqueue_with(job, options).await
    }

    pub async fn enqueue_with<J: Job>(
        &self,
        job: &J,
        options: EnqueueOptions,
    ) -> Result<Enqueued, Error> {
        let queue = match options.queue.clone() {
            Some(q) => q,
            None => QueueName::new(J::QUEUE)?,
        };
        let keys = self.keys(&queue);
        let now = now_ms();
        let envelope = envelope_for(job, &queue, &options, now)?;
        let run_at = due_time(options.run_at, now);
        let encoded = envelope.encode()?;
        let mut conn = self.conn.clone();
        if self.settings.enqueue_replicas > 0 {
            return self
                .enqueue_replicated(&keys, &envelope, &encoded, run_at, unique_for_ms::<J>())
                .await;
        }
        if let Some(unique) = &envelope.unique_key {
            let (created, holder): (i64, String) = SCRIPTS
                .enqueue_unique
                .key(keys.unique(unique))
                .key(&keys.stream)
                .key(&keys.scheduled)
                .arg(&envelope.id)
                .arg(unique_ttl_ms(run_at, now, unique_for_ms::<J>()))
                .arg(&encoded)
                .arg(run_at)
                .invoke_async(&mut conn)
                .await?;
            return Ok(if created == 1 {
                Enqueued::New(holder)
            } else {
                Enqueued::Duplicate(holder)
            });
        }
        if run_at > 0 {
            let () = redis::cmd("ZADD")
                .arg(&keys.scheduled)
                .arg(run_at)
                .arg(&encoded)
                .query_async(&mut conn)
                .await?;
        } else {
            let _: String = redis::cmd("XADD")
                .arg(&keys.stream)
                .arg("*")
                .arg(ENVELOPE_FIELD)
                .arg(&encoded)
                .query_async(&mut conn)
                .await?;
        }
        Ok(Enqueued::New(envelope.id))
    }

    /// Enqueues many jobs in one pipelined round trip. Call it with batches of about a
    /// thousand: the pipeline is built in memory before it is sent.
    pub async fn enqueue_bulk<J: Job>(&self, jobs: &[J]) -> Result<Vec<Enqueued>, Error> {
        self.enqueue_bulk_with(jobs, EnqueueOptions::default())
            .await
    }

    pub async fn enqueue_bulk_with<J: Job>(
        &self,
        jobs: &[J],
        options: EnqueueOptions,
    ) -> Result<Vec<Enqueued>, Error> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let queue = match options.queue.clone() {
            Some(q) => q,
            None => QueueName::new(J::QUEUE)?,
        };
        let keys = self.keys(&queue);
        let now = now_ms();
        let run_at = due_time(options.run_at, now);
        let ttl = unique_ttl_ms(run_at, now, unique_for_ms::<J>());
        let mut pipe = redis::pipe();
        let mut ids = Vec::with_capacity(jobs.len());
        let mut unique_slots = Vec::with_capacity(jobs.len());
        for job in jobs {
            let envelope = envelope_for(job, &queue, &options, now)?;
            let encoded = envelope.encode()?;
            if let Some(unique) = &envelope.unique_key {
                let unique_key = keys.unique(unique);
                pipe.add_command(
                    evalsha(
                        &SCRIPTS.enqueue_unique,
                        &[&unique_key, &keys.stream, &keys.scheduled],
                    )
                    .arg(&envelope.id)
                    .arg(ttl)
                    .arg(&encoded)
                    .arg(run_at)
                    .clone(),
                );
                unique_slots.push(true);
            } else if run_at > 0 {
                pipe.cmd("ZADD")
                    .arg(&keys.scheduled)
                    .arg(run_at)
                    .arg(encoded)
                    .ignore();
                unique_slots.push(false);
            } else {
                pipe.cmd("XADD")
                    .arg(&keys.stream)
                    .arg("*")
                    .arg(ENVELOPE_FIELD)
                    .arg(encoded)
                    .ignore();
                unique_slots.push(false);
            }
            ids.push(envelope.id);
        }
        let mut conn = self.conn.clone();
        if unique_slots.iter().any(|u| *u) {
            // Scripts must be loaded before a pipeline can call them by SHA.
            SCRIPTS.enqueue_unique.load_async(&mut conn).await?;
        }
        let replies: Vec<(i64, String)> = if self.settings.enqueue_replicas > 0 {
            self.wait_replicas(&mut pipe);
            let mut replies: Vec<redis::Value> = pipe.query_async(&mut conn).await?;
            let acked = replies.pop().unwrap_or(redis::Value::Nil);
            self.check_replicas(&acked)?;
            replies
                .iter()
                .map(redis::from_redis_value_ref)
                .collect::<Result<_, _>>()
                .map_err(|e| Error::Envelope(format!("unexpected unique enqueue reply: {e}")))?
        } else {
            pipe.query_async(&mut conn).await?
        };
        let mut replies = replies.into_iter();
        let mut out = Vec::with_capacity(ids.len());
        for (id, unique) in ids.into_iter().zip(unique_slots) {
            if !unique {
                out.push(Enqueued::New(id));
                continue;
            }
            match replies.next() {
                Some((1, holder)) => out.push(Enqueued::New(holder)),
                Some((_, holder)) => out.push(Enqueued::Duplicate(holder)),
                None => return Err(Error::Envelope("missing reply for a unique enqueue".into())),
            }
        }
        Ok(out)
    }

    /// One enqueue when [`Settings::enqueue_replicas`] asks for replicas: the write and the
    /// `WAIT` in one pipeline, so the wait adds the replication lag and no round trip. On a
    /// cluster the pipeline goes to the queue's master (WAIT has no key and follows the
    /// write), whose replicas are the ones that count.
    async fn enqueue_replicated(
        &self,
        keys: &QueueKeys,
        envelope: &Envelope,
        encoded: &str,
        run_at: u64,
        unique_for: u64,
    ) -> Result<Enqueued, Error> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        match &envelope.unique_key {
            Some(unique) => {
                let unique_key = keys.unique(unique);
                pipe.add_command(
                    evalsha(
                        &SCRIPTS.enqueue_unique,
                        &[&unique_key, &keys.stream, &keys.scheduled],
                    )
                    .arg(&envelope.id)
                    .arg(unique_ttl_ms(run_at, now_ms(), unique_for))
                    .arg(encoded)
                    .arg(run_at)
                    .clone(),
                );
            }
            None if run_at > 0 => {
                pipe.cmd("ZADD")
                    .arg(&keys.scheduled)
                    .arg(run_at)
                    .arg(encoded);
            }
            None => {
                pipe.cmd("XADD")
                    .arg(&keys.stream)
                    .arg("*")
                    .arg(ENVELOPE_FIELD)
                    .arg(encoded);
            }
        }
        self.wait_replicas(&mut pipe);
        let (write, acked): (redis::Value, redis::Value) = match pipe.query_async(&mut conn).await {
            Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) => {
                // A restarted or failed-over master has no scripts yet: load, then again.
                SCRIPTS.enqueue_unique.load_async(&mut conn).await?;
                pipe.query_async(&mut conn).await?
            }
            other => other?,
        };
        self.check_replicas(&acked)?;
        if envelope.unique_key.is_none() {
            return Ok(Enqueued::New(envelope.id.clone()));
        }
        let (created, holder): (i64, String) = redis::from_redis_value(write)
            .map_err(|e| Error::Envelope(format!("unexpected unique enqueue reply: {e}")))?;
        Ok(if created == 1 {
            Enqueued::New(holder)
        } else {
            Enqueued::Duplicate(holder)
        })
    }

    fn wait_replicas(&self, pipe: &mut redis::Pipeline) {
        let timeout_ms =
            u64::try_from(self.settings.enqueue_replicas_timeout.as_millis()).unwrap_or(u64::MAX);
        pipe.cmd("WAIT")
            .arg(self.settings.enqueue_replicas)
            .arg(timeout_ms.max(1));
    }

    fn check_replicas(&self, acked: &redis::Value) -> Result<(), Error> {
        let wanted = self.settings.enqueue_replicas;
        let got = match acked {
            redis::Value::Int(n) => *n,
            _ => 0,
        };
        if got < i64::from(wanted) {
            return Err(Error::NotReplicated { wanted, got });
        }
        Ok(())
    }

    /// Records a queue in the registry the admin UI lists.
    pub async fn register_queue(&self, queue: &QueueName) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("SADD")
            .arg(GlobalKeys::new(&self.settings.prefix).queues)
            .arg(queue.as_str())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

fn envelope_for<J: Job>(
    job: &J,
    queue: &QueueName,
    options: &EnqueueOptions,
    now: u64,
) -> Result<Envelope, Error> {
    let args = serde_json::value::to_raw_value(job).map_err(|e| Error::Encode {
        kind: J::KIND.to_owned(),
        source: e,
    })?;
    let mut envelope = new_envelope(
        J::KIND,
        queue,
        args,
        options.max_attempts.unwrap_or(J::MAX_ATTEMPTS),
        options.user_id.or_else(|| job.user_id()),
        job.unique_key(),
        options,
        now,
    );
    if envelope.unique_key.is_some() {
        envelope.unique_for = Some(unique_for_ms::<J>());
    }
    Ok(envelope)
}

fn unique_for_ms<J: Job>() -> u64 {
    u64::try_from(J::UNIQUE_FOR.as_millis()).unwrap_or(u64::MAX)
}

/// How long a unique key must live so it outlasts its job: until the job is due
/// (`run_at`, 0 = now) plus the kind's `UNIQUE_FOR`. A key that expired while its job
/// still waited in the scheduled set would let a second copy of the job in.
pub(crate) fn unique_ttl_ms(run_at: u64, now: u64, unique_for: u64) -> u64 {
    run_at.saturating_sub(now).saturating_add(unique_for).max(1)
}

#[allow(clippy::too_many_arguments)]
fn new_envelope(
    kind: &str,
    queue: &QueueName,
    args: Box<RawValue>,
    max_attempts: u32,
    user_id: Option<i64>,
    unique_key: Option<String>,
    options: &EnqueueOptions,
    now: u64,
) -> Envelope {
    Envelope {
        id: uuid::Uuid::now_v7().to_string(),
        kind: kind.to_owned(),
        queue: queue.as_str().to_owned(),
        args,
        attempt: 0,
        max_attempts: max_attempts.max(1),
        user_id,
        enqueued_at: now,
        run_at: options.run_at.map(to_ms).filter(|t| *t > now),
        unique_key,
        unique_for: None,
        trace: options.trace.clone(),
        errors: Vec::new(),
        deferred: None,
        died_at: None,
        returned: 0,
    }
}

/// 0 means "now": the job goes straight to the stream.
fn due_time(run_at: Option<SystemTime>, now: u64) -> u64 {
    run_at.map(to_ms).filter(|t| *t > now).unwrap_or(0)
}
