#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `api doctor` against real parts: the sandbox (as the providers), a real redis-server,
//! real PostgreSQL, the SMTP sink and moto's S3. Against the sandbox every check is ok;
//! against a sandbox started strict, or a configuration that cannot work, the report names
//! the problem and the setting, and the process exits non-zero.

use api::doctor::{self, Check, Status};
use shared::Config;
use shared::config::{S3Config, StorageBackend};
use sqlx::PgPool;
use test_support::TestRedis;
use test_support::app::test_config;
use test_support::mail_sink::MailSink;
use test_support::sandbox::TestSandbox;

/// The real parts a deployment talks to, and a configuration pointing at them.
struct Deployment {
    sandbox: TestSandbox,
    _redis: TestRedis,
    _sink: MailSink,
    _images: tempfile::TempDir,
    config: Config,
}

async fn deployment(options: sandbox::Options) -> Deployment {
    let sandbox = TestSandbox::fast_with(options).await;
    let redis = TestRedis::start();
    let sink = MailSink::start().await;
    let images = tempfile::tempdir().unwrap();
    let mut config = test_config(&redis.url());
    sandbox.point(&mut config);
    config.providers.google.places_timeout_ms = 5_000;
    config.providers.google.text_timeout_ms = 5_000;
    config.linkedin.timeout_ms = 5_000;
    config.mail.smtp_port = sink.port;
    config.mail.timeout_ms = 5_000;
    config.storage.local_dir = images.path().display().to_string();
    Deployment {
        sandbox,
        _redis: redis,
        _sink: sink,
        _images: images,
        config,
    }
}

fn report(checks: &[Check]) -> String {
    doctor::render(checks)
}

/// The check called `name`; the report is in the panic if there is none.
fn check<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name:?}:\n{}", report(checks)))
}

fn assert_names(checks: &[Check], name: &str, status: Status, words: &[&str]) {
    let c = check(checks, name);
    assert_eq!(c.status, status, "{name}:\n{}", report(checks));
    let line = format!("{} {}", c.detail, c.fix);
    for w in words {
        assert!(
            line.contains(w),
            "{name} does not say {w:?}:\n{}",
            report(checks)
        );
    }
    // Only this one is wrong: every other check of the same deployment still passes.
    for other in checks.iter().filter(|c| c.name != name) {
        assert_eq!(other.status, Status::Ok, "{}", report(checks));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn against_the_sandbox_every_check_is_ok(db: PgPool) {
    let d = deployment(sandbox::Options::default()).await;
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    for c in &checks {
        assert_eq!(c.status, Status::Ok, "{}", report(&checks));
    }
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    for name in [
        "postgres",
        "migrations",
        "redis",
        "places",
        "gemini text model",
        "gemini image model",
        "linkedin app",
        "linkedin redirect",
        "linkedin version",
        "smtp",
        "storage (local)",
    ] {
        assert!(
            names.contains(&name),
            "{name} missing:\n{}",
            report(&checks)
        );
    }
    assert!(!doctor::any_failed(&checks));
    // What each check sent is what the pipeline sends: our field mask, one result.
    let search = d.sandbox.log("places.search").await;
    assert_eq!(search.len(), 1, "{search:?}");
    // The redirect URI shown is the one the connect sends.
    let redirect = &check(&checks, "linkedin redirect").detail;
    assert!(
        redirect.contains("http://app.test/api/profile/linkedin/callback"),
        "{redirect}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retired_model_fails_naming_the_setting(db: PgPool) {
    let text_model = Config::default().providers.google.text_model;
    let d = deployment(sandbox::Options {
        retired_models: vec![text_model.clone()],
        ..sandbox::Options::default()
    })
    .await;
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    assert_names(
        &checks,
        "gemini text model",
        Status::Fail,
        &[
            &text_model,
            "not in models.list",
            "AG_PROVIDERS__GOOGLE__TEXT_MODEL",
        ],
    );
    assert!(doctor::any_failed(&checks));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_deprecated_model_warns_naming_the_setting(db: PgPool) {
    let image_model = Config::default().providers.google.image_model;
    let d = deployment(sandbox::Options {
        deprecated_models: vec![image_model.clone()],
        ..sandbox::Options::default()
    })
    .await;
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    assert_names(
        &checks,
        "gemini image model",
        Status::Warn,
        &[
            &image_model,
            "deprecated",
            "AG_PROVIDERS__GOOGLE__IMAGE_MODEL",
        ],
    );
    // A warning is not a failure: the deployment works today.
    assert!(!doctor::any_failed(&checks));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_app_linkedin_does_not_know_fails_naming_the_credentials(db: PgPool) {
    let d = deployment(sandbox::Options {
        linkedin_client_id: "another-app".into(),
        ..sandbox::Options::default()
    })
    .await;
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    assert_names(
        &checks,
        "linkedin app",
        Status::Fail,
        &[
            "invalid_client",
            "AG_LINKEDIN__CLIENT_ID",
            "AG_LINKEDIN__CLIENT_SECRET",
        ],
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_linkedin_version_no_longer_served_fails_naming_the_setting(db: PgPool) {
    let version = Config::default().linkedin.version;
    let d = deployment(sandbox::Options {
        linkedin_versions: vec![202_611, 202_612],
        ..sandbox::Options::default()
    })
    .await;
    assert_eq!(
        version, "202610",
        "the sandbox below serves the versions after it"
    );
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    assert_names(
        &checks,
        "linkedin version",
        Status::Fail,
        &[
            "426",
            "NONEXISTENT_VERSION",
            "AG_LINKEDIN__VERSION",
            &version,
        ],
    );
}

#[sqlx::test(migrations = false)]
async fn an_unmigrated_database_and_a_wrong_smtp_port_fail(db: PgPool) {
    let mut d = deployment(sandbox::Options::default()).await;
    d.config.mail.smtp_port = test_support::free_port();
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    let smtp = check(&checks, "smtp");
    assert_eq!(smtp.status, Status::Fail, "{}", report(&checks));
    assert!(
        smtp.fix.contains("AG_MAIL__SMTP_PORT"),
        "{}",
        report(&checks)
    );
    let migrations = check(&checks, "migrations");
    assert_eq!(migrations.status, Status::Fail, "{}", report(&checks));
    assert!(
        migrations.fix.contains("api migrate"),
        "{}",
        report(&checks)
    );
    // Half migrated: the first missing one is named.
    shared::db::MIGRATOR.run(&db).await.unwrap();
    let last = shared::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(last)
        .execute(&db)
        .await
        .unwrap();
    let checks = doctor::run(&d.config, &db).await;
    let migrations = check(&checks, "migrations");
    assert_eq!(migrations.status, Status::Fail, "{}", report(&checks));
    assert!(
        migrations.detail.contains("1 of ") && migrations.detail.contains(&last.to_string()),
        "{}",
        report(&checks)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn s3_is_checked_with_a_probe_object(db: PgPool) {
    let url = std::env::var("AG_TEST_S3_URL").unwrap_or_else(|_| {
        panic!(
            "AG_TEST_S3_URL is not set: `just test` starts moto's S3 server; by hand run \
             `scripts/s3.sh start 5442` and set AG_TEST_S3_URL=http://127.0.0.1:5442"
        )
    });
    let bucket = format!("doctor-{}", std::process::id());
    // object_store cannot create buckets; moto takes an unsigned CreateBucket.
    let made = reqwest::Client::new()
        .put(format!("{url}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    let mut d = deployment(sandbox::Options::default()).await;
    d.config.storage.backend = StorageBackend::S3;
    d.config.storage.s3 = S3Config {
        bucket: Some(bucket.clone()),
        endpoint: Some(url.clone()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        allow_http: true,
        ..S3Config::default()
    };
    let checks = doctor::run(&d.config, &db).await;
    println!("{}", report(&checks));
    let s3 = check(&checks, "storage (s3)");
    assert_eq!(s3.status, Status::Ok, "{}", report(&checks));
    // The probe object is gone again.
    let listing = reqwest::get(format!("{url}/{bucket}?list-type=2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listing.contains("doctor/probe"), "{listing}");
    // A bucket that does not exist fails, naming the settings.
    d.config.storage.s3.bucket = Some(format!("{bucket}-missing"));
    let checks = doctor::run(&d.config, &db).await;
    assert_names(
        &checks,
        "storage (s3)",
        Status::Fail,
        &["AG_STORAGE__S3__BUCKET"],
    );
}

/// The binary as an operator runs it: its configuration from the environment, one line per
/// check on stdout, exit status 0 only when nothing failed.
#[sqlx::test(migrations = "../migrations")]
async fn the_command_prints_the_report_and_exits_non_zero_on_a_failure(db: PgPool) {
    let d = deployment(sandbox::Options::default()).await;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&db)
        .await
        .unwrap();
    let mut database_url = url::Url::parse(&std::env::var("DATABASE_URL").unwrap()).unwrap();
    database_url.set_path(&database);
    let c = &d.config;
    let cwd = tempfile::tempdir().unwrap();
    let run = |extra: &[(&str, &str)]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_api"));
        command
            .arg("doctor")
            .current_dir(cwd.path())
            .env_clear()
            .env("RUST_LOG", "warn")
            .env("DATABASE_URL", database_url.as_str())
            .env("REDIS_URL", &c.redis.url)
            .env("AG_API__PUBLIC_URL", &c.api.public_url)
            .env(
                "AG_PROVIDERS__GOOGLE__PLACES_BASE_URL",
                &c.providers.google.places_base_url,
            )
            .env(
                "AG_PROVIDERS__GOOGLE__GEMINI_BASE_URL",
                &c.providers.google.gemini_base_url,
            )
            .env(
                "AG_LINKEDIN__CLIENT_ID",
                c.linkedin.client_id.as_deref().unwrap(),
            )
            .env(
                "AG_LINKEDIN__CLIENT_SECRET",
                c.linkedin.client_secret.as_deref().unwrap(),
            )
            .env("AG_LINKEDIN__AUTHORIZE_URL", &c.linkedin.authorize_url)
            .env("AG_LINKEDIN__TOKEN_URL", &c.linkedin.token_url)
            .env("AG_LINKEDIN__USERINFO_URL", &c.linkedin.userinfo_url)
            .env("AG_LINKEDIN__API_BASE_URL", &c.linkedin.api_base_url)
            .env("AG_MAIL__SMTP_PORT", c.mail.smtp_port.to_string())
            .env("AG_STORAGE__LOCAL_DIR", &c.storage.local_dir);
        for (k, v) in extra {
            command.env(k, v);
        }
        command
    };
    let all_ok = run(&[]).output().await.expect("the api binary runs");
    let stdout = String::from_utf8_lossy(&all_ok.stdout);
    println!("{stdout}");
    assert!(
        all_ok.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&all_ok.stderr)
    );
    assert!(stdout.contains(", 0 warn, 0 fail"), "{stdout}");
    let broken = run(&[(
        "AG_PROVIDERS__GOOGLE__IMAGE_MODEL",
        "imagen-3.0-generate-002",
    )])
    .output()
    .await
    .expect("the api binary runs");
    let stdout = String::from_utf8_lossy(&broken.stdout);
    println!("{stdout}");
    assert!(!broken.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("FAIL"))
        .unwrap_or_else(|| panic!("no FAIL line:\n{stdout}"));
    assert!(line.contains("gemini image model"), "{line}");
    assert!(line.contains("AG_PROVIDERS__GOOGLE__IMAGE_MODEL"), "{line}");
    // A configuration start-up refuses never reaches the checks: the setting is named.
    let refused = run(&[
        (
            "AG_PROVIDERS__GOOGLE__PLACES_BASE_URL",
            "https://places.googleapis.com",
        ),
        ("AG_PROVIDERS__GOOGLE__API_KEY", "sandbox-google-key"),
    ])
    .output()
    .await
    .expect("the api binary runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("providers.google.api_key"), "{stderr}");
}
