//! One OAuth connect round, as every platform's connect keeps it: a single-use `state`
//! remembered in the session with when it was made and which front end started the round,
//! and the way back to the profile page. Each platform names its own session keys, so a
//! LinkedIn connect and an Instagram connect started in one session never take each
//! other's `state`.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_session::Session;
use actix_web::HttpResponse;
use actix_web::http::header::LOCATION;

use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Providers' authorization codes live minutes (LinkedIn 30, Instagram 60); a `state` older
/// than this is refused, so a consent tab left open overnight starts again.
const STATE_TTL_SECS: u64 = 600;

/// The session keys one platform's round is kept under, and the platform's name in the
/// profile page's notice (`/profile?{platform}=connected`).
pub struct Round {
    pub platform: &'static str,
    pub state: &'static str,
    pub made_at: &'static str,
    pub from_page: &'static str,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Round {
    /// A fresh `state` for the consent URL, remembered with its time and whether the
    /// profile page (rather than the JSON API) started the round.
    pub fn begin(&self, session: &Session, from_page: bool) -> ApiResult<String> {
        let oauth_state = auth::random_token();
        session
            .insert(self.state, &oauth_state)
            .and_then(|()| session.insert(self.made_at, now_secs()))
            .and_then(|()| session.insert(self.from_page, from_page))
            .map_err(ApiError::internal)?;
        Ok(oauth_state)
    }

    /// Whether the `state` the provider sent back is this session's, and young enough.
    /// Single use: whatever the answer, that state cannot be presented again.
    pub fn check_state(&self, session: &Session, sent: Option<&str>) -> ApiResult<()> {
        let expected: Option<String> = session.remove_as(self.state).and_then(Result::ok);
        let made_at: Option<u64> = session.remove_as(self.made_at).and_then(Result::ok);
        let fresh = made_at.is_some_and(|t| now_secs().saturating_sub(t) <= STATE_TTL_SECS);
        if !expected.is_some_and(|e| auth::same_token(sent.unwrap_or(""), &e)) || !fresh {
            return Err(ApiError::BadRequest(
                "state does not match a connect started from this session; connect again".into(),
            ));
        }
        Ok(())
    }

    /// The callback's answer. A round the profile page started goes back to it with a
    /// notice (`connected`, `cancelled`, `refused`, or `failed` with the error logged)
    /// whatever happened; one the JSON API started gets the error itself.
    pub fn finish(
        &self,
        state: &AppState,
        session: &Session,
        outcome: ApiResult<&'static str>,
    ) -> ApiResult<HttpResponse> {
        let from_page = session
            .remove_as::<bool>(self.from_page)
            .and_then(Result::ok)
            .unwrap_or(false);
        let back = |outcome: &str| {
            HttpResponse::SeeOther()
                .insert_header((
                    LOCATION,
                    format!(
                        "{}/profile?{}={outcome}",
                        state.config.api.public_url.trim_end_matches('/'),
                        self.platform
                    ),
                ))
                .finish()
        };
        match outcome {
            Ok(outcome) => Ok(back(outcome)),
            Err(e) if from_page => {
                tracing::warn!(
                    platform = self.platform,
                    error = %jobs::error::Chain(&e),
                    "connect failed"
                );
                Ok(back("failed"))
            }
            Err(e) => Err(e),
        }
    }
}
