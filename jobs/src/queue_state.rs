//! What the parts of one queue's worker share: its keys, its consumer name, the jobs it
//! is running, and the handles that write outcomes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;
use tokio::sync::Notify;

use crate::ack::AckHandle;
use crate::connection::Settings;
use crate::delivery::Settler;
use crate::keys::QueueKeys;
use crate::registry::Registry;

pub(crate) struct QueueState {
    pub keys: Arc<QueueKeys>,
    pub settings: Arc<Settings>,
    /// This process's consumer name in the group (also its worker id).
    pub consumer: String,
    pub settler: Settler,
    pub acker: AckHandle,
    pub registry: Arc<Registry>,
    /// Connection for maintenance and outcomes; never blocked by a read.
    pub conn: ConnectionManager,
    /// Entry ids fetched and not yet settled, read-ahead included: the keepalive keeps
    /// them all fresh, so a job waiting for a slot is not taken for a dead worker's.
    held: Mutex<HashSet<Arc<str>>>,
    /// Entry ids whose handler started: skipped when a shutdown hands back the rest.
    running: Mutex<HashSet<Arc<str>>>,
    /// Set by the fetch task when it exits, so closing can wait for its last read.
    fetch_exited: AtomicBool,
    fetch_exit: Notify,
    /// Mirrors the queue's `paused` key, refreshed by maintenance.
    paused: AtomicBool,
}

impl QueueState {
    pub fn new(
        keys: Arc<QueueKeys>,
        settings: Arc<Settings>,
        consumer: String,
        acker: AckHandle,
        registry: Arc<Registry>,
        conn: ConnectionManager,
    ) -> Self {
        let settler = Settler::new(conn.clone(), keys.clone(), settings.clone());
        Self {
            keys,
            settings,
            consumer,
            settler,
            acker,
            registry,
            conn,
            held: Mutex::new(HashSet::new()),
            running: Mutex::new(HashSet::new()),
            fetch_exited: AtomicBool::new(false),
            fetch_exit: Notify::new(),
            paused: AtomicBool::new(false),
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    /// Reads the queue's `paused` key into the mirror the fetch loop checks.
    pub async fn refresh_paused(&self) -> Result<(), crate::error::Error> {
        let paused: bool = redis::cmd("EXISTS")
            .arg(&self.keys.paused)
            .query_async(&mut self.conn.clone())
            .await?;
        if paused != self.paused.swap(paused, Ordering::Relaxed) {
            tracing::info!(queue = %self.keys.queue, paused, "queue pause changed");
        }
        Ok(())
    }

    /// A fetched entry, from its read until it is settled or handed back.
    pub fn hold(&self, entry: &Arc<str>) {
        if let Ok(mut set) = self.held.lock() {
            set.insert(entry.clone());
        }
    }

    pub fn start(&self, entry: &Arc<str>) {
        if let Ok(mut set) = self.running.lock() {
            set.insert(entry.clone());
        }
    }

    pub fn finish(&self, entry: &str) {
        if let Ok(mut set) = self.running.lock() {
            set.remove(entry);
        }
        if let Ok(mut set) = self.held.lock() {
            set.remove(entry);
        }
    }

    /// Forgets everything held but not running (handed back at shutdown).
    pub fn release_held(&self) {
        let running = self.running();
        if let Ok(mut set) = self.held.lock() {
            set.retain(|e| running.contains(e));
        }
    }

    pub fn held(&self) -> Vec<Arc<str>> {
        self.held
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn running(&self) -> Vec<Arc<str>> {
        self.running
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn busy(&self) -> usize {
        self.running.lock().map(|s| s.len()).unwrap_or(0)
    }

    pub fn fetch_exited(&self) {
        self.fetch_exited.store(true, Ordering::SeqCst);
        self.fetch_exit.notify_one();
    }

    /// Waits (at most `limit`) for the fetch task's last read to come back, so entries it
    /// delivers are handed back too rather than left for crash recovery.
    pub async fn wait_fetch_exit(&self, limit: std::time::Duration) {
        if self.fetch_exited.load(Ordering::SeqCst) {
            return;
        }
        let _ = tokio::time::timeout(limit, self.fetch_exit.notified()).await;
    }
}
