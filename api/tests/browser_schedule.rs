//! The publishing schedule page in a real browser (headless Chromium, see `web/driver.rs`)
//! against the real app, PostgreSQL and a private Redis, in French and in English: the
//! owner's slots and time zone saved and read back, and the posts waiting for their slots
//! published now, moved to a free slot and taken out. Screenshots at 1280 and 390 px land
//! in `target/screenshots/schedule-*`; each screenshotted page also passes axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app};
use test_support::browser::{Browser, Language, WIDTHS, screenshots_dir, sign_up_and_in};

/// The browser's own time zone: neither the machine's nor the app's default (Paris), so a
/// field showing it was filled from the browser.
const BROWSER_ZONE: &str = "Asia/Tokyo";

/// Which days' boxes are ticked, Monday = 1.
async fn ticked_days(b: &Browser) -> Vec<u8> {
    let mut days = Vec::new();
    for d in 1..=7 {
        if b.is_checked(&format!("#day-{d}")).await {
            days.push(d);
        }
    }
    days
}

/// The owner's saved schedule row: zone, days, minutes after midnight, posts a day.
async fn saved_schedule(app: &TestApp, user_id: i64) -> Option<(String, Vec<i16>, Vec<i16>, i16)> {
    sqlx::query_as(
        "SELECT time_zone, days, times, per_day FROM posting_schedules WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

async fn slots_are_saved_and_shown_back(db: PgPool, lang: Language) {
    let app = spawn_app(db).await;
    let b = Browser::start_in_time_zone(&app.address, lang.accept(), BROWSER_ZONE).await;
    let email = "ana@bakery.example";
    sign_up_and_in(&b, email).await;
    let user_id = app.user_id(email).await;
    let tag = lang.code();
    let title = lang.says("Calendrier de publication", "Publishing schedule");

    // On a phone the header's links are in its menu.
    b.screenshot(&format!("schedule-00-home-{tag}")).await;
    b.resize(WIDTHS[1]).await;
    assert!(!b.is_shown("header a[href='/schedule']").await);
    b.press("#phone-menu-button").await;
    b.click("#phone-menu a[href='/schedule']").await;
    assert_eq!(b.text("h1").await, title);
    b.resize(WIDTHS[0]).await;
    b.goto("/").await;
    b.click("header a[href='/schedule']").await;
    assert_eq!(b.path().await, "/schedule");
    assert_eq!(b.text("h1").await, title);

    // Never saved: the browser's zone is offered instead of Paris, with the default slots.
    assert_eq!(b.value("#time-zone").await, BROWSER_ZONE);
    assert_eq!(ticked_days(&b).await, [2, 3, 4]);
    assert_eq!(b.value("#times").await, "09:00, 14:00");
    assert_eq!(b.value("#per-day").await, "2");
    assert_eq!(
        b.text("#schedule-empty").await,
        lang.says(
            "Aucun post approuvé n'attend. Les posts que vous approuvez prennent le prochain créneau libre.",
            "No approved post is waiting. Posts you approve take the next free slot."
        )
    );
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("schedule-01-default-{tag}")).await;

    // A zone that does not exist: refused in the page's language, what she typed kept
    // (not replaced by the browser's zone), the field marked, nothing saved.
    b.fill("#time-zone", "Lune/Mer_de_la_Tranquillite").await;
    b.click("#schedule-save").await;
    assert_eq!(
        b.text("#schedule-error").await,
        lang.says(
            "Ce fuseau horaire est inconnu : écrivez son nom IANA, comme Europe/Paris ou America/Montreal.",
            "This time zone is unknown: write its IANA name, like Europe/Paris or America/Montreal."
        )
    );
    assert_eq!(b.value("#time-zone").await, "Lune/Mer_de_la_Tranquillite");
    let invalid = b
        .client
        .find(Locator::Css("#time-zone"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    let border = b
        .client
        .execute(
            "return getComputedStyle(document.getElementById('time-zone')).borderTopColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(border, "rgb(239, 68, 68)", "the field is outlined in red");
    assert_eq!(saved_schedule(&app, user_id).await, None);
    b.assert_no_horizontal_scroll().await;
    b.screenshot_of(&format!("schedule-02-invalid-{tag}"), "#slots-heading")
        .await;

    // Montreal, Monday, Thursday and Saturday, two times typed out of order, one a day.
    b.fill("#time-zone", "America/Montreal").await;
    for d in [1, 2, 3, 6] {
        b.press(&format!("#day-{d}")).await;
    }
    assert_eq!(ticked_days(&b).await, [1, 4, 6]);
    b.fill("#times", "17:15, 8:30").await;
    b.fill("#per-day", "1").await;
    b.click("#schedule-save").await;
    assert_eq!(b.path().await, "/schedule?done=saved");
    assert_eq!(
        b.text("#notice").await,
        lang.says(
            "Créneaux enregistrés : les posts en attente ont pris leurs nouveaux créneaux.",
            "Slots saved: the posts waiting took their new slots."
        )
    );
    assert_eq!(
        saved_schedule(&app, user_id).await,
        Some((
            "America/Montreal".to_owned(),
            vec![1, 4, 6],
            vec![8 * 60 + 30, 17 * 60 + 15],
            1
        ))
    );
    b.screenshot(&format!("schedule-03-saved-{tag}")).await;

    // Read back after a reload: her zone now (the browser's is no longer offered), her
    // days, her times in order, her count.
    b.goto("/schedule").await;
    assert!(!b.is_shown("#notice").await);
    assert_eq!(b.value("#time-zone").await, "America/Montreal");
    assert_eq!(ticked_days(&b).await, [1, 4, 6]);
    assert_eq!(b.value("#times").await, "08:30, 17:15");
    assert_eq!(b.value("#per-day").await, "1");
    b.assert_no_horizontal_scroll().await;
    b.screenshot_of(
        &format!("schedule-04-slots-reloaded-{tag}"),
        "#slots-heading",
    )
    .await;
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_saves_her_slots_and_time_zone_and_finds_them_after_a_reload_in_french(
    db: PgPool,
) {
    slots_are_saved_and_shown_back(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_saves_her_slots_and_time_zone_and_finds_them_after_a_reload_in_english(
    db: PgPool,
) {
    slots_are_saved_and_shown_back(db, Language::English).await;
}

/// Three posts of one campaign, each for another business.
const POSTS: [(&str, &str); 3] = [
    (
        "Boulangerie Martin",
        "Des croissants tout chauds chaque matin à la Boulangerie Martin, Lyon 4e.",
    ),
    (
        "Le Fournil du Parc",
        "Le pain au levain du Fournil du Parc sort du four à 7 h : passez avant le travail.",
    ),
    (
        "Aux Délices de la Croix-Rousse",
        "Aux Délices de la Croix-Rousse : la galette des rois qui vaut la montée.",
    ),
];

/// The content's slot as stored.
async fn slot(app: &TestApp, content: i64) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("SELECT scheduled_at FROM contents WHERE id = $1")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The posts listed on the page, top to bottom, by content id.
async fn listed(b: &Browser) -> Vec<i64> {
    let ids = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll(\"li[id^='post-']\")).map(li => li.id);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value::<Vec<String>>(ids)
        .unwrap()
        .iter()
        .map(|id| id["post-".len()..].parse().unwrap())
        .collect()
}

/// The heading a post is listed under (its day, or "out of the schedule"), as written
/// (the page shows it in capitals).
async fn listed_under(b: &Browser, content: i64) -> String {
    let heading = b
        .client
        .execute(
            "return document.getElementById(arguments[0]).closest('ul')
                 .previousElementSibling.textContent.trim();",
            vec![json!(format!("post-{content}"))],
        )
        .await
        .unwrap();
    heading.as_str().unwrap().to_owned()
}

/// The free slots a post's "move" offers: (value, label).
async fn move_options(b: &Browser, content: i64) -> Vec<(String, String)> {
    let options = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0]))
                 .map(o => [o.value, o.textContent.trim()]);",
            vec![json!(format!("#move-at-{content} option"))],
        )
        .await
        .unwrap();
    serde_json::from_value(options).unwrap()
}

async fn scheduled_posts_are_published_moved_and_taken_out(db: PgPool, lang: Language) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let email = "ana@bakery.example";
    sign_up_and_in(&b, email).await;
    let user_id = app.user_id(email).await;
    let tag = lang.code();

    // Seeded through the JSON API as tests/schedule.rs does: LinkedIn connected, one slot a
    // day at 10:00 in Paris, three posts approved (each takes the next free day).
    app.sign_in_as(email).await;
    app.connect_linkedin_in_db(user_id).await;
    let saved = app
        .put_json(
            "/api/profile/schedule",
            &json!({"time_zone": "Europe/Paris", "days": [1, 2, 3, 4, 5, 6, 7],
                    "times": ["10:00"], "per_day": 1}),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let campaign = app.create_campaign("Boulangeries de Lyon").await;
    let mut posts = Vec::new();
    for (business, text) in POSTS {
        let id = app.insert_content(campaign, 80, "pending").await;
        sqlx::query("UPDATE contents SET text = $2 WHERE id = $1;")
            .bind(id)
            .bind(text)
            .execute(&app.db)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE leads SET business_name = $2 WHERE id = (SELECT lead_id FROM contents WHERE id = $1)",
        )
        .bind(id)
        .bind(business)
        .execute(&app.db)
        .await
        .unwrap();
        let approved: Value = app
            .post(&format!("/api/contents/{id}/approve"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(approved["queued_for_publishing"], true, "{approved}");
        posts.push(id);
    }
    let [first, second, third]: [i64; 3] = posts.clone().try_into().unwrap();
    let first_slot = slot(&app, first).await.unwrap();
    app.wait_for_jobs("publish_post", "publish", 3).await;

    b.goto("/schedule").await;
    assert_eq!(listed(&b).await, [first, second, third]);
    for (id, (business, text)) in posts.iter().zip(POSTS) {
        let line = b.text(&format!("#post-{id}")).await;
        assert!(line.starts_with(&format!("10:00 · {business}")), "{line}");
        assert!(line.contains(text), "{line}");
    }
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("schedule-05-upcoming-{tag}")).await;
    b.screenshot_of(
        &format!("schedule-06-upcoming-list-{tag}"),
        "#upcoming-heading",
    )
    .await;

    // The third is published now: its slot is a few seconds ahead (the time to undo),
    // its job is queued for then, and it heads the list at that time of day in Paris.
    b.click(&format!("#publish-now-{third}")).await;
    assert!(
        b.path()
            .await
            .starts_with(&format!("/schedule?done=published-now&undo={third}&was=")),
        "{}",
        b.path().await
    );
    assert_eq!(
        b.text("#notice").await,
        lang.says(
            "Il part dans quelques secondes. Vous changez d'avis ? Annulez maintenant.",
            "It goes out in a few seconds. Changed your mind? Undo it now."
        )
    );
    assert!(b.is_shown("#undo").await);
    let now_slot = slot(&app, third).await.unwrap();
    let ahead = now_slot - Utc::now();
    assert!(
        ahead > chrono::Duration::seconds(5) && ahead <= chrono::Duration::seconds(15),
        "{now_slot}"
    );
    app.wait_for_jobs("publish_post", "publish", 4).await;
    assert_eq!(listed(&b).await, [third, first, second]);
    let local = now_slot
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%-H:%M")
        .to_string();
    let line = b.text(&format!("#post-{third}")).await;
    assert!(line.starts_with(&format!("{local} · ")), "{line}");
    b.screenshot(&format!("schedule-07-published-now-{tag}"))
        .await;

    // The first moves to the last free slot offered: taken slots are not offered, and it
    // goes under that slot's day, after the second.
    let options = move_options(&b, first).await;
    assert!(options.len() >= 2, "{options:?}");
    let taken = [first_slot, slot(&app, second).await.unwrap()];
    for (value, _) in &options {
        let at: DateTime<Utc> = DateTime::parse_from_rfc3339(value).unwrap().into();
        assert!(!taken.contains(&at), "{value} is taken but offered");
    }
    let (value, label) = options.last().unwrap().clone();
    // On a phone "Coming up" comes before the slots' form, and the page comes back showing
    // the post just moved, not its top.
    b.resize(WIDTHS[1]).await;
    b.goto("/schedule").await;
    let above = b
        .client
        .execute(
            "return document.getElementById('upcoming').getBoundingClientRect().top
                 < document.getElementById('schedule-form').getBoundingClientRect().top;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        above,
        json!(true),
        "coming up is below the slots' form on a phone"
    );
    b.client
        .find(Locator::Css(&format!("#move-at-{first}")))
        .await
        .unwrap()
        .select_by_value(&value)
        .await
        .unwrap();
    b.click(&format!("#move-{first}")).await;
    assert_eq!(b.path().await, "/schedule?done=moved");
    assert!(
        b.is_in_view(&format!("#post-{first}")).await,
        "the moved post is out of sight"
    );
    let png = b.client.screenshot().await.unwrap();
    std::fs::write(
        screenshots_dir().join(format!("schedule-07-moved-{tag}-390.png")),
        png,
    )
    .unwrap();
    b.resize(WIDTHS[0]).await;
    assert_eq!(b.text("#notice").await, lang.says("Déplacé.", "Moved."));
    let moved: DateTime<Utc> = DateTime::parse_from_rfc3339(&value).unwrap().into();
    assert_eq!(slot(&app, first).await, Some(moved));
    assert!(moved > first_slot);
    app.wait_for_jobs("publish_post", "publish", 5).await;
    assert_eq!(listed(&b).await, [third, second, first]);
    let day = label.split(',').next().unwrap();
    assert_eq!(listed_under(&b, first).await, day);

    // The second is taken out: no slot, still approved, listed apart with "schedule" to
    // put it back and no "take out" any more.
    b.click(&format!("#unschedule-{second}")).await;
    assert!(
        b.path()
            .await
            .starts_with(&format!("/schedule?done=unscheduled&undo={second}&was=")),
        "{}",
        b.path().await
    );
    assert_eq!(
        b.text("#notice").await,
        lang.says(
            "Retiré du calendrier : il attend que vous le planifiiez à nouveau.",
            "Taken out of the schedule: it waits until you schedule it again."
        )
    );
    assert_eq!(slot(&app, second).await, None);
    let status: String = sqlx::query_scalar("SELECT status::text FROM contents WHERE id = $1")
        .bind(second)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "approved");
    assert_eq!(listed(&b).await, [third, first, second]);
    assert_eq!(
        listed_under(&b, second).await,
        lang.says("Hors calendrier", "Out of the schedule")
    );
    assert_eq!(
        b.text(&format!("#move-{second}")).await,
        lang.says("Planifier", "Schedule")
    );
    assert!(!b.is_shown(&format!("#unschedule-{second}")).await);
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("schedule-08-taken-out-{tag}")).await;
    b.screenshot_of(
        &format!("schedule-09-taken-out-list-{tag}"),
        &format!("#post-{first}"),
    )
    .await;
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_publishes_now_moves_and_takes_out_scheduled_posts_in_french(db: PgPool) {
    scheduled_posts_are_published_moved_and_taken_out(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_publishes_now_moves_and_takes_out_scheduled_posts_in_english(db: PgPool) {
    scheduled_posts_are_published_moved_and_taken_out(db, Language::English).await;
}

/// The week and month calendars and the pause switch, in her language, at both widths:
/// her posts in their slots, the free slots, the "Move to" menu named in her words, the
/// paused state said on the page.
async fn calendars_and_the_pause_switch(db: PgPool, lang: Language) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let email = "ana@bakery.example";
    sign_up_and_in(&b, email).await;
    let user_id = app.user_id(email).await;
    let tag = lang.code();
    app.sign_in_as(email).await;
    app.connect_linkedin_in_db(user_id).await;
    let saved = app
        .put_json(
            "/api/profile/schedule",
            &json!({"time_zone": "Europe/Paris", "days": [1, 2, 3, 4, 5],
                    "times": ["09:00", "14:00"], "per_day": 1}),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let campaign = app.create_campaign("Boulangeries de Lyon").await;
    let mut posts = Vec::new();
    for _ in 0..2 {
        let id = app.insert_content(campaign, 80, "pending").await;
        app.post(&format!("/api/contents/{id}/approve")).await;
        posts.push(id);
    }
    let first = slot(&app, posts[0]).await.unwrap();
    let day = first
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%d")
        .to_string();

    b.goto(&format!("/schedule?view=week&from={day}")).await;
    assert_eq!(b.text("#view-week").await, lang.says("Semaine", "Week"));
    assert!(b.is_shown(&format!("#cal-post-{}", posts[0])).await);
    // One a day: the post's day has its other slot "day full", not a target.
    let full = b.text(&format!("[data-day='{day}']")).await;
    assert!(
        full.contains(lang.says("jour complet", "day full")),
        "{full}"
    );
    // Its "Move to" menu, opened: labelled, in her words.
    b.press(&format!("#cal-post-{} summary", posts[0])).await;
    let label = b
        .text(&format!("label[for='cal-move-at-{}']", posts[0]))
        .await;
    assert_eq!(label, lang.says("Déplacer vers", "Move to"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("calendar-01-week-{tag}")).await;
    b.goto(&format!("/schedule?view=month&from={day}")).await;
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("calendar-02-month-{tag}")).await;

    b.click("#pause").await;
    assert_eq!(
        b.text("#pause-heading").await,
        lang.says("Les publications sont en pause", "Publishing is paused")
    );
    assert!(
        b.path()
            .await
            .starts_with("/schedule?done=paused&view=month")
    );
    b.screenshot(&format!("calendar-03-paused-{tag}")).await;
    b.click("#resume").await;
    assert_eq!(
        b.text("#pause-heading").await,
        lang.says("Les publications sont actives", "Publishing is on")
    );
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_calendars_and_the_pause_switch_in_french(db: PgPool) {
    calendars_and_the_pause_switch(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_calendars_and_the_pause_switch_in_english(db: PgPool) {
    calendars_and_the_pause_switch(db, Language::English).await;
}
