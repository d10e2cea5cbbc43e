//! argon2id password hashes. Hashing takes tens of milliseconds of CPU on purpose, so it
//! runs on the blocking pool, never on an actix worker thread.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;

/// Hashes at once, at most one per core: each takes 19 MiB and a core for tens of ms, so a
/// burst of sign-ins queues here instead of taking all memory and starving the requests
/// that need no hash.
static HASHING: LazyLock<Pool> = LazyLock::new(|| {
    Pool::new(
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        MAX_WAITING,
    )
});

/// Requests allowed to wait for a hashing permit. Beyond this a burst is refused at once
/// (503 with `Retry-After`) rather than queued without end: each waiter holds a request,
/// its body and a connection, and would be answered long after the client gave up.
const MAX_WAITING: usize = 32;
/// What a refused caller is told to wait: a few hashes' time.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// Permits to hash, with a bounded line of waiters.
struct Pool {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Counts a waiter for as long as it waits, even if its request is dropped meanwhile.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Pool {
    fn new(permits: usize, max_waiting: usize) -> Self {
        Self {
            permits: Semaphore::new(permits),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// A permit at once if one is free, after a bounded wait otherwise.
    async fn permit(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        let _waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            return Err(ApiError::Busy {
                retry_after: BUSY_RETRY,
            });
        }
        self.permits.acquire().await.map_err(ApiError::internal)
    }
}

async fn permit() -> Result<SemaphorePermit<'static>, ApiError> {
    HASHING.permit().await
}

/// Hashes with argon2's defaults (argon2id, 19 MiB, 2 passes: OWASP's minimum).
pub async fn hash(password: String) -> Result<String, ApiError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// `None` for the hash (no such account) still spends the time of a verification, so the
/// answer's timing does not tell which e-mails have accounts.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    let _permit = permit().await?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => DUMMY_HASH.clone().map_err(ApiError::internal)?,
        };
        let parsed = PasswordHash::new(&stored).map_err(ApiError::internal)?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(ApiError::internal)?
}

/// The hash of a random password nobody knows, with the same parameters as real ones.
static DUMMY_HASH: LazyLock<Result<String, String>> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(salt.as_str().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong".into(), Some(h)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_beyond_the_waiters_cap_is_refused_with_a_retry() {
        let pool = Pool::new(2, 8);
        let burst = (0..30).map(|_| async {
            let _permit = pool.permit().await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<(), ApiError>(())
        });
        let results = futures::future::join_all(burst).await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(ApiError::Busy { .. })))
            .count();
        // 2 hashing + 8 waiting; the other 20 are refused at once.
        assert_eq!(busy, 20, "{results:?}");
        // Once the line is gone, the pool admits again.
        assert!(pool.permit().await.is_ok());
    }
}
