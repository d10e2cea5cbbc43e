//! A scheduled job (a delay, a retry's backoff, a deferral) run now or discarded.

use super::*;

impl Admin {
    /// Makes a waiting scheduled job (a retry, a deferral) due now; false if it is not
    /// scheduled (running, done, or never existed). The job's handler checks again whatever
    /// made it wait: running it early is safe, only sooner.
    pub async fn run_scheduled_now(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let Some((member, _)) = scheduled_member(&mut conn, &keys, id).await? else {
            return Ok(false);
        };
        let changed: i64 = redis::cmd("ZADD")
            .arg(&keys.scheduled)
            .arg("XX")
            .arg("CH")
            .arg(crate::now_ms())
            .arg(&member)
            .query_async(&mut conn)
            .await?;
        Ok(changed == 1)
    }

    /// Removes a waiting scheduled job (a retry or a deferral an admin gives up on).
    pub async fn discard_scheduled(&self, queue: &QueueName, id: &str) -> Result<bool, Error> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let Some((member, _)) = scheduled_member(&mut conn, &keys, id).await? else {
            return Ok(false);
        };
        let envelope = Envelope::decode(member.as_bytes()).ok();
        let unique = envelope
            .as_ref()
            .and_then(|e| e.unique_key.as_deref())
            .map(|k| keys.unique(k));
        let n: i64 = SCRIPTS
            .discard_scheduled
            .key(&keys.scheduled)
            .key(unique.as_deref().unwrap_or(&keys.scheduled))
            .key(&keys.retrying)
            .key(&keys.deferred)
            .arg(&member)
            .arg(id)
            .arg(if unique.is_some() { "1" } else { "0" })
            .invoke_async(&mut conn)
            .await?;
        Ok(n == 1)
    }
}
