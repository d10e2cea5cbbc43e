//! What a deployment meets when Google moves under it, end to end (real PostgreSQL, a
//! private Redis, the api, a `workers` process and the sandbox playing Google): the image
//! model retired, and a daily Places quota named in `ErrorInfo`. Each must be a wait with
//! the reason, never a post without its image nor a retry every half minute.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use test_support::stack::Stack;

const RUN: Duration = Duration::from_secs(90);

fn reason(job: &jobs::admin::JobView) -> String {
    job.envelope
        .deferred
        .as_ref()
        .map(|d| d.reason.clone())
        .unwrap_or_default()
}

/// The day Google shuts the configured image model down: every content waits for the
/// operator with the reason (no attempt spent), nothing is published without its image,
/// and `/admin` names the setting to fix.
#[sqlx::test(migrations = "../migrations")]
async fn a_retired_image_model_makes_contents_wait_for_the_operator(db: PgPool) {
    let mut stack = Stack::start_with(
        db.clone(),
        sandbox::Options {
            retired_models: vec!["gemini-3.1-flash-image".into()],
            ..sandbox::Options::default()
        },
        |_| {},
    )
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Retired", "bakery", "Smallville").await;
    // Every lead's generation waits (the sandbox invents 7 bakeries in Smallville).
    let waiting = stack
        .scheduled_jobs("generate", RUN, |jobs| {
            jobs.len() == 7 && jobs.iter().all(|j| reason(j).contains("image_model"))
        })
        .await;
    for job in &waiting {
        let r = reason(job);
        assert!(
            r.contains("operator action needed")
                && r.contains("gemini-3.1-flash-image")
                && r.contains("providers.google.image_model"),
            "{r}"
        );
        assert_eq!(job.envelope.attempt, 0, "a wait uses no attempt: {r}");
    }
    // Nothing went out, and no content was finished without its image.
    assert!(stack.sandbox.posts().await.is_empty());
    let imageless: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM contents WHERE status <> 'generating' AND image_key IS NULL",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(imageless, 0, "a content finished without its image");
    let detail = owner.campaign(id).await;
    assert_eq!(detail["campaign"]["status"], "generating", "{detail}");
    // The operator's banner names the provider's answer and the setting.
    let hash = api::password::hash(test_support::PASSWORD.into())
        .await
        .unwrap();
    shared::db::users::create(
        &db,
        &shared::db::users::NewUser {
            email: "root@example.com",
            name: "Root",
            password_hash: &hash,
            role: shared::db::users::Role::Admin,
        },
    )
    .await
    .unwrap();
    let admin = stack.visitor();
    admin.sign_in_as("root@example.com").await;
    for (lang, words) in [
        ("en", "Operator action needed"),
        ("fr", "Intervention requise"),
    ] {
        let page = admin.page_in(lang, "/admin").await;
        assert!(page.contains("id=\"misconfigured-image\""), "{page}");
        assert!(page.contains(words), "{lang}");
        assert!(page.contains("providers.google.image_model"), "{lang}");
    }
}

/// Places says its daily quota is used up in an `ErrorInfo` (`metadata.quota_limit`
/// names a per-day limit): the scrape waits until the quota resets at Pacific midnight,
/// not 30 s, and asks no more meanwhile.
#[sqlx::test(migrations = "../migrations")]
async fn a_daily_places_quota_in_error_info_waits_until_pacific_midnight(db: PgPool) {
    // The reconciler every second, so the test sees whole runs of it go by.
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.reconcile_every_secs = 1;
    })
    .await;
    stack
        .sandbox
        .fault(json!({"route": "places.search", "count": 0, "status": 429,
            "quota": "day", "quota_detail": "error_info"}))
        .await;
    let metrics = format!("127.0.0.1:{}", test_support::free_port());
    stack
        .spawn_worker_with("w1", &["--metrics-bind", &metrics])
        .await;
    let metrics = format!("http://{metrics}/metrics");
    let owner = stack.connected_owner().await;
    owner.launch("Quota", "bakery", "Smallville").await;
    let waiting = stack
        .scheduled_jobs("scrape", RUN, |jobs| jobs.len() == 1)
        .await;
    let deferral = waiting[0].envelope.deferred.clone().unwrap();
    let now = jobs::now_ms();
    let wait = Duration::from_millis(deferral.until.saturating_sub(now));
    assert!(
        wait > Duration::from_secs(60) && wait <= Duration::from_secs(24 * 3600),
        "the scrape waits until the daily reset, not {wait:?}: {}",
        deferral.reason
    );
    // Pacific midnight is 07:00 (PDT) or 08:00 (PST) UTC; the engine's own jitter moves it
    // by seconds.
    let until =
        chrono::DateTime::from_timestamp_millis(i64::try_from(deferral.until).unwrap()).unwrap();
    let minute = until.format("%H").to_string().parse::<i64>().unwrap() * 60
        + until.format("%M").to_string().parse::<i64>().unwrap();
    assert!(
        (415..=425).contains(&minute) || (475..=485).contains(&minute),
        "the wait ends at Pacific midnight (07:00 or 08:00 UTC), not {until}"
    );
    assert_eq!(waiting[0].envelope.attempt, 0);
    // No more asking meanwhile: nothing of the scrape queue may run, and a whole run of
    // the reconciler (which wakes stalled campaigns) goes by without asking Places.
    let asked = stack.sandbox.log_len("places.search").await;
    harness::a_whole_run_later(&metrics, "reconcile", RUN).await;
    let scrape = jobs::QueueName::new("scrape").unwrap();
    let admin = jobs::admin::Admin::new(
        jobs::connect(&stack.redis_url(), Duration::from_secs(5))
            .await
            .unwrap(),
        &jobs::Settings::default(),
    );
    let sizes = admin.sizes(&scrape).await.unwrap();
    assert_eq!(
        (sizes.ready, sizes.in_flight, sizes.scheduled),
        (0, 0, 1),
        "{sizes:?}"
    );
    assert_eq!(stack.sandbox.log_len("places.search").await, asked);
}
