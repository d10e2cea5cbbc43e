//! The profile page, the account's language and the home page's new parts over plain HTTP:
//! CSRF refusals, another owner's ids, validation messages next to their field, the language
//! stored on the account and used before the browser's, LinkedIn connect from the page.
//! The journeys a person makes are in `browser_profile.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::json;
use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
use sqlx::PgPool;
use test_support::app::{PUBLIC_URL, TestApp, spawn_app, spawn_app_with};

const FRENCH: &str = "fr-FR,fr;q=0.9";

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"))
}

/// A page form post from `browser` with `fields` (add `csrf` yourself).
async fn post_form(
    browser: &test_support::app::Visitor,
    path: &str,
    fields: &[(&str, &str)],
) -> Response {
    browser
        .request(Method::POST, path)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// A campaign of `user_id` with one content and a publication of it in `state`; returns the
/// publication's id.
async fn publication(app: &TestApp, user_id: i64, state: &str) -> i64 {
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status)
         VALUES ($1, 'Spring', 'bakery', 'Lyon', 'ready') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let content = app.insert_content(campaign, 80, "approved").await;
    sqlx::query_scalar(
        "INSERT INTO publications (content_id, user_id, state, error)
         VALUES ($1, $2, $3, 'two POSTs went out without an answer') RETURNING id",
    )
    .bind(content)
    .bind(user_id)
    .bind(state)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn publication_state(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM publications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_new_forms_refuse_a_post_without_the_session_token(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = publication(&app, app.user_id("ana@example.com").await, "unknown").await;
    let resolve = format!("/publications/{id}/resolve");
    for path in [
        "/profile",
        "/profile/linkedin/connect",
        "/profile/linkedin/disconnect",
        resolve.as_str(),
    ] {
        let refused = post_form(
            &app,
            path,
            &[
                ("csrf", "not-the-token"),
                ("action", "publish_again"),
                ("language", "en"),
            ],
        )
        .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(is_html(&refused), "{path}");
        let page = refused.text().await.unwrap();
        assert!(page.contains("Ce formulaire a expiré"), "{path}: {page}");
    }
    // Nothing changed.
    assert_eq!(publication_state(&app, id).await, "unknown");
    let language: Option<String> = sqlx::query_scalar("SELECT language FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(language, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_profile_saves_details_and_the_account_language_wins_everywhere(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let page = app.get("/profile").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Votre profil"));

    let csrf = app.csrf();
    let saved = post_form(
        &app,
        "/profile",
        &[
            ("csrf", csrf.as_str()),
            ("business_name", " Boulangerie Paul "),
            ("business_type", "boulangerie"),
            ("location", "Lyon"),
            ("phone", ""),
            ("website", "https://paul.example/"),
            ("language", "en"),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved.headers()[LOCATION], "/profile?done=saved");
    // This browser reads English signed out too.
    assert!(
        saved
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("ag_lang=en")),
    );
    // The same query as the JSON API's: trimmed, empty cleared.
    let profile: serde_json::Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(profile["business_name"], "Boulangerie Paul");
    assert!(profile["phone"].is_null());
    let page = app.get("/profile?done=saved").await.text().await.unwrap();
    assert!(page.contains("Your profile is saved."), "{page}");
    assert!(page.contains("value=\"Boulangerie Paul\""), "{page}");

    // Another browser, French and without the cookie, signs in: the account's English wins
    // over its Accept-Language, on every page.
    let other = app.visitor();
    other.sign_in_as("ana@example.com").await;
    for path in ["/", "/contents", "/campaigns/new", "/profile"] {
        let page = other
            .request(Method::GET, path)
            .header("accept-language", FRENCH)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<html lang=\"en\">"), "{path}: {page}");
    }
    // Signed out, the browser's language is back.
    let signed_out = app
        .visitor()
        .request(Method::GET, "/sign-in")
        .header("accept-language", FRENCH)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(signed_out.contains("<html lang=\"fr\">"));
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_profile_fields_come_back_next_to_their_field_and_nothing_is_stored(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let csrf = app.csrf();
    let long = "x".repeat(41);
    let refused = post_form(
        &app,
        "/profile",
        &[
            ("csrf", csrf.as_str()),
            ("business_name", "Paul"),
            ("phone", long.as_str()),
            ("website", "ftp://paul.example"),
            ("language", "en"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"website-error\""), "{page}");
    assert!(page.contains("Saisissez une adresse"), "{page}");
    assert!(page.contains("id=\"phone-error\""), "{page}");
    assert!(page.contains("40 caractères"), "{page}");
    // What was typed is kept; the valid field has no message.
    assert!(
        page.contains("value=\"ftp:&#x2F;&#x2F;paul.example\""),
        "{page}"
    );
    assert!(!page.contains("id=\"business_name-error\""), "{page}");
    let profile: serde_json::Value = app.get("/api/profile").await.json().await.unwrap();
    assert!(profile["business_name"].is_null());
    let language: Option<String> = sqlx::query_scalar("SELECT language FROM users")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(language, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_language_switch_saves_the_account_language_from_our_pages_only(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let db = &app.db;
    let language = move || async move {
        sqlx::query_scalar::<_, Option<String>>("SELECT language FROM users")
            .fetch_one(db)
            .await
            .unwrap()
    };
    // A link on another site changes this browser's cookie, not the account.
    let cross = app
        .request(Method::GET, "/language/en?next=/")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::SEE_OTHER);
    assert_eq!(language().await, None);
    // Our own switch saves it.
    let ours = app
        .request(Method::GET, "/language/en?next=/")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), StatusCode::SEE_OTHER);
    assert_eq!(language().await.as_deref(), Some("en"));
    // Signed out, it still just sets the cookie.
    let anonymous = app.visitor().get("/language/fr?next=/sign-in").await;
    assert_eq!(anonymous.headers()[LOCATION], "/sign-in");
    assert_eq!(language().await.as_deref(), Some("en"));
}

#[sqlx::test(migrations = "../migrations")]
async fn another_owners_publication_is_a_404_page(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let theirs = publication(&app, app.user_id("ana@example.com").await, "unknown").await;
    let bob = app.other_user("bob@example.com").await;
    let csrf = bob.csrf();
    for (action, url) in [
        ("publish_again", ""),
        (
            "mark_published",
            "https://www.linkedin.com/feed/update/urn:li:share:7/",
        ),
    ] {
        let response = post_form(
            &bob,
            &format!("/publications/{theirs}/resolve"),
            &[("csrf", csrf.as_str()), ("action", action), ("url", url)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(is_html(&response));
        assert!(response.text().await.unwrap().contains("Page introuvable"));
    }
    assert_eq!(publication_state(&app, theirs).await, "unknown");
    // An action we do not offer is a 400 page, not JSON.
    let odd = post_form(
        &bob,
        &format!("/publications/{theirs}/resolve"),
        &[("csrf", csrf.as_str()), ("action", "delete")],
    )
    .await;
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);
    assert!(is_html(&odd));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unknown_publication_is_settled_from_the_home_page(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let user_id = app.user_id("ana@example.com").await;
    let id = publication(&app, user_id, "unknown").await;
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(&format!("id=\"unknown-{id}\"")), "{home}");
    let path = format!("/publications/{id}/resolve");
    let csrf = app.csrf();
    let (app_ref, path_ref, csrf_ref) = (&app, &path, &csrf);
    let mark = move |url: &'static str| async move {
        post_form(
            app_ref,
            path_ref,
            &[
                ("csrf", csrf_ref.as_str()),
                ("action", "mark_published"),
                ("url", url),
            ],
        )
        .await
    };
    // No address: the message next to this publication's field.
    let empty = mark("  ").await;
    let status = empty.status();
    let page = empty.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains(&format!("id=\"url-{id}-error\"")), "{page}");
    assert!(page.contains("Collez l&#x27;adresse"), "{page}");
    // Not a LinkedIn post's address: its own message, what was typed kept.
    let wrong = mark("https://evil.example/feed/update/urn:li:share:1/").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("Ce n&#x27;est pas l&#x27;adresse"), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert!(
        page.contains("value=\"https:&#x2F;&#x2F;evil.example"),
        "{page}"
    );
    assert_eq!(publication_state(&app, id).await, "unknown");
    // The post's address: published, and the home page says so.
    let done = mark("https://www.linkedin.com/feed/update/urn:li:share:7123/").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[LOCATION], "/?done=marked-published");
    assert_eq!(publication_state(&app, id).await, "published");
    let home = app
        .get("/?done=marked-published")
        .await
        .text()
        .await
        .unwrap();
    assert!(home.contains("marquée comme publiée"), "{home}");
    assert!(!home.contains(&format!("id=\"unknown-{id}\"")));
    // Settled already (another tab): a notice, not an error.
    let again = mark("https://www.linkedin.com/feed/update/urn:li:share:7123/").await;
    assert_eq!(again.headers()[LOCATION], "/?done=already-resolved");

    // Publish again: back to publishing, one PublishPost on its way.
    let other = publication(&app, user_id, "unknown").await;
    let response = post_form(
        &app,
        &format!("/publications/{other}/resolve"),
        &[("csrf", csrf.as_str()), ("action", "publish_again")],
    )
    .await;
    assert_eq!(response.headers()[LOCATION], "/?done=published-again");
    assert_eq!(publication_state(&app, other).await, "publishing");
    app.wait_for_jobs("publish_post", "publish", 1).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_home_warns_days_before_the_linkedin_token_expires(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let user_id = app.user_id("ana@example.com").await;
    app.connect_linkedin_in_db(user_id).await;
    let db = &app.db;
    let expires_in = move |days: i32| {
        sqlx::query(
            "UPDATE user_profiles SET linkedin_token_expires_at = now() + make_interval(days => $1)
             WHERE user_id = $2",
        )
        .bind(days)
        .bind(user_id)
        .execute(db)
    };
    let app_ref = &app;
    let home = move |lang: &'static str| async move {
        app_ref
            .request(Method::GET, "/")
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // 60 days left: nothing to say.
    assert!(!home(FRENCH).await.contains("attention-expiring"));
    expires_in(3).await.unwrap();
    let fr = home(FRENCH).await;
    assert!(
        fr.contains("Votre connexion LinkedIn expire dans 3 jours"),
        "{fr}"
    );
    let en = home("en").await;
    assert!(
        en.contains("Your LinkedIn connection expires in 3 days"),
        "{en}"
    );
    // Singular in both languages.
    expires_in(1).await.unwrap();
    assert!(home(FRENCH).await.contains("expire dans 1 jour —"));
    assert!(home("en").await.contains("expires in 1 day —"));
    // Expired, or refused by LinkedIn: reconnect, linked to the profile.
    expires_in(-1).await.unwrap();
    let expired = home("en").await;
    assert!(!expired.contains("attention-expiring"));
    assert!(expired.contains("id=\"attention-reconnect\""), "{expired}");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_home_charts_count_the_last_30_days_per_day(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let campaign = app.create_campaign("Spring").await;
    for _ in 0..3 {
        app.insert_content(campaign, 70, "pending").await;
    }
    // One lead from 40 days ago is outside the window; another user's rows never count.
    app.insert_lead(campaign, "old").await;
    sqlx::query(
        "UPDATE leads SET created_at = now() - interval '40 days' WHERE business_name = 'old'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let bob = app.other_user("bob@example.com").await;
    let theirs = bob.create_campaign("Theirs").await;
    app.insert_content(theirs, 70, "pending").await;

    let page = app
        .request(Method::GET, "/")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Three leads and three posts today, 30 days drawn, with the text alternative.
    assert!(page.contains("id=\"chart-leads-total\">3<"), "{page}");
    assert!(page.contains("id=\"chart-contents-total\">3<"), "{page}");
    assert!(page.contains("id=\"chart-published-total\">0<"), "{page}");
    assert!(page.contains("3 in total; the busiest day was"), "{page}");
    assert!(page.contains("None in the last 30 days."), "{page}");
    assert_eq!(page.matches("<th scope=\"row\">").count(), 30, "{page}");
}

/// LinkedIn's consent, token and userinfo endpoints, enough for one connect.
fn linkedin_fixture() -> (String, Arc<dyn LinkedInConnect>) {
    async fn token() -> HttpResponse {
        HttpResponse::Ok().json(json!({ "access_token": "AQV-token", "expires_in": 5_184_000 }))
    }
    async fn userinfo(req: HttpRequest) -> HttpResponse {
        match req.headers().get("authorization").map(|v| v.as_bytes()) {
            Some(b"Bearer AQV-token") => {
                HttpResponse::Ok().json(json!({ "sub": "782bbtaQ", "name": "Ana Baker" }))
            }
            _ => HttpResponse::Unauthorized().finish(),
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(|| {
        App::new()
            .route("/oauth/v2/accessToken", web::post().to(token))
            .route("/v2/userinfo", web::get().to(userinfo))
    })
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
    config.token_url = format!("{base}/oauth/v2/accessToken");
    config.userinfo_url = format!("{base}/v2/userinfo");
    let client = Arc::new(LinkedInOAuth::from_config(&config).unwrap().unwrap());
    (base, client)
}

#[sqlx::test(migrations = "../migrations")]
async fn linkedin_connects_and_disconnects_from_the_profile_page(db: PgPool) {
    let (base, client) = linkedin_fixture();
    let app = spawn_app_with(db, |_| {}, Some(client)).await;
    app.sign_up("ana@example.com").await;
    let csrf = app.csrf();
    // The page may send its connect form on to LinkedIn (CSP form-action).
    let page = app.get("/profile").await;
    let csp = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains(&format!("form-action 'self' {base}")), "{csp}");
    assert!(page.text().await.unwrap().contains("Non connecté"));

    // Connect: a redirect to the consent page, with the state the callback needs.
    let (app_ref, csrf_ref, base_ref) = (&app, &csrf, &base);
    let start = move || async move {
        let response = post_form(
            app_ref,
            "/profile/linkedin/connect",
            &[("csrf", csrf_ref.as_str())],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let consent = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
        assert!(consent.as_str().starts_with(base_ref), "{consent}");
        consent
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned()
    };
    // A callback that fails (a state not this session's) comes back to the page, not JSON.
    start().await;
    let failed = app
        .get("/api/profile/linkedin/callback?code=x&state=wrong")
        .await;
    assert_eq!(failed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        failed.headers()[LOCATION],
        format!("{PUBLIC_URL}/profile?linkedin=failed").as_str()
    );
    let page = app
        .get("/profile?linkedin=failed")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("La connexion à LinkedIn n&#x27;a pas abouti"),
        "{page}"
    );
    // The right state connects, and the page names the member and the expiry.
    let state = start().await;
    let done = app
        .get(&format!(
            "/api/profile/linkedin/callback?code=good&state={state}"
        ))
        .await;
    assert_eq!(
        done.headers()[LOCATION],
        format!("{PUBLIC_URL}/profile?linkedin=connected").as_str()
    );
    let page = app
        .get("/profile?linkedin=connected")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("LinkedIn est connecté"), "{page}");
    assert!(page.contains("Ana Baker"), "{page}");
    assert!(page.contains("id=\"linkedin-expires\""), "{page}");
    assert!(page.contains("encore 60 jours"), "{page}");

    // Disconnect: a confirmation page first (a GET changes nothing), then the post.
    let confirm = app.get("/profile/linkedin/disconnect").await;
    assert_eq!(confirm.status(), StatusCode::OK);
    assert!(
        confirm
            .text()
            .await
            .unwrap()
            .contains("Déconnecter LinkedIn\u{a0}?")
    );
    let profile: serde_json::Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(profile["linkedin"]["connected"], true);
    assert_eq!(profile["linkedin"]["member_name"], "Ana Baker");
    let done = post_form(
        &app,
        "/profile/linkedin/disconnect",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(done.headers()[LOCATION], "/profile?linkedin=disconnected");
    let profile: serde_json::Value = app.get("/api/profile").await.json().await.unwrap();
    assert_eq!(profile["linkedin"]["connected"], false);
    assert!(profile["linkedin"]["member_name"].is_null());
    // Nothing left to disconnect: the confirmation goes back to the profile.
    let gone = app.get("/profile/linkedin/disconnect").await;
    assert_eq!(gone.headers()[LOCATION], "/profile");
}

#[sqlx::test(migrations = "../migrations")]
async fn connect_without_linkedin_configured_says_so_on_the_profile(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let csrf = app.csrf();
    let response = post_form(
        &app,
        "/profile/linkedin/connect",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(
        response.headers()[LOCATION],
        "/profile?linkedin=unavailable"
    );
    let page = app.get("/profile").await.text().await.unwrap();
    assert!(
        page.contains("n&#x27;est pas disponible sur ce serveur"),
        "{page}"
    );
}
