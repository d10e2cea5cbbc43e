//! actix-session's store on our Redis connection. actix-session's own Redis store pins
//! another major version of the redis crate; this one reuses the connection the rest of
//! the process has, and keys sessions under the deployment prefix (`ag:session:<key>`).

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jobs::Conn;
use rand::RngCore;

type SessionState = HashMap<String, String>;

#[derive(Clone)]
pub struct RedisSessionStore {
    conn: Conn,
    prefix: String,
}

impl RedisSessionStore {
    pub fn new(conn: Conn, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, session_key: &SessionKey) -> String {
        Self::key_for(&self.prefix, session_key.as_ref())
    }

    /// The Redis key of a session, for a reader outside the middleware (a live stream
    /// checking its session is still there).
    pub fn key_for(prefix: &str, session_key: &str) -> String {
        format!("{prefix}session:{session_key}")
    }
}

/// 256 random bits: a session key cannot be guessed.
fn new_session_key() -> Result<SessionKey, anyhow::Error> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    SessionKey::try_from(URL_SAFE_NO_PAD.encode(bytes)).map_err(anyhow::Error::new)
}

fn ttl_secs(ttl: &Duration) -> u64 {
    u64::try_from(ttl.whole_seconds()).unwrap_or(0).max(1)
}

impl SessionStore for RedisSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let mut conn = self.conn.clone();
        let value: Option<String> = redis::cmd("GET")
            .arg(self.key(session_key))
            .query_async(&mut conn)
            .await
            .map_err(|e| LoadError::Other(e.into()))?;
        match value {
            None => Ok(None),
            Some(v) => serde_json::from_str(&v)
                .map(Some)
                .map_err(|e| LoadError::Deserialization(e.into())),
        }
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = new_session_key().map_err(SaveError::Other)?;
        let mut conn = self.conn.clone();
        // NX: a key collision (2^-256) must never overwrite someone else's session.
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(&key))
            .arg(body)
            .arg("NX")
            .arg("EX")
            .arg(ttl_secs(ttl))
            .query_async(&mut conn)
            .await
            .map_err(|e| SaveError::Other(e.into()))?;
        match set {
            Some(_) => Ok(key),
            None => Err(SaveError::Other(anyhow::anyhow!("session key collision"))),
        }
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let mut conn = self.conn.clone();
        // XX: a session deleted meanwhile (signed out elsewhere) is not brought back. The
        // key is answered as if written: the cookie then names nothing, which reads as
        // signed out, instead of a fresh session carrying the old state.
        let _: Option<String> = redis::cmd("SET")
            .arg(self.key(&session_key))
            .arg(&body)
            .arg("XX")
            .arg("EX")
            .arg(ttl_secs(ttl))
            .query_async(&mut conn)
            .await
            .map_err(|e| UpdateError::Other(e.into()))?;
        Ok(session_key)
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &Duration,
    ) -> Result<(), anyhow::Error> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("EXPIRE")
            .arg(self.key(session_key))
            .arg(ttl_secs(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(self.key(session_key))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
