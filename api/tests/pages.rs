//! The pages over plain HTTP (no browser): what they answer besides what a person sees.
//! The browser tests (`browser.rs`) cover the journeys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use sqlx::PgPool;
use test_support::app::spawn_app;

fn is_html(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"))
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_paths_are_pages_outside_the_api_and_json_inside(db: PgPool) {
    let app = spawn_app(db).await;
    // A browser's 404 is a page, French by default, English when the browser asks.
    let page = app.get("/no/such/page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(is_html(&page));
    assert!(page.text().await.unwrap().contains("Page introuvable"));
    let english = app
        .request(reqwest::Method::GET, "/nope")
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(english.text().await.unwrap().contains("Page not found"));
    // The API keeps its JSON errors.
    let api = app.get("/api/no-such-thing").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(test_support::app::error_code(api).await, "not_found");
}

#[sqlx::test(migrations = "../migrations")]
async fn signed_out_pages_send_to_sign_in_and_come_back(db: PgPool) {
    let app = spawn_app(db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http.get(app.url("/campaigns/new")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()[LOCATION],
        "/sign-in?next=%2Fcampaigns%2Fnew"
    );
    // The language switch never sends elsewhere.
    let response = http
        .get(app.url("/language/en?next=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[LOCATION], "/");
}

/// Browsers drop tabs and newlines from a URL and read a backslash as a slash, so each of
/// these `next` values would leave the site from a signed-out language link.
#[sqlx::test(migrations = "../migrations")]
async fn the_language_switch_never_sends_to_another_site(db: PgPool) {
    let app = spawn_app(db).await;
    let browser = app.visitor();
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%0D%2Fevil.example",
        "%09%2F%2Fevil.example",
        "%2F%5C%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%00%2Fevil.example",
        "%2F",
        "evil.example",
    ] {
        let response = browser.get(&format!("/language/en?next={next}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(response.headers()[LOCATION], "/", "next={next}");
    }
    // A path of this site is kept, query and all.
    let response = browser
        .get("/language/en?next=%2Fcampaigns%2F3%3Fpage%3D2")
        .await;
    assert_eq!(response.headers()[LOCATION], "/campaigns/3?page=2");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_api_session_signs_in_the_pages_and_forms_need_its_token(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    // Signed in through the JSON API, the same cookie opens the pages.
    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap().contains("Votre tableau de bord"));
    // A form post without the session's token is refused with a page, not JSON.
    let refused = app
        .request(reqwest::Method::POST, "/campaigns/new")
        .form(&[
            ("step", "3"),
            ("name", "a"),
            ("industry", "b"),
            ("city", "c"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(is_html(&refused));
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Ce formulaire a expiré")
    );
    // With it, the last step creates and launches.
    let csrf = app.csrf();
    let launched = app
        .request(reqwest::Method::POST, "/campaigns/new")
        .form(&[
            ("csrf", csrf.as_str()),
            ("step", "3"),
            ("name", "Spring"),
            ("industry", "bakery"),
            ("city", "Lyon"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(launched.status(), StatusCode::SEE_OTHER);
    let location = launched.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("/launched"), "{location}");
    let page = app.get(&location).await.text().await.unwrap();
    assert!(page.contains("Campagne lancée"), "{page}");
    // One campaign, launched: one ScrapeCampaign reaches the queue.
    app.wait_for_jobs("scrape_campaign", "scrape", 1).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_in_forms_need_their_form_cookie(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let browser = app.visitor();
    // Another site's post carries no `ag_form` cookie (SameSite=Lax): refused.
    let refused = browser
        .request(reqwest::Method::POST, "/sign-in")
        .form(&[
            ("csrf", "x".repeat(43).as_str()),
            ("email", "ana@example.com"),
            ("password", test_support::app::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(browser.get("/api/auth/me").await.status() == StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../migrations")]
async fn static_files_are_cached_for_a_year_under_their_version(db: PgPool) {
    let app = spawn_app(db).await;
    let page = app.get("/sign-in").await.text().await.unwrap();
    let css = page
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with("app.css")))
        .unwrap()
        .to_owned();
    assert!(css.starts_with("/static/"), "{css}");
    let response = app.get(&css).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(
        response.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    // An older build's URL still gets the file, but not for long.
    let old = app.get("/static/000000000000/app.css").await;
    assert_eq!(old.status(), StatusCode::OK);
    assert_eq!(old.headers()[CACHE_CONTROL], "no-cache");
    assert_eq!(
        app.get("/static/x/nothing.js").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_chosen_language_beats_the_browser_s(db: PgPool) {
    let app = spawn_app(db).await;
    let page = |cookie: Option<&'static str>| {
        let mut request = app
            .visitor()
            .request(reqwest::Method::GET, "/sign-in")
            .header("accept-language", "en-US,en;q=0.9");
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        request.send()
    };
    let english = page(None).await.unwrap().text().await.unwrap();
    assert!(english.contains("<html lang=\"en\">"), "{english}");
    // The switch's cookie wins over Accept-Language.
    let french = page(Some("ag_lang=fr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(french.contains("<html lang=\"fr\">"), "{french}");
    assert!(french.contains("Connexion"));
    // An unknown cookie value falls back to the browser's language.
    let fallback = page(Some("ag_lang=de"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fallback.contains("<html lang=\"en\">"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_wizard_rechecks_earlier_answers_from_hidden_fields(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let csrf = app.csrf();
    // A last step whose hidden name was emptied goes back to the name, with its message.
    let response = app
        .request(reqwest::Method::POST, "/campaigns/new")
        .form(&[
            ("csrf", csrf.as_str()),
            ("step", "3"),
            ("name", "  "),
            ("industry", "bakery"),
            ("city", "Lyon"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("Étape 1 sur 3"), "{page}");
    assert!(page.contains("id=\"name-error\""), "{page}");
    // The other answers are kept for the next post.
    assert!(
        page.contains("name=\"industry\" value=\"bakery\""),
        "{page}"
    );
    let (campaigns,): (i64,) = sqlx::query_as("SELECT count(*) FROM campaigns")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(campaigns, 0);
}

/// Browsers ask for `/favicon.ico` on every site and log a 404 in the console without one.
#[sqlx::test(migrations = "../migrations")]
async fn the_favicon_is_linked_from_every_page_and_served(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.get("/favicon.ico").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/svg+xml");
    assert!(response.text().await.unwrap().starts_with("<svg"));
    let page = app.get("/sign-in").await.text().await.unwrap();
    let icon = page
        .split("<link rel=\"icon\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no icon link: {page}"))
        .to_owned();
    let response = app.get(&icon).await;
    assert_eq!(response.status(), StatusCode::OK, "{icon}");
    assert_eq!(response.headers()[CONTENT_TYPE], "image/svg+xml");
}
