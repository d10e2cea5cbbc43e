//! The api's one error type, mapped to HTTP in one place. Internal failures show the client
//! "internal error" and are logged with their cause; nothing else leaks.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use jobs::error::Chain;
use serde::Serialize;

/// Any error, with its chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request could not be read: malformed JSON or query, a bad header.
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthenticated,
    /// Which of the two was wrong is not said, so accounts cannot be enumerated.
    #[error("e-mail or password is wrong")]
    BadCredentials,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed but wrong: a missing field, a value out of range.
    #[error("{0}")]
    Invalid(String),
    #[error("too many requests; retry in {} s", retry_after_secs(*.retry_after))]
    RateLimited { retry_after: Duration },
    /// A dependency is down or not configured; the same request may work later.
    #[error("{0}")]
    Unavailable(String),
    /// Too much work queued already (the password hashing pool): refused at once.
    #[error("the server is busy; retry in {} s", retry_after_secs(*.retry_after))]
    Busy { retry_after: Duration },
    /// The cause is kept whole (its `source()` chain) for the one log line written when the
    /// answer is made; the client sees only "internal error".
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid`, `not_found`, `csrf_failed`, ...
    pub code: String,
    /// For people.
    pub message: String,
}

fn retry_after_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad_credentials",
            Self::Forbidden { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Invalid(_) => "invalid",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Busy { .. } => "busy",
            Self::Internal(_) => "internal",
        }
    }

    /// An internal error from any error (kept with its chain) or message.
    pub fn internal(e: impl Into<BoxError>) -> Self {
        Self::Internal(e.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(_) = self {
            tracing::error!(error = %Chain(self), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after } | Self::Busy { retry_after } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs(*retry_after).to_string())
        {
            response.insert_header((RETRY_AFTER, value));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        })
    }
}

/// Hand-written so a missing row is a 404 and a state conflict a 409, not a 500.
impl From<shared::Error> for ApiError {
    fn from(e: shared::Error) -> Self {
        match e {
            shared::Error::NotFound(what) => Self::NotFound(what),
            shared::Error::Conflict(m) => Self::Conflict(m),
            shared::Error::Invalid(m) => Self::Invalid(m),
            shared::Error::Provider {
                retryable: false,
                message,
            } => Self::BadRequest(message),
            e if e.is_transient() => {
                tracing::warn!(error = %Chain(&e), "dependency unavailable");
                Self::Unavailable("a backing service is unavailable; try again shortly".into())
            }
            e => Self::Internal(Box::new(e)),
        }
    }
}

impl From<jobs::Error> for ApiError {
    fn from(e: jobs::Error) -> Self {
        Self::from(shared::Error::from(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// An internal error keeps its cause chain for the log (the client
    /// still sees only "internal error").
    #[test]
    fn internal_errors_keep_their_cause_chain() {
        let root = std::io::Error::other("disk on fire");
        let e = ApiError::internal(std::io::Error::other(root));
        assert_eq!(e.to_string(), "internal error");
        let chain = Chain(&e).to_string();
        assert!(chain.contains("disk on fire"), "{chain}");
        assert!(std::error::Error::source(&e).is_some());
        // A shared error that is not a 4xx keeps its own source too.
        let db = ApiError::from(shared::Error::Json(
            serde_json::from_str::<u8>("x").unwrap_err(),
        ));
        assert!(std::error::Error::source(&db).is_some(), "{db:?}");
        let chain = Chain(&db).to_string();
        assert!(chain.contains("expected value"), "{chain}");
        // The shared error's text already quotes serde's ("json: {0}"): not written twice.
        assert_eq!(chain.matches("expected value").count(), 1, "{chain}");
    }
}
