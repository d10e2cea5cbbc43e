//! A queue's counts (in O(1) commands, the same cost with a million jobs), its busiest
//! owners, and pausing it.

use super::*;

impl Admin {
    /// A queue's counts in three round trips of O(1) commands (ZCARD, XLEN, GET, EXISTS,
    /// the group's summary, one stream entry): the same cost with a million jobs queued.
    pub async fn sizes(&self, queue: &QueueName) -> Result<QueueSizes, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        type Counts = (u64, u64, Option<u64>, bool, u64, u64, u64);
        let (scheduled, dead, dead_dropped, paused, retrying, deferred, waiting_turn): Counts =
            redis::pipe()
                .cmd("ZCARD")
                .arg(&keys.scheduled)
                .cmd("ZCARD")
                .arg(&keys.dead)
                .cmd("GET")
                .arg(&keys.dead_dropped)
                .cmd("EXISTS")
                .arg(&keys.paused)
                .cmd("ZCARD")
                .arg(&keys.retrying)
                .cmd("ZCARD")
                .arg(&keys.deferred)
                .cmd("LLEN")
                .arg(&keys.fair_waiting)
                .query_async(&mut conn)
                .await?;
        let (ready, in_flight) = group_counts(&mut conn, &keys).await?;
        let oldest_in_stream = if ready == 0 {
            None
        } else {
            let last = last_delivered(&mut conn, &keys).await?;
            let reply: Value = redis::cmd("XRANGE")
                .arg(&keys.stream)
                .arg(format!("({last}"))
                .arg("+")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await?;
            match reply {
                Value::Array(entries) => entries
                    .into_iter()
                    .filter_map(parse_entry)
                    .next()
                    .and_then(|e| stream_id_ms(&e.id)),
                _ => None,
            }
        };
        let oldest_waiting_turn = if waiting_turn == 0 {
            None
        } else {
            oldest_waiting_turn(&mut conn, &keys).await?
        };
        let oldest_ready_at = match (oldest_in_stream, oldest_waiting_turn) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(QueueSizes {
            queue: queue.to_string(),
            ready: ready + waiting_turn,
            waiting_turn,
            in_flight,
            scheduled,
            retrying: retrying.min(scheduled),
            deferred: deferred.min(scheduled.saturating_sub(retrying)),
            dead,
            dead_dropped: dead_dropped.unwrap_or(0),
            paused,
            oldest_ready_at,
        })
    }

    /// The busiest owners of a queue: jobs running now (summed over the heartbeats of
    /// `workers`, the live ones) and jobs waiting for the owner's turn, busiest first, at
    /// most `limit`. Shows whether one owner holds the slots and who waits behind.
    pub async fn owners(
        &self,
        queue: &QueueName,
        workers: &[crate::heartbeat::WorkerInfo],
        limit: usize,
    ) -> Result<Vec<OwnerLoad>, Error> {
        let keys = self.keys(queue);
        let mut loads: std::collections::BTreeMap<i64, OwnerLoad> = Default::default();
        for owner in workers
            .iter()
            .flat_map(|w| &w.owners)
            .filter(|o| o.queue == queue.as_str())
        {
            loads
                .entry(owner.user_id)
                .or_insert_with(|| OwnerLoad::new(owner.user_id))
                .running += u64::try_from(owner.running).unwrap_or(u64::MAX);
        }
        let mut conn = self.conn.clone();
        for owner in waiting_owners(&mut conn, &keys).await? {
            loads.entry(owner).or_insert_with(|| OwnerLoad::new(owner));
        }
        if !loads.is_empty() {
            let mut pipe = redis::pipe();
            for owner in loads.keys() {
                pipe.cmd("LLEN").arg(keys.fair_held(*owner));
            }
            let lens: Vec<u64> = pipe.query_async(&mut conn).await?;
            for (load, len) in loads.values_mut().zip(lens) {
                load.waiting_turn = len;
            }
        }
        let mut out: Vec<OwnerLoad> = loads.into_values().collect();
        out.sort_by(|a, b| {
            (b.running, b.waiting_turn, a.user_id).cmp(&(a.running, a.waiting_turn, b.user_id))
        });
        out.truncate(limit);
        Ok(out)
    }

    pub async fn pause(&self, queue: &QueueName) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("SET")
            .arg(self.keys(queue).paused)
            .arg(now_ms())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn resume(&self, queue: &QueueName) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("DEL")
            .arg(self.keys(queue).paused)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// Most owners whose lists the overview and the owners' table read: bounds one call's
/// work whatever the number of owners waiting.
pub const OWNERS_READ: usize = 1_000;

/// The owners with jobs waiting for their turn, lowest turn first, at most [`OWNERS_READ`].
async fn waiting_owners(conn: &mut Conn, keys: &QueueKeys) -> Result<Vec<i64>, Error> {
    let owners: Vec<String> = redis::cmd("ZRANGE")
        .arg(&keys.fair_owners)
        .arg(0)
        .arg(OWNERS_READ - 1)
        .query_async(conn)
        .await?;
    Ok(owners.iter().filter_map(|o| o.parse().ok()).collect())
}

/// When the oldest job waiting for its owner's turn was enqueued: the head of each waiting
/// owner's list (its oldest), for at most [`OWNERS_READ`] owners, lowest turn first.
async fn oldest_waiting_turn(conn: &mut Conn, keys: &QueueKeys) -> Result<Option<u64>, Error> {
    let owners = waiting_owners(conn, keys).await?;
    if owners.is_empty() {
        return Ok(None);
    }
    let mut pipe = redis::pipe();
    for owner in owners {
        pipe.cmd("LINDEX").arg(keys.fair_held(owner)).arg(0);
    }
    let heads: Vec<Option<Vec<u8>>> = pipe.query_async(conn).await?;
    Ok(heads
        .into_iter()
        .flatten()
        .filter_map(|h| Envelope::decode(&h).ok())
        // A retry or deferral that came due waits since it came due.
        .map(|e| e.run_at.unwrap_or(0).max(e.enqueued_at))
        .min())
}

/// (undelivered, pending) of the group; both 0 for a queue no worker consumed yet.
async fn group_counts(conn: &mut Conn, keys: &QueueKeys) -> Result<(u64, u64), Error> {
    let len: u64 = redis::cmd("XLEN")
        .arg(&keys.stream)
        .query_async(conn)
        .await?;
    let pending: Result<Value, redis::RedisError> = redis::cmd("XPENDING")
        .arg(&keys.stream)
        .arg(GROUP)
        .query_async(conn)
        .await;
    let pending = match pending {
        Ok(Value::Array(v)) => match v.first() {
            Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        },
        Ok(_) => 0,
        Err(e) if e.code() == Some("NOGROUP") => 0,
        Err(e) => return Err(e.into()),
    };
    Ok((len.saturating_sub(pending), pending))
}
