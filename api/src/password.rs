//! argon2id password hashes. Hashing takes tens of milliseconds of CPU on purpose, so it
//! runs on the blocking pool, never on an actix worker thread.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Hashes at once, at most one per core: each takes 19 MiB and a core for tens of ms, so a
/// burst of sign-ins queues here instead of taking all memory and starving the requests
/// that need no hash.
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// Hashes with argon2's defaults (argon2id, 19 MiB, 2 passes: OWASP's minimum).
pub async fn hash(password: String) -> Result<String, ApiError> {
    let _permit = HASHING.acquire().await.map_err(ApiError::internal)?;
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
    let _permit = HASHING.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => DUMMY_HASH.clone().map_err(ApiError::Internal)?,
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
}
