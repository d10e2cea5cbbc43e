//! A real browser for the page tests ([`Browser`]: headless Chromium over WebDriver), and
//! the account steps an owner takes through the pages before the page under test.

mod account;
mod driver;

pub use account::{Language, sign_in, sign_in_home, sign_up_and_in, sign_up_and_in_shown};
pub use driver::{Browser, WIDTHS, screenshots_dir};
