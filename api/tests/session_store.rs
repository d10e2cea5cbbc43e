#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Redis session store against a private redis-server.

use std::collections::HashMap;
use std::time::Duration;

use actix_session::storage::{SessionKey, SessionStore};
use actix_web::cookie::time::Duration as Ttl;
use api::session_store::RedisSessionStore;
use test_support::TestRedis;

/// An update whose session was deleted meanwhile (signed out by another
/// request) used to fall back to `save()`, bringing the signed-in state back under a new key.
#[tokio::test]
async fn a_session_deleted_meanwhile_is_not_brought_back_by_an_update() {
    let redis = TestRedis::start();
    let conn = jobs::connect(&redis.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let store = RedisSessionStore::new(conn.clone(), "ag:");
    let state = HashMap::from([("uid".to_owned(), "1".to_owned())]);
    let ttl = Ttl::seconds(600);
    let key = store.save(state.clone(), &ttl).await.unwrap();
    store.delete(&key).await.unwrap();
    let same_key = SessionKey::try_from(key.as_ref().to_owned()).unwrap();
    let after = store.update(same_key, state, &ttl).await.unwrap();
    assert_eq!(store.load(&after).await.unwrap(), None);
    assert_eq!(store.load(&key).await.unwrap(), None);
    let mut conn = conn;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("ag:session:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(keys.is_empty(), "a session came back: {keys:?}");
}
