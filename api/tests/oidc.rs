#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Signing in with an OpenID Connect provider: the sandbox's, over real HTTP (discovery,
//! keys, consent, code exchange), and the real api. Each way the sandbox can make an ID
//! token wrong is refused; an existing account is never joined without its owner's proof.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::{PASSWORD, PUBLIC_URL, TestApp, Visitor, spawn_app, spawn_app_with};
use test_support::sandbox::{OIDC_PROVIDER, TestSandbox, fault};

async fn app(db: PgPool) -> (TestApp, TestSandbox) {
    let sandbox = TestSandbox::fast().await;
    let app = spawn_app_with(db, |c| sandbox.point_oidc(c), None).await;
    (app, sandbox)
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The browser's trip: our start route, the provider's consent (allowed as `email`, or
/// cancelled), and back to our callback; the callback's answer.
async fn through_provider(browser: &Visitor, email: &str, decision: &str) -> reqwest::Response {
    let start = browser.get(&format!("/sign-in/oidc/{OIDC_PROVIDER}")).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER, "the start redirects");
    let authorize = location(&start);
    let url = url::Url::parse(&authorize).unwrap();
    let asked: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let has = |k: &str, v: &str| asked.iter().any(|(a, b)| a == k && b == v);
    assert!(has("code_challenge_method", "S256"), "{authorize}");
    assert!(has("response_type", "code"), "{authorize}");
    let scope = &asked.iter().find(|(k, _)| k == "scope").unwrap().1;
    for s in ["openid", "email", "profile"] {
        assert!(scope.split(' ').any(|x| x == s), "{scope}");
    }
    assert!(asked.iter().any(|(k, _)| k == "nonce"), "{authorize}");
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{authorize}&auto={decision}&email={}",
            url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), StatusCode::FOUND, "the consent redirects");
    let back = location(&consent);
    let path = back
        .strip_prefix(PUBLIC_URL)
        .expect("back to our public URL");
    browser.get(path).await
}

async fn signed_in_email(browser: &Visitor) -> Option<String> {
    let me = browser.get("/api/auth/me").await;
    if me.status() != StatusCode::OK {
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
        return None;
    }
    let body: Value = me.json().await.unwrap();
    Some(body["user"]["email"].as_str().unwrap().to_owned())
}

/// The refusal page's kind, after checking it is a page and names the provider.
async fn refusal(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let html = response.text().await.unwrap();
    let kind = html
        .split("data-kind=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("not a refusal page ({status}): {html}"))
        .to_owned();
    assert!(html.contains("Sandbox ID"), "{html}");
    (status, kind)
}

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_owner_signs_up_and_in_with_the_provider(db: PgPool) {
    let (app, sandbox) = app(db).await;
    let page = app.visitor().get("/sign-in").await.text().await.unwrap();
    assert!(page.contains("id=\"oidc-sandbox\""), "{page}");
    assert!(page.contains("Sandbox ID"), "{page}");

    let browser = app.visitor();
    let back = through_provider(&browser, "ana@bakery.example", "allow").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/");
    assert_eq!(
        signed_in_email(&browser).await.as_deref(),
        Some("ana@bakery.example")
    );
    let (role, has_password): (String, bool) = sqlx::query_as(
        "SELECT role, password_hash IS NOT NULL FROM users WHERE email = 'ana@bakery.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(role, "owner");
    assert!(
        !has_password,
        "an account made through a provider has no password"
    );
    let (issuer, provider): (String, String) =
        sqlx::query_as("SELECT issuer, provider FROM user_identities")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(issuer, format!("{}/oidc", sandbox.url));
    assert_eq!(provider, OIDC_PROVIDER);
    // No password signs in to it, not even an empty one.
    for password in ["", PASSWORD] {
        let r = app.visitor().sign_in("ana@bakery.example", password).await;
        assert!(r.status().is_client_error(), "{password:?}: {}", r.status());
    }

    // Again, in another browser: the same account, no second one.
    let again = app.visitor();
    let back = through_provider(&again, "ana@bakery.example", "allow").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 1);
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM user_identities").await,
        1
    );

    // Sign out everywhere ends both sessions, as for a password sign-in.
    let me: Value = again.get("/api/auth/me").await.json().await.unwrap();
    let csrf = me["csrf_token"].as_str().unwrap();
    let out = again
        .request(reqwest::Method::POST, "/api/auth/sign-out-everywhere")
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(signed_in_email(&browser).await, None);

    // Discovery was read once; the keys were fetched once (no unknown key yet).
    assert_eq!(sandbox.log_len("oidc.discovery").await, 1);
    assert_eq!(sandbox.log_len("oidc.jwks").await, 1);
}

/// Each mode of the sandbox's token endpoint, as the refusal it must be.
#[sqlx::test(migrations = "../migrations")]
async fn every_bad_id_token_is_refused(db: PgPool) {
    let (app, sandbox) = app(db).await;
    // A first owner, for `other_sub` (her e-mail with another subject) and
    // `replayed_nonce` (her sign-in's nonce, played again).
    let first = app.visitor();
    let ok = through_provider(&first, "first@bakery.example", "allow").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cases = [
        (
            "unknown_key",
            "new1@bakery.example",
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            "wrong_aud",
            "new2@bakery.example",
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            "expired",
            "new3@bakery.example",
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            "replayed_nonce",
            "new4@bakery.example",
            StatusCode::UNAUTHORIZED,
            "token",
        ),
        (
            "unverified_email",
            "new5@bakery.example",
            StatusCode::FORBIDDEN,
            "unverified",
        ),
        (
            "other_sub",
            "first@bakery.example",
            StatusCode::CONFLICT,
            "link",
        ),
    ];
    for (mode, email, status, kind) in cases {
        sandbox
            .fault(fault("oidc.token", json!({ "mode": mode })))
            .await;
        let browser = app.visitor();
        let back = through_provider(&browser, email, "allow").await;
        if kind == "link" {
            assert_eq!(back.status(), status, "{mode}");
            let html = back.text().await.unwrap();
            assert!(html.contains("id=\"oidc-link\""), "{mode}: {html}");
        } else {
            assert_eq!(refusal(back).await, (status, kind.to_owned()), "{mode}");
        }
        assert_eq!(
            signed_in_email(&browser).await,
            None,
            "{mode}: not signed in"
        );
        assert_eq!(
            count(&app.db, "SELECT count(*) FROM users").await,
            1,
            "{mode}: no account made"
        );
        assert_eq!(
            count(&app.db, "SELECT count(*) FROM user_identities").await,
            1,
            "{mode}: no identity stored"
        );
    }
    // The unknown key made us fetch the keys again once before refusing.
    assert_eq!(sandbox.log_len("oidc.jwks").await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rotated_key_is_fetched_and_trusted(db: PgPool) {
    let (app, sandbox) = app(db).await;
    let first = through_provider(&app.visitor(), "ana@bakery.example", "allow").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    sandbox
        .control_post("/_sandbox/oidc/rotate", json!({}))
        .await;
    let browser = app.visitor();
    let after = through_provider(&browser, "ana@bakery.example", "allow").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        signed_in_email(&browser).await.as_deref(),
        Some("ana@bakery.example")
    );
    assert_eq!(
        sandbox.log_len("oidc.jwks").await,
        2,
        "fetched again for the new kid"
    );
    // And kept: the next sign-in fetches nothing.
    let third = through_provider(&app.visitor(), "ana@bakery.example", "allow").await;
    assert_eq!(third.status(), StatusCode::SEE_OTHER);
    assert_eq!(sandbox.log_len("oidc.jwks").await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_flow_is_bound_to_the_browser_that_started_it(db: PgPool) {
    let (app, _sandbox) = app(db).await;
    // Started in one browser, delivered in another (login CSRF): refused.
    let started = app.visitor();
    let start = started.get("/sign-in/oidc/sandbox").await;
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}&auto=allow&email=eve%40x.example",
            location(&start)
        ))
        .send()
        .await
        .unwrap();
    let callback = location(&consent);
    let path = callback.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    let other = app.visitor();
    assert_eq!(
        refusal(other.get(&path).await).await,
        (StatusCode::BAD_REQUEST, "state".to_owned())
    );
    assert_eq!(signed_in_email(&other).await, None);
    // In its own browser it works once; the same callback again is refused.
    assert_eq!(started.get(&path).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        refusal(started.get(&path).await).await.1,
        "state",
        "a callback is single use"
    );
    // A made-up state: refused, never a 500.
    let stranger = app.visitor();
    let r = stranger
        .get("/sign-in/oidc/sandbox/callback?code=x&state=nothing")
        .await;
    assert_eq!(refusal(r).await.1, "state");
    // An unknown provider is a 404 page.
    assert_eq!(
        stranger.get("/sign-in/oidc/nobody").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_changes_nothing(db: PgPool) {
    let (app, _sandbox) = app(db).await;
    let browser = app.visitor();
    let back = through_provider(&browser, "ana@bakery.example", "cancel").await;
    assert_eq!(
        refusal(back).await,
        (StatusCode::OK, "cancelled".to_owned())
    );
    assert_eq!(signed_in_email(&browser).await, None);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 0);
}

/// The form token the sign-in page set in this browser.
async fn form_token(browser: &Visitor, path: &str) -> String {
    let html = browser.get(path).await.text().await.unwrap();
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned()
}

async fn page_sign_in(browser: &Visitor, token: &str, email: &str, password: &str) -> StatusCode {
    browser
        .request(reqwest::Method::POST, "/sign-in")
        .form(&[
            ("csrf", token),
            ("email", email),
            ("password", password),
            ("next", "/profile"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_existing_password_account_is_never_joined_without_proof(db: PgPool) {
    let (app, _sandbox) = app(db).await;
    app.visitor().sign_up("ana@bakery.example").await;
    app.visitor().sign_up("bob@bakery.example").await;
    let ana_id = app.user_id("ana@bakery.example").await;

    let browser = app.visitor();
    let back = through_provider(&browser, "ana@bakery.example", "allow").await;
    assert_eq!(back.status(), StatusCode::CONFLICT);
    let html = back.text().await.unwrap();
    assert!(html.contains("id=\"oidc-link\""), "{html}");
    assert_eq!(signed_in_email(&browser).await, None, "not signed in");
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM user_identities").await,
        0
    );

    let token = form_token(&browser, "/sign-in").await;
    // A wrong password links nothing.
    assert_eq!(
        page_sign_in(&browser, &token, "ana@bakery.example", "wrong-password-1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM user_identities").await,
        0
    );
    // Another account's password signs in to that account and links nothing to it.
    assert_eq!(
        page_sign_in(&browser, &token, "bob@bakery.example", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM user_identities").await,
        0
    );

    // Ana's own password, in a browser where her identity waits: linked to her account.
    let ana = app.visitor();
    assert_eq!(
        through_provider(&ana, "ana@bakery.example", "allow")
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let token = form_token(&ana, "/sign-in").await;
    assert_eq!(
        page_sign_in(&ana, &token, "ana@bakery.example", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let holder: i64 = sqlx::query_scalar("SELECT user_id FROM user_identities")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(holder, ana_id);
    let profile = ana.get("/profile").await.text().await.unwrap();
    assert!(profile.contains("id=\"sign-in-ways\""), "{profile}");
    assert!(profile.contains("ana@bakery.example"), "{profile}");

    // From now on the provider signs her in, to her account.
    let later = app.visitor();
    let back = through_provider(&later, "ana@bakery.example", "allow").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        signed_in_email(&later).await.as_deref(),
        Some("ana@bakery.example")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_stays_admin_through_a_linked_provider_and_no_claim_makes_one(db: PgPool) {
    let (app, _sandbox) = app(db).await;
    app.admin("root@ops.example").await;
    let browser = app.visitor();
    assert_eq!(
        through_provider(&browser, "root@ops.example", "allow")
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let token = form_token(&browser, "/sign-in").await;
    assert_eq!(
        page_sign_in(&browser, &token, "root@ops.example", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let later = app.visitor();
    assert_eq!(
        through_provider(&later, "root@ops.example", "allow")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let me: Value = later.get("/api/auth/me").await.json().await.unwrap();
    assert_eq!(me["user"]["role"], "admin");
    // A new account through the provider is an owner, whatever the provider says.
    let owner = app.visitor();
    through_provider(&owner, "new@bakery.example", "allow").await;
    let me: Value = owner.get("/api/auth/me").await.json().await.unwrap();
    assert_eq!(me["user"]["role"], "owner");
}

async fn csrf_of(browser: &Visitor) -> String {
    let me: Value = browser.get("/api/auth/me").await.json().await.unwrap();
    me["csrf_token"].as_str().unwrap().to_owned()
}

async fn page_post(browser: &Visitor, path: &str) -> reqwest::Response {
    let csrf = csrf_of(browser).await;
    browser
        .request(reqwest::Method::POST, path)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
}

async fn identity_ids(db: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM user_identities ORDER BY id")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_profile_links_and_unlinks_but_keeps_the_last_way_in(db: PgPool) {
    let (app, _sandbox) = app(db).await;
    let browser = app.visitor();
    through_provider(&browser, "ana@bakery.example", "allow").await;
    let first = identity_ids(&app.db).await[0];
    // Her only way in (no password): not removed.
    let r = page_post(&browser, &format!("/profile/identities/{first}/unlink")).await;
    assert_eq!(location(&r), "/profile?identity=last#sign-in-ways");
    assert_eq!(identity_ids(&app.db).await, vec![first]);
    let profile = browser.get("/profile").await.text().await.unwrap();
    assert!(
        !profile.contains(&format!("id=\"unlink-{first}\"")),
        "{profile}"
    );

    // Link a second account at the provider (another e-mail), from the profile.
    let start = page_post(&browser, "/profile/identities/sandbox/link").await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let consent = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}&auto=allow&email=ana.work%40bakery.example",
            location(&start)
        ))
        .send()
        .await
        .unwrap();
    let path = location(&consent)
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    let linked = browser.get(&path).await;
    assert_eq!(location(&linked), "/profile?identity=linked#sign-in-ways");
    let ids = identity_ids(&app.db).await;
    assert_eq!(ids.len(), 2);
    // The link form is refused without the session's token.
    let forged = browser
        .request(reqwest::Method::POST, "/profile/identities/sandbox/link")
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // Now either can go, but not both; another account's identity is not found.
    let other = app.visitor();
    through_provider(&other, "bob@bakery.example", "allow").await;
    let r = page_post(&other, &format!("/profile/identities/{first}/unlink")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = page_post(&browser, &format!("/profile/identities/{first}/unlink")).await;
    assert_eq!(location(&r), "/profile?identity=unlinked#sign-in-ways");
    let r = page_post(&browser, &format!("/profile/identities/{}/unlink", ids[1])).await;
    assert_eq!(location(&r), "/profile?identity=last#sign-in-ways");
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM user_identities").await,
        2,
        "hers and bob's"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_provider_there_is_no_button(db: PgPool) {
    let app = spawn_app(db).await;
    for path in ["/sign-in", "/sign-up"] {
        let page = app.visitor().get(path).await.text().await.unwrap();
        assert!(!page.contains("oidc-buttons"), "{path}");
    }
    assert_eq!(
        app.visitor().get("/sign-in/oidc/google").await.status(),
        StatusCode::NOT_FOUND
    );
}
