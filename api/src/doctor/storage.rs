//! Where images are kept: the storage the workers write and the api serves from.

use std::time::{SystemTime, UNIX_EPOCH};

use shared::config::{StorageBackend, StorageConfig};
use shared::storage::Storage;

use super::{Check, chain};

/// Put, get and delete of a probe object under the configured prefix.
pub async fn round_trip(config: &StorageConfig) -> Vec<Check> {
    let (name, place, fix) = match config.backend {
        StorageBackend::S3 => (
            "storage (s3)",
            format!("bucket {}", config.s3.bucket.as_deref().unwrap_or("?")),
            "check AG_STORAGE__S3__BUCKET, AG_STORAGE__S3__REGION, AG_STORAGE__S3__ENDPOINT and the credentials (AG_STORAGE__S3__ACCESS_KEY_ID and AG_STORAGE__S3__SECRET_ACCESS_KEY, or the pod's role): they need s3:PutObject, s3:GetObject and s3:DeleteObject",
        ),
        StorageBackend::Local => (
            "storage (local)",
            format!("directory {}", config.local_dir),
            "AG_STORAGE__LOCAL_DIR must be a directory this process can write (pods share none: use s3 with several)",
        ),
    };
    let storage = match Storage::from_config(config) {
        Ok(s) => s,
        Err(e) => return vec![Check::fail(name, chain(&e), fix)],
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let key = format!("doctor/probe-{}-{nanos}.txt", std::process::id());
    let body = b"astrogrowth doctor probe".to_vec();
    let result = async {
        storage.put(&key, body.clone()).await?;
        let read = storage.get(&key).await?;
        storage.delete(&key).await?;
        Ok::<_, shared::Error>(read.map(|o| o.bytes))
    }
    .await;
    vec![match result {
        Ok(Some(bytes)) if bytes == body => {
            Check::ok(name, format!("{place}: put, get and delete of {key}"))
        }
        Ok(_) => Check::fail(
            name,
            format!("{place}: {key} was written but read back different or missing"),
            fix,
        ),
        Err(e) => Check::fail(name, format!("{place}: {}", chain(&e)), fix),
    }]
}
