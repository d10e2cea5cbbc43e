//! The owner's live campaign page and the content gallery in a real browser (headless
//! Chromium, see `web/driver.rs`) against the real app, PostgreSQL and a private Redis.
//! The pipeline is played by the test: it changes the rows the way the workers do, then
//! publishes their events with `shared::events`, so a reload agrees with what the page
//! showed live. Screenshots at 1280 and 390 px land in `target/screenshots/live-*` and
//! `gallery-*`; each is checked with axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use shared::events::{Event, EventKind};
use sqlx::PgPool;
use test_support::app::{PASSWORD, TestApp, spawn_app};
use test_support::browser::{Browser, Language};

/// Signs up and in through the pages; answers the new user's id.
async fn owner(app: &TestApp, b: &Browser, email: &str) -> i64 {
    b.goto("/sign-up").await;
    b.fill("#name", "Ana Martin").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/sign-up'] button[type=submit]").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form[action='/sign-in'] button[type=submit]").await;
    assert_eq!(b.path().await, "/");
    app.user_id(email).await
}

/// A campaign of `user_id` in `status`, as the pipeline leaves it.
async fn campaign(app: &TestApp, user_id: i64, name: &str, status: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status, launched_at)
         VALUES ($1, $2, 'boulangerie', 'Lyon', $3, now()) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(status)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The text of `css` once `ok` holds for it; fails with the last text after 15 s.
async fn wait_for(b: &Browser, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::from("(not found)");
    let matched = test_support::poll_until(Duration::from_secs(15), async || {
        if let Ok(e) = b.client.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            let matched = ok(&text);
            last = text;
            return matched;
        }
        false
    })
    .await;
    assert!(matched, "{css} never matched; last: {last:?}");
    last
}

/// The scorers' breakdown of a lead (workers/src/pipeline/scoring.rs), for 72 points.
fn lead_breakdown() -> serde_json::Value {
    json!({"total": 72, "signals": [
        {"signal": "website", "points": 15, "max": 15, "detail": "https://boulangerie-martin.example"},
        {"signal": "website_reachable", "points": 10, "max": 10, "detail": "the site answered"},
        {"signal": "email", "points": 0, "max": 20, "detail": "no e-mail found"},
        {"signal": "phone", "points": 15, "max": 15, "detail": "+33 4 78 00 00 00"},
        {"signal": "rating", "points": 10, "max": 15, "detail": "4.3 stars"},
        {"signal": "reviews", "points": 12, "max": 15, "detail": "48 reviews"},
        {"signal": "address", "points": 10, "max": 10, "detail": "street, city and postal code"},
    ]})
}

/// A post's quality breakdown, for 85 points.
fn post_breakdown() -> serde_json::Value {
    json!({"total": 85, "signals": [
        {"signal": "length", "points": 20, "max": 20, "detail": "182 characters"},
        {"signal": "names_business", "points": 15, "max": 15, "detail": "Boulangerie Martin"},
        {"signal": "names_city", "points": 10, "max": 10, "detail": "Lyon"},
        {"signal": "hashtags", "points": 0, "max": 15, "detail": "2 hashtags"},
        {"signal": "image", "points": 20, "max": 20, "detail": "an image goes with the post"},
        {"signal": "call_to_action", "points": 10, "max": 10, "detail": "asks the reader to visit"},
        {"signal": "clean", "points": 10, "max": 10, "detail": "no template leftovers"},
    ]})
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_watches_a_running_campaign_update_without_reloading(db: PgPool) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, Language::French.accept()).await;
    let user_id = owner(&app, &b, "ana@live.example").await;
    let id = campaign(&app, user_id, "Boulangeries de Lyon", "scraping").await;
    let other = campaign(&app, user_id, "Une autre campagne", "scraping").await;

    b.goto(&format!("/campaigns/{id}")).await;
    // The live panel shows once the stream is open; from here the page must not reload.
    // (Its first message re-sends the counters: read through `wait_for`, which tolerates
    // an element replaced while it is read.)
    wait_for(&b, "#live", |t| t.contains("En direct")).await;
    wait_for(&b, "#campaign-status", |t| t == "Recherche").await;
    wait_for(&b, "#kpi-leads", |t| t == "0").await;
    b.client
        .execute("window.agMarker = 'same page';", vec![])
        .await
        .unwrap();
    let events = app.publisher().await;

    // The scrape stores three leads and says so; another campaign's news is not shown.
    events
        .publish(user_id, &Event::new(EventKind::LeadsFound, other).count(9))
        .await;
    let martin = app.insert_lead(id, "Boulangerie Martin").await;
    app.insert_lead(id, "Aux Délices de la Croix-Rousse").await;
    app.insert_lead(id, "Le Fournil du Parc").await;
    sqlx::query("UPDATE campaigns SET leads_count = 3, status = 'enriching' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    events
        .publish(user_id, &Event::new(EventKind::LeadsFound, id).count(3))
        .await;
    events
        .publish(
            user_id,
            &Event::new(EventKind::CampaignStatus, id).status("enriching"),
        )
        .await;
    wait_for(&b, "#kpi-leads", |t| t == "3").await;
    wait_for(&b, "#campaign-status", |t| t == "Analyse").await;
    let activity = wait_for(&b, "#activity-list", |t| t.contains("3 commerces trouvés")).await;
    assert!(!activity.contains("9 commerces"), "{activity}");
    assert!(
        b.text("#campaign-leads")
            .await
            .contains("Le Fournil du Parc")
    );

    // One lead enriched: its row gets its score and the breakdown behind it.
    sqlx::query(
        "UPDATE leads SET lead_score = 72, score_breakdown = $2, stage = 'enriched',
                enriched_at = now() WHERE id = $1",
    )
    .bind(martin)
    .bind(lead_breakdown())
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE campaigns SET enriched_count = 1 WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    events
        .publish(
            user_id,
            &Event::new(EventKind::LeadEnriched, id)
                .lead(martin)
                .score(72),
        )
        .await;
    wait_for(&b, &format!("#lead-{martin} [data-score]"), |t| t == "72").await;
    wait_for(&b, "#kpi-enriched", |t| t == "1").await;
    wait_for(&b, "#activity-list", |t| {
        t.contains("Boulangerie Martin analysé : score 72/100")
    })
    .await;

    // Gemini is busy: the page says so in plain words, with the next try in local time.
    let until = chrono::Utc::now() + chrono::Duration::minutes(2);
    events
        .publish(
            user_id,
            &Event::new(EventKind::Deferred, id)
                .reason("Gemini rate limit of the app (all users) reached (60 calls a minute), resumes in 2 min")
                .until(until),
        )
        .await;
    let activity = wait_for(&b, "#activity-list", |t| t.contains("nouvel essai à")).await;
    assert!(
        activity.contains("En pause : trop de demandes envoyées à Gemini, nouvel essai à"),
        "{activity}"
    );
    assert!(
        !activity.contains("UTC"),
        "the time is shown locally: {activity}"
    );

    // The breakdown opens without JavaScript's help (<details>).
    b.client
        .find(Locator::Css(&format!("#lead-{martin} summary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let breakdown = b.text(&format!("#lead-{martin} details")).await;
    assert!(breakdown.contains("Site web"), "{breakdown}");
    assert!(breakdown.contains("Aucun e-mail trouvé"), "{breakdown}");
    assert!(breakdown.contains("4,3 étoiles"), "{breakdown}");
    assert!(breakdown.contains("0/20"), "{breakdown}");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("live-01-running-fr").await;
    b.client
        .execute(
            "document.getElementById(arguments[0]).scrollIntoView();",
            vec![json!(format!("lead-{martin}"))],
        )
        .await
        .unwrap();
    b.screenshot("live-02-breakdown-fr").await;

    // A post written, then the campaign done: counters, contents and status follow.
    let content: i64 = sqlx::query_scalar(
        "INSERT INTO contents (lead_id, campaign_id, user_id, text, hashtags, quality_score,
                               score_breakdown, status)
         VALUES ($1, $2, $3, 'Chez Boulangerie Martin à Lyon, le pain sort du four à 7 h. Venez goûter !',
                 ARRAY['lyon', 'boulangerie'], 85, $4, 'pending') RETURNING id",
    )
    .bind(martin)
    .bind(id)
    .bind(user_id)
    .bind(post_breakdown())
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query("UPDATE leads SET stage = 'generated' WHERE id = $1")
        .bind(martin)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("UPDATE campaigns SET contents_count = 1, status = 'ready' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    events
        .publish(
            user_id,
            &Event::new(EventKind::ContentGenerated, id)
                .lead(martin)
                .content(content)
                .score(85)
                .status("pending"),
        )
        .await;
    wait_for(&b, "#kpi-contents", |t| t == "1").await;
    wait_for(&b, "#campaign-contents", |t| {
        t.contains("pain sort du four")
    })
    .await;
    sqlx::query("UPDATE campaigns SET status = 'completed', completed_at = now() WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    events
        .publish(
            user_id,
            &Event::new(EventKind::CampaignStatus, id).status("completed"),
        )
        .await;
    wait_for(&b, "#campaign-status", |t| t == "Terminée").await;
    wait_for(&b, "#campaign-status-help", |t| {
        t == "Cette campagne est terminée."
    })
    .await;
    wait_for(&b, "#activity-list", |t| t.contains("Campagne : Terminée")).await;
    let marker = b
        .client
        .execute("return window.agMarker;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, json!("same page"), "the page was reloaded");
    b.screenshot("live-03-finished-fr").await;

    // A reload agrees with what the page showed live.
    b.goto(&format!("/campaigns/{id}")).await;
    assert_eq!(b.text("#kpi-leads").await, "3");
    assert_eq!(b.text("#kpi-enriched").await, "1");
    assert_eq!(b.text("#kpi-contents").await, "1");
    assert_eq!(b.text("#campaign-status").await, "Terminée");
    assert_eq!(b.text(&format!("#lead-{martin} [data-score]")).await, "72");
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_filters_edits_and_approves_posts_in_the_gallery(db: PgPool) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, Language::English.accept()).await;
    let user_id = owner(&app, &b, "ana@gallery.example").await;
    let spring = campaign(&app, user_id, "Spring bakeries", "ready").await;
    let autumn = campaign(&app, user_id, "Autumn florists", "ready").await;
    let good = app.insert_content(spring, 85, "pending").await;
    let weak = app.insert_content(spring, 40, "pending").await;
    let elsewhere = app.insert_content(autumn, 90, "pending").await;
    // The good one as the generate job leaves it: a real breakdown and an image.
    let key = shared::storage::image_key(user_id, good, "png");
    let storage = shared::storage::Storage::from_config(
        &test_support::app::test_config(&app.redis.url()).storage,
    )
    .unwrap();
    storage
        .put(&key, include_bytes!("fixtures/post-image.png").to_vec())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE contents SET score_breakdown = $2, image_key = $3,
                text = 'At Boulangerie Martin in Lyon, bread leaves the oven at 7 am. Visit us!'
         WHERE id = $1",
    )
    .bind(good)
    .bind(post_breakdown())
    .bind(&key)
    .execute(&app.db)
    .await
    .unwrap();

    // All three wait; a minimum score of 80 in one campaign leaves the good one.
    b.goto("/contents").await;
    assert_eq!(b.text("#gallery-count").await, "3 posts.");
    b.fill("#filter-min-score", "80").await;
    b.client
        .find(Locator::Css(&format!(
            "#filter-campaign option[value='{spring}']"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.click("#apply-filters").await;
    assert_eq!(
        b.path().await,
        format!("/contents?status=pending&campaign={spring}&min_score=80")
    );
    assert_eq!(b.text("#gallery-count").await, "One post.");
    let shown = b.text("#contents").await;
    assert!(shown.contains("Boulangerie Martin"), "{shown}");
    for hidden in [weak, elsewhere] {
        assert!(
            b.client
                .find(Locator::Css(&format!("#content-{hidden}")))
                .await
                .is_err()
        );
    }

    // Its image, loaded lazily from the owner-only route, with a text alternative.
    let img = b
        .client
        .find(Locator::Css(&format!("#content-{good} img")))
        .await
        .unwrap();
    assert_eq!(img.attr("loading").await.unwrap().as_deref(), Some("lazy"));
    assert!(
        !img.attr("alt")
            .await
            .unwrap()
            .unwrap_or_default()
            .is_empty()
    );
    test_support::wait_for(Duration::from_secs(10), "the image loads", async || {
        let width = b
            .client
            .execute(
                "return arguments[0].complete ? arguments[0].naturalWidth : 0;",
                vec![serde_json::to_value(&img).unwrap()],
            )
            .await
            .unwrap();
        width == json!(480)
    })
    .await;

    // Its quality breakdown.
    b.client
        .find(Locator::Css(&format!(
            "#content-{good} details[data-key] summary"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let breakdown = b.text(&format!("#content-{good} details[data-key]")).await;
    assert!(breakdown.contains("Names the business"), "{breakdown}");
    assert!(breakdown.contains("2 hashtags"), "{breakdown}");
    assert!(
        breakdown.contains("Asks the reader to “visit”"),
        "{breakdown}"
    );
    b.assert_no_horizontal_scroll().await;
    b.screenshot("gallery-01-filtered").await;

    // Editing: an empty text first, refused next to the field; then a good one.
    b.client
        .find(Locator::Css(&format!("#edit-{good} summary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let field = format!("#text-{good}");
    b.client
        .find(Locator::Css(&field))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.click(&format!("#save-{good}")).await;
    assert_eq!(
        b.text(&format!("#text-{good}-error")).await,
        "Please fill this in."
    );
    assert_eq!(
        b.client
            .find(Locator::Css(&field))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.screenshot("gallery-02-edit-invalid").await;
    b.fill(
        &field,
        "Bread from Boulangerie Martin, Lyon: out of the oven at 7 am. Come and taste it!",
    )
    .await;
    b.click(&format!("#save-{good}")).await;
    assert!(
        b.path().await.starts_with(&format!(
            "/contents?status=pending&campaign={spring}&min_score=80&done=edited"
        )),
        "{}",
        b.path().await
    );
    assert_eq!(
        b.text("#notice").await,
        "Text saved. Approve the post when it reads right."
    );
    wait_for(&b, "#toast-announcer", |t| t.starts_with("Text saved.")).await;
    assert!(
        b.text(&format!("#text-of-{good}"))
            .await
            .starts_with("Bread from Boulangerie Martin")
    );
    b.screenshot("gallery-03-edited").await;

    // Approve: the toast, announced, and the post leaves the waiting list.
    b.click(&format!("#approve-{good}")).await;
    assert_eq!(
        b.text("#notice").await,
        "Approved. Connect LinkedIn so it can be published."
    );
    wait_for(&b, "#toast-announcer", |t| t.starts_with("Approved.")).await;
    // The list kept its filters (a minimum score): its empty message says so.
    let empty = b.text("#gallery-empty").await;
    assert!(
        empty.starts_with("No post here has a quality of"),
        "{empty}"
    );
    b.screenshot("gallery-04-approved").await;
    // Closing the toast keeps the page (JavaScript), the notice is gone.
    b.client
        .find(Locator::Css("#toast [data-toast-close]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(b.client.find(Locator::Css("#toast")).await.is_err());
    let (status, text): (String, String) =
        sqlx::query_as("SELECT status, text FROM contents WHERE id = $1")
            .bind(good)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(status, "approved");
    assert!(text.starts_with("Bread from"), "{text}");
    b.close().await;
}
