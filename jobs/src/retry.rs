//! Backoff between attempts: exponential with full jitter, capped.

use std::time::Duration;

/// `delay = random(0, min(cap, base × 2^attempt))`. Full jitter spreads a burst of
/// failures (a provider outage failing 5,000 jobs at once) over the whole window instead
/// of bringing them back in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// 1 s doubling to a 1 h cap: attempt 5 waits up to 32 s, attempt 12 up to the hour.
    pub const DEFAULT: Self = Self {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(3600),
    };

    /// `attempt` counts attempts already made (1 after the first failure).
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.u64(0..=ms))
    }

    /// The upper bound of the jitter window for an attempt.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn backoff_never_exceeds_cap(attempt in 0u32..10_000, seed in any::<u64>(),
                                     base_ms in 0u64..10_000, cap_ms in 0u64..10_000_000) {
            let b = Backoff { base: Duration::from_millis(base_ms), cap: Duration::from_millis(cap_ms) };
            let mut rng = fastrand::Rng::with_seed(seed);
            let d = b.delay(attempt, &mut rng);
            prop_assert!(d <= b.cap);
            prop_assert!(d <= b.ceiling(attempt));
        }
    }

    #[test]
    fn ceiling_doubles_until_the_cap() {
        let b = Backoff::DEFAULT;
        assert_eq!(b.ceiling(0), Duration::from_secs(1));
        assert_eq!(b.ceiling(3), Duration::from_secs(8));
        assert_eq!(b.ceiling(40), Duration::from_secs(3600));
    }
}
