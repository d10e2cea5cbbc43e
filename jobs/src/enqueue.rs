//! Producing jobs: one, in bulk, at a time, unique.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redis::Script;
use serde_json::value::RawValue;

use crate::connection::Conn;

use crate::connection::{Settings, connect, now_ms, to_ms};
use crate::envelope::Envelope;
use crate::error::Error;
use crate::job::Job;
use crate::keys::{ENVELOPE_FIELD, GROUP, GlobalKeys, QueueKeys, QueueName};
use crate::scripts::{SCRIPTS, evalsha};

/// One job's write: a plain command whose reply says nothing, or a call of one of the
/// enqueue scripts, which answers whether the job is new.
enum Write {
    Plain(redis::Cmd),
    Scripted(redis::Cmd, &'static Script),
}

/// Loads the scripts a pipeline calls by SHA, each once: a bulk of plain unique jobs pays
/// for one load, as before owners took turns, not for both scripts.
async fn load_scripts(conn: &mut Conn, scripts: &[&'static Script]) -> Result<(), Error> {
    for script in scripts {
        script.load_async(conn).await?;
    }
    Ok(())
}

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

/// A job taken apart into what its envelope is made of, without its type: a producer that
/// stores jobs to enqueue later (the outbox) keeps these and enqueues them with
/// [`Client::enqueue_parts`], which makes the envelope a typed enqueue of the same job would
/// have made (same unique key and lifetime, same attempt budget, same owner's turn).
#[derive(Debug, Clone)]
pub struct JobParts {
    /// `Job::KIND`.
    pub kind: String,
    /// `Job::QUEUE`, validated when enqueued.
    pub queue: String,
    /// The job serialized, as its handler will read it.
    pub args: Box<RawValue>,
    /// `Job::unique_key`.
    pub unique_key: Option<String>,
    /// `Job::MAX_ATTEMPTS`.
    pub max_attempts: u32,
    /// `Job::UNIQUE_FOR`.
    pub unique_for: Duration,
    /// `Job::user_id`; [`EnqueueOptions::user_id`] comes first when set.
    pub user_id: Option<i64>,
}

impl JobParts {
    /// The parts of a typed job, as [`Client::enqueue_with`] uses them.
    pub fn of<J: Job>(job: &J) -> Result<Self, Error> {
        let args = serde_json::value::to_raw_value(job).map_err(|e| Error::Encode {
            kind: J::KIND.to_owned(),
            source: e,
        })?;
        Ok(Self {
            kind: J::KIND.to_owned(),
            queue: J::QUEUE.to_owned(),
            args,
            unique_key: job.unique_key(),
            max_attempts: J::MAX_ATTEMPTS,
            unique_for: J::UNIQUE_FOR,
            user_id: job.user_id(),
        })
    }
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
        self.enqueue_parts(JobParts::of(job)?, options).await
    }

    /// Enqueues a job from its parts, without its type: the envelope, unique key and
    /// owner's turn are those [`Self::enqueue_with`] gives the typed job the parts came from.
    pub async fn enqueue_parts(
        &self,
        parts: JobParts,
        options: EnqueueOptions,
    ) -> Result<Enqueued, Error> {
        let queue = match options.queue.clone() {
            Some(q) => q,
            None => QueueName::new(&parts.queue)?,
        };
        let keys = self.keys(&queue);
        let now = now_ms();
        let unique_for = duration_ms(parts.unique_for);
        let envelope = envelope_for(parts, &queue, &options, now);
        let run_at = due_time(options.run_at, now);
        let ttl = unique_ttl_ms(run_at, now, unique_for);
        let write = self.write_of(&keys, &envelope, run_at, ttl)?;
        let mut out = self.send(vec![(envelope.id, write)], true).await?;
        out.pop()
            .ok_or_else(|| Error::Envelope("no reply for an enqueue".into()))
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
        let ttl = unique_ttl_ms(run_at, now, duration_ms(J::UNIQUE_FOR));
        let mut writes = Vec::with_capacity(jobs.len());
        for job in jobs {
            let envelope = envelope_for(JobParts::of(job)?, &queue, &options, now);
            let write = self.write_of(&keys, &envelope, run_at, ttl)?;
            writes.push((envelope.id, write));
        }
        self.send(writes, false).await
    }

    /// The command that writes one job, and what its reply will say: an owner's job due
    /// now goes through its owner's turn (`enqueue_owned.lua`) while owners take turns; a
    /// unique job through its key; the rest straight into the stream or the scheduled set.
    fn write_of(
        &self,
        keys: &QueueKeys,
        envelope: &Envelope,
        run_at: u64,
        unique_ttl: u64,
    ) -> Result<Write, Error> {
        let encoded = envelope.encode()?;
        let unique_key = envelope.unique_key.as_deref().map(|u| keys.unique(u));
        if let Some(owner) = envelope
            .user_id
            .filter(|_| self.settings.owner_turns && run_at == 0)
        {
            let held = keys.fair_held(owner);
            let unique = unique_key.as_deref().unwrap_or(&keys.stream);
            let cmd = evalsha(
                &SCRIPTS.enqueue_owned,
                &[
                    &keys.stream,
                    &keys.fair_owners,
                    &keys.fair_waiting,
                    &keys.fair_clock,
                    &held,
                    unique,
                ],
            )
            .arg(GROUP)
            .arg(owner)
            .arg(&encoded)
            .arg(&envelope.id)
            .arg(if unique_key.is_some() { unique_ttl } else { 0 })
            .clone();
            return Ok(Write::Scripted(cmd, &SCRIPTS.enqueue_owned));
        }
        if let Some(unique) = &unique_key {
            let cmd = evalsha(
                &SCRIPTS.enqueue_unique,
                &[unique, &keys.stream, &keys.scheduled],
            )
            .arg(&envelope.id)
            .arg(unique_ttl)
            .arg(&encoded)
            .arg(run_at)
            .clone();
            return Ok(Write::Scripted(cmd, &SCRIPTS.enqueue_unique));
        }
        let mut cmd;
        if run_at > 0 {
            cmd = redis::cmd("ZADD");
            cmd.arg(&keys.scheduled).arg(run_at).arg(encoded);
        } else {
            cmd = redis::cmd("XADD");
            cmd.arg(&keys.stream)
                .arg("*")
                .arg(ENVELOPE_FIELD)
                .arg(encoded);
        }
        Ok(Write::Plain(cmd))
    }

    /// Sends the writes in one pipeline, with a `WAIT` for the replicas when
    /// [`Settings::enqueue_replicas`] asks for them (the wait then adds the replication lag
    /// and no round trip; on a cluster the pipeline goes to the queue's master, whose
    /// replicas are the ones that count). The scripts are loaded first, except for a single
    /// write (`retry_unloaded`), which is sent at once and sent again after loading if Redis
    /// did not know the script (a restarted or failed-over master): a failed EVALSHA alone
    /// wrote nothing, whereas a bulk pipeline's plain writes would be written twice.
    async fn send(
        &self,
        writes: Vec<(String, Write)>,
        retry_unloaded: bool,
    ) -> Result<Vec<Enqueued>, Error> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        let mut ids = Vec::with_capacity(writes.len());
        let mut used: Vec<&'static Script> = Vec::new();
        for (id, write) in writes {
            match write {
                Write::Plain(cmd) => {
                    pipe.add_command(cmd).ignore();
                    ids.push((id, false));
                }
                Write::Scripted(cmd, script) => {
                    pipe.add_command(cmd);
                    ids.push((id, true));
                    if !used.iter().any(|u| std::ptr::eq(*u, script)) {
                        used.push(script);
                    }
                }
            }
        }
        let scripted = !used.is_empty();
        let replicas = self.settings.enqueue_replicas > 0;
        if replicas {
            self.wait_replicas(&mut pipe);
        }
        if scripted && !retry_unloaded {
            load_scripts(&mut conn, &used).await?;
        }
        let mut replies: Vec<redis::Value> = match pipe.query_async(&mut conn).await {
            Err(e)
                if scripted
                    && retry_unloaded
                    && e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                load_scripts(&mut conn, &used).await?;
                pipe.query_async(&mut conn).await?
            }
            other => other?,
        };
        if replicas {
            let acked = replies.pop().unwrap_or(redis::Value::Nil);
            self.check_replicas(&acked)?;
        }
        let mut replies = replies.into_iter();
        let mut out = Vec::with_capacity(ids.len());
        for (id, scripted) in ids {
            if !scripted {
                out.push(Enqueued::New(id));
                continue;
            }
            let reply = replies
                .next()
                .ok_or_else(|| Error::Envelope("missing reply for a scripted enqueue".into()))?;
            // Both scripts answer {1 = new / 0 = duplicate, the job id or the key's holder, …}.
            let (created, holder): (i64, String) = match reply {
                redis::Value::Array(mut parts) if parts.len() >= 2 => {
                    parts.truncate(2);
                    redis::from_redis_value(redis::Value::Array(parts))
                }
                other => redis::from_redis_value(other),
            }
            .map_err(|e| Error::Envelope(format!("unexpected enqueue reply: {e}")))?;
            out.push(if created == 1 {
                Enqueued::New(holder)
            } else {
                Enqueued::Duplicate(holder)
            });
        }
        Ok(out)
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

/// The envelope of a job: the options' queue, attempt budget and user come before the
/// job's own.
fn envelope_for(
    parts: JobParts,
    queue: &QueueName,
    options: &EnqueueOptions,
    now: u64,
) -> Envelope {
    let unique_for = duration_ms(parts.unique_for);
    let mut envelope = new_envelope(
        &parts.kind,
        queue,
        parts.args,
        options.max_attempts.unwrap_or(parts.max_attempts),
        options.user_id.or(parts.user_id),
        parts.unique_key,
        options,
        now,
    );
    if envelope.unique_key.is_some() {
        envelope.unique_for = Some(unique_for);
    }
    envelope
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
        // Due at its run-at time (a slot to come), else now: an owner's move or "publish
        // now" enqueues a new job, so it is due from then.
        due_at: Some(due_time(options.run_at, now).max(now)),
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
