//! Every state transition of the pipeline's four aggregates, in one place. The handlers in
//! `workers` and the owner's routes in `api` call these functions and never write a status
//! themselves; each function takes and returns the typed statuses, and each transition is
//! one conditional UPDATE (or runs under a row lock), so a re-delivered job, a retry or a
//! second request finds the row already moved and does nothing.
//!
//! ```text
//! campaign    draft ──launch──▶ scraping ──leads_found──▶ enriching ──advance──▶ generating
//!               ▲                  │                          │                      │
//!               │ launch again     │ scrape_failed            └────────advance───────┤
//!             error ◀──────────────┘                                                 ▼
//!                                                     completed ◀──complete──── ready
//!             (any state but completed) ──cancel──▶ cancelled
//!
//! lead        found ──enriched──▶ enriched ──(content generated)──▶ generated
//!               │                    │
//!               └───────fail─────────┴──▶ failed
//!
//! content     generating ──generated──▶ pending ──approve──▶ approved ──settled──▶ published
//!                 │              └──(auto-approved)─────────────▶ │          └───▶ failed
//!                 └──(its lead fails)──▶ failed      pending ──reject──▶ rejected
//!
//! approved    scheduled(t) ──move──▶ scheduled(t')     scheduled(t) ──publish now──▶ scheduled(now)
//! (schedule)  scheduled(t) ──unschedule──▶ unscheduled ──move──▶ scheduled(t')
//!             (approve / auto-approve: next free slot; schedule changed: reflow)
//!             scheduled(t), t come ──(PublishPost makes its publication)──▶ publishing
//!
//! publication publishing ──published──▶ published
//!                 │  └──────failed────▶ failed
//!                 └─────────unknown───▶ unknown ──resolve──▶ published
//!                                          └──resolve (publish again)──▶ publishing
//! ```
//!
//! The campaign's counters (`leads_count`, `enriched_count`, `failed_count`,
//! `contents_count`, `published_count`) change only here, in the transaction of the lead's
//! or content's move that they count; `campaign::advance` and `campaign::complete` decide
//! on them under a lock on the campaign's row. A campaign is over (`completed`) when every
//! lead has its content or failed with a reason and no content waits for generation,
//! approval or publishing; a publication whose outcome is `unknown` does not hold it open.
//! An approved content waiting for its slot, or taken out of the schedule, waits for
//! publishing: its campaign stays `ready` until it is published.
//!
//! Which job takes which arrow, and what a refusal, a transient error and a wait do at each
//! step, is in `docs/pipeline.md`.

pub mod campaign;
pub mod content;
pub mod in_flight;
pub mod lead;
pub mod publication;
pub mod schedule;
