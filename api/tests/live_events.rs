//! `GET /campaigns/{id}/events` over plain HTTP: who may open it, what it carries (this
//! campaign's events only, as HTML in the reader's language), how many a user may hold,
//! and that a closed one gives back its Redis connection. The browser side is in
//! `browser_live.rs`. Also the gallery's filters kept in its paging links.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use shared::events::{Event, EventKind};
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app};
use tokio::time::Instant;

/// A campaign of the signed-in user in `status`, as the pipeline leaves it.
async fn campaign_in(app: &TestApp, name: &str, status: &str) -> i64 {
    let id = app.create_campaign(name).await;
    sqlx::query("UPDATE campaigns SET status = $2, launched_at = now() WHERE id = $1")
        .bind(id)
        .bind(status)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

/// Reads the stream until its text contains `wanted` (or `deadline` passes); answers all
/// that was read.
async fn read_until(response: &mut reqwest::Response, wanted: &str, deadline: Duration) -> String {
    let end = Instant::now() + deadline;
    let mut text = String::new();
    while !text.contains(wanted) {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    text
}

/// Subscribers of a user's event channel, as Redis counts them.
async fn subscribers(app: &TestApp, user_id: i64) -> i64 {
    let mut conn = app.redis.conn();
    let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(format!("ag:events:user:{user_id}"))
        .query(&mut conn)
        .unwrap();
    counts[0].1
}

/// Waits until the channel has `n` subscribers.
async fn wait_for_subscribers(app: &TestApp, user_id: i64, n: i64, within: Duration) {
    test_support::wait_for(
        within,
        &format!("user {user_id}'s channel has {n} subscribers"),
        async || subscribers(app, user_id).await == n,
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_event_stream_is_its_owners_only(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let id = campaign_in(&app, "Mine", "scraping").await;

    // Signed out: to sign-in, as every page.
    let signed_out = app.visitor().get(&format!("/campaigns/{id}/events")).await;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert!(
        signed_out.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/sign-in")
    );

    // Another owner: the 404 page, and no subscription was made for them.
    let other = app.other_user("other@live.example").await;
    let refused = other.get(&format!("/campaigns/{id}/events")).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let other_id = app.user_id("other@live.example").await;
    assert_eq!(subscribers(&app, other_id).await, 0);

    // The owner: an event stream that starts with the reconnect delay and the counters.
    let mut stream = app.get(&format!("/campaigns/{id}/events")).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()[CONTENT_TYPE], "text/event-stream");
    let first = read_until(&mut stream, "id=\"kpi-leads\"", Duration::from_secs(10)).await;
    assert!(
        first.starts_with("retry: 5000\n\nevent: update\n"),
        "{first}"
    );

    // Not a number: the 404 page too.
    assert_eq!(
        app.get("/campaigns/nope/events").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_carries_its_campaigns_events_only(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let user_id = app.user_id("owner@live.example").await;
    let watched = campaign_in(&app, "Watched", "scraping").await;
    let other = campaign_in(&app, "Other", "scraping").await;
    let mut stream = app
        .request(
            reqwest::Method::GET,
            &format!("/campaigns/{watched}/events"),
        )
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    read_until(&mut stream, "id=\"kpi-leads\"", Duration::from_secs(10)).await;
    wait_for_subscribers(&app, user_id, 1, Duration::from_secs(5)).await;

    // The other campaign's news first, then the watched one's (the rows as the scrape
    // job leaves them, then its event).
    let events = app.publisher().await;
    app.insert_lead(other, "Elsewhere Bakery").await;
    events
        .publish(user_id, &Event::new(EventKind::LeadsFound, other).count(7))
        .await;
    let lead = app.insert_lead(watched, "Boulangerie Martin").await;
    sqlx::query("UPDATE campaigns SET leads_count = 1, status = 'enriching' WHERE id = $1")
        .bind(watched)
        .execute(&app.db)
        .await
        .unwrap();
    events
        .publish(
            user_id,
            &Event::new(EventKind::LeadsFound, watched).count(1),
        )
        .await;
    let text = read_until(&mut stream, "One business found", Duration::from_secs(10)).await;
    assert!(text.contains("One business found"), "{text}");
    assert!(text.contains(&format!("id=\"lead-{lead}\"")), "{text}");
    assert!(text.contains("Boulangerie Martin"), "{text}");
    assert!(text.contains("Analysing"), "the status badge: {text}");
    assert!(
        !text.contains("7 businesses"),
        "another campaign's event: {text}"
    );
    assert!(
        !text.contains("Elsewhere"),
        "another campaign's lead: {text}"
    );

    // A deferral, in words, with its time apart for the browser to show locally.
    events
        .publish(
            user_id,
            &Event::new(EventKind::Deferred, watched)
                .reason("Gemini: rate limited until 2026-12-04 00:00:00 UTC: quota exceeded")
                .until("2026-12-04T00:00:00Z".parse().unwrap()),
        )
        .await;
    let text = read_until(&mut stream, "next try at", Duration::from_secs(10)).await;
    assert!(
        text.contains("Paused: Gemini quota used up for today, next try at <time datetime=\"2026-12-04T00:00:00+00:00\""),
        "{text}"
    );

    // The campaign ends: its last update, then `done`, then the end of the stream.
    sqlx::query("UPDATE campaigns SET status = 'completed', completed_at = now() WHERE id = $1")
        .bind(watched)
        .execute(&app.db)
        .await
        .unwrap();
    events
        .publish(
            user_id,
            &Event::new(EventKind::CampaignStatus, watched).status("completed"),
        )
        .await;
    let text = read_until(&mut stream, "event: done", Duration::from_secs(10)).await;
    assert!(text.contains("This campaign is finished."), "{text}");
    assert!(text.contains("event: done\ndata: over\n\n"), "{text}");
    let end = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await;
    assert!(matches!(end, Ok(Ok(None))), "the stream ended: {end:?}");
    wait_for_subscribers(&app, user_id, 0, Duration::from_secs(5)).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_holds_four_streams_and_a_closed_one_gives_its_place_back(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let user_id = app.user_id("owner@live.example").await;
    let id = campaign_in(&app, "Busy", "generating").await;
    let path = format!("/campaigns/{id}/events");
    let mut open = Vec::new();
    for _ in 0..4 {
        let mut r = app.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        read_until(&mut r, "id=\"kpi-leads\"", Duration::from_secs(10)).await;
        open.push(r);
    }
    wait_for_subscribers(&app, user_id, 4, Duration::from_secs(5)).await;

    // A fifth: refused, as a page; another user is not counted with this one.
    let fifth = app.get(&path).await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fifth.text().await.unwrap().contains("<html"));
    let other = app.other_user("other@live.example").await;
    let theirs = campaign_in_for(&app, &other, "Theirs").await;
    let mut r = other.get(&format!("/campaigns/{theirs}/events")).await;
    assert_eq!(r.status(), StatusCode::OK);
    read_until(&mut r, "id=\"kpi-leads\"", Duration::from_secs(10)).await;
    drop(r);

    // The browser goes away: its subscription ends and its place is free again. A peer
    // that closed is noticed when a write fails: the second keep-alive at worst.
    drop(open.pop());
    wait_for_subscribers(&app, user_id, 3, Duration::from_secs(40)).await;
    let mut again = app.get(&path).await;
    assert_eq!(again.status(), StatusCode::OK);
    read_until(&mut again, "id=\"kpi-leads\"", Duration::from_secs(10)).await;
}

async fn campaign_in_for(app: &TestApp, browser: &test_support::app::Visitor, name: &str) -> i64 {
    let id = browser.create_campaign(name).await;
    sqlx::query("UPDATE campaigns SET status = 'scraping' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    id
}

#[sqlx::test(migrations = "../migrations")]
async fn a_finished_campaign_says_so_and_its_stream_ends_at_once(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let id = campaign_in(&app, "Done", "completed").await;
    let page = app
        .get(&format!("/campaigns/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Cette campagne est terminée."), "{page}");
    assert!(
        !page.contains("data-live-url"),
        "no stream for a finished campaign"
    );
    let mut stream = app.get(&format!("/campaigns/{id}/events")).await;
    let text = read_until(&mut stream, "event: done", Duration::from_secs(10)).await;
    assert!(text.contains("event: done"), "{text}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gallery_keeps_its_filters_in_paging_links_and_reads_bad_ones(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let id = campaign_in(&app, "Many", "ready").await;
    for _ in 0..25 {
        app.insert_content(id, 75, "pending").await;
    }
    let page = app
        .get(&format!(
            "/contents?status=pending&campaign={id}&min_score=70"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "href=\"/contents?status=pending&amp;campaign={id}&amp;min_score=70&amp;page=2\""
        )),
        "{page}"
    );
    // Nothing at 80 or more.
    let page = app
        .get("/contents?status=pending&min_score=80")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Aucune publication ici n&#x27;a une qualité d&#x27;au moins 80."),
        "{page}"
    );
    // A score that is not one: the list without that filter, and the message by the field.
    let response = app.get("/contents?min_score=abc&page=zz&campaign=x").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Indiquez un nombre entre 0 et 100."),
        "{page}"
    );
    assert!(page.contains("25 publications."), "{page}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_edit_from_the_gallery_follows_the_apis_rules(db: PgPool) {
    let app = spawn_app(db).await;
    let csrf = app.sign_up("owner@live.example").await;
    let id = campaign_in(&app, "Edits", "ready").await;
    let content = app.insert_content(id, 75, "pending").await;
    let edit = |text: &str, token: &str| {
        app.request(reqwest::Method::POST, &format!("/contents/{content}/edit"))
            .form(&[("csrf", token), ("text", text), ("status", "pending")])
            .send()
    };
    // Without the token: the expired-form page, nothing changed.
    let r = edit("New words", "wrong").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Empty, or with a control character: the list again, the message by the field.
    let r = edit("   ", &csrf).await.unwrap();
    let status = r.status();
    let page = r.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains(&format!("id=\"text-{content}-error\"")),
        "{page}"
    );
    assert!(page.contains("Veuillez remplir ce champ."), "{page}");
    let r = edit("bad\u{7}bell", &csrf).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Good: saved, back to the list with the notice.
    let r = edit("  Fresh words for Lyon.  ", &csrf).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        format!("/contents?status=pending&done=edited#content-{content}").as_str()
    );
    let (text,): (String,) = sqlx::query_as("SELECT text FROM contents WHERE id = $1")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(text, "Fresh words for Lyon.");
    // Once approved it cannot change: the list says it was already decided.
    app.post(&format!("/api/contents/{content}/approve")).await;
    let r = edit("Later words", &csrf).await.unwrap();
    assert_eq!(
        r.headers()[LOCATION],
        "/contents?status=pending&done=already-decided"
    );
    // Another owner's content: the 404 page.
    let other = app.other_user("other@live.example").await;
    let r = other
        .request(reqwest::Method::POST, &format!("/contents/{content}/edit"))
        .form(&[("csrf", other.csrf().as_str()), ("text", "Mine now")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// The keep-alive interval of a stream (15 s), plus time for the session check it makes.
const RECHECK_WITHIN: Duration = Duration::from_secs(22);

/// Reads the stream to its end: `true` when it ended within `within`.
async fn ends_within(response: &mut reqwest::Response, within: Duration) -> bool {
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(_))) => {}
            Ok(Ok(None) | Err(_)) => return true,
            Err(_) => return false,
        }
    }
}

/// `browser`'s stream of a running campaign of theirs, read past its first update.
async fn open_stream(
    app: &TestApp,
    browser: &test_support::app::Visitor,
    name: &str,
) -> reqwest::Response {
    let id = campaign_in_for(app, browser, name).await;
    let mut stream = browser.get(&format!("/campaigns/{id}/events")).await;
    assert_eq!(stream.status(), StatusCode::OK);
    read_until(&mut stream, "id=\"kpi-leads\"", Duration::from_secs(10)).await;
    stream
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_ends_when_its_account_signs_out_everywhere(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let laptop = app.visitor();
    laptop.sign_in_as("owner@live.example").await;
    let mut stream = open_stream(&app, &laptop, "Watched").await;
    let bob = app.other_user("bob@live.example").await;
    let mut bobs = open_stream(&app, &bob, "Bob's").await;

    let response = app.post("/api/auth/sign-out-everywhere").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // The laptop's page stops getting updates by the next keep-alive...
    assert!(ends_within(&mut stream, RECHECK_WITHIN).await);
    let owner = app.user_id("owner@live.example").await;
    wait_for_subscribers(&app, owner, 0, Duration::from_secs(5)).await;
    // ...while another account's stream, checked at the same time, goes on.
    let text = read_until(&mut bobs, ": keep-alive", Duration::from_secs(5)).await;
    assert!(text.contains(": keep-alive"), "{text}");
    assert!(!ends_within(&mut bobs, Duration::from_millis(500)).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_ends_when_its_session_signs_out(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let mut stream = open_stream(&app, &app.user, "Watched").await;
    assert_eq!(
        app.post("/api/auth/sign-out").await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(ends_within(&mut stream, RECHECK_WITHIN).await);
}

/// A reset (`api create-user` on an existing account) and a role change in the database,
/// the two ways an account changes under its sessions without them signing out.
#[sqlx::test(migrations = "../migrations")]
async fn a_stream_ends_when_its_account_is_reset_or_demoted(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("owner@live.example").await;
    let mut owners = open_stream(&app, &app.user, "Owner's").await;
    let admin = app.admin("root@live.example").await;
    let mut admins = open_stream(&app, &admin, "Admin's").await;

    let hash = api::password::hash("a new long password".into())
        .await
        .unwrap();
    shared::db::users::reset(
        &app.db,
        "owner@live.example",
        &hash,
        shared::db::users::Role::Owner,
    )
    .await
    .unwrap();
    sqlx::query("UPDATE users SET role = 'owner' WHERE email = 'root@live.example'")
        .execute(&app.db)
        .await
        .unwrap();
    let (owner_ended, admin_ended) = tokio::join!(
        ends_within(&mut owners, RECHECK_WITHIN),
        ends_within(&mut admins, RECHECK_WITHIN)
    );
    assert!(owner_ended, "the reset account's stream goes on");
    assert!(admin_ended, "the demoted admin's stream goes on");
}
