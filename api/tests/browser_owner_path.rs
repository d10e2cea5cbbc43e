//! The owner's path through the dashboard in a real browser (headless Chromium, see
//! `test-support/src/browser`), in French and in English, at 1280 and 390 px: a new
//! owner's first steps on home, the one count of her posts on home, a campaign and Posts,
//! each figure leading to the posts it counts, the phone's menu on every page, and the
//! admin overview on a phone. Screenshots land in `target/screenshots/owner-*` (each one
//! also passes axe).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_support;

use admin_support::bury;
use serde_json::json;
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app};
use test_support::browser::{Browser, Language, WIDTHS, sign_in_home, sign_up_and_in};

/// A campaign of `user_id` with posts in every state: 2 waiting for approval, 3 in the
/// schedule (the next one tomorrow), 1 published, 1 failed. Returns its id.
async fn campaign_with_posts(app: &TestApp, user_id: i64) -> i64 {
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status)
         VALUES ($1, 'Printemps', 'boulangerie', 'Bordeaux', 'ready') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for _ in 0..2 {
        app.insert_content(campaign, 60, "pending").await;
    }
    for day in 1..=3 {
        let id = app.insert_content(campaign, 85, "approved").await;
        sqlx::query(
            "UPDATE contents SET approved_at = now(),
                    scheduled_at = date_trunc('hour', now()) + make_interval(days => $2)
             WHERE id = $1",
        )
        .bind(id)
        .bind(day)
        .execute(&app.db)
        .await
        .unwrap();
    }
    app.insert_content(campaign, 90, "published").await;
    // The campaign's counters, as the pipeline keeps them beside its rows.
    sqlx::query(
        "UPDATE campaigns SET leads_count = 7, enriched_count = 7, contents_count = 7,
                published_count = 1 WHERE id = $1",
    )
    .bind(campaign)
    .execute(&app.db)
    .await
    .unwrap();
    let failed = app.insert_content(campaign, 80, "failed").await;
    sqlx::query("UPDATE contents SET error = 'LinkedIn refused the post' WHERE id = $1")
        .bind(failed)
        .execute(&app.db)
        .await
        .unwrap();
    campaign
}

/// The figure of the post count card `id`.
async fn figure(b: &Browser, id: &str) -> String {
    b.text(&format!("#{id} [data-count]")).await
}

/// The page at the phone's width only, with axe: what only a phone shows (an open menu).
async fn phone_screenshot(b: &Browser, name: &str) {
    b.resize(WIDTHS[1]).await;
    b.assert_accessible(name, WIDTHS[1].0).await;
    let dir = test_support::browser::screenshots_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let png = b.client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}-{}.png", WIDTHS[1].0)), png).unwrap();
}

async fn the_path_adds_up(db: PgPool, lang: Language) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let email = "ana@bakery.example";
    sign_up_and_in(&b, email).await;
    let tag = lang.code();
    let user_id = app.user_id(email).await;

    // A new owner: her first steps, none done, and LinkedIn to connect.
    assert!(b.is_shown("#first-steps").await);
    assert_eq!(
        b.text("#first-steps-progress").await,
        lang.says("0 sur 5 faits", "0 of 5 done")
    );
    assert!(b.is_shown("#attention-connect").await);
    assert_eq!(figure(&b, "count-to-approve").await, "0");
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("path-01-new-home-{tag}")).await;

    // LinkedIn connected, a campaign with posts in every state.
    app.connect_linkedin_in_db(user_id).await;
    let campaign = campaign_with_posts(&app, user_id).await;
    b.goto("/").await;
    assert_eq!(figure(&b, "count-to-approve").await, "2");
    assert_eq!(figure(&b, "count-scheduled").await, "3");
    assert_eq!(figure(&b, "count-published").await, "1");
    assert_eq!(figure(&b, "count-needing").await, "1");
    let next = b.text("#count-next").await;
    assert!(
        next.contains(lang.says("(heure de Paris)", "(Paris time)")),
        "{next}"
    );
    assert!(!b.is_shown("#attention-connect").await);
    assert!(b.is_shown("#attention-pending").await);
    assert!(b.is_shown("#attention-failed").await);
    // Connect, campaign and approved are done; business details and schedule are not.
    assert_eq!(
        b.text("#first-steps-progress").await,
        lang.says("3 sur 5 faits", "3 of 5 done")
    );
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("path-02-home-counts-{tag}")).await;

    // The failed post's line leads to it.
    b.click("#attention-failed").await;
    assert_eq!(b.path().await, "/contents?status=failed");
    assert_eq!(
        b.text("#gallery-count").await,
        lang.says("Une publication.", "One post.")
    );

    // The campaign page: the same figures; its call to action names the two posts waiting
    // and leads to exactly them.
    b.goto(&format!("/campaigns/{campaign}")).await;
    assert_eq!(figure(&b, "count-to-approve").await, "2");
    assert_eq!(figure(&b, "count-scheduled").await, "3");
    let cta = b.text("#campaign-cta").await;
    assert!(cta.contains('2'), "{cta}");
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("path-03-campaign-{tag}")).await;
    b.click("#campaign-cta").await;
    assert_eq!(
        b.path().await,
        format!("/contents?status=pending&campaign={campaign}")
    );
    assert_eq!(
        b.text("#gallery-count").await,
        lang.says("2 publications.", "2 posts.")
    );

    // Posts opens on what waits for her; each filter says how many it holds.
    b.goto("/contents").await;
    assert_eq!(b.value("#filter-status").await, "pending");
    let options = b.text("#filter-status").await;
    assert!(
        options.contains("(3)") && options.contains("(7)"),
        "{options}"
    );
    b.screenshot(&format!("path-04-posts-{tag}")).await;
    // A list with nothing in it says why, and leads to all her posts.
    b.goto("/contents?status=rejected").await;
    assert!(b.is_shown("#gallery-empty").await);
    b.screenshot(&format!("path-05-posts-empty-{tag}")).await;
    b.click("#gallery-empty-all").await;
    assert_eq!(b.value("#filter-status").await, "all");

    // A phone: the header's links are in a menu, on every page; it opens without a
    // script, marks the page she is on, and leads to the others.
    b.resize(WIDTHS[1]).await;
    for page in [
        "/",
        "/contents",
        "/profile",
        &format!("/campaigns/{campaign}"),
    ] {
        b.goto(page).await;
        assert!(b.is_shown("#phone-menu-button").await, "{page}");
        assert!(!b.is_shown("header a[href='/profile']").await, "{page}");
    }
    b.goto("/contents").await;
    b.press("#phone-menu-button").await;
    assert!(b.is_shown("#phone-menu a[href='/profile']").await);
    assert_eq!(
        b.text("#phone-menu a[aria-current='page']").await,
        lang.says("Publications", "Posts")
    );
    phone_screenshot(&b, &format!("path-06-phone-menu-{tag}")).await;
    b.click("#phone-menu a[href='/profile']").await;
    assert_eq!(b.path().await, "/profile");
    // Wide again, the links are in the header and the menu is gone.
    b.resize(WIDTHS[0]).await;
    assert!(b.is_shown("header a[href='/profile']").await);
    assert!(!b.is_shown("#phone-menu-button").await);
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_path_adds_up_in_french(db: PgPool) {
    the_path_adds_up(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_path_adds_up_in_english(db: PgPool) {
    the_path_adds_up(db, Language::English).await;
}

/// Whether the element's right edge is inside the window: not cut off on a phone.
async fn fits_across(b: &Browser, css: &str) -> bool {
    b.client
        .execute(
            "const e = document.querySelector(arguments[0]);
             return !!e && e.getBoundingClientRect().right <= window.innerWidth;",
            vec![json!(css)],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_admin_overview_on_a_phone_shows_failures_and_its_pause_buttons(db: PgPool) {
    let app = spawn_app(db).await;
    bury(
        &app,
        "publish",
        "0190aaaa-0000-7000-8000-000000000001",
        "publish_post",
        Some(3),
        json!({ "content_id": 100 }),
        "linkedin answered 429: throttled",
    )
    .await;
    app.admin("root@example.com").await;
    for lang in [Language::English, Language::French] {
        let b = Browser::start(&app.address, lang.accept()).await;
        sign_in_home(&b, "root@example.com").await;
        b.goto("/admin").await;
        // The column that links to the scheduled jobs is called as their page is.
        let headers = b.text("#queues thead").await;
        assert!(
            headers.contains(lang.says("Planifiées", "Scheduled")),
            "{headers}"
        );
        assert!(!headers.contains(lang.says("Différées", "Delayed")));
        // A failure stands out.
        let dead = b
            .client
            .execute(
                "return document.querySelector(\"#queue-publish a[data-failures='1']\").className;",
                vec![],
            )
            .await
            .unwrap();
        assert!(dead.as_str().unwrap().contains("text-red-800"), "{dead}");
        b.resize(WIDTHS[1]).await;
        assert!(b.is_shown("#queues-scroll-hint").await);
        assert!(fits_across(&b, "#pause-publish").await);
        b.screenshot(&format!("path-07-admin-{}", lang.code()))
            .await;
        b.close().await;
    }
}
