#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The GCRA limiter against a private redis-server.

use std::time::Duration;

use shared::rate_limit::{Admission, Decision, Gate, Limit, RateLimiter, Rule, Ticket};
use test_support::{TestCluster, TestRedis};

async fn limiter(redis: &TestRedis) -> RateLimiter {
    let conn = jobs::connect(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    RateLimiter::new(conn, "ag:")
}

#[tokio::test]
async fn admits_the_burst_then_refuses_with_a_wait() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    let limit = Limit::per_minute(60, 5);
    // Five at once are admitted, the sixth waits about one interval (1 s).
    for _ in 0..5 {
        assert_eq!(
            limiter.check("api", "1", limit).await.unwrap(),
            Decision::Allowed
        );
    }
    match limiter.check("api", "1", limit).await.unwrap() {
        Decision::Limited { retry_after } => {
            assert!(retry_after > Duration::from_millis(900), "{retry_after:?}");
            assert!(retry_after <= Duration::from_secs(1), "{retry_after:?}");
        }
        Decision::Allowed => panic!("sixth call admitted"),
    }
    // Another subject has its own budget.
    assert_eq!(
        limiter.check("api", "2", limit).await.unwrap(),
        Decision::Allowed
    );
}

#[tokio::test]
async fn reset_restores_the_budget() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    let limit = Limit::per_minute(2, 2);
    limiter.check("sign-in", "a", limit).await.unwrap();
    limiter.check("sign-in", "a", limit).await.unwrap();
    assert!(matches!(
        limiter.check("sign-in", "a", limit).await.unwrap(),
        Decision::Limited { .. }
    ));
    limiter.reset("sign-in", "a").await.unwrap();
    assert_eq!(
        limiter.check("sign-in", "a", limit).await.unwrap(),
        Decision::Allowed
    );
}

#[tokio::test]
async fn concurrent_callers_never_get_more_than_the_burst() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    // 1 per hour sustained, burst 20: of 200 racing calls exactly 20 are admitted.
    let limit = Limit {
        count: 1,
        period: Duration::from_secs(3600),
        burst: 20,
    };
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let limiter = limiter.clone();
        tasks.push(tokio::spawn(async move {
            limiter.check("linkedin_post", "42", limit).await.unwrap()
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        if t.await.unwrap() == Decision::Allowed {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 20);
}

#[tokio::test]
async fn a_reservation_given_back_frees_its_unit_and_no_more() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    let limit = Limit {
        count: 3,
        period: Duration::from_secs(900),
        burst: 3,
    };
    for _ in 0..3 {
        assert_eq!(
            limiter.check("sign-in", "a", limit).await.unwrap(),
            Decision::Allowed
        );
    }
    assert!(matches!(
        limiter.check("sign-in", "a", limit).await.unwrap(),
        Decision::Limited { .. }
    ));
    limiter.give_back("sign-in", "a", limit).await.unwrap();
    assert_eq!(
        limiter.check("sign-in", "a", limit).await.unwrap(),
        Decision::Allowed
    );
    assert!(matches!(
        limiter.check("sign-in", "a", limit).await.unwrap(),
        Decision::Limited { .. }
    ));
    // Giving back more than was taken banks nothing beyond the burst.
    for _ in 0..10 {
        limiter.give_back("sign-in", "b", limit).await.unwrap();
    }
    for _ in 0..3 {
        assert_eq!(
            limiter.check("sign-in", "b", limit).await.unwrap(),
            Decision::Allowed
        );
    }
    assert!(matches!(
        limiter.check("sign-in", "b", limit).await.unwrap(),
        Decision::Limited { .. }
    ));
}

fn gate(name: &'static str, subject: &str, rule: Rule) -> Gate {
    Gate {
        name,
        subject: subject.to_owned(),
        rule,
    }
}

#[tokio::test]
async fn gates_take_all_or_nothing() {
    let redis = TestRedis::start();
    all_or_nothing(&limiter(&redis).await).await;
}

/// On a Redis Cluster the gates of one acquire (a user's and the app's, with names that hash
/// to different slots) still go through one script: the cluster would refuse it were their
/// keys not in one slot. Blocks and tickets work there as well.
#[tokio::test]
async fn gates_take_all_or_nothing_on_a_cluster() {
    let cluster = TestCluster::shared();
    let conn = jobs::connect(&cluster.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let limiter = RateLimiter::new(conn, "ag:");
    all_or_nothing(&limiter).await;
    let gate = gate("places", "app", Rule::Rate(Limit::per_minute(60, 1)));
    limiter.block(&gate, Duration::from_secs(5)).await.unwrap();
    assert!(matches!(
        limiter.acquire(std::slice::from_ref(&gate)).await.unwrap(),
        Admission::Wait { gate: 0, .. }
    ));
    limiter.hold("job-1", Duration::ZERO).await.unwrap();
    assert_eq!(limiter.claim("job-1").await.unwrap(), Ticket::Ready);
    assert_eq!(limiter.claim("job-1").await.unwrap(), Ticket::None);
}

async fn all_or_nothing(limiter: &RateLimiter) {
    let user = gate("linkedin_post", "user:42", Rule::Daily(2));
    let app = gate(
        "linkedin_app",
        "app",
        Rule::Rate(Limit::per_minute(600, 100)),
    );
    let both = [user.clone(), app.clone()];
    assert_eq!(limiter.acquire(&both).await.unwrap(), Admission::Granted);
    assert_eq!(limiter.acquire(&both).await.unwrap(), Admission::Granted);
    // The user's day is used up: it waits until 00:00 UTC, and the app gate paid nothing.
    match limiter.acquire(&both).await.unwrap() {
        Admission::Wait { gate, retry_after } => {
            assert_eq!(gate, 0);
            let now = chrono::Utc::now();
            let midnight = (now.date_naive() + chrono::Days::new(1))
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc();
            let expected = (midnight - now).to_std().unwrap();
            let diff = expected.abs_diff(retry_after);
            assert!(
                diff < Duration::from_secs(5),
                "{retry_after:?} vs {expected:?}"
            );
        }
        other => panic!("third post of the day: {other:?}"),
    }
    // 100 burst on the app gate, two taken: 98 more (another user) pass, the 99th waits.
    for i in 0..98 {
        let other = gate("linkedin_post", &format!("other:{i}"), Rule::Daily(100));
        assert_eq!(
            limiter.acquire(&[other, app.clone()]).await.unwrap(),
            Admission::Granted
        );
    }
    assert!(matches!(
        limiter.acquire(std::slice::from_ref(&app)).await.unwrap(),
        Admission::Wait { gate: 0, .. }
    ));
    // A released unit is there again.
    limiter.release(std::slice::from_ref(&user)).await.unwrap();
    assert!(matches!(
        limiter.acquire(&[user]).await.unwrap(),
        Admission::Granted
    ));
}

#[tokio::test]
async fn a_block_holds_every_caller_until_it_lapses() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    let gemini = gate("gemini", "app", Rule::Rate(Limit::per_minute(60, 100)));
    limiter
        .block(&gemini, Duration::from_millis(300))
        .await
        .unwrap();
    // A shorter block does not shorten it.
    limiter
        .block(&gemini, Duration::from_millis(10))
        .await
        .unwrap();
    match limiter
        .acquire(std::slice::from_ref(&gemini))
        .await
        .unwrap()
    {
        Admission::Wait { retry_after, .. } => {
            assert!(retry_after > Duration::from_millis(200), "{retry_after:?}")
        }
        other => panic!("admitted while blocked: {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        limiter
            .acquire(std::slice::from_ref(&gemini))
            .await
            .unwrap(),
        Admission::Granted
    );
    // The burst was spent by the block: the next caller comes one interval (1 s) later,
    // not at once.
    assert!(matches!(
        limiter.acquire(&[gemini]).await.unwrap(),
        Admission::Wait { .. }
    ));
}

#[tokio::test]
async fn short_waits_are_reserved_in_turn_and_long_ones_refused() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    // One a second, no burst beyond one.
    let g = [gate("image", "app", Rule::Rate(Limit::per_minute(60, 1)))];
    let within = Duration::from_millis(2_500);
    assert_eq!(
        limiter.acquire_within(&g, within).await.unwrap(),
        Admission::Granted
    );
    let mut slots = Vec::new();
    for _ in 0..2 {
        match limiter.acquire_within(&g, within).await.unwrap() {
            Admission::Reserved { after } => slots.push(after),
            other => panic!("{other:?}"),
        }
    }
    // Successive slots, one interval apart: not the same next slot for everyone.
    assert!(
        slots[0] > Duration::from_millis(900) && slots[0] <= Duration::from_secs(1),
        "{slots:?}"
    );
    assert!(
        slots[1] > Duration::from_millis(1_900) && slots[1] <= Duration::from_secs(2),
        "{slots:?}"
    );
    // Three seconds away is too far: refused, and nothing taken.
    assert!(matches!(
        limiter.acquire_within(&g, within).await.unwrap(),
        Admission::Wait { .. }
    ));
    // A block is never reserved through, however short.
    limiter
        .block(&g[0], Duration::from_millis(100))
        .await
        .unwrap();
    assert!(matches!(
        limiter
            .acquire_within(&g, Duration::from_secs(60))
            .await
            .unwrap(),
        Admission::Wait { .. }
    ));
}

/// A credential's run of 429s that named no delay: one count for every limiter on the
/// server (every worker), one step per block however many calls in flight it refuses,
/// ended by a call the provider answers, and kept apart from other credentials'.
#[tokio::test]
async fn a_throttle_run_is_shared_counted_once_per_block_and_ended_by_an_answer() {
    let redis = TestRedis::start();
    let (a, b) = (limiter(&redis).await, limiter(&redis).await);
    let places = gate("places", "app", Rule::Rate(Limit::per_minute(600, 10)));
    let gemini = gate("gemini_text", "app", Rule::Rate(Limit::per_minute(600, 10)));
    let memory = Duration::from_secs(60);
    assert_eq!(a.throttled(&places, memory).await.unwrap(), 1);
    a.block(&places, Duration::from_secs(60)).await.unwrap();
    // A call let through before the block, refused with it: the same step.
    assert_eq!(b.throttled(&places, memory).await.unwrap(), 1);
    // The block lapses (removed here, as its minute passing would remove it).
    let lapse = || {
        let () = redis::cmd("DEL")
            .arg("ag:rl:places:app:block")
            .query(&mut redis.conn())
            .unwrap();
    };
    lapse();
    assert_eq!(b.throttled(&places, memory).await.unwrap(), 2);
    lapse();
    assert_eq!(a.throttled(&places, memory).await.unwrap(), 3);
    assert_eq!(
        a.throttled(&gemini, memory).await.unwrap(),
        1,
        "its own run"
    );
    // An answered call ends the run for everyone.
    b.answered(&places).await.unwrap();
    lapse();
    assert_eq!(a.throttled(&places, memory).await.unwrap(), 1);
    assert_eq!(b.throttled(&gemini, memory).await.unwrap(), 2);
}
