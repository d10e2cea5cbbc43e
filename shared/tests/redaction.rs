#![allow(clippy::unwrap_used, clippy::expect_used)]
//! No secret of the configuration reaches a `Debug` print or an error.

use shared::Config;

const SECRETS: [&str; 5] = [
    "cookie-key-secret",
    "vault-key-secret",
    "redis-password-secret",
    "pg-password-secret",
    "linkedin-client-secret",
];

#[test]
fn the_configurations_debug_shows_no_secret() {
    let mut config = Config::default();
    config.api.cookie_key = Some(SECRETS[0].into());
    config.vault.key = Some(SECRETS[1].into());
    config.vault.keys = Some(format!("2:{}", SECRETS[1]));
    config.redis.url = format!("redis://ops:{}@redis.internal:6379/0", SECRETS[2]);
    config.database.url = format!("postgres://app:{}@db.internal/astrogrowth", SECRETS[3]);
    config.linkedin.client_secret = Some(SECRETS[4].into());
    let printed = format!("{config:?} {config:#?}");
    for secret in SECRETS {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    // Still useful: where it connects is shown.
    assert!(printed.contains("redis.internal"), "{printed}");
    assert!(printed.contains("db.internal"), "{printed}");
}

#[test]
fn a_bad_redis_url_is_reported_without_its_password() {
    let dir = std::env::temp_dir().join(format!("ag-redaction-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[redis]\nurl = \"http://ops:{}@redis.internal:6379\"\n",
            SECRETS[2]
        ),
    )
    .unwrap();
    let error = Config::load_from(&file).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(error.contains("redis.url"), "{error}");
    assert!(!error.contains(SECRETS[2]), "{error}");
}
