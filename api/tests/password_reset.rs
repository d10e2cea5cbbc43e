#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Forgot password and the owners' notices, with mail delivered to a real SMTP server
//! (aiosmtpd, `mail_sink`) by the SendMail handler's own function (`shared::mail::deliver`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::mail::{self, MailKind};
use sqlx::PgPool;
use test_support::app::{PASSWORD, error_code, spawn_app};
use test_support::mail_sink::{MailSink, body, deliver_all, reset_token};

const NEW_PASSWORD: &str = "a brand new secret";

async fn forgot(browser: &test_support::app::Visitor, email: &str) -> reqwest::Response {
    browser
        .post_json("/api/auth/forgot-password", &json!({ "email": email }))
        .await
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reset_link_works_once_and_ends_every_session(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let laptop = app.visitor();
    laptop.sign_in_as("ana@example.com").await;

    let stranger = app.visitor();
    let response = forgot(&stranger, "Ana@Example.com").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(deliver_all(&app.db, &sink).await, ["sent"]);
    let mails = sink.wait_for("ana@example.com", 1).await;
    let token = reset_token(&mails[0]);
    assert!(token.len() >= 40, "{token}");
    assert!(body(&mails[0]).contains("30 minutes"), "{}", mails[0]);
    // Only its hash is stored.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, shared::db::password_resets::hash(&token));
    assert_ne!(stored, token.as_bytes());

    // The page behind the link asks for the password.
    let page = stranger
        .get(&format!("/reset-password?token={token}"))
        .await;
    assert_eq!(page.status(), StatusCode::OK);

    let reset = |token: String| {
        let stranger = &stranger;
        async move {
            stranger
                .post_json(
                    "/api/auth/reset-password",
                    &json!({ "token": token, "password": NEW_PASSWORD }),
                )
                .await
        }
    };
    assert_eq!(reset(token.clone()).await.status(), StatusCode::NO_CONTENT);
    // Every session of the account is over.
    assert_eq!(
        app.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        laptop.get("/api/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The new password works, the old one does not.
    assert_eq!(
        app.sign_in("ana@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in("ana@example.com", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Single use.
    let again = reset(token.clone()).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(again).await, "invalid");
    let page = stranger
        .get(&format!("/reset-password?token={token}"))
        .await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_link_does_not_work_and_is_not_even_sent(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    forgot(&app.visitor(), "ana@example.com").await;
    forgot(&app.visitor(), "ana@example.com").await;
    // The first is sent, then both are past their 30 minutes.
    let first: i64 = sqlx::query_scalar("SELECT min(id) FROM mails")
        .fetch_one(&app.db)
        .await
        .unwrap();
    test_support::mail_sink::deliver(&app.db, &sink, first).await;
    sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    // The second's reset is made by its mail job, 30 minutes from the request: asked
    // for 31 minutes ago.
    sqlx::query(
        "UPDATE mails SET created_at = now() - interval '31 minutes' WHERE sent_at IS NULL",
    )
    .execute(&app.db)
    .await
    .unwrap();
    // A mail job that runs after the expiry sends no link.
    assert_eq!(
        deliver_all(&app.db, &sink).await,
        ["the reset was used or expired before it was sent"]
    );
    let mails = sink.wait_for("ana@example.com", 1).await;
    assert_eq!(mails.len(), 1);
    let response = app
        .visitor()
        .post_json(
            "/api/auth/reset-password",
            &json!({ "token": reset_token(&mails[0]), "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.sign_in("ana@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_addresses_get_the_same_answer_and_the_same_limit(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let known = forgot(&app.visitor(), "ana@example.com").await;
    let unknown = forgot(&app.visitor(), "nobody@example.com").await;
    assert_eq!(known.status(), unknown.status());
    let (known, unknown): (Value, Value) =
        (known.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(known, unknown);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM mails")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        rows, 2,
        "a mail row for each address: the mail job looks it up"
    );
    // Three per address and hour, whether or not it has an account.
    for email in ["ana@example.com", "nobody@example.com"] {
        for _ in 0..2 {
            assert_eq!(
                forgot(&app.visitor(), email).await.status(),
                StatusCode::ACCEPTED
            );
        }
        let refused = forgot(&app.visitor(), email).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
    }
    // Bad input is a 422, not a mail.
    let response = forgot(&app.visitor(), "not an address").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// "Forgot password" does the same database work for an address with an account and
/// one without: one mail row addressed to it and its job, no lookup (the row has no owner)
/// and no reset yet. Before, an unknown address cost one SELECT and a known one a reset,
/// a mail, its job and a commit: the answer's time told which. The mail job then finds
/// out: the known address gets its link, the unknown one nothing, and neither address is
/// kept.
#[sqlx::test(migrations = "../migrations")]
async fn forgot_password_does_the_same_work_for_any_address_and_the_mail_job_decides(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    // Rows written by each request: mails, password resets.
    let written = async |email: &str| {
        let count = async || -> (i64, i64) {
            sqlx::query_as(
                "SELECT (SELECT count(*) FROM mails), (SELECT count(*) FROM password_resets)",
            )
            .fetch_one(&app.db)
            .await
            .unwrap()
        };
        let before = count().await;
        let response = forgot(&app.visitor(), email).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let after = count().await;
        (after.0 - before.0, after.1 - before.1)
    };
    let known = written("ana@example.com").await;
    let unknown = written("nobody@example.com").await;
    assert_eq!(
        known, unknown,
        "(mails, resets) written for a known and an unknown address"
    );
    assert_eq!(known, (1, 0), "one mail row, no reset yet");
    // And one job each.
    app.wait_for_jobs("send_mail", "mail", 2).await;
    let rows: Vec<(Option<i64>, Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT user_id, subject_id, address FROM mails ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            (None, None, Some("ana@example.com".to_owned())),
            (None, None, Some("nobody@example.com".to_owned())),
        ],
        "one row each, addressed, with no owner looked up"
    );
    // The mail job: a link for the account, nothing for the address without one.
    assert_eq!(
        deliver_all(&app.db, &sink).await,
        ["sent", "no account has this address"]
    );
    let mails = sink.wait_for("ana@example.com", 1).await;
    assert!(reset_token(&mails[0]).len() >= 40, "{}", mails[0]);
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    let kept: i64 = sqlx::query_scalar("SELECT count(address) FROM mails")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(kept, 0, "the addresses are forgotten once looked up");
    // Delivered again, neither sends anything.
    assert!(deliver_all(&app.db, &sink).await.is_empty());
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM mails")
        .fetch_all(&app.db)
        .await
        .unwrap();
    for id in ids {
        assert_eq!(
            test_support::mail_sink::deliver(&app.db, &sink, id).await,
            None
        );
    }
    assert_eq!(sink.messages().len(), 1);
}

/// Her mail speaks the language she signed up in: an owner who signed up on English pages
/// and never touched the language switch reads English, one whose browser asked for none
/// reads French.
#[sqlx::test(migrations = "../migrations")]
async fn mail_speaks_the_language_she_signed_up_in(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    for (email, accept) in [
        ("ann@example.com", Some("en-GB,en;q=0.9")),
        ("zoe@example.com", None),
    ] {
        let mut request = app
            .visitor()
            .request(Method::POST, "/api/auth/sign-up")
            .json(&json!({ "email": email, "password": PASSWORD, "name": "Ann" }));
        if let Some(accept) = accept {
            request = request.header("accept-language", accept);
        }
        assert_eq!(request.send().await.unwrap().status(), StatusCode::ACCEPTED);
        assert_eq!(
            forgot(&app.visitor(), email).await.status(),
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(deliver_all(&app.db, &sink).await, ["sent", "sent"]);
    let english = sink.wait_for("ann@example.com", 1).await;
    assert!(
        english[0].contains("Choose a new AstroGrowth password"),
        "{}",
        english[0]
    );
    let french = sink.wait_for("zoe@example.com", 1).await;
    assert!(
        french[0].contains("Choisir un nouveau mot de passe AstroGrowth"),
        "{}",
        french[0]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn signing_up_with_a_taken_address_mails_its_owner(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    sqlx::query("UPDATE users SET language = 'en'")
        .execute(&app.db)
        .await
        .unwrap();
    let response = app
        .visitor()
        .post_json(
            "/api/auth/sign-up",
            &json!({ "email": "ANA@example.com", "password": "someone else's", "name": "Eve" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(deliver_all(&app.db, &sink).await, ["sent"]);
    let mails = sink.wait_for("ana@example.com", 1).await;
    assert!(
        mails[0].contains("You already have an AstroGrowth account"),
        "{}",
        mails[0]
    );
}

/// A campaign of `user_id` with `pending` contents waiting for approval, `ready`.
async fn ready_campaign(app: &test_support::app::TestApp, pending: i16) -> i64 {
    let id = app.create_campaign("Spring").await;
    sqlx::query("UPDATE campaigns SET status = 'ready' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    for _ in 0..pending {
        app.insert_content(id, 50, "pending").await;
    }
    id
}

#[sqlx::test(migrations = "../migrations")]
async fn notices_are_sent_once_per_campaign_in_her_language_unless_turned_off(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let ana = app.user_id("ana@example.com").await;
    let campaign = ready_campaign(&app, 3).await;

    assert_eq!(mail::scan::run(&app.db).await.unwrap(), 1);
    assert_eq!(
        mail::scan::run(&app.db).await.unwrap(),
        0,
        "once per campaign"
    );
    let mut tx = app.db.begin().await.unwrap();
    let again = mail::notify(&mut tx, ana, MailKind::ApprovalsWaiting, Some(campaign))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(!again);
    assert_eq!(deliver_all(&app.db, &sink).await, ["sent"]);
    let mails = sink.wait_for("ana@example.com", 1).await;
    // French by default, with how many wait.
    assert!(body(&mails[0]).contains("3 publication(s)"), "{}", mails[0]);

    // Another campaign, in English, and the same kind turned off for a third.
    sqlx::query("UPDATE users SET language = 'en'")
        .execute(&app.db)
        .await
        .unwrap();
    ready_campaign(&app, 2).await;
    assert_eq!(mail::scan::run(&app.db).await.unwrap(), 1);
    assert_eq!(deliver_all(&app.db, &sink).await, ["sent"]);
    let mails = sink.wait_for("ana@example.com", 2).await;
    assert!(
        body(&mails[1]).contains("2 post(s) waiting"),
        "{}",
        mails[1]
    );

    mail::set_notices_off(&app.db, ana, &[MailKind::ApprovalsWaiting])
        .await
        .unwrap();
    ready_campaign(&app, 1).await;
    assert_eq!(mail::scan::run(&app.db).await.unwrap(), 0, "turned off");
    // A notice queued before she turned it off is not sent either.
    let mut tx = app.db.begin().await.unwrap();
    mail::enqueue(
        &mut tx,
        ana,
        MailKind::ApprovalsWaiting,
        Some(campaign),
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        deliver_all(&app.db, &sink).await,
        ["the owner turned this notice off"]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_scrape_tells_the_owner_why_once(db: PgPool) {
    let sink = MailSink::start().await;
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    sqlx::query("UPDATE campaigns SET status = 'scraping' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    let reason = "Google Places found no business for \"bakery\" in Lyon";
    assert!(
        shared::db::lifecycle::campaign::scrape_failed(&app.db, id, reason)
            .await
            .unwrap()
    );
    // The notice's job went through the outbox with the failure.
    app.wait_for_jobs("send_mail", "mail", 1).await;
    assert_eq!(deliver_all(&app.db, &sink).await, ["sent"]);
    let mails = sink.wait_for("ana@example.com", 1).await;
    assert!(
        body(&mails[0]).contains("found no business"),
        "{}",
        mails[0]
    );
    // Failing again (relaunched, failed again) sends nothing more for this campaign.
    sqlx::query("UPDATE campaigns SET status = 'scraping' WHERE id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
    shared::db::lifecycle::campaign::scrape_failed(&app.db, id, reason)
        .await
        .unwrap();
    assert!(deliver_all(&app.db, &sink).await.is_empty());
}
