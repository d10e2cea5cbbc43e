//! Helpers of the browser tests (`tests/browser.rs`).

pub mod driver;
