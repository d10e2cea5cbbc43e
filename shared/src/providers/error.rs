//! The one error every provider client returns. Its variants are instructions to the
//! caller (the pipeline maps them to job fates), not descriptions of what went wrong on the
//! wire. No variant ever carries a key, token, secret or request URL: reasons are built from
//! the status, the provider's error `code` and its (truncated) `message` only.

use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as Span, NaiveDate, TimeZone, Utc};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// Nothing happened that matters; the same call may succeed later (5xx on an idempotent
    /// call, a connect error, a per-minute 429). `after` is the provider's own hint.
    #[error("retry later{}: {reason}", after.map(|d| format!(" (after {d:?})")).unwrap_or_default())]
    RetryLater {
        after: Option<Duration>,
        reason: String,
    },
    /// Too many requests, and the provider named no delay (a Google 429 without
    /// `RetryInfo`): a wait of our choosing, not a failure of the call.
    #[error("throttled: {reason}")]
    Throttled { reason: String },
    /// A daily quota is used up: asking before `until` only burns more of tomorrow's.
    #[error("rate limited until {until}: {reason}")]
    RateLimitedUntil {
        until: DateTime<Utc>,
        reason: String,
    },
    /// The request or its content is refused; repeating it gives the same answer.
    #[error("permanent failure: {reason}")]
    Permanent { reason: String },
    /// The member's LinkedIn grant is expired or revoked: only the owner can fix it.
    #[error("reconnect needed: {reason}")]
    Reconnect { reason: String },
    /// LinkedIn already has this exact post: `urn` is the earlier one, record it as ours.
    #[error("duplicate of {urn}")]
    Duplicate { urn: String },
    /// LinkedIn refused the post as a duplicate of an earlier one without naming it (or in
    /// a shape we cannot read): the earlier post exists, but which one is not known.
    #[error("duplicate of an unnamed post: {reason}")]
    DuplicateUnnamed { reason: String },
    /// A non-idempotent request was sent and no answer says whether it took effect.
    #[error("outcome unknown: {reason}")]
    OutcomeUnknown { reason: String },
    /// The provider does not know what our configuration asks for (a retired model id, an
    /// API version it no longer serves): no retry and no owner can fix it, only an operator.
    #[error("operator action needed: {reason}")]
    Misconfigured { reason: String },
}

impl ProviderError {
    /// True when the same call, later, may succeed (`RetryLater`, `RateLimitedUntil`).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RetryLater { .. } | Self::Throttled { .. } | Self::RateLimitedUntil { .. }
        )
    }

    /// How long to wait before the retry: the provider's hint, or until the quota resets.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RetryLater { after, .. } => *after,
            Self::RateLimitedUntil { until, .. } => {
                Some((*until - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            }
            _ => None,
        }
    }

    pub(crate) fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent {
            reason: reason.into(),
        }
    }
}

impl From<ProviderError> for crate::error::Error {
    fn from(e: ProviderError) -> Self {
        Self::Provider {
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}

/// Provider text quoted in an error: one line, at most 200 characters.
pub(crate) fn quote(message: &str) -> String {
    const MAX: usize = 200;
    let one_line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= MAX {
        one_line
    } else {
        let mut cut: String = one_line.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

/// Parses Google's `RetryInfo.retryDelay` ("19s", "12.5s", "0.5s").
pub(crate) fn parse_google_delay(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A `Retry-After` header in seconds (the HTTP-date form is not used by these providers).
pub(crate) fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let secs: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(86_400)))
}

/// The next 00:00 UTC: LinkedIn's daily limits reset then.
pub(crate) fn next_utc_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive() + Span::days(1);
    Utc.from_utc_datetime(&tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The next midnight in US Pacific time, when Gemini's per-day quotas reset. DST is worked
/// out by the US rule (second Sunday of March to first Sunday of November, at 02:00 local) so
/// no time-zone database is needed.
pub(crate) fn next_pacific_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let offset = |utc: DateTime<Utc>| -> Span {
        let year = utc.year();
        // DST starts 2:00 PST (10:00 UTC) and ends 2:00 PDT (09:00 UTC).
        let start = nth_sunday(year, 3, 2)
            .and_hms_opt(10, 0, 0)
            .unwrap_or_default();
        let end = nth_sunday(year, 11, 1)
            .and_hms_opt(9, 0, 0)
            .unwrap_or_default();
        let t = utc.naive_utc();
        if t >= start && t < end {
            Span::hours(-7)
        } else {
            Span::hours(-8)
        }
    };
    let local = now.naive_utc() + offset(now);
    let next_local_midnight = (local.date() + Span::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    // The offset at the target instant may differ from now's (a DST change that night).
    let guess = Utc.from_utc_datetime(&(next_local_midnight + Span::hours(8)));
    Utc.from_utc_datetime(&(next_local_midnight - offset(guess)))
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
    first + Span::days(i64::from(to_sunday + 7 * (n - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_delays_parse() {
        assert_eq!(parse_google_delay("19s"), Some(Duration::from_secs(19)));
        assert_eq!(
            parse_google_delay("12.5s"),
            Some(Duration::from_millis(12_500))
        );
        assert_eq!(parse_google_delay("soon"), None);
        assert_eq!(parse_google_delay("-1s"), None);
    }

    #[test]
    fn pacific_midnight_follows_dst() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Winter: PST, midnight = 08:00 UTC.
        assert_eq!(
            next_pacific_midnight(at("2026-11-28T20:00:00Z")),
            at("2026-11-29T08:00:00Z")
        );
        // Summer: PDT, midnight = 07:00 UTC.
        assert_eq!(
            next_pacific_midnight(at("2026-07-01T06:59:00Z")),
            at("2026-07-01T07:00:00Z")
        );
        assert_eq!(
            next_pacific_midnight(at("2026-07-01T07:00:00Z")),
            at("2026-07-02T07:00:00Z")
        );
        assert_eq!(
            next_utc_midnight(at("2026-11-28T20:00:00Z")),
            at("2026-11-29T00:00:00Z")
        );
    }

    #[test]
    fn quotes_are_short_single_lines() {
        let q = quote(&format!("a\nb{}", "x".repeat(500)));
        assert!(!q.contains('\n'));
        assert_eq!(q.chars().count(), 201);
    }
}
