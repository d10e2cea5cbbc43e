//! The dead set's actions: retry or discard one job, all of them, or those a filter
//! matches, each keeping the kind and user indexes in step.

use super::*;

impl Admin {
    /// Moves a dead job back to the stream with its attempts reset (errors kept for the
    /// record). `false` if it is no longer dead.
    pub async fn retry_dead(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let body: Option<String> = redis::cmd("HGET")
            .arg(&keys.dead_jobs)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        let Some(body) = body else { return Ok(false) };
        let mut unique_key = None;
        let mut unique_for = DEFAULT_UNIQUE_FOR_MS;
        let mut indexes = (None, None);
        let revived = match Envelope::decode(body.as_bytes()) {
            Ok(mut env) => {
                indexes = (
                    Some(keys.dead_kind(&env.kind)),
                    env.user_id.map(|u| keys.dead_user(u)),
                );
                env.attempt = 0;
                env.died_at = None;
                env.run_at = None;
                env.deferred = None;
                // Made due again by a person: a bound on waiting starts over.
                env.due_at = Some(now_ms());
                unique_key = env.unique_key.clone();
                unique_for = env.unique_for.unwrap_or(DEFAULT_UNIQUE_FOR_MS);
                env.encode()?
            }
            // Not a job envelope: put it back verbatim; it lands here again, visibly.
            Err(_) => body,
        };
        let unique = unique_key.as_deref().map(|k| keys.unique(k));
        let done: i64 = SCRIPTS
            .revive
            .key(&keys.dead)
            .key(&keys.dead_jobs)
            .key(&keys.stream)
            .key(unique.as_deref().unwrap_or(&keys.stream))
            .key(indexes.0.as_deref().unwrap_or(&keys.dead))
            .key(indexes.1.as_deref().unwrap_or(&keys.dead))
            .arg(id)
            .arg(revived)
            .arg(if unique.is_some() { "1" } else { "0" })
            .arg(unique_for.max(1))
            .invoke_async(&mut conn)
            .await?;
        if done == -1 {
            let holder: Option<String> = match &unique {
                Some(k) => redis::cmd("GET").arg(k).query_async(&mut conn).await?,
                None => None,
            };
            return Err(Error::UniqueHeld {
                id: id.to_owned(),
                key: unique_key.unwrap_or_default(),
                holder: holder.unwrap_or_default(),
            });
        }
        Ok(done == 1)
    }

    /// Retries every job that was dead when called, in pages; returns how many. Jobs
    /// that die again meanwhile are not retried twice: only deaths up to the call count.
    pub async fn retry_all_dead(&self, queue: &QueueName) -> Result<usize, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let cutoff = now_ms();
        let mut budget: usize = redis::cmd("ZCARD")
            .arg(&keys.dead)
            .query_async(&mut conn)
            .await?;
        let mut total = 0;
        while budget > 0 {
            let ids: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&keys.dead)
                .arg("-inf")
                .arg(cutoff)
                .arg("LIMIT")
                .arg(0)
                .arg(budget.min(500))
                .query_async(&mut conn)
                .await?;
            if ids.is_empty() {
                break;
            }
            budget = budget.saturating_sub(ids.len());
            for id in &ids {
                let revived = match self.retry_dead(queue, id).await {
                    // Another job holds its unique key: it stays dead, the rest go on.
                    Err(Error::UniqueHeld { .. }) => continue,
                    other => other?,
                };
                if revived {
                    total += 1;
                } else {
                    // A zset member without a body: drop it so it is not met again.
                    let () = redis::cmd("ZREM")
                        .arg(&keys.dead)
                        .arg(id)
                        .query_async(&mut conn)
                        .await?;
                }
            }
        }
        Ok(total)
    }

    /// Deletes a dead job for good, with its index entries. `false` if there was none.
    pub async fn discard_dead(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let body: Option<String> = redis::cmd("HGET")
            .arg(&keys.dead_jobs)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        let envelope = body.and_then(|b| Envelope::decode(b.as_bytes()).ok());
        let removed = discard_dead_ids(&mut conn, &keys, &[(id.to_owned(), envelope)]).await?;
        Ok(removed == 1)
    }

    /// Empties the dead set and its indexes; returns how many jobs it held.
    pub async fn discard_all_dead(&self, queue: &QueueName) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let n: u64 = SCRIPTS
            .discard_all_dead
            .key(&keys.dead)
            .key(&keys.dead_jobs)
            .key(&keys.dead_indexes)
            .invoke_async(&mut conn)
            .await?;
        Ok(n)
    }

    /// How many dead jobs match `filter`. O(1) for no filter or one of kind and user (a
    /// ZCARD), a ZINTERCARD for both; with argument text it reads every candidate (the
    /// dead set is capped at `dead_max`), which only the bulk confirmation does.
    pub async fn count_dead(&self, queue: &QueueName, filter: &JobFilter) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        if filter.text().is_none() {
            return Ok(match (&filter.kind, filter.user_id) {
                (Some(kind), Some(user)) => {
                    redis::cmd("ZINTERCARD")
                        .arg(2)
                        .arg(keys.dead_user(user))
                        .arg(keys.dead_kind(kind))
                        .query_async(&mut conn)
                        .await?
                }
                _ => {
                    redis::cmd("ZCARD")
                        .arg(filter.dead_source(&keys))
                        .query_async(&mut conn)
                        .await?
                }
            });
        }
        Ok(self.matching_dead(queue, filter, u64::MAX).await?.len() as u64)
    }

    /// Every dead job matching `filter` that died at or before `cutoff_ms`, with its
    /// envelope (for the index entries a discard removes).
    async fn matching_dead(
        &self,
        queue: &QueueName,
        filter: &JobFilter,
        cutoff_ms: u64,
    ) -> Result<Vec<(String, Option<Envelope>)>, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let source = filter.dead_source(&keys);
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let ids: Vec<String> = redis::cmd("ZREVRANGEBYSCORE")
                .arg(&source)
                .arg(cutoff_ms)
                .arg("-inf")
                .arg("LIMIT")
                .arg(offset)
                .arg(SCAN_CHUNK)
                .query_async(&mut conn)
                .await?;
            if ids.is_empty() {
                return Ok(out);
            }
            let fetched = ids.len();
            let mut hmget = redis::cmd("HMGET");
            hmget.arg(&keys.dead_jobs);
            for id in &ids {
                hmget.arg(id);
            }
            let bodies: Vec<Option<String>> = hmget.query_async(&mut conn).await?;
            for (id, body) in ids.into_iter().zip(bodies) {
                let envelope = body.and_then(|b| Envelope::decode(b.as_bytes()).ok());
                let keep = match &envelope {
                    Some(e) => filter.matches(e),
                    // Not a job envelope (or gone): only an unfiltered action takes it.
                    None => filter.is_empty(),
                };
                if keep {
                    out.push((id, envelope));
                }
            }
            offset += fetched;
            if fetched < SCAN_CHUNK {
                return Ok(out);
            }
        }
    }

    /// Retries every dead job matching `filter` that died at or before `cutoff_ms` (when
    /// the admin saw the count: jobs that die later are not swept up). Returns how many
    /// went back to the stream; a job whose unique key another job holds stays dead.
    pub async fn retry_dead_matching(
        &self,
        queue: &QueueName,
        filter: &JobFilter,
        cutoff_ms: u64,
    ) -> Result<u64, Error> {
        let targets = self.matching_dead(queue, filter, cutoff_ms).await?;
        let results: Vec<Result<bool, Error>> = futures::stream::iter(targets)
            .map(|(id, _)| async move {
                match self.retry_dead(queue, &id).await {
                    Err(Error::UniqueHeld { .. }) => Ok(false),
                    other => other,
                }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        let mut n = 0;
        for r in results {
            n += u64::from(r?);
        }
        Ok(n)
    }

    /// Discards every dead job matching `filter` that died at or before `cutoff_ms`, in
    /// atomic batches; returns how many were removed.
    pub async fn discard_dead_matching(
        &self,
        queue: &QueueName,
        filter: &JobFilter,
        cutoff_ms: u64,
    ) -> Result<u64, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let targets = self.matching_dead(queue, filter, cutoff_ms).await?;
        let mut n = 0;
        for batch in targets.chunks(SCAN_CHUNK) {
            n += discard_dead_ids(&mut conn, &keys, batch).await?;
        }
        Ok(n)
    }
}

/// Removes dead jobs with their index entries, atomically per batch; returns how many
/// bodies were removed. The kind and user of each come from its envelope (`None`: not a
/// job envelope, in no index).
async fn discard_dead_ids(
    conn: &mut Conn,
    keys: &QueueKeys,
    batch: &[(String, Option<Envelope>)],
) -> Result<u64, Error> {
    if batch.is_empty() {
        return Ok(0);
    }
    let mut pipe = redis::pipe();
    pipe.atomic();
    for (id, envelope) in batch {
        pipe.cmd("HDEL").arg(&keys.dead_jobs).arg(id);
        pipe.cmd("ZREM").arg(&keys.dead).arg(id).ignore();
        if let Some(e) = envelope {
            pipe.cmd("ZREM")
                .arg(keys.dead_kind(&e.kind))
                .arg(id)
                .ignore();
            if let Some(user) = e.user_id {
                pipe.cmd("ZREM").arg(keys.dead_user(user)).arg(id).ignore();
            }
        }
    }
    let removed: Vec<u64> = pipe.query_async(conn).await?;
    Ok(removed.iter().sum())
}
