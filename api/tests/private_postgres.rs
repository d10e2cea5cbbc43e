//! `scripts/postgres.sh start` uses a server answering on its port only if it is this
//! checkout's own cluster. A second checkout's `just test` once ran against the first
//! checkout's cluster, which its owner then stopped mid-run: the second run's tests failed
//! for no fault of theirs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// The port of the PostgreSQL the test suite runs against (`DATABASE_URL`).
fn test_port() -> u16 {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL is set by `just test`");
    let url = url::Url::parse(&url).unwrap();
    url.port().unwrap_or(5432)
}

#[test]
fn another_checkout_refuses_the_cluster_answering_on_its_port() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    // A second checkout: the same scripts in another directory.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("scripts")).unwrap();
    for script in ["postgres.sh", "ensure-deps.sh"] {
        std::fs::copy(
            repo.join("scripts").join(script),
            other.path().join("scripts").join(script),
        )
        .unwrap();
    }
    let port = test_port().to_string();
    let out = Command::new(other.path().join("scripts/postgres.sh"))
        .args(["start", &port])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "it used another checkout's server: {stderr}"
    );
    assert!(
        stderr.contains(&format!("port {port} is answered by another PostgreSQL")),
        "{stderr}"
    );
    assert!(stderr.contains("AG_PG_PORT"), "{stderr}");

    // This checkout's own start finds its cluster and goes on (when the suite runs on
    // it, as `just test` does, rather than on a server of its own).
    let own = Command::new(repo.join("scripts/postgres.sh"))
        .args(["start", &port])
        .output()
        .unwrap();
    let own_err = String::from_utf8_lossy(&own.stderr);
    if !own_err.contains("answered by another PostgreSQL") {
        assert!(own.status.success(), "{own_err}");
    }
}
