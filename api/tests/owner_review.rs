#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The owner's review and schedule forms over HTTP, against the real app and PostgreSQL:
//! approving every post at or above a score and the ticked ones (sent twice, decided
//! once), undoing a rejection, "publish now" and "take out" taken back, the switch that
//! pauses all her publishing, and her LinkedIn photo served to her only.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use sqlx::PgPool;
use test_support::app::{TestApp, Visitor, spawn_app};

async fn status(app: &TestApp, content: i64) -> String {
    sqlx::query_scalar("SELECT status::text FROM contents WHERE id = $1")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn slot(app: &TestApp, content: i64) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("SELECT scheduled_at FROM contents WHERE id = $1")
        .bind(content)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Posts a page's form; answers where it sends the browser.
async fn form(owner: &Visitor, path: &str, fields: &[(&str, &str)]) -> String {
    let csrf = owner.csrf();
    let mut body: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    body.extend_from_slice(fields);
    let r = owner
        .request(Method::POST, path)
        .form(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}: {}", r.status());
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn bulk_review_decides_each_post_once(db: PgPool) {
    let app = spawn_app(db).await;
    let owner = app.visitor();
    owner.sign_up("owner@example.com").await;
    let campaign = owner.create_campaign("Bakeries").await;
    let best = app.insert_content(campaign, 92, "pending").await;
    let good = app.insert_content(campaign, 80, "pending").await;
    let weak = app.insert_content(campaign, 60, "pending").await;
    let other = owner.create_campaign("Florists").await;
    let elsewhere = app.insert_content(other, 95, "pending").await;

    // "Approve all at or above 80" of the campaign the list shows.
    let back = form(
        &owner,
        "/contents/approve-at-least",
        &[
            ("at_least", "80"),
            ("status", "pending"),
            ("campaign", &campaign.to_string()),
        ],
    )
    .await;
    assert_eq!(
        back,
        format!("/contents?status=pending&campaign={campaign}&done=bulk-approved&count=2")
    );
    for (id, want) in [(best, "approved"), (good, "approved"), (weak, "pending")] {
        assert_eq!(status(&app, id).await, want);
    }
    assert_eq!(
        status(&app, elsewhere).await,
        "pending",
        "another campaign's"
    );
    // Sent again (a double click, a reload): nothing more.
    let again = form(
        &owner,
        "/contents/approve-at-least",
        &[
            ("at_least", "80"),
            ("status", "pending"),
            ("campaign", &campaign.to_string()),
        ],
    )
    .await;
    assert!(again.ends_with("done=bulk-approved&count=0"), "{again}");
    let page = owner.get(&again).await.text().await.unwrap();
    assert!(page.contains("Aucun post approuvé"), "{page}");

    // The ticked ones, rejected; a ticked post already decided is skipped.
    let back = form(
        &owner,
        "/contents/bulk",
        &[
            ("action", "reject"),
            ("id", &weak.to_string()),
            ("id", &best.to_string()),
            ("status", "pending"),
        ],
    )
    .await;
    assert!(back.ends_with("done=bulk-rejected&count=1"), "{back}");
    assert_eq!(status(&app, weak).await, "rejected");
    assert_eq!(status(&app, best).await, "approved");

    // Bad input: a clear 422, never a 500.
    for fields in [
        vec![("action", "publish"), ("id", "1")],
        vec![("at_least", "101")],
    ] {
        let path = if fields[0].0 == "action" {
            "/contents/bulk"
        } else {
            "/contents/approve-at-least"
        };
        let csrf = owner.csrf();
        let mut body = vec![("csrf", csrf.as_str())];
        body.extend(fields);
        let r = owner
            .request(Method::POST, path)
            .form(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    }
    // Another owner's post cannot be ticked into a decision.
    let stranger = app.other_user("stranger@example.com").await;
    let back = form(
        &stranger,
        "/contents/bulk",
        &[("action", "approve"), ("id", &elsewhere.to_string())],
    )
    .await;
    assert!(back.ends_with("count=0"), "{back}");
    assert_eq!(status(&app, elsewhere).await, "pending");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_rejection_is_undone_while_its_campaign_waits(db: PgPool) {
    let app = spawn_app(db).await;
    let owner = app.visitor();
    owner.sign_up("owner@example.com").await;
    let campaign = owner.create_campaign("Bakeries").await;
    sqlx::query("UPDATE campaigns SET status = 'ready' WHERE id = $1")
        .bind(campaign)
        .execute(&app.db)
        .await
        .unwrap();
    let first = app.insert_content(campaign, 80, "pending").await;
    let last = app.insert_content(campaign, 80, "pending").await;

    let back = form(
        &owner,
        &format!("/contents/{first}/reject"),
        &[("status", "pending")],
    )
    .await;
    assert_eq!(
        back,
        format!("/contents?status=pending&done=rejected&undo={first}")
    );
    let page = owner.get(&back).await.text().await.unwrap();
    assert!(
        page.contains(&format!("action=\"/contents/{first}/unreject\"")),
        "{page}"
    );
    let back = form(
        &owner,
        &format!("/contents/{first}/unreject"),
        &[("status", "pending")],
    )
    .await;
    assert!(back.contains("done=unrejected"), "{back}");
    assert_eq!(status(&app, first).await, "pending");
    // Twice: still pending, no error.
    let back = form(&owner, &format!("/contents/{first}/unreject"), &[]).await;
    assert!(back.contains("done=unrejected"), "{back}");

    // Rejecting both completes the campaign: that last rejection cannot be undone.
    form(&owner, &format!("/contents/{first}/reject"), &[]).await;
    form(&owner, &format!("/contents/{last}/reject"), &[]).await;
    let done: String = sqlx::query_scalar("SELECT status::text FROM campaigns WHERE id = $1")
        .bind(campaign)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(done, "completed");
    let back = form(&owner, &format!("/contents/{last}/unreject"), &[]).await;
    assert!(back.contains("done=cannot-unreject"), "{back}");
    assert_eq!(status(&app, last).await, "rejected");
}

#[sqlx::test(migrations = "../migrations")]
async fn publish_now_and_take_out_are_undone_and_pause_holds_everything(db: PgPool) {
    let app = spawn_app(db).await;
    let owner = app.visitor();
    owner.sign_up("owner@example.com").await;
    let user_id = app.user_id("owner@example.com").await;
    app.connect_linkedin_in_db(user_id).await;
    let campaign = owner.create_campaign("Bakeries").await;
    let post = app.insert_content(campaign, 80, "pending").await;
    owner.post(&format!("/api/contents/{post}/approve")).await;
    let placed = slot(&app, post).await.unwrap();

    // Publish now: a slot a few seconds ahead, its undo back to the slot it had.
    let back = form(
        &owner,
        &format!("/schedule/{post}/publish-now"),
        &[("view", "list")],
    )
    .await;
    let now_slot = slot(&app, post).await.unwrap();
    let ahead = now_slot - Utc::now();
    assert!(ahead > chrono::Duration::seconds(5), "{ahead}");
    assert!(
        back.starts_with(&format!("/schedule?done=published-now&undo={post}&was=")),
        "{back}"
    );
    let was = url::Url::parse(&format!("http://x{back}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "was")
        .unwrap()
        .1
        .into_owned();
    let page = owner.get(&back).await.text().await.unwrap();
    assert!(
        page.contains(&format!("action=\"/schedule/{post}/undo\"")),
        "{page}"
    );
    let back = form(&owner, &format!("/schedule/{post}/undo"), &[("at", &was)]).await;
    assert!(back.starts_with("/schedule?done=undone"), "{back}");
    assert_eq!(slot(&app, post).await, Some(placed));

    // Take out, then undo: back in its slot.
    let back = form(&owner, &format!("/schedule/{post}/unschedule"), &[]).await;
    assert_eq!(slot(&app, post).await, None);
    assert!(back.contains(&format!("undo={post}")), "{back}");
    form(
        &owner,
        &format!("/schedule/{post}/undo"),
        &[("at", &placed.to_rfc3339())],
    )
    .await;
    assert_eq!(slot(&app, post).await, Some(placed));

    // Too late: once its publication started, the undo says so and changes nothing.
    form(&owner, &format!("/schedule/{post}/publish-now"), &[]).await;
    sqlx::query(
        "INSERT INTO publications (content_id, user_id, state) VALUES ($1, $2, 'publishing')",
    )
    .bind(post)
    .bind(user_id)
    .execute(&app.db)
    .await
    .unwrap();
    let back = form(
        &owner,
        &format!("/schedule/{post}/undo"),
        &[("at", &placed.to_rfc3339())],
    )
    .await;
    assert!(back.starts_with("/schedule?done=too-late"), "{back}");
    assert_ne!(slot(&app, post).await, Some(placed));

    // The switch: paused, said on the page (in both languages), resumed.
    let back = form(&owner, "/schedule/pause", &[("view", "week")]).await;
    assert!(
        back.starts_with("/schedule?done=paused&view=week"),
        "{back}"
    );
    let page = owner.get("/schedule").await.text().await.unwrap();
    assert!(page.contains("id=\"resume\""), "{page}");
    owner.get("/language/en?next=/schedule").await;
    let page = owner.get("/schedule").await.text().await.unwrap();
    assert!(page.contains("Publishing is paused"), "{page}");
    let twice = form(&owner, "/schedule/pause", &[]).await;
    assert!(twice.contains("done=paused"), "{twice}");
    let back = form(&owner, "/schedule/resume", &[]).await;
    assert!(back.contains("done=resumed"), "{back}");
    let page = owner.get("/schedule").await.text().await.unwrap();
    assert!(page.contains("id=\"pause\""), "{page}");
}

#[sqlx::test(migrations = "../migrations")]
async fn her_linkedin_photo_is_served_to_her_only(db: PgPool) {
    let app = spawn_app(db).await;
    let owner = app.visitor();
    owner.sign_up("owner@example.com").await;
    let user_id = app.user_id("owner@example.com").await;
    app.connect_linkedin_in_db(user_id).await;
    // Connected without a photo: none, and her initials in the previews.
    let r = owner.get("/profile/linkedin-picture").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let png = b"\x89PNG\r\n\x1a\nnot really".to_vec();
    sqlx::query(
        "UPDATE user_profiles SET linkedin_member_name = 'Claire Martin',
                linkedin_member_picture = $2, linkedin_member_picture_type = 'image/png'
         WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(&png)
    .execute(&app.db)
    .await
    .unwrap();
    let r = owner.get("/profile/linkedin-picture").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let profile = owner.get("/profile").await.text().await.unwrap();
    assert!(profile.contains("id=\"linkedin-photo\""), "{profile}");
    assert!(profile.contains("Claire Martin"), "{profile}");
    // Someone else's session gets their own (none), a visitor the sign-in.
    let stranger = app.other_user("stranger@example.com").await;
    let r = stranger.get("/profile/linkedin-picture").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.visitor().get("/profile/linkedin-picture").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Disconnected: the photo is forgotten with the tokens.
    owner.post("/api/profile/linkedin/disconnect").await;
    let kept: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT linkedin_member_picture FROM user_profiles WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(kept, None);
}
