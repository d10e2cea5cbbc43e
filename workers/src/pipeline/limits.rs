//! The pipeline's rate limits (docs/pipeline.md, "Limits") and what a provider's refusal does to a job.
//!
//! Every paid call passes its gates first: the provider credential's (shared by all users)
//! and the user's own. Over a limit, the job is deferred with a reason a person can read;
//! it uses no attempt and frees its worker slot. A provider that answers 429 with a delay
//! blocks its credential's gate for that delay, so every job on that credential waits
//! instead of each one asking, being refused and burning an attempt.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use jobs::JobError;
use shared::events::{Event, EventKind};
use shared::providers::ProviderError;
use shared::rate_limit::{Admission, Gate, Rule, Ticket, throttle_backoff};

use super::{Pipeline, internal};

/// What a unit of work spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// One Places Text Search page.
    Places,
    /// One lead let into enrichment (the daily lead budget).
    Lead,
    /// One post text from Gemini (and the daily content budget).
    GeminiText,
    Image,
    /// One LinkedIn post of a member: the member's daily count and the app's rate.
    LinkedInPost,
    /// Any other LinkedIn call (image upload, analytics) on the app's rate.
    LinkedInCall,
}

impl Resource {
    /// The gate a provider's 429 blocks: the credential's, shared by every user.
    fn credential(self) -> &'static str {
        match self {
            Self::Places => "places",
            Self::Lead => "leads",
            Self::GeminiText => "gemini_text",
            Self::Image => "image",
            Self::LinkedInPost | Self::LinkedInCall => "linkedin_app",
        }
    }

    fn provider(self) -> &'static str {
        match self {
            Self::Places => "Google Places",
            Self::Lead => "lead enrichment",
            Self::GeminiText => "Gemini",
            Self::Image => "image generation",
            Self::LinkedInPost | Self::LinkedInCall => "LinkedIn",
        }
    }
}

/// The longest wait for a rate slot a job sleeps through holding its worker slot; a longer
/// one is a deferral (no slot held, no attempt used).
const RESERVE: Duration = Duration::from_secs(2);
/// The longest wait a slot is reserved for (the job deferred until its turn).
const MAX_RESERVE: Duration = Duration::from_secs(600);
/// How many of the longest throttle waits a credential's run of 429s is remembered for
/// without a new one.
const THROTTLE_MEMORY_WAITS: u32 = 10;

/// How long a job waits before asking again after the provider did not know a setting of
/// ours: long enough not to flood the logs, short enough that a fixed setting is picked up
/// within minutes.
pub const OPERATOR_WAIT: Duration = Duration::from_secs(600);

impl Pipeline {
    pub(crate) fn gates(&self, resource: Resource, user_id: i64) -> Vec<Gate> {
        let l = &self.config.limits;
        let user = format!("user:{user_id}");
        let app = || "app".to_owned();
        let gate = |name, subject, rule| Gate {
            name,
            subject,
            rule,
        };
        match resource {
            Resource::Places => vec![
                gate("places", app(), Rule::Rate(l.places.limit())),
                gate("places", user, Rule::Rate(l.user_places.limit())),
            ],
            Resource::Lead => vec![
                gate("leads", app(), Rule::Daily(l.leads_per_day)),
                gate("leads", user, Rule::Daily(l.user_leads_per_day)),
            ],
            Resource::GeminiText => vec![
                gate("gemini_text", app(), Rule::Rate(l.gemini_text.limit())),
                gate(
                    "gemini_text",
                    user.clone(),
                    Rule::Rate(l.user_gemini_text.limit()),
                ),
                gate("contents", app(), Rule::Daily(l.contents_per_day)),
                gate("contents", user, Rule::Daily(l.user_contents_per_day)),
            ],
            Resource::Image => vec![
                gate("image", app(), Rule::Rate(l.image.limit())),
                gate("image", user, Rule::Rate(l.user_image.limit())),
            ],
            // `linkedin_member` paces nothing of its own (the app's rate, per member): it is
            // the gate a member's 429 blocks, so that member waits and no one else does.
            Resource::LinkedInPost => vec![
                gate(
                    "linkedin_post",
                    user.clone(),
                    Rule::Daily(l.user_posts_per_day),
                ),
                gate("linkedin_member", user, Rule::Rate(l.linkedin_app.limit())),
                gate("linkedin_app", app(), Rule::Rate(l.linkedin_app.limit())),
            ],
            Resource::LinkedInCall => vec![
                gate("linkedin_member", user, Rule::Rate(l.linkedin_app.limit())),
                gate("linkedin_app", app(), Rule::Rate(l.linkedin_app.limit())),
            ],
        }
    }

    /// Takes the units `resource` costs for `user_id`, or defers the job with the reason.
    /// The returned [`Spent`] gives them back if the call is then not made.
    ///
    /// Waiting for a rate slot: up to [`RESERVE`] the job sleeps through it; up to
    /// [`MAX_RESERVE`] the slot is reserved under the job's id (`job`) and the job deferred
    /// until then, so a thousand waiting jobs wake one slot apart instead of all at once
    /// for the same slot; past that, or behind a provider's block or a daily count, the job
    /// is deferred without a reservation.
    pub async fn admit(
        &self,
        resource: Resource,
        user_id: i64,
        campaign_id: i64,
        job: &str,
    ) -> Result<Spent, JobError> {
        self.admit_for(resource, user_id, campaign_id, job)
            .await
            .map_err(|refusal| refusal.error)
    }

    /// As [`Self::admit`], saying whether only this user's own gate refused: a loop over
    /// many users' calls (the analytics sync) skips that user and goes on, but stops when
    /// a gate everyone shares is closed.
    pub async fn admit_for(
        &self,
        resource: Resource,
        user_id: i64,
        campaign_id: i64,
        job: &str,
    ) -> Result<Spent, Refusal> {
        let shared = |error| Refusal {
            error,
            this_user_only: false,
        };
        let gates = self.gates(resource, user_id);
        let ticket = format!("{}:{job}", resource.credential());
        match self
            .limiter
            .claim(&ticket)
            .await
            .map_err(|e| shared(internal(e)))?
        {
            Ticket::Ready => return Ok(Spent { gates }),
            Ticket::Later(wait) => {
                let reason = turn_reason(resource, wait);
                return Err(shared(self.defer(user_id, campaign_id, reason, wait).await));
            }
            Ticket::None => {}
        }
        match self
            .limiter
            .acquire_within(&gates, MAX_RESERVE)
            .await
            .map_err(|e| shared(internal(e)))?
        {
            Admission::Granted => Ok(Spent { gates }),
            // A slot a moment away is ours: wait for it here.
            Admission::Reserved { after } if after <= RESERVE => {
                tokio::time::sleep(after).await;
                Ok(Spent { gates })
            }
            Admission::Reserved { after } => {
                self.limiter
                    .hold(&ticket, after)
                    .await
                    .map_err(|e| shared(internal(e)))?;
                let reason = turn_reason(resource, after);
                Err(shared(
                    self.defer(user_id, campaign_id, reason, after).await,
                ))
            }
            Admission::Wait { gate, retry_after } => {
                let this_user_only = gates[gate].subject != "app";
                let refusal = |error| Refusal {
                    error,
                    this_user_only,
                };
                let reason = wait_reason(&gates[gate], resource, user_id, retry_after);
                // A rate gate alone never makes anyone wait this long: a provider blocked
                // it (a 429 with a long delay, a quota until midnight). That wait is the
                // provider's, bounded like every provider's wait.
                if matches!(gates[gate].rule, Rule::Rate(_)) && retry_after > MAX_RESERVE {
                    self.deferred(user_id, campaign_id, &reason, retry_after)
                        .await;
                    return Err(refusal(JobError::RetryAfter {
                        delay: retry_after,
                        message: reason,
                    }));
                }
                Err(refusal(
                    self.defer(user_id, campaign_id, reason, retry_after).await,
                ))
            }
        }
    }

    async fn defer(
        &self,
        user_id: i64,
        campaign_id: i64,
        reason: String,
        wait: Duration,
    ) -> JobError {
        self.deferred(user_id, campaign_id, &reason, wait).await;
        JobError::Defer {
            until: SystemTime::now() + wait,
            reason,
        }
    }

    /// Gives back what [`Self::admit`] took, when no call was made with it.
    pub async fn refund(&self, spent: Spent) {
        if let Err(e) = self.limiter.release(&spent.gates).await {
            tracing::warn!(error = %jobs::error::Chain(&e), "rate limit units not given back");
        }
    }

    /// Turns a provider's refusal into the job's fate. A wait the provider asked for (a
    /// delay, a 429 naming none, a quota until its reset) blocks its credential for
    /// everyone and uses no attempt; it is a `RetryAfter`, the one kind of wait that
    /// [`super::ending`] bounds, so a provider that never says yes cannot keep a campaign
    /// open forever. A refusal that repeating cannot change is permanent.
    pub async fn provider_failed(
        &self,
        resource: Resource,
        user_id: i64,
        campaign_id: i64,
        error: ProviderError,
    ) -> JobError {
        let message = format!("{}: {error}", resource.provider());
        let wait = match &error {
            ProviderError::RetryLater {
                after: Some(delay), ..
            } => *delay,
            ProviderError::Throttled { .. } => self.throttle_wait(resource).await,
            ProviderError::RateLimitedUntil { until, .. } => {
                (*until - Utc::now()).to_std().unwrap_or(Duration::ZERO)
            }
            ProviderError::RetryLater { after: None, .. }
            | ProviderError::OutcomeUnknown { .. } => return JobError::Retryable(message),
            ProviderError::Misconfigured { .. } => {
                return self
                    .operator_wait(resource, user_id, campaign_id, message)
                    .await;
            }
            ProviderError::Permanent { .. }
            | ProviderError::Reconnect { .. }
            | ProviderError::Duplicate { .. }
            | ProviderError::DuplicateUnnamed { .. } => return JobError::Permanent(message),
        };
        self.block(resource, wait).await;
        self.deferred(user_id, campaign_id, &message, wait).await;
        JobError::RetryAfter {
            delay: wait,
            message,
        }
    }

    /// The provider does not know a setting of ours (a retired model, an API version no
    /// longer served): no retry and no owner can fix that, only an operator. The job waits
    /// [`OPERATOR_WAIT`] (no attempt used) and asks again, so its content resumes by itself
    /// once the setting is fixed; meanwhile the owner sees the reason among her waits, the
    /// metric feeds the operator alert and `/admin` shows the banner naming the setting.
    /// It is a provider's wait (`RetryAfter`), so it is bounded like every other one: a
    /// setting never fixed ends the job after `pipeline.give_up_waiting_secs` with this
    /// reason. The credential is not blocked: a 404 costs nothing, and each job finds the
    /// fix on its own next try.
    async fn operator_wait(
        &self,
        resource: Resource,
        user_id: i64,
        campaign_id: i64,
        message: String,
    ) -> JobError {
        let provider = resource.credential();
        shared::metrics::record_misconfigured(provider);
        let message = format!(
            "{message}; waiting for the operator to fix {}",
            shared::misconfigured::setting_of(provider)
        );
        tracing::error!(provider, reason = %message, "provider setting unknown to the provider: operator action needed");
        if let Err(e) =
            shared::misconfigured::raise(&self.redis, &self.key_prefix, provider, &message).await
        {
            tracing::warn!(error = %jobs::error::Chain(&e), "misconfiguration not recorded for /admin");
        }
        self.deferred(user_id, campaign_id, &message, OPERATOR_WAIT)
            .await;
        JobError::RetryAfter {
            delay: OPERATOR_WAIT,
            message,
        }
    }

    /// The gate a provider's refusal blocks: the credential's, shared by every user.
    fn credential_gate(&self, resource: Resource) -> Option<Gate> {
        self.gates(resource, 0)
            .into_iter()
            .find(|g| g.subject == "app" && g.name == resource.credential())
    }

    /// How long a 429 that named no delay holds the credential back: exponential backoff
    /// with jitter over the credential's run of such 429s, which every worker shares
    /// (Redis), from `throttle_first_wait_ms` up to `throttle_wait_secs`. A call the
    /// provider answers ends the run ([`Self::answered`]). Without Redis's count, the
    /// longest wait: the safe side.
    async fn throttle_wait(&self, resource: Resource) -> Duration {
        let cap = Duration::from_secs(self.config.throttle_wait_secs);
        let first = Duration::from_millis(self.config.throttle_first_wait_ms);
        let Some(gate) = self.credential_gate(resource) else {
            return cap;
        };
        // Remembered well past the longest wait, so the next 429 of a run still finds it.
        let memory = cap.saturating_mul(THROTTLE_MEMORY_WAITS);
        match self.limiter.throttled(&gate, memory).await {
            Ok(run) => throttle_backoff(run, first, cap, rand::random::<f64>()),
            Err(e) => {
                tracing::warn!(error = %jobs::error::Chain(&e), "provider throttle run not counted");
                cap
            }
        }
    }

    /// The provider answered a call on `resource`'s credential (whatever it said, it was
    /// not a throttle): the credential's run of 429s is over.
    pub async fn answered(&self, resource: Resource) {
        let Some(gate) = self.credential_gate(resource) else {
            return;
        };
        if let Err(e) = self.limiter.answered(&gate).await {
            tracing::warn!(error = %jobs::error::Chain(&e), "provider throttle run not ended");
        }
    }

    async fn block(&self, resource: Resource, delay: Duration) {
        let Some(gate) = self.credential_gate(resource) else {
            return;
        };
        if let Err(e) = self.limiter.block(&gate, delay).await {
            tracing::warn!(error = %jobs::error::Chain(&e), "provider back-off not recorded");
        }
    }

    /// A LinkedIn limit of one member (a 429 about the member's calls, not the app's):
    /// that member's LinkedIn calls wait `delay`, no attempt used; every other owner goes
    /// on publishing.
    pub async fn member_wait(
        &self,
        user_id: i64,
        campaign_id: i64,
        delay: Duration,
        message: String,
    ) -> JobError {
        let member = self
            .gates(Resource::LinkedInCall, user_id)
            .into_iter()
            .find(|g| g.name == "linkedin_member");
        if let Some(gate) = member
            && let Err(e) = self.limiter.block(&gate, delay).await
        {
            tracing::warn!(error = %jobs::error::Chain(&e), "LinkedIn member back-off not recorded");
        }
        self.deferred(user_id, campaign_id, &message, delay).await;
        JobError::RetryAfter { delay, message }
    }

    async fn deferred(&self, user_id: i64, campaign_id: i64, reason: &str, wait: Duration) {
        let until = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        self.emit(
            user_id,
            Event::new(EventKind::Deferred, campaign_id)
                .reason(reason)
                .until(until),
        )
        .await;
    }
}

/// Why [`Pipeline::admit_for`] said no.
pub struct Refusal {
    /// The job's fate, as [`Pipeline::admit`] answers it.
    pub error: JobError,
    /// Only a gate of this user's own refused (her member gate blocked by LinkedIn, her
    /// daily count): other users' calls may still go.
    pub this_user_only: bool,
}

/// How long LinkedIn asks one member to wait, when its refusal is that member's own limit:
/// a 429 LinkedIn does not say is the application's (its message names an "APPLICATION"
/// limit for those). `None` for anything else.
pub fn member_limit(e: &ProviderError) -> Option<Duration> {
    if e.to_string().contains("APPLICATION") {
        return None;
    }
    match e {
        ProviderError::RateLimitedUntil { until, .. } => {
            Some((*until - Utc::now()).to_std().unwrap_or_default())
        }
        ProviderError::RetryLater {
            after: Some(delay),
            reason,
        } if reason.contains(" 429 ") => Some(*delay),
        _ => None,
    }
}

/// The units one admission took.
#[must_use = "a call not made should give its units back with Pipeline::refund"]
pub struct Spent {
    gates: Vec<Gate>,
}

/// "LinkedIn daily limit of user 42 reached (100 posts a day), resumes 00:00 UTC".
fn wait_reason(gate: &Gate, resource: Resource, user_id: i64, wait: Duration) -> String {
    let resumes = resumes(wait);
    let whose = if gate.subject == "app" {
        "the app (all users)".to_owned()
    } else {
        format!("user {user_id}")
    };
    match gate.rule {
        Rule::Daily(count) => format!(
            "{} daily limit of {whose} reached ({count} {} a day), resumes {resumes}",
            resource.provider(),
            unit(gate.name)
        ),
        Rule::Rate(limit) => format!(
            "{} rate limit of {whose} reached ({} {} a minute), resumes {resumes}",
            resource.provider(),
            limit.count,
            unit(gate.name)
        ),
    }
}

fn unit(gate: &str) -> &'static str {
    match gate {
        "linkedin_post" => "posts",
        "linkedin_member" => "LinkedIn calls",
        "leads" => "leads",
        "contents" => "contents",
        "places" => "searches",
        "image" => "images",
        _ => "calls",
    }
}

/// "Gemini rate limit reached: this job's turn comes in 40 s".
fn turn_reason(resource: Resource, wait: Duration) -> String {
    format!(
        "{} rate limit reached: this job's turn comes {}",
        resource.provider(),
        resumes(wait)
    )
}

/// "00:00 UTC" for a wait ending at midnight, "in 3 s" / "at 14:05 UTC" otherwise.
fn resumes(wait: Duration) -> String {
    let at: DateTime<Utc> = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
    if wait >= Duration::from_secs(3600) {
        at.format("%H:%M UTC").to_string()
    } else if wait >= Duration::from_secs(60) {
        format!("in {} min", wait.as_secs().div_ceil(60))
    } else {
        format!("in {} s", wait.as_secs().max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::rate_limit::Limit;

    #[test]
    fn a_daily_wait_says_whose_limit_and_when_it_resumes() {
        let gate = Gate {
            name: "linkedin_post",
            subject: "user:42".into(),
            rule: Rule::Daily(100),
        };
        let reason = wait_reason(&gate, Resource::LinkedInPost, 42, Duration::from_secs(7200));
        assert!(
            reason
                .starts_with("LinkedIn daily limit of user 42 reached (100 posts a day), resumes "),
            "{reason}"
        );
        assert!(reason.ends_with(" UTC"), "{reason}");
        let gate = Gate {
            name: "gemini_text",
            subject: "app".into(),
            rule: Rule::Rate(Limit::per_minute(60, 5)),
        };
        let reason = wait_reason(&gate, Resource::GeminiText, 42, Duration::from_secs(3));
        assert_eq!(
            reason,
            "Gemini rate limit of the app (all users) reached (60 calls a minute), resumes in 3 s"
        );
    }
}
