//! Checks on what clients send, turned into 422 answers that say what is wrong. Text is
//! trimmed; control characters are refused (PostgreSQL cannot store NUL, and nothing
//! legitimate in a name or an address contains one).

use crate::error::ApiError;

/// A required text field: trimmed, 1..=max characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = clean(field, value, max)?;
    if value.is_empty() {
        return Err(ApiError::Invalid(format!("{field} is required")));
    }
    Ok(value)
}

/// An optional text field: trimmed; empty becomes `None`.
pub fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = clean(field, v, max)?;
            Ok((!v.is_empty()).then_some(v))
        }
    }
}

/// Multi-line text (a post): newlines and tabs allowed, other control characters not.
pub fn multiline(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::Invalid(format!(
            "{field} contains control characters"
        )));
    }
    check_len(field, value, max)?;
    if value.is_empty() {
        return Err(ApiError::Invalid(format!("{field} is required")));
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

fn clean(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().any(char::is_control) {
        return Err(ApiError::Invalid(format!(
            "{field} contains control characters"
        )));
    }
    if value.chars().any(is_invisible_format) {
        return Err(ApiError::Invalid(format!(
            "{field} contains invisible formatting characters (bidi overrides, zero-width)"
        )));
    }
    check_len(field, value, max)?;
    Ok(value.to_owned())
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n > max {
        return Err(ApiError::Invalid(format!(
            "{field} is {n} characters long; at most {max} are allowed"
        )));
    }
    Ok(())
}

/// A plausible address: one `@`, a dotted domain, no spaces. Whether it receives mail is
/// not ours to check.
pub fn email(value: &str) -> Result<String, ApiError> {
    let value = required("email", value, 254)?;
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
        return Err(ApiError::Invalid(
            "email is not a valid e-mail address".into(),
        ));
    }
    Ok(value)
}

/// Long enough to resist guessing; bounded so hashing cannot be used to burn our CPU.
pub fn password(value: &str) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < 10 {
        return Err(ApiError::Invalid(
            "password must be at least 10 characters".into(),
        ));
    }
    if n > 128 {
        return Err(ApiError::Invalid(
            "password must be at most 128 characters".into(),
        ));
    }
    Ok(())
}

/// An http(s) URL, for the profile's website.
pub fn website(value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(v) = optional("website", value, 500)? else {
        return Ok(None);
    };
    match url::Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(v)),
        _ => Err(ApiError::Invalid(
            "website must be an http:// or https:// URL".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
