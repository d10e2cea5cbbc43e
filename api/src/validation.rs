//! Checks on what clients send, turned into 422 answers that say what is wrong. Text is
//! trimmed; control characters are refused (PostgreSQL cannot store NUL, and nothing
//! legitimate in a name or an address contains one).

use crate::error::ApiError;

/// What is wrong with a value, apart from the field's name and the reader's language: the
/// JSON API words it in English ([`Problem::message`]), the pages show the translation of
/// [`Problem::key`] next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong { len: usize, max: usize },
    ControlCharacters,
    InvisibleFormatting,
    NotAnEmail,
    PasswordTooShort { min: usize },
    PasswordTooLong { max: usize },
    NotAWebsite,
}

impl Problem {
    /// The message id in `api/locales/*.ftl`; `TooLong` takes `$max`, the password ones
    /// `$min` / `$max`.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Required => "invalid-required",
            Self::TooLong { .. } => "invalid-too-long",
            Self::ControlCharacters => "invalid-control-characters",
            Self::InvisibleFormatting => "invalid-invisible-formatting",
            Self::NotAnEmail => "invalid-email",
            Self::PasswordTooShort { .. } => "invalid-password-short",
            Self::PasswordTooLong { .. } => "invalid-password-long",
            Self::NotAWebsite => "invalid-website",
        }
    }

    /// The number the translated message needs, if any (`$max` or `$min`).
    pub fn limit(&self) -> Option<(&'static str, usize)> {
        match self {
            Self::TooLong { max, .. } | Self::PasswordTooLong { max } => Some(("max", *max)),
            Self::PasswordTooShort { min } => Some(("min", *min)),
            _ => None,
        }
    }

    /// The English sentence of the JSON API's 422.
    pub fn message(&self, field: &str) -> String {
        match self {
            Self::Required => format!("{field} is required"),
            Self::TooLong { len, max } => {
                format!("{field} is {len} characters long; at most {max} are allowed")
            }
            Self::ControlCharacters => format!("{field} contains control characters"),
            Self::InvisibleFormatting => format!(
                "{field} contains invisible formatting characters (bidi overrides, zero-width)"
            ),
            Self::NotAnEmail => "email is not a valid e-mail address".into(),
            Self::PasswordTooShort { min } => format!("password must be at least {min} characters"),
            Self::PasswordTooLong { max } => format!("password must be at most {max} characters"),
            Self::NotAWebsite => "website must be an http:// or https:// URL".into(),
        }
    }

    fn into_api(self, field: &str) -> ApiError {
        ApiError::Invalid(self.message(field))
    }
}

const PASSWORD_MIN: usize = 10;
const PASSWORD_MAX: usize = 128;

/// A required text field: trimmed, 1..=max characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    required_text(value, max).map_err(|p| p.into_api(field))
}

/// [`required`] without a field name, for callers that word the problem themselves.
pub fn required_text(value: &str, max: usize) -> Result<String, Problem> {
    let value = clean(value, max)?;
    if value.is_empty() {
        return Err(Problem::Required);
    }
    Ok(value)
}

/// An optional text field: trimmed; empty becomes `None`.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    optional_text(value, max).map_err(|p| p.into_api(field))
}

/// [`optional`] as a [`Problem`].
pub fn optional_text(value: Option<&str>, max: usize) -> Result<Option<String>, Problem> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = clean(v, max)?;
            Ok((!v.is_empty()).then_some(v))
        }
    }
}

/// Multi-line text (a post): newlines and tabs allowed, other control characters not.
pub fn multiline(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    multiline_text(value, max).map_err(|p| p.into_api(field))
}

/// [`multiline`] as a [`Problem`], for the page that edits a post (the same rules as
/// `PUT /api/contents/{id}`).
pub fn multiline_text(value: &str, max: usize) -> Result<String, Problem> {
    let value = value.trim();
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Problem::ControlCharacters);
    }
    check_len(value, max)?;
    if value.is_empty() {
        return Err(Problem::Required);
    }
    Ok(value.to_owned())
}

/// Invisible characters that change how the text around them displays: bidi embeddings,
/// overrides and isolates (a name that reads as another one), and zero-width ones (two names
/// that look the same but differ).
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn clean(value: &str, max: usize) -> Result<String, Problem> {
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err(Problem::ControlCharacters);
    }
    if value.chars().any(is_invisible_format) {
        return Err(Problem::InvisibleFormatting);
    }
    check_len(value, max)?;
    Ok(value.to_owned())
}

fn check_len(value: &str, max: usize) -> Result<(), Problem> {
    let len = value.chars().count();
    if len > max {
        return Err(Problem::TooLong { len, max });
    }
    Ok(())
}

/// A plausible address: one `@`, a dotted domain, no spaces. Whether it receives mail is
/// not ours to check.
pub fn email(value: &str) -> Result<String, ApiError> {
    email_address(value).map_err(|p| p.into_api("email"))
}

/// [`email`] as a [`Problem`].
pub fn email_address(value: &str) -> Result<String, Problem> {
    let value = required_text(value, 254)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        return Err(Problem::NotAnEmail);
    }
    Ok(value)
}

/// Long enough to resist guessing; bounded so hashing cannot be used to burn our CPU.
pub fn password(value: &str) -> Result<(), ApiError> {
    password_strength(value).map_err(|p| p.into_api("password"))
}

/// [`password`] as a [`Problem`].
pub fn password_strength(value: &str) -> Result<(), Problem> {
    let n = value.chars().count();
    if n < PASSWORD_MIN {
        return Err(Problem::PasswordTooShort { min: PASSWORD_MIN });
    }
    if n > PASSWORD_MAX {
        return Err(Problem::PasswordTooLong { max: PASSWORD_MAX });
    }
    Ok(())
}

/// An http(s) URL, for the profile's website.
pub fn website(value: Option<&str>) -> Result<Option<String>, ApiError> {
    website_address(value).map_err(|p| p.into_api("website"))
}

/// [`website`] as a [`Problem`].
pub fn website_address(value: Option<&str>) -> Result<Option<String>, Problem> {
    let Some(v) = optional_text(value, 500)? else {
        return Ok(None);
    };
    match url::Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(v)),
        _ => Err(Problem::NotAWebsite),
    }
}

/// The OpenAPI document's patterns for the checks above, so that a generator (schemathesis)
/// produces values these checks take, and a client can check before sending. Each one
/// accepts every value its check accepts: a value the pattern refuses is refused here too.
pub mod patterns {
    /// What `str::trim` removes (Unicode White_Space), as the body of a regex class.
    const SPACE: &str =
        r"\t\n\u000B\u000C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    /// Control characters, refused anywhere in a one-line value.
    const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
    /// The invisible formatting characters `is_invisible_format` refuses.
    const INVISIBLE: &str = r"\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF";

    /// A trimmed one-line value: starts and ends with a visible character, and holds no
    /// control or invisible formatting character.
    fn trimmed() -> String {
        format!(
            "[^{CONTROL}{INVISIBLE}{SPACE}](?:[^{CONTROL}{INVISIBLE}]*[^{CONTROL}{INVISIBLE}{SPACE}])?"
        )
    }

    /// [`super::required_text`]: a value, with any white space around it.
    pub fn line() -> String {
        format!("^[{SPACE}]*{}[{SPACE}]*$", trimmed())
    }

    /// [`super::optional_text`]: a value or only white space (which clears the field).
    pub fn optional_line() -> String {
        format!("^[{SPACE}]*(?:{}[{SPACE}]*)?$", trimmed())
    }

    /// [`super::email_address`]: one `@`, no white space inside, a dotted domain that
    /// neither starts nor ends with a dot.
    pub fn email() -> String {
        let not = format!("@{CONTROL}{INVISIBLE}{SPACE}");
        format!("^[{SPACE}]*[^{not}]+@[^{not}.][^{not}]*\\.[^{not}]*[^{not}.][{SPACE}]*$")
    }

    /// [`super::website_address`]: empty, or starting with `http:` or `https:` (what the
    /// URL parser then takes, `http:host` included, is its own to say).
    pub fn website() -> String {
        format!(
            "^[{SPACE}]*(?:[Hh][Tt][Tt][Pp][Ss]?:[^{CONTROL}{INVISIBLE}]*[^{CONTROL}{INVISIBLE}{SPACE}])?[{SPACE}]*$"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The characters where the checks and the patterns could disagree, plus plain ones.
    const TRICKY: &[char] = &[
        'a', 'Z', '7', '.', '@', ':', '/', 'h', 't', 'p', 's', ' ', '\t', '\n', '\r', '\u{0}',
        '\u{b}', '\u{1c}', '\u{7f}', '\u{85}', '\u{9f}', '\u{a0}', '\u{61c}', '\u{1680}',
        '\u{2000}', '\u{200a}', '\u{200b}', '\u{200f}', '\u{2028}', '\u{202e}', '\u{202f}',
        '\u{2060}', '\u{2066}', '\u{3000}', '\u{feff}', 'é',
    ];

    fn tricky_text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TRICKY), 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn matches(pattern: &str, value: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(value)
    }

    proptest! {
        /// A pattern refusing a value the API takes would make schemathesis' negative
        /// tests fail; the ones here are exact, so generated values are also taken.
        #[test]
        fn the_patterns_say_what_the_checks_take(value in tricky_text()) {
            prop_assert_eq!(matches(&patterns::line(), &value), required_text(&value, 50).is_ok());
            prop_assert_eq!(
                matches(&patterns::optional_line(), &value),
                optional_text(Some(&value), 50).is_ok()
            );
            prop_assert_eq!(matches(&patterns::email(), &value), email_address(&value).is_ok());
        }

        #[test]
        fn the_website_pattern_takes_every_website_taken(value in tricky_text()) {
            let value = format!("https:{value}");
            if website_address(Some(&value)).is_ok() {
                prop_assert!(matches(&patterns::website(), &value), "{value:?}");
            }
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(required("name", "  Spring  ", 10).unwrap(), "Spring");
        assert!(required("name", "   ", 10).is_err());
        assert!(required("name", "a\u{0}b", 10).is_err());
        assert!(required("name", "ééééééééééé", 10).is_err());
        assert_eq!(
            required("name", "éééééééééé", 10).unwrap().chars().count(),
            10
        );
        assert_eq!(optional("x", Some("  "), 5).unwrap(), None);
        assert_eq!(multiline("text", "a\nb", 5).unwrap(), "a\nb");
        assert!(multiline("text", "a\u{7}b", 5).is_err());
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(email(" Ana@Example.com ").unwrap(), "Ana@Example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "ana@x",
            "a b@x.com",
            "a@b@x.com",
            "a@.x",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        assert!(password("short").is_err());
        assert!(password(&"x".repeat(129)).is_err());
        assert!(password("long enough!").is_ok());
        assert!(website(Some("ftp://x.com")).is_err());
        assert_eq!(
            website(Some("https://x.com")).unwrap().as_deref(),
            Some("https://x.com")
        );
    }
}
