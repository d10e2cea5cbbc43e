//! The owner's path from "launch" to "it's out", as the dashboard's pages tell it, with
//! the whole system running (sandbox, Redis, PostgreSQL, api, a workers process): home, the
//! campaign page, the Posts gallery and the schedule count her posts the same way, and
//! each says what needs her. These pages used to disagree: after a campaign whose posts
//! all approved themselves into the schedule, home said "nothing to do", the campaign page
//! asked her to approve posts it had no button for, and Posts opened on an empty list.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::Method;
use sqlx::PgPool;
use test_support::stack::Stack;

const RUN: Duration = Duration::from_secs(90);

/// The figure of the `post_counts` card `id` on a page.
fn count(page: &str, id: &str) -> i64 {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page:\n{page}"));
    let rest = &page[at..];
    let start = rest.find("data-count>").expect("the card has its figure") + "data-count>".len();
    let end = rest[start..].find('<').unwrap();
    rest[start..start + end].trim().parse().unwrap()
}

/// How many post cards a gallery page shows.
fn cards(page: &str) -> usize {
    page.matches("<li id=\"content-").count()
}

#[sqlx::test(migrations = "../migrations")]
async fn every_page_counts_a_campaigns_auto_approved_posts_alike(db: PgPool) {
    let mut stack = Stack::start(db.clone()).await;
    stack.spawn_worker("w1").await;
    // LinkedIn connected and the default schedule (not "publish at once"): the sandbox's
    // posts score over the approval threshold, approve themselves and wait for their slots.
    let owner = stack.visitor();
    owner.sign_up("owner@example.com").await;
    owner.connect_linkedin("ana").await;
    let id = owner.launch("Spring", "bakery", "Bordeaux").await;
    let detail = stack.wait_status(&owner, id, &["ready"], RUN).await;
    let made = detail["campaign"]["contents_count"].as_i64().unwrap();
    assert!(made > 0, "{detail}");
    let approved = detail["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "approved")
        .count() as i64;
    assert_eq!(approved, made, "every post approved itself: {detail}");

    for lang in ["en", "fr"] {
        // Home: nothing to approve, every post scheduled, with when the next one goes.
        let home = owner.page_in(lang, "/").await;
        assert_eq!(count(&home, "count-to-approve"), 0, "{lang}");
        assert_eq!(count(&home, "count-scheduled"), made, "{lang}");
        assert_eq!(count(&home, "count-published"), 0, "{lang}");
        assert_eq!(count(&home, "count-needing"), 0, "{lang}");
        assert!(home.contains("id=\"count-next\""), "{lang}: {home}");
        assert!(!home.contains("id=\"attention-connect\""), "{lang}");

        // The campaign page: the same figures, and its call to action leads to the
        // scheduled posts it names, not to an approval there is nothing to approve in.
        let campaign = owner.page_in(lang, &format!("/campaigns/{id}")).await;
        assert_eq!(count(&campaign, "count-scheduled"), made, "{lang}");
        assert_eq!(count(&campaign, "count-to-approve"), 0, "{lang}");
        assert!(
            campaign.contains("id=\"campaign-cta\" href=\"/schedule\""),
            "{lang}: {campaign}"
        );
        for stale in [
            "approve the ones you like",
            "validez celles qui vous plaisent",
        ] {
            assert!(!campaign.contains(stale), "{lang}");
        }

        // Posts opens on the list that has them, not on an empty "waiting for you".
        let posts = owner.page_in(lang, "/contents").await;
        assert!(cards(&posts) > 0, "{lang}: {posts}");
        assert!(
            posts.contains(&format!("id=\"gallery-count\">{made} ")),
            "{lang}: {posts}"
        );
        assert!(
            posts.contains("<option value=\"approved\" selected>"),
            "{lang}: {posts}"
        );
        // Asked for the posts waiting for approval, it says why there are none.
        let pending = owner.page_in(lang, "/contents?status=pending").await;
        assert_eq!(cards(&pending), 0, "{lang}");
        assert!(
            pending.contains("id=\"gallery-empty-all\""),
            "{lang}: {pending}"
        );
    }

    // The schedule's own list holds the posts the pages call scheduled.
    let schedule = owner.ok(Method::GET, "/api/schedule", None).await;
    let listed = schedule["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !i["scheduled_at"].is_null())
        .count() as i64;
    assert_eq!(listed, made, "{schedule}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_new_owner_without_linkedin_is_told_to_connect_it(db: PgPool) {
    let stack = Stack::start(db.clone()).await;
    let owner = stack.visitor();
    owner.sign_up("new@example.com").await;
    for (lang, nothing) in [
        ("en", "Nothing to do for now"),
        ("fr", "Rien à faire pour le moment"),
    ] {
        let home = owner.page_in(lang, "/").await;
        assert!(home.contains("id=\"attention-connect\""), "{lang}: {home}");
        assert!(!home.contains(nothing), "{lang}");
        // Her first steps, none done yet, the first one a link to connecting LinkedIn.
        assert!(home.contains("id=\"first-steps\""), "{lang}");
        assert!(
            home.contains("<progress value=\"0\" max=\"5\""),
            "{lang}: {home}"
        );
        assert!(
            home.contains("href=\"/profile#linkedin-heading\""),
            "{lang}"
        );
    }
    // Connected, the first step is ticked and the call to connect is gone.
    owner.connect_linkedin("ana").await;
    let home = owner.page_in("en", "/").await;
    assert!(!home.contains("id=\"attention-connect\""), "{home}");
    assert!(home.contains("<progress value=\"1\" max=\"5\""), "{home}");
}
