#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The GCRA limiter against a private redis-server.

use std::time::Duration;

use jobs::test_support::TestRedis;
use shared::rate_limit::{Decision, Limit, RateLimiter};

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
async fn peek_takes_nothing_and_reset_restores_the_budget() {
    let redis = TestRedis::start();
    let limiter = limiter(&redis).await;
    let limit = Limit::per_minute(2, 2);
    for _ in 0..10 {
        assert_eq!(
            limiter.peek("sign-in", "a", limit).await.unwrap(),
            Decision::Allowed
        );
    }
    limiter.check("sign-in", "a", limit).await.unwrap();
    limiter.check("sign-in", "a", limit).await.unwrap();
    assert!(matches!(
        limiter.peek("sign-in", "a", limit).await.unwrap(),
        Decision::Limited { .. }
    ));
    limiter.reset("sign-in", "a").await.unwrap();
    assert_eq!(
        limiter.peek("sign-in", "a", limit).await.unwrap(),
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
