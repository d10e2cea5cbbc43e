//! The clock a session's idleness is judged on, in whole seconds since the Unix epoch.
//!
//! The api runs on the system clock. A test stops it and moves it forward by hand, so
//! proving that a session goes idle after N seconds (and that activity keeps it alive)
//! takes no real time and does not depend on where the second boundaries fall.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Cheap to clone: the clones share one reading, so the test that holds one moves the
/// api's. `Clock::default()` is the system clock.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// 0 while the clock follows the system clock; otherwise the second it is stopped at.
    stopped_at: Arc<AtomicU64>,
}

impl Clock {
    /// Now, in whole seconds since the Unix epoch.
    pub fn now_secs(&self) -> u64 {
        match self.stopped_at.load(Ordering::SeqCst) {
            0 => system_secs(),
            stopped => stopped,
        }
    }

    /// Stops the clock at the system clock's current second: from here on it moves only
    /// by [`Clock::advance`]. For tests; the api never stops its clock.
    pub fn stop(&self) {
        let _ = self.stopped_at.compare_exchange(
            0,
            system_secs().max(1),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// Moves the clock forward by `by` (whole seconds, rounded down), stopping it first if
    /// it still follows the system clock. For tests.
    pub fn advance(&self, by: Duration) {
        self.stop();
        self.stopped_at.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

fn system_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_clock_moves_only_when_advanced_and_its_clones_follow() {
        let clock = Clock::default();
        let before = system_secs();
        assert!(clock.now_secs() >= before);
        let shared = clock.clone();
        clock.stop();
        let stopped = shared.now_secs();
        assert!(stopped >= before && stopped <= system_secs());
        clock.stop();
        assert_eq!(
            shared.now_secs(),
            stopped,
            "stopping twice keeps the reading"
        );
        clock.advance(Duration::from_millis(2_900));
        assert_eq!(shared.now_secs(), stopped + 2);
    }
}
