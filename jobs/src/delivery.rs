//! A delivered job: its stream entry, its envelope and the worker slot it holds. Its fate
//! is decided in `outcome` and written by `settle`.

use std::sync::Arc;

use crate::envelope::Envelope;

/// One delivered stream entry, handed to a handler through apalis.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub entry_id: Arc<str>,
    pub envelope: Arc<Envelope>,
    /// The worker slot this job holds; returned when its fate is written.
    pub(crate) permit: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
    /// The worker's lease term when the read that delivered it was sent: if the lease
    /// lapsed since, the entry may have been taken over and is checked before it starts.
    pub(crate) lease_term: u64,
}

impl Delivery {
    pub fn new(entry_id: &str, envelope: Envelope) -> Self {
        Self {
            entry_id: Arc::from(entry_id),
            envelope: Arc::new(envelope),
            permit: None,
            lease_term: 0,
        }
    }
}
