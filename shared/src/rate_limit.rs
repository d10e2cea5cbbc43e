//! Rate limits in Redis (docs/pipeline.md, "Limits"), shared by every process on every host: GCRA, one
//! Lua script per check, the clock read from the Redis server so hosts with skewed clocks
//! agree. A limit of `count` per `period` admits `burst` at once, then one every
//! `period / count`.

use std::sync::LazyLock;
use std::time::Duration;

use jobs::Conn;

use crate::error::Error;

/// `KEYS[1]`: the limiter's key (its theoretical arrival time, in ms).
/// `ARGV`: interval ms per unit, burst units. Takes one unit when admitted.
/// Returns `{1, 0}` when admitted, `{0, wait_ms}` when not.
static GCRA: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat + interval - interval * burst
if allow_at > now then
  return {0, allow_at - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', new_tat - now + 1)
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
    conn: Conn,
    /// What every key of a limiter starts with: `ag:rl:` on one server, `ag:rl:{rl}:` on a
    /// Redis Cluster (see [`RateLimiter::new`]).
    keys: String,
}

impl RateLimiter {
    /// `prefix` is the deployment's key prefix (`ag:`); keys are `ag:rl:<name>:<subject>`.
    ///
    /// On a Redis Cluster the keys carry one common hash tag, `ag:rl:{rl}:<name>:<subject>`:
    /// [`Self::acquire`] takes the units of several gates (a user's posts and the app's) in
    /// one script, all or nothing, and a script may only touch keys of one slot. Splitting
    /// it into per-gate calls would either spend one gate's budget when another refuses or
    /// need a second round of give-backs that a crash can skip; one slot keeps it one atomic
    /// step. The price is that all rate-limit state lives on one master, which is small
    /// (one key per gate and subject) and sees one script per provider call. One server
    /// keeps the untagged names, so a deployment that stays on one server keeps its counts
    /// (a day's post count) across the upgrade.
    pub fn new(conn: Conn, prefix: &str) -> Self {
        let keys = if conn.is_cluster() {
            format!("{prefix}rl:{{rl}}:")
        } else {
            format!("{prefix}rl:")
        };
        Self { conn, keys }
    }

    /// Takes one unit if the limit allows it. An attempt that may turn out not to count
    /// (sign-in counts only failures) takes its unit first and hands it back with
    /// [`Self::give_back`]: taking before the attempt is what makes concurrent attempts see
    /// each other, where a peek followed by a later take lets any number through at once.
    #[tracing::instrument(level = "debug", name = "rate_limit.check", skip_all, fields(limit = name))]
    pub async fn check(&self, name: &str, subject: &str, limit: Limit) -> Result<Decision, Error> {
        let mut conn = self.conn.clone();
        let (admitted, wait_ms): (i64, i64) = GCRA
            .key(self.key(name, subject))
            .arg(limit.interval_ms())
            .arg(limit.burst.max(1))
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

    /// Returns a unit taken by [`Self::check`].
    #[tracing::instrument(level = "debug", name = "rate_limit.give_back", skip_all, fields(limit = name))]
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

    fn key(&self, name: &str, subject: &str) -> String {
        format!("{}{name}:{subject}", self.keys)
    }
}

/// How a [`Gate`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A steady rate with a burst (GCRA, as [`RateLimiter::check`]).
    Rate(Limit),
    /// At most this many per UTC day, the count starting again at 00:00 UTC: how LinkedIn
    /// counts its daily post limits, so ours resets when theirs does.
    Daily(u32),
}

/// One limit a unit of work must pass: `name` is the resource (`linkedin_post`, `gemini`),
/// `subject` whose budget it is (`user:42`, `app`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    pub name: &'static str,
    pub subject: String,
    pub rule: Rule,
}

/// The answer of [`RateLimiter::acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Every gate took its unit.
    Granted,
    /// No gate took anything: `gate` (an index into the slice) is the one that waits
    /// longest, and asking again before `retry_after` is refused again.
    Wait { gate: usize, retry_after: Duration },
    /// Every gate took its unit for a slot `after` from now (a short wait on rate gates
    /// only, see [`RateLimiter::acquire_within`]): the call may be made then.
    Reserved { after: Duration },
}

/// `KEYS`: per gate its state key and its block key (set by a provider's 429).
/// `ARGV[1]`: the longest wait that may be reserved (ms, 0 = none); then per gate a mode
/// (`r` rate, `d` daily) and two numbers (rate: interval ms and burst; daily: the count and
/// 0). All gates are checked first and units are taken only if every one admits, so a
/// refusal by the second gate never spends the first one's budget. A wait no longer than
/// `ARGV[1]` that comes from rate gates only (no block, no daily count) is reserved: the
/// units are taken for that future slot, so waiters get successive slots instead of all
/// waking for the same one. Returns `{1, 0, 0}`, `{2, wait_ms, 0}` (reserved) or
/// `{0, wait_ms, gate (1-based)}`.
static ACQUIRE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local day = math.floor(now / 86400000)
local n = #KEYS / 2
local reserve = tonumber(ARGV[1])
local worst, worst_gate = 0, 0
local plan = {}
for i = 1, n do
  local key, block = KEYS[2 * i - 1], KEYS[2 * i]
  local mode, a, b = ARGV[3 * i - 1], tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local wait = redis.call('PTTL', block)
  if wait < 0 then wait = 0 end
  if wait > 0 then reserve = 0 end
  if mode == 'r' then
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat < now then tat = now end
    local allow_at = tat + a - a * b
    if allow_at - now > wait then wait = allow_at - now end
    plan[i] = tat + a
  else
    local raw = redis.call('GET', key)
    local count = 0
    if raw then
      local d, c = string.match(raw, '^(%d+):(%d+)$')
      if tonumber(d) == day then count = tonumber(c) end
    end
    if count >= a then
      reserve = 0
      if (day + 1) * 86400000 - now > wait then wait = (day + 1) * 86400000 - now end
    end
    plan[i] = count + 1
  end
  if wait > worst then worst, worst_gate = wait, i end
end
if worst > reserve then return {0, worst, worst_gate} end
for i = 1, n do
  local key, mode = KEYS[2 * i - 1], ARGV[3 * i - 1]
  if mode == 'r' then
    redis.call('SET', key, string.format('%d', plan[i]), 'PX', plan[i] - now + 1)
  else
    redis.call('SET', key, day .. ':' .. plan[i], 'PX', (day + 1) * 86400000 - now + 1)
  end
end
if worst > 0 then return {2, worst, 0} end
return {1, 0, 0}
",
    )
});

/// Hands back the units of one [`RateLimiter::acquire`] (the call they paid for was never
/// made): a rate gate moves back one interval, a daily count goes down by one.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local day = math.floor(now / 86400000)
for i = 1, #KEYS do
  local key, mode, a = KEYS[i], ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  local raw = redis.call('GET', key)
  if raw and mode == 'r' then
    local tat = tonumber(raw) - a
    if tat <= now then redis.call('DEL', key)
    else redis.call('SET', key, string.format('%d', tat), 'PX', tat - now + 1) end
  elseif raw then
    local d, c = string.match(raw, '^(%d+):(%d+)$')
    if tonumber(d) == day and tonumber(c) > 0 then
      redis.call('SET', key, day .. ':' .. (tonumber(c) - 1), 'KEEPTTL')
    end
  end
end
return 1
",
    )
});

/// Blocks a gate for `ARGV[1]` ms unless it is already blocked for longer. For a rate gate
/// (`ARGV[2]` interval ms, `ARGV[3]` burst; `KEYS[2]` its state) the burst is spent too, so
/// when the block lapses callers come back one interval apart: the first one finds out
/// whether the provider is ready, instead of a whole burst being refused again.
static BLOCK: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) >= ms then return 0 end
redis.call('SET', KEYS[1], '1', 'PX', ms)
local interval = tonumber(ARGV[2])
if interval > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local drained = now + ms + interval * (tonumber(ARGV[3]) - 1)
  local tat = tonumber(redis.call('GET', KEYS[2]) or '0')
  if drained > tat then
    redis.call('SET', KEYS[2], string.format('%d', drained), 'PX', drained - now + 1)
  end
end
return 1
",
    )
});

impl RateLimiter {
    /// Takes one unit from every gate, or from none: one script, so all workers on all
    /// hosts see one count.
    pub async fn acquire(&self, gates: &[Gate]) -> Result<Admission, Error> {
        self.acquire_within(gates, Duration::ZERO).await
    }

    /// As [`Self::acquire`], but a wait up to `reserve` on rate gates takes the units for
    /// that later slot ([`Admission::Reserved`]): many callers waiting for one rate get
    /// one slot each, in turn, instead of all asking again at the same moment.
    #[tracing::instrument(level = "debug", name = "rate_limit.acquire", skip_all, fields(gates = gates.len(), gate = gates.first().map(|g| g.name), reserve_ms = reserve.as_millis() as u64))]
    pub async fn acquire_within(
        &self,
        gates: &[Gate],
        reserve: Duration,
    ) -> Result<Admission, Error> {
        if gates.is_empty() {
            return Ok(Admission::Granted);
        }
        let mut script = ACQUIRE.prepare_invoke();
        script.arg(u64::try_from(reserve.as_millis()).unwrap_or(u64::MAX));
        for gate in gates {
            let key = self.key(gate.name, &gate.subject);
            script.key(&key).key(format!("{key}:block"));
            match gate.rule {
                Rule::Rate(limit) => script
                    .arg("r")
                    .arg(limit.interval_ms())
                    .arg(limit.burst.max(1)),
                Rule::Daily(count) => script.arg("d").arg(count).arg(0),
            };
        }
        let mut conn = self.conn.clone();
        let (granted, wait_ms, gate): (i64, i64, i64) = script.invoke_async(&mut conn).await?;
        let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
        Ok(if granted == 1 {
            Admission::Granted
        } else if granted == 2 {
            Admission::Reserved { after: wait }
        } else {
            Admission::Wait {
                gate: usize::try_from(gate - 1).unwrap_or(0),
                retry_after: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0).max(1)),
            }
        })
    }

    /// Gives back what [`Self::acquire`] took, when the paid-for call was not made.
    #[tracing::instrument(level = "debug", name = "rate_limit.release", skip_all, fields(gates = gates.len(), gate = gates.first().map(|g| g.name)))]
    pub async fn release(&self, gates: &[Gate]) -> Result<(), Error> {
        if gates.is_empty() {
            return Ok(());
        }
        let mut script = RELEASE.prepare_invoke();
        for gate in gates {
            script.key(self.key(gate.name, &gate.subject));
            match gate.rule {
                Rule::Rate(limit) => script.arg("r").arg(limit.interval_ms()),
                Rule::Daily(_) => script.arg("d").arg(0),
            };
        }
        let mut conn = self.conn.clone();
        let _: i64 = script.invoke_async(&mut conn).await?;
        Ok(())
    }

    /// A provider said "not before `for_`" (a 429's Retry-After): every job behind this
    /// gate waits it out, instead of each one asking, being refused and burning an attempt.
    #[tracing::instrument(level = "debug", name = "rate_limit.block", skip_all, fields(gate = gate.name, for_ms = for_.as_millis() as u64))]
    pub async fn block(&self, gate: &Gate, for_: Duration) -> Result<(), Error> {
        let ms = u64::try_from(for_.as_millis()).unwrap_or(u64::MAX).max(1);
        let key = self.key(gate.name, &gate.subject);
        let (interval, burst) = match gate.rule {
            Rule::Rate(limit) => (limit.interval_ms(), limit.burst.max(1)),
            Rule::Daily(_) => (0, 1),
        };
        let mut conn = self.conn.clone();
        let _: i64 = BLOCK
            .key(format!("{key}:block"))
            .key(&key)
            .arg(ms)
            .arg(interval)
            .arg(burst)
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// Holds a reserved slot for a job that waits in the schedule: `KEYS[1]` the ticket,
/// `ARGV[1]` ms from now. Kept ten minutes past the slot, then forgotten.
static HOLD: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local after = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', now + after), 'PX', after + 600000)
return 1
",
    )
});

/// `-1`: no ticket; `0`: the slot has come (the ticket is used up); else ms until it.
static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local at = redis.call('GET', KEYS[1])
if not at then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
at = tonumber(at)
if at <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
return at - now
",
    )
});

/// What [`RateLimiter::claim`] found for a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticket {
    /// No slot was reserved under it.
    None,
    /// The reserved slot has come: the units are already taken, go.
    Ready,
    /// The slot is still this far away.
    Later(Duration),
}

impl RateLimiter {
    /// Keeps a slot [`Self::acquire_within`] reserved `after` from now under `ticket` (a
    /// job's id), for the job to [`Self::claim`] when it runs again.
    #[tracing::instrument(level = "debug", name = "rate_limit.hold", skip_all, fields(ticket = ticket, after_ms = after.as_millis() as u64))]
    pub async fn hold(&self, ticket: &str, after: Duration) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let _: i64 = HOLD
            .key(format!("{}ticket:{ticket}", self.keys))
            .arg(u64::try_from(after.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut conn)
            .await?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", name = "rate_limit.claim", skip_all, fields(ticket = ticket))]
    pub async fn claim(&self, ticket: &str) -> Result<Ticket, Error> {
        let mut conn = self.conn.clone();
        let ms: i64 = CLAIM
            .key(format!("{}ticket:{ticket}", self.keys))
            .invoke_async(&mut conn)
            .await?;
        Ok(match ms {
            ms if ms < 0 => Ticket::None,
            0 => Ticket::Ready,
            ms => Ticket::Later(Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        })
    }
}

/// `KEYS[1]`: a credential's run of 429s that named no delay; `KEYS[2]`: the block key
/// of its gate. `ARGV[1]`: ms the run is remembered without a new 429.
/// Counts one more 429 in the run, unless the gate is still blocked: a call let through
/// before the block and refused with it is the same refusal, not a longer run (eight
/// calls in flight must not jump the wait to its cap at once). Returns the run's length.
static THROTTLED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n == 0 or redis.call('PTTL', KEYS[2]) <= 0 then
  n = redis.call('INCR', KEYS[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
",
    )
});

impl RateLimiter {
    /// Counts a 429 that named no delay against `gate` (a provider credential's): the
    /// length of the run, which every worker on every host shares, sets how long the gate
    /// is then blocked. `memory` is how long the run is kept without another 429.
    #[tracing::instrument(level = "debug", name = "rate_limit.throttled", skip_all, fields(gate = gate.name))]
    pub async fn throttled(&self, gate: &Gate, memory: Duration) -> Result<u32, Error> {
        let key = self.key(gate.name, &gate.subject);
        let mut conn = self.conn.clone();
        let n: i64 = THROTTLED
            .key(format!("{key}:throttled"))
            .key(format!("{key}:block"))
            .arg(u64::try_from(memory.as_millis()).unwrap_or(u64::MAX).max(1))
            .invoke_async(&mut conn)
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX).max(1))
    }

    /// The provider answered a call on `gate`'s credential: its run of 429s is over, and
    /// the next one waits the shortest time again.
    #[tracing::instrument(level = "debug", name = "rate_limit.answered", skip_all, fields(gate = gate.name))]
    pub async fn answered(&self, gate: &Gate) -> Result<(), Error> {
        let mut conn = self.conn.clone();
        let () = redis::cmd("DEL")
            .arg(format!("{}:throttled", self.key(gate.name, &gate.subject)))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// The wait after the `run`-th 429 in a row that named no delay: `first`, doubled for each
/// earlier one, plus `jitter` (a fraction in `[0, 1)`) of `first`, never above `cap`.
/// Google's guidance for its APIs (developers.google.com/drive/api/guides/limits,
/// "Resolve time-based quota errors": truncated exponential backoff, 1 s + random ms,
/// then 2 s, 4 s, ... up to a maximum): the jitter keeps every worker from coming back
/// in the same millisecond.
pub fn throttle_backoff(run: u32, first: Duration, cap: Duration, jitter: f64) -> Duration {
    let doubled = first.saturating_mul(1u32 << run.saturating_sub(1).min(30));
    let jitter = first.mul_f64(jitter.clamp(0.0, 1.0));
    doubled.saturating_add(jitter).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_waits_double_from_the_first_up_to_the_cap() {
        let s = Duration::from_secs;
        let waits: Vec<Duration> = (1..=7)
            .map(|run| throttle_backoff(run, s(1), s(30), 0.0))
            .collect();
        assert_eq!(waits, [s(1), s(2), s(4), s(8), s(16), s(30), s(30)]);
        // Up to one first wait of jitter, still under the cap.
        assert_eq!(
            throttle_backoff(1, s(1), s(30), 0.5),
            Duration::from_millis(1500)
        );
        let wait = throttle_backoff(5, s(1), s(30), 0.999);
        assert!(wait > s(16) && wait < s(17), "{wait:?}");
    }

    proptest! {
        #[test]
        fn a_wait_is_never_above_the_cap_nor_below_the_first(
            run in 0u32..u32::MAX, first_ms in 1u64..60_000, cap_s in 1u64..3600, jitter in 0.0f64..1.0,
        ) {
            let first = Duration::from_millis(first_ms);
            let cap = Duration::from_secs(cap_s);
            let wait = throttle_backoff(run, first, cap, jitter);
            prop_assert!(wait <= cap);
            prop_assert!(wait >= first.min(cap));
        }

        #[test]
        fn a_longer_run_never_waits_less(run in 1u32..64, jitter in 0.0f64..1.0) {
            let (first, cap) = (Duration::from_secs(1), Duration::from_secs(30));
            prop_assert!(
                throttle_backoff(run + 1, first, cap, 0.0) >= throttle_backoff(run, first, cap, 0.0)
            );
            prop_assert!(throttle_backoff(run, first, cap, jitter) >= throttle_backoff(run, first, cap, 0.0));
        }
    }
}
