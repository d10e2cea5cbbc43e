//! An owner's account pages in a real browser (headless Chromium, see `web/driver.rs`)
//! against the real app, PostgreSQL and a private Redis, in French and in English: a
//! forgotten password reset from the link a real SMTP server received (`mail_sink`), and
//! the e-mail notices turned off and on from the profile. Screenshots at 1280 and 390 px
//! land in `target/screenshots/account-*`; each screenshotted page also passes axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use shared::mail;
use sqlx::PgPool;
use test_support::app::{PASSWORD, PUBLIC_URL, TestApp, spawn_app};
use test_support::browser::{Browser, Language, WIDTHS, sign_in, sign_up_and_in};
use test_support::mail_sink::MailSink;

const NEW_PASSWORD: &str = "a brand new secret";

/// The language saved on her account: the mails are written in it. The page's switch
/// saves it (signed in), so she goes there and back.
async fn choose_language(b: &Browser, app: &TestApp, email: &str, lang: Language) {
    b.click("#switch-language").await;
    b.click("#switch-language").await;
    let saved: Option<String> =
        sqlx::query_scalar("SELECT language::text FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(saved.as_deref(), Some(lang.code()));
}

async fn a_forgotten_password_is_reset_from_the_mailed_link(db: PgPool, lang: Language) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let email = "ana@bakery.example";
    let tag = lang.code();
    sign_up_and_in(&b, email).await;
    choose_language(&b, &app, email, lang).await;
    b.click("#sign-out").await;

    // From the sign-in page's link: the address, then "a link is on its way".
    b.goto("/sign-in").await;
    b.click("#forgot-link").await;
    assert_eq!(b.path().await, "/forgot-password");
    assert_eq!(
        b.text("h1").await,
        lang.says("Mot de passe oublié", "Forgot your password")
    );
    b.fill("#email", email).await;
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("account-01-forgot-{tag}")).await;
    b.click("form[action='/forgot-password'] button[type=submit]")
        .await;
    assert_eq!(
        b.text("#forgot-sent").await,
        lang.says(
            "Si cet e-mail a un compte, un lien est en route. Il sert une fois, pendant 30 minutes. Regardez dans les indésirables s'il n'arrive pas.",
            "If this e-mail has an account, a link is on its way. It works once, for 30 minutes. Check your spam folder if it does not arrive."
        )
    );
    b.screenshot(&format!("account-02-forgot-sent-{tag}")).await;

    // The mail goes through the queue: its SendMail job waits in `mail`, and running that
    // job (no worker runs here) hands it to the SMTP server.
    app.wait_for_jobs("send_mail", "mail", 1).await;
    let jobs = app.ready_jobs("mail").await;
    assert_eq!(jobs[0]["kind"], "send_mail", "{jobs:?}");
    let mail_id = jobs[0]["args"]["mail_id"].as_i64().unwrap();
    assert_eq!(
        test_support::mail_sink::deliver(&app.db, &sink, mail_id).await,
        Some("sent")
    );
    let mails = sink.wait_for(email, 1).await;
    let text = test_support::mail_sink::text(&mails[0]);
    assert!(
        text.contains(lang.says(
            "Ce lien permet d'en choisir un nouveau ; il sert une seule fois",
            "This link lets you choose a new one; it works once"
        )),
        "{text}"
    );

    // The link as the mail gives it (to the app's public address), opened in the browser.
    let link = test_support::mail_sink::reset_link(&mails[0]);
    let path = link
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{link} is not on {PUBLIC_URL}"));
    assert!(path.starts_with("/reset-password?token="), "{link}");
    b.goto(path).await;
    assert_eq!(
        b.text("h1").await,
        lang.says("Choisir un nouveau mot de passe", "Choose a new password")
    );
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("account-03-reset-{tag}")).await;

    // Too short: said next to the field, which is marked; the link still works.
    b.fill("#password", "short").await;
    b.click("form[action='/reset-password'] button[type=submit]")
        .await;
    assert!(b.text("#password-error").await.contains("10"));
    let invalid = b
        .client
        .find(fantoccini::Locator::Css("#password"))
        .await
        .unwrap()
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    b.screenshot(&format!("account-04-reset-too-short-{tag}"))
        .await;

    // Its language switch comes back to the link, not to a page saying it does not work.
    b.click("#switch-language").await;
    assert_eq!(b.path().await, path);
    assert_eq!(
        b.text("h1").await,
        lang.other()
            .says("Choisir un nouveau mot de passe", "Choose a new password")
    );
    assert!(!b.is_shown("#reset-invalid").await);
    b.click("#switch-language").await;
    assert_eq!(b.path().await, path);

    b.fill("#password", NEW_PASSWORD).await;
    b.click("form[action='/reset-password'] button[type=submit]")
        .await;
    assert_eq!(b.path().await, "/sign-in?reset=1");
    assert_eq!(
        b.text("#reset-done").await,
        lang.says(
            "Votre mot de passe est changé et toutes les sessions sont fermées. Connectez-vous avec votre nouveau mot de passe.",
            "Your password is changed and every session is ended. Sign in with your new password."
        )
    );
    b.screenshot(&format!("account-05-reset-done-{tag}")).await;

    // The old password is refused, the new one signs her in.
    sign_in(&b, email, PASSWORD).await;
    assert!(b.path().await.starts_with("/sign-in"), "{}", b.path().await);
    assert_eq!(
        b.text("#sign-in-problem").await,
        lang.says(
            "L'e-mail ou le mot de passe est incorrect.",
            "The e-mail or the password is wrong."
        )
    );
    sign_in(&b, email, NEW_PASSWORD).await;
    assert_eq!(b.path().await, "/");
    assert_eq!(
        b.text("h1").await,
        lang.says("Votre tableau de bord", "Your dashboard")
    );

    // The link served once.
    b.goto(path).await;
    assert_eq!(
        b.text("#reset-invalid").await,
        lang.says(
            "Ce lien ne fonctionne plus : il a déjà servi, ou ses 30 minutes sont passées.",
            "This link does not work any more: it was already used, or its 30 minutes are over."
        )
    );
    b.screenshot(&format!("account-06-reset-used-{tag}")).await;
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_resets_a_forgotten_password_from_the_mailed_link_in_french(db: PgPool) {
    a_forgotten_password_is_reset_from_the_mailed_link(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_resets_a_forgotten_password_from_the_mailed_link_in_english(db: PgPool) {
    a_forgotten_password_is_reset_from_the_mailed_link(db, Language::English).await;
}

/// The notice kinds turned off on the account, in order.
async fn notices_off(app: &TestApp, user_id: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT array(SELECT unnest(notices_off) ORDER BY 1) FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

const KINDS: [&str; 4] = [
    "approvals_waiting",
    "linkedin_reconnect",
    "campaign_error",
    "publication_unknown",
];

async fn which_ticked(b: &Browser) -> Vec<&'static str> {
    let mut on = Vec::new();
    for kind in KINDS {
        if b.is_checked(&format!("#notice-{kind}")).await {
            on.push(kind);
        }
    }
    on
}

async fn notices_are_turned_off_and_on(db: PgPool, lang: Language) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let email = "ana@bakery.example";
    let tag = lang.code();
    sign_up_and_in(&b, email).await;
    let user_id = app.user_id(email).await;
    // A campaign whose posts wait for her approval: what the periodic scan mails about.
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status)
         VALUES ($1, 'Boulangeries de Lyon', 'boulangerie', 'Lyon', 'ready') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    app.insert_content(campaign, 70, "pending").await;

    b.click("header a[href='/profile']").await;
    assert_eq!(
        b.text("#notices-heading").await,
        lang.says("Avis par e-mail", "E-mail notices")
    );
    assert_eq!(
        b.text("label[for='notice-approvals_waiting']").await,
        lang.says(
            "Des publications attendent mon accord",
            "Posts are waiting for my approval"
        )
    );
    assert_eq!(which_ticked(&b).await, KINDS);
    // On a phone the long labels wrap, and the boxes keep their size beside them.
    b.resize(WIDTHS[1]).await;
    let widths = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('#notices-form input[type=checkbox]'))
                 .map(box => box.getBoundingClientRect().width);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(widths, serde_json::json!([16, 16, 16, 16]));
    b.resize(WIDTHS[0]).await;
    b.assert_no_horizontal_scroll().await;
    b.screenshot_of(&format!("account-07-notices-{tag}"), "#notices")
        .await;

    // Two turned off: saved, said in the section, and the boxes stay unticked on a reload.
    b.press("#notice-approvals_waiting").await;
    b.press("#notice-publication_unknown").await;
    b.click("#notices-save").await;
    assert_eq!(b.path().await, "/profile?done=notices-saved");
    assert_eq!(
        b.text("#notices-saved").await,
        lang.says("Vos avis sont enregistrés.", "Your notices are saved.")
    );
    b.screenshot_of(&format!("account-08-notices-saved-{tag}"), "#notices")
        .await;
    assert_eq!(
        notices_off(&app, user_id).await,
        ["approvals_waiting", "publication_unknown"]
    );
    b.goto("/profile").await;
    assert!(!b.is_shown("#notices-saved").await);
    assert_eq!(
        which_ticked(&b).await,
        ["linkedin_reconnect", "campaign_error"]
    );
    // Off, the waiting posts are not mailed about.
    assert_eq!(mail::scan::run(&app.db).await.unwrap(), 0);

    // Turned on again: the next scan queues that notice.
    b.press("#notice-approvals_waiting").await;
    b.click("#notices-save").await;
    assert_eq!(notices_off(&app, user_id).await, ["publication_unknown"]);
    b.goto("/profile").await;
    assert_eq!(
        which_ticked(&b).await,
        ["approvals_waiting", "linkedin_reconnect", "campaign_error"]
    );
    assert_eq!(mail::scan::run(&app.db).await.unwrap(), 1);
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_turns_e_mail_notices_off_and_on_from_her_profile_in_french(db: PgPool) {
    notices_are_turned_off_and_on(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_owner_turns_e_mail_notices_off_and_on_from_her_profile_in_english(db: PgPool) {
    notices_are_turned_off_and_on(db, Language::English).await;
}
