#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The pipeline end to end: real PostgreSQL (`#[sqlx::test]`), a private Redis, the real
//! api, the sandbox over HTTP, and real `workers` processes.

mod harness;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::stack::{API_POLL, Stack};
use test_support::{poll_every, wait_for, wait_until};

/// Generous: a run takes a few seconds; a slow CI machine gets room.
const RUN: Duration = Duration::from_secs(90);

/// Collects the user's live events (their Redis channel) for 20 s, or until a
/// `campaign_status` event says `completed`.
fn listen(redis_url: &str, user_id: i64) -> std::thread::JoinHandle<Vec<Value>> {
    let mut conn = redis::Client::open(redis_url)
        .unwrap()
        .get_connection()
        .unwrap();
    let channel = shared::events::Events::channel("ag:", user_id);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let mut pubsub = conn.as_pubsub();
        pubsub.subscribe(&channel).unwrap();
        pubsub
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        ready_tx.send(()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut events = Vec::new();
        while std::time::Instant::now() < deadline {
            let Ok(msg) = pubsub.get_message() else {
                continue;
            };
            let payload: String = msg.get_payload().unwrap();
            let event: Value = serde_json::from_str(&payload).unwrap();
            let done = event["type"] == "campaign_status" && event["status"] == "completed";
            events.push(event);
            if done {
                break;
            }
        }
        events
    });
    ready_rx.recv().unwrap();
    handle
}

/// A sandbox whose LinkedIn app is also approved for the Community Management API (post
/// analytics), beside the two self-serve products.
fn with_analytics() -> sandbox::Options {
    let mut products: Vec<String> = sandbox::SELF_SERVE_PRODUCTS.map(str::to_owned).to_vec();
    products.push("Community Management API".to_owned());
    sandbox::Options {
        linkedin_products: products,
        ..sandbox::Options::default()
    }
}

/// The contents of a campaign detail, by status.
fn count(detail: &Value, status: &str) -> usize {
    detail["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == status)
        .count()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_launched_campaign_runs_to_completed_and_publishes_each_content_once(db: PgPool) {
    // The sandbox's posts score 80–90 with their image and 60–70 without: at 75, the two
    // without an image wait for the owner.
    let mut stack = Stack::start_with(db.clone(), sandbox::Options::default(), |c| {
        c.pipeline.auto_approve_score = 75;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    let events = listen(&stack.redis.url(), user_id);
    // The first two images are refused by the model's filter: those two contents have no
    // image, score below the threshold and wait for the owner.
    stack
        .sandbox
        .fault(json!({"route": "gemini.image", "count": 2, "mode": "filtered"}))
        .await;
    let id = owner.launch("Spring", "bakery", "Smallville").await;
    let detail = stack.wait_status(&owner, id, &["ready"], RUN).await;
    let campaign = &detail["campaign"];
    assert_eq!(campaign["leads_count"], 7, "{campaign}");
    assert_eq!(campaign["enriched_count"], 7);
    assert_eq!(campaign["contents_count"], 7);
    assert_eq!(campaign["failed_count"], 0);
    // Every lead is scored, with the signals that make its score.
    for lead in detail["leads"].as_array().unwrap() {
        assert_eq!(lead["stage"], "generated", "{lead}");
        let breakdown = &lead["score_breakdown"];
        assert_eq!(breakdown["total"], lead["lead_score"], "{lead}");
        assert_eq!(breakdown["signals"].as_array().unwrap().len(), 7);
    }
    assert_eq!(count(&detail, "pending"), 2, "{detail}");
    for c in detail["contents"].as_array().unwrap() {
        let breakdown = &c["score_breakdown"];
        assert_eq!(breakdown["total"], c["quality_score"], "{c}");
        if c["status"] == "pending" {
            assert!(c["image_key"].is_null());
            assert!(c["error"].as_str().unwrap().starts_with("image:"), "{c}");
        }
    }
    // The owner approves the two; everything ends published.
    assert_eq!(owner.approve_pending().await, 2);
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 7);
    assert_eq!(count(&detail, "published"), 7);
    let publications = owner
        .ok(Method::GET, "/api/publications?per_page=100", None)
        .await;
    let items = publications["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    for p in items {
        assert_eq!(p["state"], "published");
        assert!(
            p["post_urn"].as_str().unwrap().starts_with("urn:li:share:"),
            "{p}"
        );
    }
    let posts = stack.sandbox.posts().await;
    assert_eq!(posts.len(), 7);
    stack.sandbox.assert_no_double_post().await;
    let metrics = owner.ok(Method::GET, "/api/metrics", None).await;
    assert_eq!(metrics["published"], 7, "{metrics}");
    // The owner's live events told the whole story, in order of the steps.
    let kinds: Vec<String> = events
        .join()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for kind in [
        "leads_found",
        "lead_enriched",
        "content_generated",
        "published",
        "campaign_status",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no {kind} event in {kinds:?}"
        );
    }
    // Images go to their owner only.
    let with_image = detail["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["image_key"].is_string())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/contents/{with_image}/image");
    let image = owner.get(&path).await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert!(image.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let stranger = stack.owner("stranger@example.com").await;
    let (status, _) = stranger.call(Method::GET, &path, None).await;
    assert_eq!(status, 404);
    // Every job carried its owner: each run's log line names the user.
    let log = stack.workers[0].log();
    let pipeline_kinds = [
        "scrape_campaign",
        "enrich_lead",
        "generate_content",
        "publish_post",
    ];
    let runs: Vec<&str> = log
        .lines()
        .filter(|l| {
            pipeline_kinds
                .iter()
                .any(|k| l.contains(&format!("job.kind={k}")))
        })
        .collect();
    assert!(!runs.is_empty(), "no job run logged:\n{log}");
    for line in runs {
        assert!(line.contains(&format!("user.id=Some({user_id})")), "{line}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_provider_data_ends_the_lead_with_a_reason_not_a_stuck_campaign(db: PgPool) {
    let mut stack = Stack::start(db).await;
    stack.spawn_worker("w1").await;
    let owner = stack.signed_up_owner().await;
    stack
        .sandbox
        .fault(json!({"route": "gemini.text", "count": 1, "mode": "blocked"}))
        .await;
    stack
        .sandbox
        .fault(json!({"route": "gemini.image", "count": 1, "mode": "not_image"}))
        .await;
    let id = owner.launch("Odd", "florist", "Smallville").await;
    // Not connected to LinkedIn: nothing auto-approves, so the campaign stops at `ready`.
    let detail = stack.wait_status(&owner, id, &["ready"], RUN).await;
    let campaign = &detail["campaign"];
    assert_eq!(campaign["failed_count"], 1, "{campaign}");
    let details = campaign["error_details"].as_object().unwrap();
    let lead_reason = details
        .iter()
        .find(|(k, _)| k.starts_with("lead "))
        .map(|(_, v)| v.as_str().unwrap().to_owned())
        .expect("the failed lead's reason");
    assert!(lead_reason.contains("block"), "{lead_reason}");
    let content_reason = details
        .iter()
        .find(|(k, _)| k.starts_with("content "))
        .map(|(_, v)| v.as_str().unwrap().to_owned())
        .expect("the image's reason");
    assert!(content_reason.starts_with("image:"), "{content_reason}");
    let failed = detail["leads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["stage"] == "failed")
        .count();
    assert_eq!(failed, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn faults_on_every_provider_and_a_killed_worker_change_nothing_in_the_end(db: PgPool) {
    let mut stack = Stack::start(db).await;
    stack.spawn_worker("w1").await;
    stack.spawn_worker("w2").await;
    let owner = stack.connected_owner().await;
    for fault in [
        json!({"route": "places.search", "count": 1, "status": 500}),
        json!({"route": "gemini.text", "count": 3, "status": 429, "retry_after_s": 1}),
        json!({"route": "gemini.image", "count": 2, "status": 500}),
        json!({"route": "gemini.text", "count": 1, "delay_ms": 3000}),
        json!({"route": "site", "count": 1, "mode": "huge"}),
        json!({"route": "site", "count": 1, "mode": "hang"}),
        json!({"route": "linkedin.posts", "count": 2, "status": 500, "after_effect": true}),
        json!({"route": "linkedin.images.init", "count": 1, "status": 503}),
    ] {
        stack.sandbox.fault(fault).await;
    }
    let id = owner.launch("Storm", "cafe", "Smallville").await;
    // Kill one worker while the campaign runs.
    stack
        .wait_status(&owner, id, &["enriching", "generating"], RUN)
        .await;
    stack.workers[0].sigkill();
    let detail = stack
        .wait_status(&owner, id, &["ready", "completed"], RUN)
        .await;
    owner.approve_pending().await;
    let detail = if detail["campaign"]["status"] == "completed" {
        detail
    } else {
        stack.wait_status(&owner, id, &["completed"], RUN).await
    };
    let c = &detail["campaign"];
    assert_eq!(c["leads_count"], 7, "{c}");
    assert_eq!(c["published_count"], 7, "{c}");
    stack.sandbox.assert_no_double_post().await;
    assert_eq!(stack.sandbox.posts().await.len(), 7);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_token_waits_for_the_reconnect_and_is_never_a_failed_post(db: PgPool) {
    let mut stack = Stack::start(db).await;
    let owner = stack.connected_owner().await;
    stack
        .sandbox
        .control_post("/_sandbox/tokens/expire", json!({"member": "ana"}))
        .await;
    stack.spawn_worker("w1").await;
    let id = owner.launch("Expired", "bakery", "Smallville").await;
    // The contents approve themselves, publishing meets the expired token.
    let mut profile = Value::Null;
    let asked = poll_every(RUN, API_POLL, async || {
        profile = owner.ok(Method::GET, "/api/profile", None).await;
        profile["linkedin"]["reconnect_needed"] == true
    })
    .await;
    assert!(asked, "{profile}");
    let publications = owner
        .ok(Method::GET, "/api/publications?state=failed", None)
        .await;
    assert_eq!(publications["total"], 0, "{publications}");
    assert!(stack.sandbox.posts().await.is_empty());
    // The owner reconnects: the waiting contents go out at once (the reconnect wakes
    // their deferred jobs), and those generated while LinkedIn needed a reconnect were
    // not approved by themselves: the owner approves them.
    owner.connect_linkedin("ana").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    owner.approve_pending().await;
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 7);
    stack.sandbox.assert_no_double_post().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn two_uncertain_posts_make_the_publication_unknown_for_the_owner(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 1;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    // Both POSTs answer 500: for a POST, nobody knows whether it took effect.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 2, "status": 500}))
        .await;
    let id = owner.launch("Unsure", "bakery", "Smallville").await;
    let mut list = Value::Null;
    let found = poll_every(RUN, API_POLL, async || {
        list = owner
            .ok(Method::GET, "/api/publications?state=unknown", None)
            .await;
        list["total"] == 1
    })
    .await;
    assert!(found, "{list}");
    let unknown = list["items"][0].clone();
    assert!(
        stack.sandbox.posts().await.is_empty(),
        "no third, blind POST"
    );
    let pid = unknown["id"].as_i64().unwrap();
    // A wrong address is refused; publishing again goes out once.
    let (status, _) = owner
        .call(
            Method::POST,
            &format!("/api/publications/{pid}/resolve"),
            Some(json!({"action": "mark_published", "url": "https://evil.example/x"})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    owner
        .ok(
            Method::POST,
            &format!("/api/publications/{pid}/resolve"),
            Some(json!({"action": "publish_again"})),
        )
        .await;
    // The campaign did not wait for the owner's decision; the post goes out once now.
    stack.wait_status(&owner, id, &["completed"], RUN).await;
    let published = poll_every(RUN, API_POLL, async || {
        list = owner
            .ok(Method::GET, "/api/publications?state=published", None)
            .await;
        list["total"] == 1
    })
    .await;
    assert!(published, "{list}");
    assert_eq!(stack.sandbox.posts().await.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn over_the_daily_post_limit_jobs_wait_with_the_reason_and_use_no_attempt(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.limits.user_posts_per_day = 2;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Busy", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["ready"], RUN).await;
    let deferred = stack
        .scheduled_jobs("publish", RUN, |page| page.len() == 5)
        .await;
    for job in &deferred {
        let e = &job.envelope;
        let reason = e
            .deferred
            .as_ref()
            .map(|d| d.reason.clone())
            .unwrap_or_default();
        assert!(
            reason.contains("LinkedIn daily limit of user") && reason.contains("(2 posts a day)"),
            "{reason}"
        );
        assert_eq!(e.attempt, 0, "a deferral uses no attempt");
    }
    assert_eq!(stack.sandbox.posts().await.len(), 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_429_storm_backs_off_the_whole_provider(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 20;
        c.pipeline.limits.user_image.per_minute = 6000;
        c.pipeline.limits.user_image.burst = 100;
        c.pipeline.limits.image.per_minute = 6000;
        c.pipeline.limits.image.burst = 100;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.signed_up_owner().await;
    // Gemini answers 429 "come back in 2 s" until removed.
    stack
        .sandbox
        .fault(json!({"route": "gemini.text", "count": 0, "status": 429, "retry_after_s": 2}))
        .await;
    let a = owner.launch("A", "bakery", "Lyon").await;
    let b = owner.launch("B", "florist", "Lyon").await;
    // The storm lasts until Gemini has refused calls two lapses of its block apart: the
    // contents met it for two rounds of "come back in 2 s", whatever the machine's pace.
    let storm = wait_until(RUN, async || {
        let refused: Vec<u64> = stack
            .sandbox
            .log("gemini.text")
            .await
            .iter()
            .filter(|c| c["status"] == 429)
            .filter_map(|c| c["at_ms"].as_u64())
            .collect();
        let (first, last) = (refused.iter().min(), refused.iter().max());
        first.zip(last).is_some_and(|(f, l)| l - f >= 4_000)
    })
    .await;
    assert!(
        storm,
        "Gemini's refusals never spanned two lapses of its block"
    );
    stack.sandbox.clear_faults().await;
    stack.wait_status(&owner, a, &["ready"], RUN).await;
    stack.wait_status(&owner, b, &["ready"], RUN).await;
    let refused = stack
        .sandbox
        .log("gemini.text")
        .await
        .iter()
        .filter(|c| c["status"] == 429)
        .count();
    // 40 contents over a 4 s storm that says "2 s": without the shared back-off each one
    // would be refused on each of its tries (3 or more each, 120 in all). With it: the
    // first wave that was in flight before the first 429 came back (at most the worker's
    // 8 slots), then a probe or two per lapse of the block: well under one per content.
    assert!(refused <= 20, "{refused} calls refused with 429");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_redis_that_loses_everything_mid_campaign_loses_no_work(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.stall_after_secs = 2;
        c.pipeline.reconcile_every_secs = 1;
    })
    .await;
    let owner = stack.connected_owner().await;
    // Slow Gemini so the campaign is mid-way when Redis forgets.
    stack
        .sandbox
        .fault(json!({"route": "gemini.text", "count": 4, "delay_ms": 700}))
        .await;
    stack.spawn_worker("w1").await;
    let id = owner.launch("Amnesia", "bakery", "Smallville").await;
    stack
        .wait_status(&owner, id, &["enriching", "generating"], RUN)
        .await;
    let mut conn = stack.redis.conn();
    let () = redis::cmd("FLUSHALL").query(&mut conn).unwrap();
    // The sessions were in Redis too.
    owner.sign_in_as("owner@example.com").await;
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 7);
    stack.sandbox.assert_no_double_post().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn engagement_is_synced_from_linkedin_after_publishing(db: PgPool) {
    // An app LinkedIn approved for post analytics, which asks for them.
    let mut stack = Stack::start_with(db, with_analytics(), |c| {
        c.pipeline.max_leads = 2;
        c.pipeline.analytics_every_secs = 1;
        c.linkedin.analytics = true;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Sync", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["completed"], RUN).await;
    // LinkedIn has nothing about a post at first, then counts that grow with its age: the
    // periodic sync brings them into the owner's metrics.
    let mut metrics = Value::Null;
    let synced = poll_every(RUN, API_POLL, async || {
        metrics = owner.ok(Method::GET, "/api/metrics", None).await;
        metrics["engagement"]["impressions"].as_i64().unwrap_or(0) > 0
    })
    .await;
    assert!(synced, "{metrics}");
    assert!(metrics["engagement"]["total"].as_i64().unwrap() >= 0);
    let publications = owner.ok(Method::GET, "/api/publications", None).await;
    for p in publications["items"].as_array().unwrap() {
        assert!(
            !p["last_synced_at"].is_null() || p["impressions"] == 0,
            "{p}"
        );
    }
    assert!(!stack.sandbox.log("linkedin.analytics").await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retried_generation_pays_for_the_text_once(db: PgPool) {
    let mut stack = Stack::start(db).await;
    stack.spawn_worker("w1").await;
    let owner = stack.signed_up_owner().await;
    // Every content's first image call fails: each GenerateContent runs again, after its
    // text was saved.
    stack
        .sandbox
        .fault(json!({"route": "gemini.image", "count": 7, "status": 500}))
        .await;
    let id = owner.launch("Thrifty", "bakery", "Smallville").await;
    let detail = stack.wait_status(&owner, id, &["ready"], RUN).await;
    assert_eq!(detail["campaign"]["contents_count"], 7);
    let texts = stack.sandbox.log("gemini.text").await;
    assert_eq!(texts.len(), 7, "one paid text per lead, retries included");
    let images = stack.sandbox.log("gemini.image").await;
    assert_eq!(images.len(), 14, "7 refused, 7 made");
    for c in detail["contents"].as_array().unwrap() {
        assert!(c["image_key"].is_string(), "{c}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_campaign_stops_at_the_next_job_boundary(db: PgPool) {
    let mut stack = Stack::start(db).await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    // Slow texts, so the campaign is mid-way when the owner cancels it.
    stack
        .sandbox
        .fault(json!({"route": "gemini.text", "count": 7, "delay_ms": 1500}))
        .await;
    let id = owner.launch("Oops", "bakery", "Smallville").await;
    stack
        .wait_status(&owner, id, &["enriching", "generating"], RUN)
        .await;
    owner
        .ok(Method::POST, &format!("/api/campaigns/{id}/cancel"), None)
        .await;
    // Once every job has ended and none waits to be enqueued, nothing more can happen.
    stack
        .wait_idle(&["scrape", "enrich", "generate", "publish"], RUN)
        .await;
    let detail = owner.campaign(id).await;
    assert_eq!(detail["campaign"]["status"], "cancelled");
    // Texts that were already being written may land; nothing is approved or posted.
    assert_eq!(
        count(&detail, "approved") + count(&detail, "published"),
        0,
        "{detail}"
    );
    assert!(stack.sandbox.posts().await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_duplicate_of_another_contents_post_is_not_claimed(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 1;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let first = owner.launch("First", "bakery", "Smallville").await;
    stack.wait_status(&owner, first, &["completed"], RUN).await;
    // The next post is refused as a duplicate of the member's earlier post (as LinkedIn
    // does for an identical text): that post belongs to the first content, not this one.
    stack
        .sandbox
        .fault(json!({"route": "linkedin.posts", "count": 1, "mode": "duplicate"}))
        .await;
    let second = owner.launch("Second", "florist", "Smallville").await;
    let detail = stack.wait_status(&owner, second, &["completed"], RUN).await;
    assert_eq!(detail["campaign"]["published_count"], 0, "{detail}");
    let content = &detail["contents"][0];
    assert_eq!(content["status"], "failed", "{content}");
    assert!(
        content["error"]
            .as_str()
            .unwrap()
            .contains("already has this exact text"),
        "{content}"
    );
    let failed = owner
        .ok(Method::GET, "/api/publications?state=failed", None)
        .await;
    assert_eq!(failed["total"], 1, "{failed}");
    assert_eq!(stack.sandbox.posts().await.len(), 1);
}

/// The contents waiting for the owner's approval, oldest first.
async fn pending_contents(owner: &test_support::app::Visitor) -> Vec<i64> {
    let pending = owner
        .ok(
            Method::GET,
            "/api/contents?status=pending&per_page=100",
            None,
        )
        .await;
    let mut ids: Vec<i64> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// The publications of an owner, as `GET /api/publications` lists them.
async fn publications_of(owner: &test_support::app::Visitor) -> Vec<Value> {
    owner.ok(Method::GET, "/api/publications", None).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// A member at her daily LinkedIn limit waits alone: the next day's sync is hers to wait
/// for, while every other owner's engagement goes on being synced. Ana's second post meets
/// LinkedIn's member limit (one a day here), which blocks her member gate until midnight;
/// Bob's post is synced all the same, though Ana's comes first in the sync's order.
#[sqlx::test(migrations = "../migrations")]
async fn a_member_at_her_daily_limit_does_not_stop_the_others_analytics(db: PgPool) {
    let options = sandbox::Options {
        linkedin_daily_member: 1,
        ..with_analytics()
    };
    let mut stack = Stack::start_with(db, options, |c| {
        c.pipeline.max_leads = 2;
        c.pipeline.analytics_every_secs = 1;
        c.linkedin.analytics = true;
    })
    .await;
    stack.spawn_worker("w1").await;
    // Not connected while the contents are written, so none approves itself.
    let ana = stack.signed_up_owner().await;
    let first = ana.launch("Ana's", "bakery", "Smallville").await;
    stack.wait_status(&ana, first, &["ready"], RUN).await;
    ana.connect_linkedin("ana").await;
    for id in pending_contents(&ana).await {
        ana.ok(Method::POST, &format!("/api/contents/{id}/approve"), None)
            .await;
    }
    wait_for(RUN, "Ana's second post meets her daily limit", async || {
        stack
            .sandbox
            .log("linkedin.posts")
            .await
            .iter()
            .any(|call| call["status"] == 429)
    })
    .await;

    let bob = stack.owner("bob@example.com").await;
    let second = bob.launch("Bob's", "bakery", "Smallville").await;
    stack.wait_status(&bob, second, &["ready"], RUN).await;
    bob.connect_linkedin("bob").await;
    let bobs = pending_contents(&bob).await[0];
    bob.ok(Method::POST, &format!("/api/contents/{bobs}/approve"), None)
        .await;
    let mut publications = Vec::new();
    let found = poll_every(RUN, API_POLL, async || {
        publications = publications_of(&bob).await;
        publications
            .iter()
            .any(|p| p["state"] == "published" && !p["last_synced_at"].is_null())
    })
    .await;
    assert!(
        found,
        "Bob's post was never synced while Ana waited for her limit: {publications:?}"
    );
    let synced = publications
        .iter()
        .find(|p| p["state"] == "published" && !p["last_synced_at"].is_null())
        .unwrap()
        .clone();
    assert_eq!(synced["content_id"], bobs, "{synced}");
    // Ana's published post waits for her limit: LinkedIn was not asked about it.
    let ana_published: Vec<Value> = publications_of(&ana)
        .await
        .into_iter()
        .filter(|p| p["state"] == "published")
        .collect();
    assert_eq!(ana_published.len(), 1, "{ana_published:?}");
    let asked = stack.sandbox.log("linkedin.analytics").await;
    // The URN's number: the logged path has the URN percent-encoded.
    let ana_post = ana_published[0]["post_urn"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        !asked
            .iter()
            .any(|call| call["path"].as_str().unwrap().contains(&ana_post)),
        "Ana's analytics were asked for while her member gate was closed: {asked:?}"
    );
}

/// Six 429s in a row that name no delay (Places): the credential's waits start at the
/// first wait and double, so the search goes on after seconds, not after six full
/// throttle waits (before, each 429 closed the gate for the flat 30 s: three minutes).
/// No attempt is spent on them: the scrape job has fewer attempts than that.
#[sqlx::test(migrations = "../migrations")]
async fn a_run_of_429s_without_a_delay_backs_off_exponentially(db: PgPool) {
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.pipeline.max_leads = 3;
        assert_eq!(c.pipeline.throttle_wait_secs, 30, "the default cap");
        c.pipeline.throttle_first_wait_ms = 200;
    })
    .await;
    stack.spawn_worker("w1").await;
    let owner = stack.signed_up_owner().await;
    stack
        .sandbox
        .fault(json!({"route": "places.search", "count": 6, "status": 429}))
        .await;
    let started = tokio::time::Instant::now();
    let id = owner.launch("Backoff", "bakery", "Lyon").await;
    // 0.2 + 0.4 + ... + 6.4 s = 12.6 s of waits (plus jitter); six flat waits are 180 s.
    stack
        .wait_status(&owner, id, &["ready"], Duration::from_secs(45))
        .await;
    let took = started.elapsed();
    let calls = stack.sandbox.log("places.search").await;
    let refused: Vec<u64> = calls
        .iter()
        .take_while(|c| c["status"] == 429)
        .map(|c| c["at_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(refused.len(), 6, "{calls:?}");
    let answered = calls[6]["at_ms"].as_u64().unwrap();
    let gaps: Vec<u64> = refused
        .windows(2)
        .map(|w| w[1] - w[0])
        .chain([answered - refused[5]])
        .collect();
    // Each wait is at least its doubled base, and the waits grow (two steps apart, so the
    // worker's pickup delay cannot blur it).
    for (i, gap) in gaps.iter().enumerate() {
        assert!(*gap >= 200 << i, "wait {i} of {gaps:?} ms is too short");
    }
    for w in gaps.windows(3) {
        assert!(w[2] > w[0], "the waits do not grow: {gaps:?} ms");
    }
    assert!(took < Duration::from_secs(45), "{took:?}");
    eprintln!("waits after each 429: {gaps:?} ms; the campaign was ready after {took:?}");
}

/// LinkedIn may refuse the image status read (403) to a grant with `w_member_social` only:
/// the post then goes out after a bounded wait from the upload, with its image, and the
/// refusal never fails the publication (before: every post with an image failed).
#[sqlx::test(migrations = "../migrations")]
async fn a_refused_image_status_read_waits_then_posts_with_the_image(db: PgPool) {
    let options = sandbox::Options {
        linkedin_image_status_forbidden: true,
        ..sandbox::Options::default()
    };
    let mut stack = Stack::start_with(db, options, |c| c.pipeline.max_leads = 2).await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let id = owner.launch("Unpolled", "bakery", "Smallville").await;
    let detail = stack.wait_status(&owner, id, &["completed"], RUN).await;
    let failed = owner
        .ok(Method::GET, "/api/publications?state=failed", None)
        .await;
    assert_eq!(failed["total"], 0, "{failed}");
    assert_eq!(detail["campaign"]["published_count"], 2, "{detail}");
    let posts = stack.sandbox.posts().await;
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|p| p["image"].is_string()), "{posts:?}");
    // The status was asked (and refused), so the wait, not the poll, let the post go.
    let reads = stack.sandbox.log("linkedin.images.get").await;
    assert!(
        !reads.is_empty() && reads.iter().all(|r| r["status"] == 403),
        "{reads:?}"
    );
    stack.sandbox.assert_no_double_post().await;
}

/// A restarted LinkedIn (the sandbox with ids that repeat) answers 201 with the URN of a
/// post we already hold for another content. LinkedIn says it created the post, so it is
/// not a failure; which content it belongs to is for a person to settle: `unknown`, with
/// both contents named (before: `failed`, "LinkedIn already has this exact text...").
#[sqlx::test(migrations = "../migrations")]
async fn a_created_post_whose_urn_we_already_hold_is_unknown_naming_both_contents(db: PgPool) {
    let options = sandbox::Options {
        linkedin_id_epoch: Some(1),
        ..sandbox::Options::default()
    };
    let mut stack = Stack::start_with(db, options, |c| c.pipeline.max_leads = 1).await;
    stack.spawn_worker("w1").await;
    let owner = stack.connected_owner().await;
    let first = owner.launch("Before", "bakery", "Smallville").await;
    stack.wait_status(&owner, first, &["completed"], RUN).await;
    let before = owner
        .ok(Method::GET, "/api/publications?state=published", None)
        .await;
    assert_eq!(before["total"], 1, "{before}");
    let held = before["items"][0].clone();
    // LinkedIn forgets everything, tokens too: the owner connects again.
    stack.sandbox.restart().await;
    owner.connect_linkedin("ana").await;
    let second = owner.launch("After", "bakery", "Smallville").await;
    stack.wait_status(&owner, second, &["completed"], RUN).await;
    let posts = stack.sandbox.posts().await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0]["urn"], held["post_urn"],
        "the restarted sandbox repeats ids"
    );
    let failed = owner
        .ok(Method::GET, "/api/publications?state=failed", None)
        .await;
    assert_eq!(failed["total"], 0, "{failed}");
    let unknown = owner
        .ok(Method::GET, "/api/publications?state=unknown", None)
        .await;
    assert_eq!(unknown["total"], 1, "{unknown}");
    let reason = unknown["items"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let this = unknown["items"][0]["content_id"].as_i64().unwrap();
    let other = held["content_id"].as_i64().unwrap();
    assert_ne!(this, other);
    assert!(
        reason.contains(&format!("content {this}")) && reason.contains(&format!("content {other}")),
        "{reason}"
    );
    // The post we held stays ours.
    let still = owner
        .ok(Method::GET, "/api/publications?state=published", None)
        .await;
    assert_eq!(still["items"][0]["post_urn"], held["post_urn"], "{still}");
}
