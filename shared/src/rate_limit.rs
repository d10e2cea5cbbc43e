//! Rate limits in Redis (design.md §4), shared by every process on every host: GCRA, one
//! Lua script per check, the clock read from the Redis server so hosts with skewed clocks
//! agree. A limit of `count` per `period` admits `burst` at once, then one every
//! `period / count`.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::error::Error;

/// `KEYS[1]`: the limiter's key (its theoretical arrival time, in ms).
/// `ARGV`: interval ms per unit, burst units, cost units (0 = only look).
/// Returns `{1, 0}` when admitted, `{0, wait_ms}` when not.
static GCRA: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat + interval * math.max(cost, 1) - interval * burst
if allow_at > now then
  return {0, allow_at - now}
end
if cost > 0 then
  local new_tat = tat + interval * cost
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', new_tat - now + 1)
end
return {1, 0}
",
    )
});

/// `KEYS[1]`: the limiter's key. `ARGV[1]`: interval ms per unit.
/// Hands one unit back: the theoretical arrival time moves back one interval, never before
/// now (a give-back cannot bank capacity beyond the burst).
static GIVE_BACK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local new_tat = tat - tonumber(ARGV[1])
if new_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', new_tat - now + 1)
end
return 1
",
    )
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}

impl Limit {
    pub fn per_minute(count: u32, burst: u32) -> Self {
        Self {
            count,
            period: Duration::from_secs(60),
            burst,
        }
    }

    fn interval_ms(&self) -> u64 {
        let ms = u64::try_from(self.period.as_millis()).unwrap_or(u64::MAX);
        (ms / u64::from(self.count.max(1))).max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after: Duration },
}

/// Cheap to clone: one multiplexed connection.
#[derive(Clone)]
pub struct RateLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl RateLimiter {
    /// `prefix` is the deployment's key prefix (`ag:`); keys are `ag:rl:<name>:<subject>`.
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
        }
    }

    /// Takes one unit if the limit allows it. An attempt that may turn out not to count
    /// (sign-in counts only failures) takes its unit first and hands it back with
    /// [`Self::give_back`]: taking before the attempt is what makes concurrent attempts see
    /// each other, where a peek followed by a later take lets any number through at once.
    pub async fn check(&self, name: &str, subject: &str, limit: Limit) -> Result<Decision, Error> {
        self.run(name, subject, limit, 1).await
    }

    /// Whether one unit would be admitted, without taking it.
    pub async fn peek(&self, name: &str, subject: &str, limit: Limit) -> Result<Decision, Error> {
        self.run(name, subject, limit, 0).await
    }

    /// Returns a unit taken by [`Self::check`].
    pub async fn give_back(&self, name: &str, subject: &str, limit: Limit) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let _: i64 = GIVE_BACK
            .key(self.key(name, subject))
            .arg(limit.interval_ms())
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    pub async fn reset(&self, name: &str, subject: &str) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("DEL")
            .arg(self.key(name, subject))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn run(
        &self,
        name: &str,
        subject: &str,
        limit: Limit,
        cost: u32,
    ) -> Result<Decision, Error> {
        let mut conn = self.conn.clone();
        let (admitted, wait_ms): (i64, i64) = GCRA
            .key(self.key(name, subject))
            .arg(limit.interval_ms())
            .arg(limit.burst.max(1))
            .arg(cost)
            .invoke_async(&mut conn)
            .await?;
        Ok(if admitted == 1 {
            Decision::Allowed
        } else {
            Decision::Limited {
                retry_after: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0).max(1)),
            }
        })
    }

    fn key(&self, name: &str, subject: &str) -> String {
        format!("{}rl:{name}:{subject}", self.prefix)
    }
}
