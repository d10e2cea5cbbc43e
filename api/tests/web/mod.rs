//! Helpers of the browser tests (`tests/browser*.rs`): the browser itself, and the account
//! steps every test goes through.

pub mod account;
pub mod driver;
