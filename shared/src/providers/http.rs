//! What every provider client shares: building a reqwest client with timeouts, sending a
//! request so transport failures become [`ProviderError`]s without URLs, and reading the
//! error bodies of Google and LinkedIn.

use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;

pub(crate) use crate::metrics::Route;

use super::error::{
    ProviderError, next_pacific_midnight, next_utc_midnight, parse_google_delay, parse_retry_after,
    quote,
};

/// A client whose every call ends within `timeout` (connecting within a third of it).
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout((timeout / 3).max(Duration::from_millis(100)))
        .build()
        .map_err(|e| ProviderError::permanent(format!("http client: {}", e.without_url())))
}

/// Whether repeating a request can create a second effect (a second LinkedIn post).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Idempotent,
    CreatesSomething,
}

/// Sends `request` as a call of `route` (counted in the provider metrics); a transport
/// failure is `RetryLater` when nothing can have reached the provider (connect error) or
/// the call is idempotent, `OutcomeUnknown` otherwise.
pub(crate) async fn send(
    route: Route,
    what: &str,
    request: reqwest::RequestBuilder,
    effect: Effect,
) -> Result<reqwest::Response, ProviderError> {
    crate::metrics::send(route, request)
        .await
        .map_err(|e| transport(what, e, effect))
}

pub(crate) fn transport(what: &str, e: reqwest::Error, effect: Effect) -> ProviderError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_decode() || e.is_body() {
        "unreadable response"
    } else {
        "transport error"
    };
    // Never the URL: a Google URL may carry `?key=`.
    let e = e.without_url();
    tracing::debug!(what, error = %jobs::error::Chain(&e), "provider transport failure");
    let reason = format!("{what}: {kind}");
    if e.is_connect() || effect == Effect::Idempotent {
        ProviderError::RetryLater {
            after: None,
            reason,
        }
    } else {
        ProviderError::OutcomeUnknown { reason }
    }
}

/// Reads a success body as JSON; a body that is not the expected shape is `Permanent`.
pub(crate) async fn json<T: serde::de::DeserializeOwned>(
    what: &str,
    response: reqwest::Response,
    effect: Effect,
) -> Result<T, ProviderError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| transport(what, e, effect))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ProviderError::permanent(format!("{what}: unexpected response shape: {e}")))
}

#[derive(Deserialize, Default)]
struct GoogleErrorBody {
    #[serde(default)]
    error: GoogleError,
}

#[derive(Deserialize, Default)]
struct GoogleError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<serde_json::Value>,
}

/// A non-2xx answer of Places or Gemini as the error the caller acts on (docs/providers.md,
/// "Google's error answers"). The body is `google.rpc.Status` (cloud.google.com/apis/design/errors):
/// `RetryInfo.retryDelay` is the wait; a per-day quota is named either in a `QuotaFailure`
/// violation's `quotaId` (Gemini: `…PerDay…`) or in an `ErrorInfo`'s `metadata.quota_limit`
/// (Places and other Cloud APIs: `…PerDay…`), and waits until the Pacific midnight reset;
/// 404 NOT_FOUND means the model or method our configuration names does not exist (a
/// retired model), which only an operator can fix. Every Google call we make is free of
/// side effects, so 5xx is always `RetryLater`.
pub(crate) async fn google_error(
    what: &str,
    response: reqwest::Response,
    secrets: &[&str],
) -> ProviderError {
    let status = response.status().as_u16();
    let header_delay = parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER));
    let bytes = response.bytes().await.unwrap_or_default();
    google_error_body(what, status, header_delay, &bytes, secrets)
}

/// [`google_error`] once the answer is read: what the contract fixtures test.
pub(crate) fn google_error_body(
    what: &str,
    status: u16,
    header_delay: Option<Duration>,
    bytes: &[u8],
    secrets: &[&str],
) -> ProviderError {
    let body: GoogleErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    let e = body.error;
    let reason = format!(
        "{what} answered {status} {}: {}",
        e.status,
        scrub(&quote(&e.message), secrets)
    );
    let mut delay = header_delay;
    let mut per_day = false;
    for d in &e.details {
        if let Some(s) = d.get("retryDelay").and_then(|v| v.as_str()) {
            delay = delay.or_else(|| parse_google_delay(s));
        }
        if let Some(violations) = d.get("violations").and_then(|v| v.as_array()) {
            per_day |= violations.iter().any(|v| {
                v.get("quotaId")
                    .and_then(|q| q.as_str())
                    .is_some_and(names_a_day)
            });
        }
        per_day |= d
            .pointer("/metadata/quota_limit")
            .and_then(|q| q.as_str())
            .is_some_and(names_a_day);
    }
    match status {
        429 if per_day => ProviderError::RateLimitedUntil {
            until: next_pacific_midnight(Utc::now()),
            reason,
        },
        429 if delay.is_none() => ProviderError::Throttled { reason },
        429 | 500..=599 => ProviderError::RetryLater {
            after: delay,
            reason,
        },
        404 => ProviderError::Misconfigured { reason },
        _ => ProviderError::Permanent { reason },
    }
}

/// A `Misconfigured` error names the setting to fix and its value, so the alert, the
/// banner and the waiting content all tell the operator what to change.
pub(crate) fn name_setting(e: ProviderError, setting: &str, value: &str) -> ProviderError {
    match e {
        ProviderError::Misconfigured { reason } => ProviderError::Misconfigured {
            reason: format!(
                "{reason} (the provider does not know {setting} = {value:?}; set it to a model Google lists)"
            ),
        },
        other => other,
    }
}

/// Whether a quota id or limit name is a daily one (`…PerDay…`, `…per day…`).
fn names_a_day(quota: &str) -> bool {
    let q = quota.to_ascii_lowercase();
    q.contains("perday") || q.contains("per day") || q.contains("per_day")
}

#[derive(Deserialize, Default)]
struct LinkedInErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default, rename = "errorDetails")]
    error_details: serde_json::Value,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// A non-2xx LinkedIn answer (REST, v2 or OAuth) as the error the caller acts on
/// (docs/providers.md, "4.8 LinkedIn's error answers").
pub(crate) async fn linkedin_error(
    what: &str,
    response: reqwest::Response,
    effect: Effect,
    secrets: &[&str],
) -> ProviderError {
    let status = response.status().as_u16();
    let header_delay = parse_retry_after(response.headers().get(reqwest::header::RETRY_AFTER));
    let body = response.bytes().await.unwrap_or_default();
    classify_linkedin(what, status, header_delay, &body, effect, secrets)
}

/// [`linkedin_error`] on an answer already read: its status, `Retry-After` and body.
pub(crate) fn classify_linkedin(
    what: &str,
    status: u16,
    header_delay: Option<Duration>,
    body: &[u8],
    effect: Effect,
    secrets: &[&str],
) -> ProviderError {
    let body: LinkedInErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = body
        .code
        .clone()
        .or_else(|| body.error.clone())
        .unwrap_or_default();
    let message = if body.message.is_empty() {
        body.error_description.clone().unwrap_or_default()
    } else {
        body.message.clone()
    };
    let reason = format!(
        "{what} answered {status} {code}: {}",
        scrub(&quote(&message), secrets)
    );
    let duplicate = code == "DUPLICATE_POST"
        || body.error_details.to_string().contains("DUPLICATE_POST")
        || message.contains("duplicate of urn:");
    match status {
        401 => ProviderError::Reconnect { reason },
        // The `LinkedIn-Version` we send is retired or was never released ("Versioning",
        // learn.microsoft.com/linkedin/marketing/versioning): nothing was done, and only an
        // operator (`linkedin.version`) can fix it.
        426 => ProviderError::Misconfigured { reason },
        422 if duplicate => match duplicate_urn(&message) {
            Some(urn) => ProviderError::Duplicate { urn },
            None => ProviderError::DuplicateUnnamed { reason },
        },
        429 => match header_delay {
            Some(after) => ProviderError::RetryLater {
                after: Some(after),
                reason,
            },
            None => ProviderError::RateLimitedUntil {
                until: next_utc_midnight(Utc::now()),
                reason,
            },
        },
        500..=599 if effect == Effect::CreatesSomething => ProviderError::OutcomeUnknown { reason },
        500..=599 => ProviderError::RetryLater {
            after: header_delay,
            reason,
        },
        _ => ProviderError::Permanent { reason },
    }
}

/// The earlier post's URN in "...Content is a duplicate of urn:li:share:7141...".
pub(crate) fn duplicate_urn(message: &str) -> Option<String> {
    let start = message.find("urn:li:")?;
    let urn: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
        .collect();
    let parts: Vec<&str> = urn.split(':').collect();
    (parts.len() >= 4 && parts.iter().all(|p| !p.is_empty())).then_some(urn)
}

/// Removes any configured secret a provider might echo back in its message.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "[redacted]");
    }
    out
}

/// The Google API key every Google client sends; `who` names the client in the refusal. A
/// deployment without one cannot call Google at all, which no retry changes.
pub(crate) fn google_key(
    config: &crate::config::GoogleConfig,
    who: &str,
) -> Result<String, ProviderError> {
    config
        .api_key
        .clone()
        .ok_or_else(|| ProviderError::permanent(format!("{who}: no Google API key configured")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_urns_come_out_of_the_message() {
        assert_eq!(
            duplicate_urn("Content is a duplicate of urn:li:share:7141138937766391808").as_deref(),
            Some("urn:li:share:7141138937766391808")
        );
        assert_eq!(
            duplicate_urn("dup of urn:li:ugcPost:123.").as_deref(),
            Some("urn:li:ugcPost:123")
        );
        assert_eq!(duplicate_urn("Duplicate post is detected"), None);
        assert_eq!(duplicate_urn("urn:li:"), None);
    }

    #[test]
    fn scrub_hides_secrets() {
        assert_eq!(
            scrub("bad key abcd1234!", &["abcd1234"]),
            "bad key [redacted]!"
        );
    }
}
