//! What the parts of one queue's worker share: its keys, its consumer name, the jobs it
//! is running, and the handles that write outcomes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use redis::aio::ConnectionManager;

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
    /// Entry ids handed to a handler and not yet settled: kept fresh by the keepalive,
    /// and skipped when a shutdown hands back unstarted entries.
    in_flight: Mutex<HashSet<Arc<str>>>,
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
            in_flight: Mutex::new(HashSet::new()),
            paused: AtomicBool::new(false),
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }

    pub fn start(&self, entry: &Arc<str>) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.insert(entry.clone());
        }
    }

    pub fn finish(&self, entry: &str) {
        if let Ok(mut set) = self.in_flight.lock() {
            set.remove(entry);
        }
    }

    pub fn in_flight(&self) -> Vec<Arc<str>> {
        self.in_flight
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn busy(&self) -> usize {
        self.in_flight.lock().map(|s| s.len()).unwrap_or(0)
    }
}
