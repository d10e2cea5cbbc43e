#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The publishing schedule over HTTP: the owner's slots and time zone (checked, with clear
//! 422s), an approval taking the next slot, the schedule page in both languages, and its
//! forms (move, take out, publish now) going through the same transitions.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::spawn_app;

#[sqlx::test(migrations = "../migrations")]
async fn the_schedule_is_checked_and_approvals_take_its_slots(db: PgPool) {
    let app = spawn_app(db.clone()).await;
    let owner = app.visitor();
    owner.sign_up("owner@example.com").await;
    let user_id = app.user_id("owner@example.com").await;
    app.connect_linkedin_in_db(user_id).await;

    let current: Value = owner
        .get("/api/profile/schedule")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["set"], false);
    assert_eq!(current["schedule"]["time_zone"], "Europe/Paris");
    assert_eq!(current["schedule"]["days"], json!([2, 3, 4]));
    assert_eq!(current["schedule"]["times"], json!(["09:00", "14:00"]));
    assert_eq!(current["schedule"]["per_day"], 2);

    for (body, field) in [
        (
            json!({"time_zone": "Mars/Olympus", "days": [1], "times": ["09:00"], "per_day": 1}),
            "time_zone",
        ),
        (
            json!({"time_zone": "Europe/Paris", "days": [], "times": ["09:00"], "per_day": 1}),
            "days",
        ),
        (
            json!({"time_zone": "Europe/Paris", "days": [1], "times": ["9h"], "per_day": 1}),
            "times",
        ),
        (
            json!({"time_zone": "Europe/Paris", "days": [1], "times": ["09:00"], "per_day": 101}),
            "per_day",
        ),
    ] {
        let r = owner.put_json("/api/profile/schedule", &body).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(field), "{text}");
    }
    let saved = owner
        .put_json(
            "/api/profile/schedule",
            &json!({"time_zone": "America/Montreal", "days": [1, 2, 3, 4, 5, 6, 7],
                    "times": ["10:00"], "per_day": 1}),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);

    let campaign = owner.create_campaign("Bakeries").await;
    let first = app.insert_content(campaign, 80, "pending").await;
    let second = app.insert_content(campaign, 80, "pending").await;
    let mut slots = Vec::new();
    for id in [first, second] {
        let r: Value = owner
            .post(&format!("/api/contents/{id}/approve"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["queued_for_publishing"], true, "{r}");
        slots.push(r["scheduled_at"].as_str().unwrap().to_owned());
    }
    // One a day: the second one rolls to the next day, at 10:00 in Montreal.
    let a: chrono::DateTime<chrono::Utc> = slots[0].parse().unwrap();
    let b: chrono::DateTime<chrono::Utc> = slots[1].parse().unwrap();
    assert_eq!((b - a).num_hours(), 24, "{slots:?}");

    let listed: Value = owner.get("/api/schedule").await.json().await.unwrap();
    assert_eq!(listed["time_zone"], "America/Montreal");
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    // The page, in French then in English, says when, in her time zone.
    let page = owner.get("/schedule").await.text().await.unwrap();
    assert!(page.contains("Calendrier de publication"), "{page}");
    assert!(page.contains("10:00"), "{page}");
    owner.get("/language/en?next=/schedule").await;
    let page = owner.get("/schedule").await.text().await.unwrap();
    assert!(page.contains("Publishing schedule"), "{page}");
    // The profile sums the schedule up and leads to the page that changes it.
    let profile = owner.get("/profile").await.text().await.unwrap();
    for shown in [
        r#"id="profile-time-zone">America&#x2F;Montreal<"#,
        r#"id="profile-times">10:00 (Montreal time)<"#,
        "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday",
        r#"href="/schedule#slots-heading""#,
    ] {
        assert!(profile.contains(shown), "{shown} missing from {profile}");
    }

    // The gallery and the campaign page say when each approved post goes out, in her
    // time zone (10:00 in Montreal, whatever the server's zone).
    for path in [
        "/contents?status=approved".to_owned(),
        format!("/campaigns/{campaign}"),
    ] {
        let page = owner.get(&path).await.text().await.unwrap();
        let said = page.matches("Scheduled for ").count();
        assert_eq!(said, 2, "{path}: {page}");
        assert!(page.contains(", 10:00"), "{path}: {page}");
    }

    // Take the first out through the page's form, then publish it now.
    let csrf = owner.csrf();
    let r = owner
        .request(
            reqwest::Method::POST,
            &format!("/schedule/{first}/unschedule"),
        )
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let listed: Value = owner.get("/api/schedule").await.json().await.unwrap();
    let out = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["content_id"] == first)
        .unwrap();
    assert_eq!(out["scheduled_at"], Value::Null);
    let r = owner
        .post(&format!("/api/contents/{first}/publish-now"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A pending or unknown content cannot be moved: 404 / 409 with a message.
    let r = owner
        .post_json(
            &format!("/api/contents/{}/move", second + 1000),
            &json!({"at": slots[1]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
