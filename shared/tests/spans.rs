//! What an operator reads in the log: a provider call runs in a span that names its route
//! and records no key or prompt, and a storage failure logged with the one chain formatter
//! keeps the store's error under it. Each test captures its own thread's tracing output
//! (a current-thread runtime: the sandbox and the client run on the test's thread).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use test_support::LogBuffer;

use jobs::error::Chain;
use shared::config::{S3Config, StorageBackend, StorageConfig};
use shared::providers::gemini::GeminiClient;
use shared::providers::places::{PlaceQuery, PlacesClient};
use shared::storage::Storage;
use test_support::sandbox::TestSandbox;
use tracing_subscriber::fmt::format::FmtSpan;

const KEY: &str = "Zq7SPANKEYv3-google-key";
const PROMPT: &str = "Zq7SPANPROMPTv3 a post about Guelph Family Dental";

/// Our crate's output at `filter`, a line for every span that closes (with its fields).
fn capture(filter: &str) -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn provider_calls_run_in_spans_named_by_route_without_key_or_prompt() {
    let env = TestSandbox::start(sandbox::Options {
        latency: sandbox::Latency::None,
        google_api_key: KEY.into(),
        ..Default::default()
    })
    .await;
    // At info, as production logs: provider spans are there, low-level ones are not.
    let (logs, _guard) = capture("shared=info");
    let places = PlacesClient::from_config(&env.google(KEY)).unwrap();
    let query = PlaceQuery {
        text_query: "dentists in Guelph, Ontario".into(),
        ..Default::default()
    };
    assert_eq!(places.search(&query, 5).await.unwrap().len(), 5);
    GeminiClient::from_config(&env.google(KEY))
        .unwrap()
        .write_post("You write LinkedIn posts.", PROMPT)
        .await
        .unwrap();
    env.sandbox.stop().await;

    let text = logs.text();
    assert!(text.contains(r#"route="places.search""#), "{text}");
    assert!(text.contains(r#"route="gemini.text""#), "{text}");
    assert!(
        !text.contains("Zq7SPANKEYv3"),
        "the API key reached the log: {text}"
    );
    assert!(
        !text.contains("Zq7SPANPROMPTv3"),
        "the prompt reached the log: {text}"
    );
}

#[tokio::test]
async fn a_logged_storage_failure_shows_the_stores_error_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::from_config(&StorageConfig {
        backend: StorageBackend::Local,
        local_dir: dir.path().display().to_string(),
        s3: S3Config::default(),
    })
    .unwrap();
    let (logs, _guard) = capture("shared=debug,spans=warn");
    // A file where the next key needs a directory: the store cannot write under it.
    storage.put("images/u1", b"file".to_vec()).await.unwrap();
    let e = storage
        .put("images/u1/lead-2.png", b"png".to_vec())
        .await
        .unwrap_err();
    // Still a transient failure, as every storage error was.
    assert!(e.is_transient(), "{e:?}");
    let source = std::error::Error::source(&e).expect("the store's error is kept");
    assert!(
        source.downcast_ref::<object_store::Error>().is_some(),
        "{source:?}"
    );
    tracing::warn!(error = %Chain(&e), "image not stored");

    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("image not stored"))
        .unwrap_or_else(|| panic!("{text}"));
    // The operation and key, then the local file system's own error.
    assert!(line.contains("storage: put images/u1/lead-2.png"), "{line}");
    assert!(line.contains("os error"), "{line}");
    // The store's spans are debug: there at debug, with the key and not the bytes.
    assert!(text.contains("storage.put"), "{text}");
    assert!(text.contains(r#"key="images/u1/lead-2.png""#), "{text}");
}
