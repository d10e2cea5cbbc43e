//! What an owner does through the pages before the page under test: sign up, sign in,
//! in the language her browser asks for.

use super::driver::Browser;
use crate::PASSWORD;

/// The two languages of the pages, as a browser asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    French,
    English,
}

impl Language {
    /// The `Accept-Language` of a browser set to this language.
    pub fn accept(self) -> &'static str {
        match self {
            Self::French => "fr-FR,fr",
            Self::English => "en-GB,en",
        }
    }

    /// `fr` or `en`: the code the app stores, and the screenshots' suffix.
    pub fn code(self) -> &'static str {
        match self {
            Self::French => "fr",
            Self::English => "en",
        }
    }

    /// The other one: what the page's language switch leads to.
    pub fn other(self) -> Self {
        match self {
            Self::French => Self::English,
            Self::English => Self::French,
        }
    }

    /// The text a page shows in this language: the French one or the English one.
    pub fn says<'a>(self, french: &'a str, english: &'a str) -> &'a str {
        match self {
            Self::French => french,
            Self::English => english,
        }
    }
}

/// Signs up with [`PASSWORD`], then signs in, through the pages; ends on the home page.
pub async fn sign_up_and_in(b: &Browser, email: &str) {
    sign_up_and_in_with(b, email, None).await;
}

/// As [`sign_up_and_in`], with a screenshot of each form filled in, before it is sent:
/// `<prefix>-01-sign-up` and `<prefix>-02-sign-in`.
pub async fn sign_up_and_in_shown(b: &Browser, email: &str, prefix: &str) {
    sign_up_and_in_with(b, email, Some(prefix)).await;
}

async fn sign_up_and_in_with(b: &Browser, email: &str, shots: Option<&str>) {
    b.goto("/sign-up").await;
    b.fill("#name", "Ana Martin").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    if let Some(prefix) = shots {
        b.screenshot(&format!("{prefix}-01-sign-up")).await;
    }
    b.click("form[action='/sign-up'] button[type=submit]").await;
    assert_eq!(b.path().await, "/sign-in?created=1");
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    if let Some(prefix) = shots {
        b.screenshot(&format!("{prefix}-02-sign-in")).await;
    }
    b.click("form[action='/sign-in'] button[type=submit]").await;
    assert_eq!(b.path().await, "/", "signing in as {email}");
}

/// Fills and sends the sign-in page shown; the caller checks where it led (home, or the
/// same page with the refusal).
pub async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("form[action='/sign-in'] button[type=submit]").await;
}

/// Signs in with [`PASSWORD`] from the sign-in page and lands on the home page.
pub async fn sign_in_home(b: &Browser, email: &str) {
    b.goto("/sign-in").await;
    sign_in(b, email, PASSWORD).await;
    assert_eq!(b.path().await, "/", "signing in as {email}");
}
