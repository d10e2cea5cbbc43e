//! Signing in with an OpenID Connect provider in a real browser (headless Chromium), against
//! the real app and the sandbox's provider, in French and in English: a new owner signs up
//! with "Continue with Sandbox ID", finds her way in on her profile, an unverified e-mail is
//! refused with a page that says so, and an existing password account is linked only after
//! its password. Screenshots at 1280 and 390 px land in `target/screenshots/oidc-*`; each
//! screenshotted page also passes axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use sqlx::PgPool;
use test_support::app::{PASSWORD, spawn_app_with};
use test_support::browser::{Browser, Language};
use test_support::sandbox::{TestSandbox, fault};

/// On the sandbox's consent page: who signs in, then Allow.
async fn consent(b: &Browser, email: &str) {
    assert!(
        b.text("h1").await.contains("sandbox's provider"),
        "on the provider's consent page"
    );
    b.fill("#email", email).await;
    b.click("#allow").await;
}

async fn signs_in_with_the_provider(db: PgPool, lang: Language) {
    let sandbox = TestSandbox::fast().await;
    // The browser comes back to the app's public URL: here, where it really listens.
    let port = test_support::free_port();
    let app = spawn_app_with(
        db,
        |c| {
            sandbox.point_oidc(c);
            c.api.bind = format!("127.0.0.1:{port}");
            c.api.public_url = format!("http://127.0.0.1:{port}");
        },
        None,
    )
    .await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let tag = lang.code();
    let button = lang.says("Continuer avec Sandbox ID", "Continue with Sandbox ID");

    // The sign-up page offers the provider above the e-mail form.
    b.goto("/sign-up").await;
    assert_eq!(b.text("#oidc-sandbox").await, button);
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("oidc-01-sign-up-{tag}")).await;

    // A new owner: the provider, the consent, and she is on her dashboard.
    b.click("#oidc-sandbox").await;
    consent(&b, "ana@bakery.example").await;
    assert_eq!(b.path().await, "/");
    assert_eq!(
        b.text("h1").await,
        lang.says("Votre tableau de bord", "Your dashboard")
    );

    // Her profile lists the way in, and says she has no password yet; the last way in
    // has no "unlink".
    b.goto("/profile").await;
    assert_eq!(
        b.text("#sign-in-ways-heading").await,
        lang.says("Moyens de connexion", "Ways to sign in")
    );
    assert!(b.text("#identities").await.contains("ana@bakery.example"));
    assert!(!b.is_shown("[id^=unlink-]").await);
    b.screenshot_of(&format!("oidc-02-profile-ways-{tag}"), "#sign-in-ways")
        .await;
    b.click("#sign-out").await;

    // The sign-in page too; an e-mail the provider has not verified makes no account.
    b.goto("/sign-in").await;
    assert_eq!(b.text("#oidc-sandbox").await, button);
    b.screenshot(&format!("oidc-03-sign-in-{tag}")).await;
    sandbox
        .fault(fault("oidc.token", json!({ "mode": "unverified_email" })))
        .await;
    b.click("#oidc-sandbox").await;
    consent(&b, "unverified@bakery.example").await;
    assert_eq!(
        b.text("#oidc-refused-why").await,
        lang.says(
            "Sandbox ID n'a pas confirmé votre adresse e-mail : aucun compte ne peut être créé avec. Confirmez-la auprès de Sandbox ID, ou créez un compte avec votre e-mail et un mot de passe.",
            "Sandbox ID has not confirmed your e-mail address, so no account can be made with it. Confirm it with Sandbox ID, or create an account with your e-mail and a password."
        )
    );
    b.screenshot(&format!("oidc-04-refused-unverified-{tag}"))
        .await;

    // An account that has a password: the provider's word is not enough, her password
    // links it once.
    app.visitor().sign_up("pat@bakery.example").await;
    b.goto("/sign-in").await;
    b.click("#oidc-sandbox").await;
    consent(&b, "pat@bakery.example").await;
    assert_eq!(
        b.text("h1").await,
        lang.says(
            "Lier votre compte Sandbox ID",
            "Link your Sandbox ID account"
        )
    );
    b.screenshot(&format!("oidc-05-link-{tag}")).await;
    b.fill("#password", PASSWORD).await;
    b.click("#oidc-link-submit").await;
    assert_eq!(b.path().await, "/profile");
    assert!(b.text("#identities").await.contains("pat@bakery.example"));
    // With a password, the identity can go.
    assert!(b.is_shown("[id^=unlink-]").await);
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_signs_in_with_the_provider_in_french(db: PgPool) {
    signs_in_with_the_provider(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_signs_in_with_the_provider_in_english(db: PgPool) {
    signs_in_with_the_provider(db, Language::English).await;
}
