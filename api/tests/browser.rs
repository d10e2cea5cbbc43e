//! The dashboard in a real browser (headless Chromium, `test_support::browser`) against the
//! real app on a random port, with PostgreSQL and a private Redis. Each step saves
//! screenshots at 1280 and 390 px under `target/screenshots/` for a person to look at.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::PgPool;
use test_support::app::{PASSWORD, spawn_app};
use test_support::browser::{Browser, Language, sign_in, sign_up_and_in, sign_up_and_in_shown};

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_signs_up_launches_a_campaign_and_switches_language(db: PgPool) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, Language::French.accept()).await;

    // Signed out, the home page sends to sign-in, in French (the browser's language).
    b.goto("/").await;
    assert!(b.path().await.starts_with("/sign-in"), "{}", b.path().await);
    assert_eq!(b.text("h1").await, "Connexion");

    // A bad sign-up shows its problems next to the fields.
    b.goto("/sign-up").await;
    b.fill("#email", "not-an-email").await;
    b.fill("#password", "short").await;
    b.click("form[action='/sign-up'] button[type=submit]").await;
    assert_eq!(b.text("#name-error").await, "Veuillez remplir ce champ.");
    assert_eq!(
        b.text("#email-error").await,
        "Cette adresse e-mail n'est pas valide."
    );
    assert!(b.text("#password-error").await.contains("10"));
    b.screenshot("owner-00-sign-up-invalid").await;

    sign_up_and_in_shown(&b, "ana@bakery.example", "owner").await;
    assert_eq!(b.text("h1").await, "Votre tableau de bord");
    assert_eq!(b.text("#kpi-leads").await, "0");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("owner-03-home-empty").await;

    // The wizard: an empty first step shows the message next to the field.
    b.click("a[href='/campaigns/new']").await;
    assert_eq!(b.text("#wizard-progress").await, "Étape 1 sur 3");
    b.click("#wizard-next").await;
    assert_eq!(b.text("#name-error").await, "Veuillez remplir ce champ.");
    assert_eq!(
        b.client
            .find(fantoccini::Locator::Css("#name"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.screenshot("owner-04-wizard-invalid").await;
    b.fill("#name", "Boulangeries du printemps").await;
    b.click("#wizard-next").await;
    assert_eq!(b.text("#wizard-progress").await, "Étape 2 sur 3");
    b.fill("#industry", "boulangerie").await;
    b.screenshot("owner-05-wizard-industry").await;
    // Enter in the field goes forward, not back (Next is the form's first button).
    b.fill("#industry", "boulangerie\u{e007}").await;
    b.client
        .wait()
        .for_element(fantoccini::Locator::Css("#city"))
        .await
        .unwrap();
    assert_eq!(b.text("#wizard-progress").await, "Étape 3 sur 3");
    b.fill("#city", "Lyon").await;
    b.screenshot("owner-06-wizard-city").await;
    b.click("#wizard-next").await;

    // Launched: the promise, then the campaign page.
    assert!(b.path().await.ends_with("/launched"), "{}", b.path().await);
    assert_eq!(
        b.text("#launched-title").await,
        "Campagne lancée ! Nous vous tiendrons au courant."
    );
    b.screenshot("owner-07-launched").await;
    b.click("#to-campaign").await;
    assert_eq!(b.text("#campaign-name").await, "Boulangeries du printemps");
    assert_eq!(b.text("#campaign-status").await, "Recherche");
    let campaign_path = b.path().await;
    let (status,): (String,) = sqlx::query_as("SELECT status FROM campaigns")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "scraping");

    // What the pipeline will have found by the next visit: leads with scores, a post.
    let id: i64 = campaign_path["/campaigns/".len()..].parse().unwrap();
    app.insert_lead(id, "Boulangerie Martin").await;
    app.insert_lead(id, "Aux Délices de la Croix-Rousse, pâtisserie artisanale")
        .await;
    app.insert_content(id, 82, "pending").await;
    sqlx::query("UPDATE leads SET lead_score = 78 WHERE business_name = 'Boulangerie Martin'")
        .execute(&app.db)
        .await
        .unwrap();
    b.goto(&campaign_path).await;
    let leads = b.text("table").await;
    assert!(
        leads.contains("Boulangerie Martin") && leads.contains("78"),
        "{leads}"
    );
    assert!(b.text("#contents-heading").await.contains("Publications"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("owner-08-campaign-fr").await;

    // The switch: same page, now in English, and it stays English.
    b.click("#switch-language").await;
    assert_eq!(b.path().await, campaign_path);
    assert_eq!(b.text("#campaign-status").await, "Searching");
    assert!(b.body().await.contains("Businesses found"));
    b.screenshot("owner-09-campaign-en").await;
    b.goto("/").await;
    assert_eq!(b.text("h1").await, "Your dashboard");
    let home = b.body().await;
    assert!(home.contains("Boulangeries du printemps"), "{home}");
    assert!(
        home.contains("One post is waiting for your approval."),
        "{home}"
    );
    b.screenshot("owner-10-home-en").await;

    // The gallery: approve the waiting post and read the notice.
    b.click("#attention-pending").await;
    assert_eq!(b.text("h1").await, "Your posts");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("owner-11-gallery").await;
    b.click("#contents button[id^='approve-']").await;
    assert_eq!(
        b.text("#notice").await,
        "Approved. Connect LinkedIn so it can be published."
    );
    assert!(
        b.text("#gallery-empty")
            .await
            .starts_with("No post is waiting for your approval")
    );
    b.screenshot("owner-12-gallery-approved").await;
    let (approved,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM contents WHERE status = 'approved'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(approved, 1);

    // Back to French on the same page, then sign out.
    b.click("#switch-language").await;
    assert_eq!(b.text("h1").await, "Vos publications");
    assert!(b.text("#notice").await.starts_with("Validée."));
    b.click("#sign-out").await;
    assert_eq!(b.path().await, "/sign-in");
    b.goto("/").await;
    assert!(b.path().await.starts_with("/sign-in"));
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_cannot_open_another_owners_campaign(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("first@owner.example").await;
    let theirs = app.create_campaign("Not yours").await;

    let b = Browser::start(&app.address, Language::English.accept()).await;
    sign_up_and_in(&b, "second@owner.example").await;
    assert_eq!(b.text("h1").await, "Your dashboard");

    // The other owner's campaign: a 404 page in this browser's language, nothing of theirs.
    b.goto(&format!("/campaigns/{theirs}")).await;
    assert_eq!(b.text("h1").await, "Page not found");
    assert!(!b.body().await.contains("Not yours"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("other-01-campaign-404-en").await;
    b.goto(&format!("/campaigns/{theirs}/launched")).await;
    assert_eq!(b.text("h1").await, "Page not found");

    // In French after the switch, and for any unknown page too.
    b.click("#switch-language").await;
    assert_eq!(b.text("h1").await, "Page introuvable");
    b.screenshot("other-02-campaign-404-fr").await;
    b.goto("/no/such/page").await;
    assert_eq!(b.text("h1").await, "Page introuvable");
    b.close().await;
}

/// A job in `queue`'s dead set, as the engine leaves one after its last attempt.
fn plant_dead_job(app: &test_support::app::TestApp, queue: &str, id: &str, error: &str) {
    let mut conn = app.redis.conn();
    let base = format!("ag:{{{queue}}}");
    let now = 1_767_225_600_000u64; // 2026-01-01
    let envelope = serde_json::json!({
        "id": id, "kind": "publish_post", "queue": queue, "args": { "content_id": 7 },
        "attempt": 5, "max_attempts": 5, "user_id": 1, "enqueued_at": now - 60_000,
        "errors": [{ "at": now, "attempt": 5, "message": error }], "died_at": now,
    });
    redis::pipe()
        .cmd("ZADD")
        .arg(format!("{base}:dead"))
        .arg(now)
        .arg(id)
        .cmd("HSET")
        .arg(format!("{base}:dead:jobs"))
        .arg(id)
        .arg(envelope.to_string())
        .cmd("SADD")
        .arg("ag:queues")
        .arg(queue)
        .query::<()>(&mut conn)
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_retries_a_failed_job_and_an_owner_is_refused(db: PgPool) {
    let app = spawn_app(db).await;
    plant_dead_job(
        &app,
        "publish",
        "job-1",
        "linkedin answered 500: upstream unavailable",
    );
    app.admin("root@example.com").await;

    let b = Browser::start(&app.address, Language::English.accept()).await;
    b.goto("/sign-in").await;
    sign_in(&b, "root@example.com", PASSWORD).await;
    assert_eq!(b.path().await, "/");
    b.click("a[href='/admin']").await;
    assert_eq!(b.text("h1").await, "Queues");
    assert!(b.text("#queues").await.contains("publish"));
    b.screenshot("admin-01-overview").await;
    b.click("a[href='/admin/queues/publish/dead']").await;
    assert!(b.text("#dead-jobs").await.contains("linkedin answered 500"));
    b.assert_no_horizontal_scroll().await;
    b.screenshot("admin-02-dead").await;

    // Retried, it leaves the dead list and waits in the stream.
    b.click("#dead-jobs button[value=retry]").await;
    assert_eq!(b.path().await, "/admin/queues/publish/dead");
    assert!(b.body().await.contains("No failed job in this queue."));
    assert_eq!(app.jobs_in_queue("publish").await, 1);
    b.screenshot("admin-03-retried").await;
    b.close().await;

    // An owner gets the 403 page, in French.
    let o = Browser::start(&app.address, Language::French.accept()).await;
    sign_up_and_in(&o, "owner@example.com").await;
    o.goto("/admin").await;
    assert_eq!(o.text("h1").await, "Accès refusé");
    o.screenshot("owner-13-admin-403").await;
    o.close().await;
}
