//! Job arguments as an admin sees them: whatever sits under a key whose name looks like a
//! secret (token, secret, password, key, authorization...) is replaced, at any depth, so
//! the admin pages and `/api/admin` never show a credential a job carries. Jobs carry ids
//! (architecture.md), so this is a safety net rather than the usual case.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Word parts that mark a secret wherever they appear in a key (`accessToken`,
/// `client_secret`, `PASSWORD_HASH`, `x-authorization`).
const SECRET_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "authorization",
    "credential",
    "apikey",
    "privatekey",
    "cookie",
    "signature",
];

/// Words that mark a secret only as a whole word of the key (`api_key`, `key`, `pwd`), so
/// `keyword` or `monkey` are left alone.
const SECRET_WORDS: &[&str] = &["key", "pwd", "auth", "otp", "pin", "session", "sig"];

/// The arguments' JSON with secrets replaced; arguments that are not JSON are shown as the
/// text they are (they can only be a malformed entry's raw bytes).
pub fn redact_json(raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(v) => redact(v),
        Err(_) => Value::String(raw.to_owned()),
    }
}

pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if is_secret_key(&k) {
                        (k, Value::String(REDACTED.into()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        Value::String(s) if looks_like_credential(&s) => Value::String(REDACTED.into()),
        other => other,
    }
}

/// Whether a key's name says its value is a secret: its words (split at `_`, `-`, `.`,
/// spaces and lower→upper case changes) or its squashed lowercase form.
pub fn is_secret_key(key: &str) -> bool {
    let squashed: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    if SECRET_PARTS.iter().any(|p| squashed.contains(p)) {
        return true;
    }
    words(key)
        .iter()
        .any(|w| SECRET_WORDS.contains(&w.as_str()))
}

/// A string value that is a credential whatever its key: an HTTP authorization value.
fn looks_like_credential(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    lower.starts_with("bearer ") || lower.starts_with("basic ")
}

fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_looking_keys_are_recognised() {
        for key in [
            "token",
            "access_token",
            "accessToken",
            "refresh-token",
            "client_secret",
            "password",
            "PASSWORD_HASH",
            "api_key",
            "apiKey",
            "ApiKey",
            "key",
            "private_key",
            "Authorization",
            "x-authorization",
            "aws.secret.access",
            "session_cookie",
            "pwd",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "content_id",
            "keyword",
            "keywords",
            "monkey",
            "user_id",
            "city",
            "campaign",
            "name",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn secrets_are_replaced_at_any_depth_and_the_rest_is_kept() {
        let args = json!({
            "content_id": 7,
            "access_token": "AQV-secret",
            "headers": { "Authorization": "Bearer abc", "Accept": "application/json" },
            "accounts": [ { "apiKey": 123, "name": "x" }, { "password": { "nested": true } } ],
            "note": "Bearer xyz",
            "keywords": ["bread", "lyon"],
        });
        let shown = redact_json(&args.to_string());
        assert_eq!(
            shown,
            json!({
                "content_id": 7,
                "access_token": REDACTED,
                "headers": { "Authorization": REDACTED, "Accept": "application/json" },
                "accounts": [ { "apiKey": REDACTED, "name": "x" }, { "password": REDACTED } ],
                "note": REDACTED,
                "keywords": ["bread", "lyon"],
            })
        );
        assert!(!shown.to_string().contains("AQV-secret"));
    }

    #[test]
    fn arguments_that_are_not_json_are_shown_as_text() {
        assert_eq!(redact_json("not json"), Value::String("not json".into()));
    }
}
