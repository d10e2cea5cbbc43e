//! A new owner's path from "launch" to "it's out", in a real browser (headless Chromium)
//! against the real app, PostgreSQL, a private Redis and the provider sandbox over HTTP:
//! she connects LinkedIn through its consent page (her name and photo come back), launches
//! a campaign with the wizard, reads her posts as LinkedIn will show them, approves the
//! best ones at once, moves one in the week calendar with the keyboard, publishes one now
//! and takes it back, then pauses all her publishing. The pipeline's steps between launch
//! and review are played by the test (rows as the workers write them): the workers' own
//! tests run them for real. Screenshots at 1280 and 390 px in `target/screenshots/walk-*`,
//! each page checked with axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use fantoccini::Locator;
use serde_json::json;
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app_with};
use test_support::browser::{Browser, Language, sign_up_and_in};
use test_support::sandbox::TestSandbox;

const ENTER: &str = "\u{e007}";

/// Three posts: two good ones (one long enough for LinkedIn's "…see more") and a weak one.
const LONG: &str = "Every morning at six, the ovens of Boulangerie Martin in Lyon 4e wake up \
    before the street does. Our sourdough rests for twenty hours, our croissants are rolled \
    by hand with butter from the Alps, and our baguettes come out golden at seven. Come and \
    taste the difference a slow morning makes.";

async fn slot(app: &TestApp, content: i64) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("SELECT scheduled_at FROM contents WHERE id = $1")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn status(app: &TestApp, content: i64) -> String {
    sqlx::query_scalar("SELECT status::text FROM contents WHERE id = $1")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Waits until the browser shows a page whose path starts with `prefix`.
async fn wait_path(b: &Browser, prefix: &str) -> String {
    let mut last = String::new();
    let reached = test_support::poll_until(Duration::from_secs(15), async || {
        last = b.path().await;
        last.starts_with(prefix)
    })
    .await;
    assert!(
        reached,
        "never reached {prefix}; at {last}: {}",
        b.body().await
    );
    last
}

/// The same number of posts waiting for her on every page that counts them: the gallery's
/// count and the API's.
async fn counts_agree(app: &TestApp, b: &Browser, pending: usize, approved: usize) {
    b.goto("/contents?status=pending").await;
    let shown = if pending == 0 {
        b.is_shown("#gallery-count").await
    } else {
        b.text("#gallery-count").await.starts_with(&match pending {
            1 => "One post.".to_owned(),
            n => format!("{n} posts."),
        })
    };
    assert!(
        pending == 0 && !shown || pending > 0 && shown,
        "gallery count"
    );
    let api: serde_json::Value = app.user.get("/api/schedule").await.json().await.unwrap();
    assert_eq!(api["items"].as_array().unwrap().len(), approved, "{api}");
    b.goto("/schedule").await;
    let listed = b
        .client
        .find_all(Locator::Css("li[id^='post-']"))
        .await
        .unwrap()
        .len();
    assert_eq!(listed, approved, "the schedule lists the approved posts");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_owner_goes_from_launch_to_published_and_pauses(db: PgPool) {
    let sandbox = TestSandbox::fast().await;
    // LinkedIn sends the browser back to the app's public URL: this app's own address.
    let port = test_support::free_port();
    let app = spawn_app_with(
        db,
        |c| {
            sandbox.point(c);
            c.api.bind = format!("127.0.0.1:{port}");
            c.api.public_url = format!("http://127.0.0.1:{port}");
        },
        None,
    )
    .await;
    let b = Browser::start(&app.address, Language::English.accept()).await;
    let email = "claire@bakery.example";
    sign_up_and_in(&b, email).await;
    app.sign_in_as(email).await;
    let user_id = app.user_id(email).await;

    // Connect: the profile's button, LinkedIn's consent page, back with her name and her
    // photo (served by the app from its copy: the page allows images from itself only).
    b.goto("/profile").await;
    b.click("#linkedin-connect").await;
    assert!(b.text("h1").await.contains("would like to access"));
    b.click("#allow").await;
    wait_path(&b, "/profile").await;
    let name = b.text("#linkedin-member").await;
    assert!(!name.is_empty() && !name.starts_with("Member"), "{name}");
    let photo = b
        .client
        .find(Locator::Css("#linkedin-photo"))
        .await
        .unwrap();
    let loaded = test_support::poll_until(Duration::from_secs(10), async || {
        b.client
            .execute(
                "return arguments[0].complete ? arguments[0].naturalWidth : 0;",
                vec![serde_json::to_value(&photo).unwrap()],
            )
            .await
            .unwrap()
            == json!(100)
    })
    .await;
    assert!(loaded, "her LinkedIn photo did not load");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("walk-01-connected").await;

    // A campaign, launched with the wizard.
    b.goto("/campaigns/new").await;
    b.fill("#name", "Lyon bakeries").await;
    b.click("#wizard-next").await;
    b.fill("#industry", "bakery").await;
    b.click("#wizard-next").await;
    b.fill("#city", "Lyon").await;
    b.click("#wizard-next").await;
    let launched = wait_path(&b, "/campaigns/").await;
    let campaign: i64 = launched
        .trim_start_matches("/campaigns/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // The pipeline found three businesses and wrote their posts (played here).
    let long = app.insert_content(campaign, 92, "pending").await;
    let short = app.insert_content(campaign, 85, "pending").await;
    let weak = app.insert_content(campaign, 60, "pending").await;
    sqlx::query("UPDATE contents SET text = $2 WHERE id = $1")
        .bind(long)
        .bind(LONG)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE campaigns SET status = 'ready' WHERE id = $1")
        .bind(campaign)
        .execute(&app.db)
        .await
        .unwrap();
    counts_agree(&app, &b, 3, 0).await;

    // The preview: her name, the text cut where LinkedIn cuts it, "…see more" opening it.
    b.goto("/contents?status=pending").await;
    assert_eq!(
        b.text(&format!("#content-{long} [data-author]")).await,
        name
    );
    let shown = b.text(&format!("#text-of-{long}")).await;
    assert!(shown.chars().count() <= 210, "{shown}");
    assert!(LONG.starts_with(&shown), "{shown}");
    assert!(
        b.text(&format!("#content-{long} [data-see-more] summary"))
            .await
            .ends_with("see more")
    );
    assert!(
        b.client
            .find(Locator::Css(&format!("#content-{short} [data-see-more]")))
            .await
            .is_err(),
        "a short post shows whole"
    );
    b.assert_no_horizontal_scroll().await;
    b.screenshot("walk-02-previews").await;
    b.press(&format!("#content-{long} [data-see-more] summary"))
        .await;
    assert!(
        b.text(&format!("#content-{long} [data-see-more]"))
            .await
            .contains("slow morning makes")
    );

    // Bulk review: every post at 80 or more, approved at once; the weak one waits.
    b.fill("#at-least", "80").await;
    b.click("#approve-at-least").await;
    assert_eq!(
        b.text("#notice").await,
        "2 posts approved: they take the next free slots."
    );
    assert_eq!(status(&app, long).await, "approved");
    assert_eq!(status(&app, short).await, "approved");
    assert_eq!(status(&app, weak).await, "pending");
    b.screenshot("walk-03-bulk-approved").await;
    // Sending it again approves nothing more.
    b.click("#approve-at-least").await;
    assert_eq!(
        b.text("#notice").await,
        "No post was approved: none was waiting at that quality."
    );
    counts_agree(&app, &b, 1, 2).await;

    // The week calendar of her first post: moved to the first free slot with the keyboard
    // (Enter on the post, Enter on the slot).
    let first = slot(&app, long).await.unwrap();
    let tz = chrono_tz::Europe::Paris;
    let day = first.with_timezone(&tz).format("%Y-%m-%d").to_string();
    b.goto(&format!("/schedule?view=week&from={day}")).await;
    assert!(b.is_shown(&format!("#cal-post-{long}")).await);
    b.assert_no_horizontal_scroll().await;
    b.screenshot("walk-04-week").await;
    // Her first post's week may have no free slot left (run late in the week): the next.
    if b.client.find(Locator::Css("[data-drop]")).await.is_err() {
        b.click("#calendar-next").await;
    }
    let free = b
        .client
        .find(Locator::Css("[data-drop]"))
        .await
        .unwrap()
        .attr("data-drop")
        .await
        .unwrap()
        .unwrap();
    let grab = b
        .client
        .find(Locator::Css(&format!("#grab-{long}")))
        .await
        .unwrap();
    grab.send_keys(ENTER).await.unwrap();
    let focused = b.client.active_element().await.unwrap();
    assert_eq!(
        focused.attr("data-drop").await.unwrap().as_deref(),
        Some(free.as_str()),
        "Enter on a post takes the keyboard to the first free slot"
    );
    focused.send_keys(ENTER).await.unwrap();
    wait_path(&b, "/schedule?done=moved&view=week").await;
    let moved: DateTime<Utc> = DateTime::parse_from_rfc3339(&free).unwrap().into();
    assert_eq!(slot(&app, long).await, Some(moved));
    assert_eq!(b.text("#notice").await, "Moved.");
    b.screenshot("walk-05-week-moved").await;
    b.goto(&format!("/schedule?view=month&from={day}")).await;
    b.assert_no_horizontal_scroll().await;
    b.screenshot("walk-06-month").await;

    // Publish now, then undo: back in the slot it had, nothing sent.
    b.goto("/schedule").await;
    let before = slot(&app, short).await.unwrap();
    b.click(&format!("#publish-now-{short}")).await;
    assert!(slot(&app, short).await.unwrap() < before);
    b.screenshot("walk-07-publish-now-undo").await;
    b.click("#undo").await;
    assert_eq!(
        b.text("#notice").await,
        "Undone: the post is back where it was."
    );
    assert_eq!(slot(&app, short).await, Some(before));
    assert_eq!(sandbox.posts().await.len(), 0);

    // Pause all: the switch, the state said on the page and kept.
    b.click("#pause").await;
    assert_eq!(b.text("#notice").await, "All your publishing is paused.");
    assert_eq!(b.text("#pause-heading").await, "Publishing is paused");
    let paused: bool = sqlx::query_scalar(
        "SELECT publishing_paused_at IS NOT NULL FROM user_profiles WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(paused);
    b.screenshot("walk-08-paused").await;
    // "Publish now" is refused while paused, with why.
    b.click(&format!("#publish-now-{short}")).await;
    assert_eq!(
        b.text("#notice").await,
        "Your publishing is paused: resume it to publish this post now."
    );
    b.click("#resume").await;
    assert_eq!(
        b.text("#notice").await,
        "Publishing resumed: the waiting posts took the next free slots."
    );
    counts_agree(&app, &b, 1, 2).await;
    b.close().await;
}
