#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The S3 backend against a real S3-protocol server (moto's, started by `just test` through
//! scripts/s3.sh, its URL in `AG_TEST_S3_URL`). Never a mock: object_store's own S3 client
//! signs and sends real requests.

use shared::config::{S3Config, StorageBackend, StorageConfig};
use shared::storage::{Storage, image_key};

fn server() -> String {
    std::env::var("AG_TEST_S3_URL").unwrap_or_else(|_| {
        panic!(
            "AG_TEST_S3_URL is not set: `just test` starts moto's S3 server; by hand run \
             `scripts/s3.sh start 5442` and set AG_TEST_S3_URL=http://127.0.0.1:5442"
        )
    })
}

async fn bucket(url: &str, name: &str) -> Storage {
    // object_store cannot create buckets; moto takes an unsigned CreateBucket.
    let made = reqwest::Client::new()
        .put(format!("{url}/{name}"))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    Storage::from_config(&StorageConfig {
        backend: StorageBackend::S3,
        local_dir: String::new(),
        s3: S3Config {
            bucket: Some(name.to_owned()),
            region: "us-east-1".into(),
            endpoint: Some(url.to_owned()),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".into()),
            allow_http: true,
            prefix: "astrogrowth".into(),
        },
    })
    .unwrap()
}

#[tokio::test]
async fn images_round_trip_through_s3() {
    let url = server();
    let name = format!("ag-test-{}", std::process::id());
    let storage = bucket(&url, &name).await;
    let key = image_key(7, 99, "png");
    assert!(!storage.exists(&key).await.unwrap());
    assert_eq!(storage.get(&key).await.unwrap(), None);
    let png = b"\x89PNG\r\n\x1a\nnot really".to_vec();
    storage.put(&key, png.clone()).await.unwrap();
    // A retry stores the same key again: no error, same object.
    storage.put(&key, png.clone()).await.unwrap();
    assert!(storage.exists(&key).await.unwrap());
    let object = storage.get(&key).await.unwrap().unwrap();
    assert_eq!(object.bytes, png);
    assert_eq!(object.content_type, "image/png");
    // The prefix is where the object really is.
    let listed = reqwest::get(format!("{url}/{name}?list-type=2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("<Key>astrogrowth/images/u7/lead-99.png</Key>"),
        "{listed}"
    );
}
