//! The profile page and the home page's charts and "needs your attention", in a real
//! browser (headless Chromium, see `web/driver.rs`) against the real app, PostgreSQL and a
//! private Redis. Screenshots at 1280 and 390 px under `target/screenshots/profile-*` and
//! `home-*`; each screenshotted page also passes axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web as actix};
use fantoccini::Locator;
use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
use sqlx::PgPool;
use test_support::app::{TestApp, spawn_app, spawn_app_with};
use test_support::browser::{Browser, Language, sign_in_home, sign_up_and_in};

/// A radio button or checkbox: a click that loads no page.
async fn tick(b: &Browser, css: &str) {
    b.client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// LinkedIn's consent page on another origin (a local server), and the api's client
/// pointed at it: enough to see the browser reach it from the profile's connect form.
fn linkedin_consent() -> (String, Arc<dyn LinkedInConnect>) {
    async fn consent() -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>LinkedIn</title><h1>Allow AstroGrowth?</h1>")
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server =
        HttpServer::new(|| App::new().route("/oauth/v2/authorization", actix::get().to(consent)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
    tokio::spawn(server);
    let mut config = shared::Config::default().linkedin;
    config.client_id = Some("test-client".into());
    config.client_secret = Some("test-secret".into());
    config.authorize_url = format!("{base}/oauth/v2/authorization");
    let client = Arc::new(LinkedInOAuth::from_config(&config).unwrap().unwrap());
    (base, client)
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_saves_the_profile_and_the_language_follows_the_account(db: PgPool) {
    let (consent, linkedin) = linkedin_consent();
    let app = spawn_app_with(db, |_| {}, Some(linkedin)).await;
    let b = Browser::start(&app.address, Language::French.accept()).await;
    sign_up_and_in(&b, "ana@bakery.example").await;

    // From the menu to the profile: empty, LinkedIn not connected.
    b.click("header a[href='/profile']").await;
    assert_eq!(b.text("h1").await, "Votre profil");
    assert_eq!(b.text("#linkedin-state").await, "Non connecté");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("profile-01-empty-fr").await;

    // Connect goes to LinkedIn's consent page (the page's CSP lets its form lead there).
    b.click("#linkedin-connect").await;
    let at = b.client.current_url().await.unwrap();
    assert!(
        at.as_str()
            .starts_with(&format!("{consent}/oauth/v2/authorization?")),
        "{at}"
    );
    assert_eq!(b.text("h1").await, "Allow AstroGrowth?");
    b.goto("/profile").await;

    // A website that is not one: the message next to the field, what was typed kept.
    b.fill("#business_name", "Boulangerie Martin").await;
    b.fill("#business_type", "boulangerie").await;
    b.fill("#location", "Lyon 4e").await;
    b.fill("#website", "boulangerie-martin").await;
    b.click("#profile-save").await;
    assert_eq!(
        b.text("#website-error").await,
        "Saisissez une adresse commençant par http:// ou https://."
    );
    assert_eq!(
        b.client
            .find(Locator::Css("#business_name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Boulangerie Martin")
    );
    b.assert_no_horizontal_scroll().await;
    b.screenshot_of("profile-02-invalid-fr", "label[for='location']")
        .await;

    // Fixed, and English chosen for the account: the saved page is already English.
    b.fill("#website", "https://boulangerie-martin.example")
        .await;
    tick(&b, "#language-en").await;
    b.click("#profile-save").await;
    assert_eq!(b.path().await, "/profile?done=saved");
    assert_eq!(b.text("#notice").await, "Your profile is saved.");
    assert_eq!(b.text("h1").await, "Your profile");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("profile-03-saved-en").await;
    let (language, name): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT u.language, p.business_name FROM users u JOIN user_profiles p ON p.user_id = u.id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(language.as_deref(), Some("en"));
    assert_eq!(name.as_deref(), Some("Boulangerie Martin"));

    // Sign out, forget this browser's cookies (as another device would): signed out it
    // reads French again (its Accept-Language), signed in every page is English.
    b.click("#sign-out").await;
    b.client.delete_all_cookies().await.unwrap();
    b.goto("/sign-in").await;
    assert_eq!(b.text("h1").await, "Connexion");
    sign_in_home(&b, "ana@bakery.example").await;
    assert_eq!(b.text("h1").await, "Your dashboard");
    b.screenshot("profile-04-home-en-after-sign-in").await;
    for (path, title) in [
        ("/contents", "Your posts"),
        ("/campaigns/new", "What should we call this campaign?"),
        ("/profile", "Your profile"),
        ("/no/such/page", "Page not found"),
    ] {
        b.goto(path).await;
        assert_eq!(b.text("h1").await, title, "{path}");
    }
    b.screenshot("profile-05-not-found-en").await;
    b.close().await;
}

/// A campaign of `user_id` with activity spread over the last days: leads on 10 days,
/// contents on 6, published posts on 3.
async fn busy_month(app: &TestApp, user_id: i64) -> i64 {
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status)
         VALUES ($1, 'Boulangeries du printemps', 'boulangerie', 'Lyon', 'ready') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for day in 0..10 {
        for n in 0..(day % 4 + 1) {
            let lead = app.insert_lead(campaign, &format!("lead-{day}-{n}")).await;
            sqlx::query(
                "UPDATE leads SET created_at = now() - make_interval(days => $2) WHERE id = $1",
            )
            .bind(lead)
            .bind(day * 2)
            .execute(&app.db)
            .await
            .unwrap();
        }
    }
    // The counters the pipeline keeps with the rows (the KPI cards read them).
    sqlx::query(
        "UPDATE campaigns SET leads_count = 31, contents_count = 8, published_count = 3
         WHERE id = $1",
    )
    .bind(campaign)
    .execute(&app.db)
    .await
    .unwrap();
    for day in 0..6 {
        let content = app.insert_content(campaign, 75, "published").await;
        sqlx::query(
            "UPDATE contents SET created_at = now() - make_interval(days => $2) WHERE id = $1",
        )
        .bind(content)
        .bind(day * 3 + 1)
        .execute(&app.db)
        .await
        .unwrap();
        if day < 3 {
            sqlx::query(
                "INSERT INTO publications (content_id, user_id, state, post_urn, published_at)
                 VALUES ($1, $2, 'published', $3, now() - make_interval(days => $4))",
            )
            .bind(content)
            .bind(user_id)
            .bind(format!("urn:li:share:{content}"))
            .bind(day * 3)
            .execute(&app.db)
            .await
            .unwrap();
        }
    }
    campaign
}

/// An approved content whose publication LinkedIn did not confirm; returns its id.
async fn unknown_publication(app: &TestApp, user_id: i64, campaign: i64, text: &str) -> i64 {
    let content = app.insert_content(campaign, 80, "approved").await;
    sqlx::query("UPDATE contents SET text = $2 WHERE id = $1")
        .bind(content)
        .bind(text)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query_scalar(
        "INSERT INTO publications (content_id, user_id, state, error)
         VALUES ($1, $2, 'unknown', 'two POSTs went out without an answer') RETURNING id",
    )
    .bind(content)
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn state_of(app: &TestApp, publication: i64) -> String {
    sqlx::query_scalar("SELECT state FROM publications WHERE id = $1")
        .bind(publication)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_home_warns_before_linkedin_expires_and_settles_an_unknown_publication(db: PgPool) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, Language::English.accept()).await;
    sign_up_and_in(&b, "ana@bakery.example").await;
    let user_id = app.user_id("ana@bakery.example").await;
    app.connect_linkedin_in_db(user_id).await;
    sqlx::query(
        "UPDATE user_profiles SET linkedin_token_expires_at = now() + interval '3 days'
         WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&app.db)
    .await
    .unwrap();
    let campaign = busy_month(&app, user_id).await;
    let first = unknown_publication(
        &app,
        user_id,
        campaign,
        "Fresh croissants every morning at Boulangerie Martin, Lyon 4e.",
    )
    .await;
    let second = unknown_publication(
        &app,
        user_id,
        campaign,
        "Aux Délices de la Croix-Rousse: a pastry shop worth the climb.",
    )
    .await;

    b.goto("/").await;
    assert!(
        b.text("#attention-expiring")
            .await
            .starts_with("Your LinkedIn connection expires in 3 days — reconnect it"),
        "{}",
        b.text("#attention-expiring").await
    );
    assert!(
        b.text(&format!("#unknown-{first}"))
            .await
            .contains("Fresh croissants")
    );
    assert_eq!(b.text("#chart-leads-total").await, "31");
    assert_eq!(b.text("#chart-contents-total").await, "8");
    assert_eq!(b.text("#chart-published-total").await, "3");
    b.assert_no_horizontal_scroll().await;
    b.screenshot("home-01-attention-en").await;
    b.screenshot_of("home-02-charts-en", "#charts-heading")
        .await;

    // Not a LinkedIn post's address: the message under that field, nothing settled.
    b.fill(&format!("#url-{first}"), "https://www.linkedin.com/in/ana")
        .await;
    b.click(&format!("#mark-published-{first}")).await;
    b.assert_no_horizontal_scroll().await;
    assert_eq!(
        b.text(&format!("#url-{first}-error")).await,
        "This is not the address of a LinkedIn post. It looks like https://www.linkedin.com/feed/update/urn:li:share:…"
    );
    assert_eq!(state_of(&app, first).await, "unknown");
    b.screenshot_of("home-03-resolve-invalid-en", &format!("#unknown-{first}"))
        .await;

    // The post's address: settled, and gone from the list.
    b.fill(
        &format!("#url-{first}"),
        "https://www.linkedin.com/feed/update/urn:li:share:7123456789/",
    )
    .await;
    b.click(&format!("#mark-published-{first}")).await;
    assert_eq!(b.path().await, "/?done=marked-published");
    assert_eq!(
        b.text("#notice").await,
        "Thank you: the post is marked as published."
    );
    assert_eq!(state_of(&app, first).await, "published");
    assert!(!b.body().await.contains("Fresh croissants"));
    b.screenshot("home-04-resolved-en").await;

    // The other one is not on LinkedIn: publish it again.
    b.click(&format!("#publish-again-{second}")).await;
    assert_eq!(b.path().await, "/?done=published-again");
    assert_eq!(state_of(&app, second).await, "publishing");

    // In French, the warning says the same, plural included.
    b.click("#switch-language").await;
    assert!(
        b.text("#attention-expiring")
            .await
            .starts_with("Votre connexion LinkedIn expire dans 3 jours — reconnectez-la"),
        "{}",
        b.text("#attention-expiring").await
    );
    b.screenshot("home-05-expiry-fr").await;
    // Its link leads to the profile, where the expiry date and the reconnect button are.
    b.click("#attention-expiring").await;
    assert_eq!(b.path().await, "/profile");
    assert_eq!(b.text("#linkedin-state").await, "Connecté");
    assert!(
        b.text("#linkedin-expires")
            .await
            .ends_with("encore 3 jours")
    );
    b.screenshot("profile-06-connected-fr").await;
    // Disconnect asks first, and works without JavaScript.
    b.click("#linkedin-disconnect").await;
    // WebDriver reads the no-break space before "?" as a space.
    assert_eq!(b.text("h1").await, "Déconnecter LinkedIn ?");
    b.screenshot("profile-07-disconnect-confirm-fr").await;
    b.click("#disconnect-confirm").await;
    assert_eq!(b.path().await, "/profile?linkedin=disconnected");
    assert_eq!(b.text("#linkedin-state").await, "Non connecté");
    b.close().await;
}
