//! Jobs listed per state, a page at a time with a cursor, and one job found by its id
//! wherever it is.

use super::*;

impl Admin {
    /// One page of jobs in `state` matching `filter`, from `cursor` (what the previous
    /// page returned as `next`; `None` for the first page). Newest first for dead jobs,
    /// oldest first for ready and in-flight ones, soonest first for scheduled ones.
    ///
    /// Never a full scan: dead jobs filtered by kind or user are read from that kind's or
    /// user's index (a page costs one ZREVRANGE and one HMGET); any other filter (argument
    /// text, or a filter on another state) reads at most [`SCAN_BUDGET`] jobs and then
    /// stops with a cursor to continue from, saying how many it read.
    pub async fn page(
        &self,
        queue: &QueueName,
        state: JobState,
        filter: &JobFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page, Error> {
        let limit = limit.clamp(1, MAX_PAGE);
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let mut out = Page::default();
        // Whole-index reads need no predicate: a page is exactly `limit` entries.
        let needs_check = state != JobState::Dead || filter.needs_check_beyond_index();
        let chunk = if needs_check { SCAN_CHUNK } else { limit };
        match state {
            JobState::Dead | JobState::Scheduled => {
                let mut offset: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
                let source = if state == JobState::Dead {
                    filter.dead_source(&keys)
                } else {
                    keys.scheduled.clone()
                };
                loop {
                    let rows = if state == JobState::Dead {
                        dead_rows(&mut conn, &keys, &source, offset, chunk).await?
                    } else {
                        scheduled_rows(&mut conn, &keys, offset, chunk).await?
                    };
                    let fetched = rows.len();
                    for (i, view) in rows.into_iter().enumerate() {
                        out.scanned += 1;
                        if let Some(view) = view
                            && filter.matches(&view.envelope)
                        {
                            out.jobs.push(view);
                            if out.jobs.len() == limit {
                                let next = offset + i + 1;
                                out.next = Some(next.to_string());
                                return Ok(out);
                            }
                        }
                    }
                    offset += fetched;
                    if out.ends_scan(fetched, chunk, || offset.to_string()) {
                        return Ok(out);
                    }
                }
            }
            JobState::Ready => {
                let mut from = match cursor {
                    Some(c) if valid_stream_id(c) => format!("({c}"),
                    _ => format!("({}", last_delivered(&mut conn, &keys).await?),
                };
                loop {
                    let reply: Value = redis::cmd("XRANGE")
                        .arg(&keys.stream)
                        .arg(&from)
                        .arg("+")
                        .arg("COUNT")
                        .arg(chunk)
                        .query_async(&mut conn)
                        .await?;
                    let entries: Vec<_> = match reply {
                        Value::Array(entries) => {
                            entries.into_iter().filter_map(parse_entry).collect()
                        }
                        _ => Vec::new(),
                    };
                    let fetched = entries.len();
                    let mut last = None;
                    for e in entries {
                        out.scanned += 1;
                        last = Some(e.id.clone());
                        if let Ok(envelope) = decode(&e)
                            && filter.matches(&envelope)
                        {
                            out.jobs.push(JobView {
                                state,
                                position: e.id.clone(),
                                envelope,
                                consumer: None,
                                idle_ms: None,
                            });
                            if out.jobs.len() == limit {
                                out.next = Some(e.id);
                                return Ok(out);
                            }
                        }
                    }
                    let Some(last) = last else { return Ok(out) };
                    if out.ends_scan(fetched, chunk, || last.clone()) {
                        return Ok(out);
                    }
                    from = format!("({last}");
                }
            }
            JobState::InFlight => {
                let mut from = match cursor {
                    Some(c) if valid_stream_id(c) => format!("({c}"),
                    _ => "-".to_owned(),
                };
                loop {
                    let pending: Result<Vec<(String, String, u64, u64)>, redis::RedisError> =
                        redis::cmd("XPENDING")
                            .arg(&keys.stream)
                            .arg(GROUP)
                            .arg(&from)
                            .arg("+")
                            .arg(chunk)
                            .query_async(&mut conn)
                            .await;
                    let pending = match pending {
                        Ok(p) => p,
                        Err(e) if e.code() == Some("NOGROUP") => return Ok(out),
                        Err(e) => return Err(e.into()),
                    };
                    let fetched = pending.len();
                    let mut pipe = redis::pipe();
                    for (id, _, _, _) in &pending {
                        pipe.cmd("XRANGE").arg(&keys.stream).arg(id).arg(id);
                    }
                    let bodies: Vec<Value> = if pending.is_empty() {
                        Vec::new()
                    } else {
                        pipe.query_async(&mut conn).await?
                    };
                    let mut last = None;
                    for ((id, consumer, idle, _), body) in pending.into_iter().zip(bodies) {
                        out.scanned += 1;
                        last = Some(id.clone());
                        let envelope = match body {
                            Value::Array(entries) => entries
                                .into_iter()
                                .filter_map(parse_entry)
                                .next()
                                .and_then(|e| decode(&e).ok()),
                            _ => None,
                        };
                        if let Some(envelope) = envelope
                            && filter.matches(&envelope)
                        {
                            out.jobs.push(JobView {
                                state,
                                position: id.clone(),
                                envelope,
                                consumer: Some(consumer),
                                idle_ms: Some(idle),
                            });
                            if out.jobs.len() == limit {
                                out.next = Some(id);
                                return Ok(out);
                            }
                        }
                    }
                    let Some(last) = last else { return Ok(out) };
                    if out.ends_scan(fetched, chunk, || last.clone()) {
                        return Ok(out);
                    }
                    from = format!("({last}");
                }
            }
        }
    }

    /// Finds a job by id: dead first (the common case in the UI), then scheduled, then
    /// the stream (scanning at most `scan_limit` entries).
    pub async fn find(&self, queue: &QueueName, id: &str) -> Result<Option<JobView>, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let (body, died): (Option<String>, Option<f64>) = redis::pipe()
            .cmd("HGET")
            .arg(&keys.dead_jobs)
            .arg(id)
            .cmd("ZSCORE")
            .arg(&keys.dead)
            .arg(id)
            .query_async(&mut conn)
            .await?;
        if let Some(body) = body {
            let envelope = Envelope::decode(body.as_bytes())?;
            return Ok(Some(JobView {
                state: JobState::Dead,
                position: format!("{:.0}", died.unwrap_or(0.0)),
                envelope,
                consumer: None,
                idle_ms: None,
            }));
        }
        if let Some((member, score)) = scheduled_member(&mut conn, &keys, id).await? {
            return Ok(Some(JobView {
                state: JobState::Scheduled,
                position: format!("{score:.0}"),
                envelope: Envelope::decode(member.as_bytes())?,
                consumer: None,
                idle_ms: None,
            }));
        }
        let last = last_delivered(&mut conn, &keys).await?;
        let mut cursor = "-".to_owned();
        for _ in 0..100 {
            let reply: Value = redis::cmd("XRANGE")
                .arg(&keys.stream)
                .arg(&cursor)
                .arg("+")
                .arg("COUNT")
                .arg(1_000)
                .query_async(&mut conn)
                .await?;
            let Value::Array(entries) = reply else { break };
            if entries.is_empty() {
                break;
            }
            let mut last_id = None;
            for e in entries.into_iter().filter_map(parse_entry) {
                if let Ok(envelope) = decode(&e)
                    && envelope.id == id
                {
                    let state = if stream_id_le(&e.id, &last) {
                        JobState::InFlight
                    } else {
                        JobState::Ready
                    };
                    return Ok(Some(JobView {
                        state,
                        position: e.id,
                        envelope,
                        consumer: None,
                        idle_ms: None,
                    }));
                }
                last_id = Some(e.id);
            }
            match last_id {
                Some(l) => cursor = format!("({l}"),
                None => break,
            }
        }
        Ok(None)
    }
}

/// Dead jobs from `source` (the dead set or one of its indexes), newest first, `offset`
/// in; `None` for an id whose body is gone or unreadable.
async fn dead_rows(
    conn: &mut Conn,
    keys: &QueueKeys,
    source: &str,
    offset: usize,
    count: usize,
) -> Result<Vec<Option<JobView>>, Error> {
    let ids: Vec<(String, f64)> = redis::cmd("ZREVRANGE")
        .arg(source)
        .arg(offset)
        .arg(offset + count - 1)
        .arg("WITHSCORES")
        .query_async(conn)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut hmget = redis::cmd("HMGET");
    hmget.arg(&keys.dead_jobs);
    for (id, _) in &ids {
        hmget.arg(id);
    }
    let bodies: Vec<Option<String>> = hmget.query_async(conn).await?;
    Ok(ids
        .into_iter()
        .zip(bodies)
        .map(|((_, score), body)| {
            let envelope = Envelope::decode(body?.as_bytes()).ok()?;
            Some(JobView {
                state: JobState::Dead,
                position: format!("{score:.0}"),
                envelope,
                consumer: None,
                idle_ms: None,
            })
        })
        .collect())
}

/// Scheduled jobs soonest first, `offset` in.
async fn scheduled_rows(
    conn: &mut Conn,
    keys: &QueueKeys,
    offset: usize,
    count: usize,
) -> Result<Vec<Option<JobView>>, Error> {
    let rows: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(&keys.scheduled)
        .arg(offset)
        .arg(offset + count - 1)
        .arg("WITHSCORES")
        .query_async(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(m, score)| {
            Envelope::decode(m.as_bytes()).ok().map(|envelope| JobView {
                state: JobState::Scheduled,
                position: format!("{score:.0}"),
                envelope,
                consumer: None,
                idle_ms: None,
            })
        })
        .collect())
}

/// `ms-seq`, digits only: what a stream cursor from a client may be.
fn valid_stream_id(s: &str) -> bool {
    let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
    !ms.is_empty()
        && !seq.is_empty()
        && ms.bytes().all(|b| b.is_ascii_digit())
        && seq.bytes().all(|b| b.is_ascii_digit())
}

/// Stream ids compare as (ms, seq).
fn stream_id_le(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        (
            ms.parse::<u64>().unwrap_or(0),
            seq.parse::<u64>().unwrap_or(0),
        )
    };
    parse(a) <= parse(b)
}
