//! The fault plan: the next `count` calls of a route answer with a status, after a delay,
//! after doing the work, or in a provider-specific bad way.

use serde::{Deserialize, Serialize};

/// Route ids, as faults and the log name them.
pub const ROUTES: [&str; 30] = [
    "places.search",
    "gemini.text",
    "gemini.image",
    "gemini.models",
    "imagen.predict",
    "linkedin.authorize",
    "linkedin.token",
    "linkedin.userinfo",
    "linkedin.images.init",
    "linkedin.images.upload",
    "linkedin.images.get",
    "linkedin.posts",
    "linkedin.analytics",
    "linkedin.media",
    "site",
    "instagram.authorize",
    "instagram.token",
    "instagram.exchange",
    "instagram.refresh",
    "instagram.me",
    "instagram.media",
    "instagram.container",
    "instagram.publish",
    "instagram.limit",
    "instagram.permalink",
    "instagram.insights",
    "oidc.discovery",
    "oidc.jwks",
    "oidc.authorize",
    "oidc.token",
];

/// The modes each route knows.
fn modes(route: &str) -> &'static [&'static str] {
    match route {
        "gemini.text" => &["blocked", "safety", "max_tokens", "malformed_json"],
        "gemini.image" | "imagen.predict" => &["filtered", "not_image"],
        "site" => &["huge", "hang", "redirect_loop", "not_html"],
        "linkedin.posts" => &["duplicate"],
        r if r.starts_with("instagram.") => crate::instagram::modes(r),
        "oidc.token" => &crate::oidc::TOKEN_MODES,
        _ => &[],
    }
}

/// A fault as posted to `POST /_sandbox/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    pub route: String,
    /// Calls it applies to; 0 = until removed.
    #[serde(default = "one")]
    pub count: u64,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after_s: Option<f64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub after_effect: bool,
    #[serde(default)]
    pub mode: Option<String>,
    /// Google 429s: `minute` (default) or `day` (the quotaId names a per-day quota).
    #[serde(default)]
    pub quota: Option<String>,
    /// Google 429s: also send a `Retry-After` header.
    #[serde(default)]
    pub retry_after_header: bool,
    /// Google 429s: where the quota is named, `quota_failure` (default: a `QuotaFailure`
    /// violation's `quotaId`, as Gemini answers) or `error_info` (an `ErrorInfo`'s
    /// `metadata.quota_limit`, as Places answers).
    #[serde(default)]
    pub quota_detail: Option<String>,
}

fn one() -> u64 {
    1
}

/// An armed fault, as `GET /_sandbox/faults` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fault {
    pub id: String,
    pub route: String,
    /// Calls left; 0 = until removed.
    pub count: u64,
    pub remaining: u64,
    pub status: Option<u16>,
    pub retry_after_s: Option<f64>,
    pub delay_ms: Option<u64>,
    pub after_effect: bool,
    pub mode: Option<String>,
    pub quota: Option<String>,
    pub retry_after_header: bool,
    pub quota_detail: Option<String>,
}

impl FaultSpec {
    /// Checks the spec, so a typo is a 400 rather than a fault that never fires.
    pub fn check(&self) -> Result<(), String> {
        if !ROUTES.contains(&self.route.as_str()) {
            return Err(format!(
                "unknown route {:?}; routes are {ROUTES:?}",
                self.route
            ));
        }
        if let Some(mode) = &self.mode
            && !modes(&self.route).contains(&mode.as_str())
        {
            return Err(format!(
                "route {} has no mode {mode:?}; its modes are {:?}",
                self.route,
                modes(&self.route)
            ));
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!("status {status} is not an HTTP error status"));
        }
        if let Some(q) = &self.quota
            && q != "minute"
            && q != "day"
        {
            return Err(format!("quota must be \"minute\" or \"day\", not {q:?}"));
        }
        if let Some(d) = &self.quota_detail
            && d != "quota_failure"
            && d != "error_info"
        {
            return Err(format!(
                "quota_detail must be \"quota_failure\" or \"error_info\", not {d:?}"
            ));
        }
        if self.status.is_none() && self.mode.is_none() && self.delay_ms.is_none() {
            return Err("a fault needs a status, a mode or a delay_ms".to_owned());
        }
        if self.after_effect && self.status.is_none() {
            return Err("after_effect goes with a status".to_owned());
        }
        Ok(())
    }

    pub fn arm(self, id: String) -> Fault {
        Fault {
            id,
            route: self.route,
            count: self.count,
            remaining: self.count,
            status: self.status,
            retry_after_s: self.retry_after_s,
            delay_ms: self.delay_ms,
            after_effect: self.after_effect,
            mode: self.mode,
            quota: self.quota,
            retry_after_header: self.retry_after_header,
            quota_detail: self.quota_detail,
        }
    }
}

/// Takes the first armed fault of `route` for this call, counting it down.
pub(crate) fn take(faults: &mut Vec<Fault>, route: &str) -> Option<Fault> {
    let i = faults.iter().position(|f| f.route == route)?;
    let fault = faults[i].clone();
    if faults[i].count > 0 {
        faults[i].remaining -= 1;
        if faults[i].remaining == 0 {
            faults.remove(i);
        }
    }
    Some(fault)
}
