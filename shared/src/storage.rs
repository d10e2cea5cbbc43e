//! Where generated images live (docs/pipeline.md, "Storage"): a local directory by default, an S3 bucket
//! (or any S3-protocol server) when one is configured, both through `object_store`. Keys are
//! ours and deterministic (`images/u42/lead-311.png`), so a retried GenerateContent finds
//! the image it already paid for instead of asking for another.
//!
//! The content type is the key's extension: our keys always carry one, and a local
//! directory cannot keep attributes.

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::config::{StorageBackend, StorageConfig};
use crate::error::Error;

/// Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Put before every key (an S3 prefix shared with other data).
    prefix: String,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("store", &self.store.to_string())
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// An object as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The key of a lead's image: the same for every attempt at it.
pub fn image_key(user_id: i64, lead_id: i64, ext: &str) -> String {
    format!("images/u{user_id}/lead-{lead_id}.{ext}")
}

impl Storage {
    pub fn from_config(config: &StorageConfig) -> Result<Self, Error> {
        let store: Arc<dyn ObjectStore> = match config.backend {
            StorageBackend::Local => {
                std::fs::create_dir_all(&config.local_dir).map_err(|e| {
                    Error::Config(format!(
                        "storage.local_dir {:?} cannot be created: {e}",
                        config.local_dir
                    ))
                })?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&config.local_dir)
                        .map_err(|e| Error::Config(format!("storage.local_dir: {e}")))?,
                )
            }
            StorageBackend::S3 => {
                let s3 = &config.s3;
                let bucket = s3
                    .bucket
                    .as_deref()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| {
                        Error::Config("storage.s3.bucket is required with the s3 backend".into())
                    })?;
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                }
                Arc::new(
                    builder
                        .build()
                        .map_err(|e| Error::Config(format!("storage.s3: {e}")))?,
                )
            }
        };
        Ok(Self {
            store,
            prefix: config.s3.prefix.trim_matches('/').to_owned(),
        })
    }

    /// Stores `bytes` under `key`, replacing what was there (the same image, on a retry).
    #[tracing::instrument(level = "debug", name = "storage.put", skip_all, fields(key = key, bytes = bytes.len()))]
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let path = self.path(key)?;
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| storage_error("put", key, e))?;
        Ok(())
    }

    /// The object, or `None` if there is none under `key`.
    #[tracing::instrument(level = "debug", name = "storage.get", skip_all, fields(key = key))]
    pub async fn get(&self, key: &str) -> Result<Option<StoredObject>, Error> {
        let path = self.path(key)?;
        match self.store.get(&path).await {
            Ok(result) => {
                let bytes = result
                    .bytes()
                    .await
                    .map_err(|e| storage_error("read", key, e))?;
                Ok(Some(StoredObject {
                    bytes: bytes.to_vec(),
                    content_type: content_type(key),
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage_error("get", key, e)),
        }
    }

    #[tracing::instrument(level = "debug", name = "storage.exists", skip_all, fields(key = key))]
    pub async fn exists(&self, key: &str) -> Result<bool, Error> {
        let path = self.path(key)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(storage_error("head", key, e)),
        }
    }

    /// Removes the object under `key`; none there is not an error.
    #[tracing::instrument(level = "debug", name = "storage.delete", skip_all, fields(key = key))]
    pub async fn delete(&self, key: &str) -> Result<(), Error> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error("delete", key, e)),
        }
    }

    /// Our keys only: lower-case letters, digits, `/`, `.`, `_`, `-`, no `..`, no leading
    /// `/`. A key from a row someone tampered with cannot reach outside the store.
    fn path(&self, key: &str) -> Result<Path, Error> {
        let ok = !key.is_empty()
            && key.len() <= 512
            && !key.starts_with('/')
            && !key
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/._-".contains(&b));
        if !ok {
            return Err(Error::Invalid(format!(
                "storage key {key:?} is not allowed"
            )));
        }
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(&full).map_err(|e| Error::Invalid(format!("storage key {key:?}: {e}")))
    }
}

/// The content type our keys' extensions stand for.
pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    }
}

fn storage_error(op: &'static str, key: &str, e: object_store::Error) -> Error {
    Error::Storage {
        op,
        key: key.to_owned(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{S3Config, StorageConfig};

    fn local(dir: &std::path::Path) -> Storage {
        Storage::from_config(&StorageConfig {
            backend: StorageBackend::Local,
            local_dir: dir.display().to_string(),
            s3: S3Config::default(),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn local_put_get_exists_and_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let storage = local(dir.path());
        let key = image_key(42, 311, "png");
        assert_eq!(key, "images/u42/lead-311.png");
        assert!(!storage.exists(&key).await.unwrap());
        assert_eq!(storage.get(&key).await.unwrap(), None);
        storage.put(&key, b"first".to_vec()).await.unwrap();
        storage.put(&key, b"second".to_vec()).await.unwrap();
        assert!(storage.exists(&key).await.unwrap());
        let object = storage.get(&key).await.unwrap().unwrap();
        assert_eq!(object.bytes, b"second");
        assert_eq!(object.content_type, "image/png");
        assert!(dir.path().join("images/u42/lead-311.png").exists());
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let storage = local(dir.path());
        for key in [
            "../etc/passwd",
            "/abs.png",
            "a//b.png",
            "A.png",
            "a/./b.png",
            "",
            "a b.png",
        ] {
            assert!(
                matches!(storage.put(key, vec![1]).await, Err(Error::Invalid(_))),
                "{key:?} accepted"
            );
        }
    }

    #[test]
    fn s3_needs_a_bucket() {
        let err = Storage::from_config(&StorageConfig {
            backend: StorageBackend::S3,
            local_dir: String::new(),
            s3: S3Config::default(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("bucket"), "{err}");
    }
}
