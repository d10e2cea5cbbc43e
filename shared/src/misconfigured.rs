//! Provider settings the provider does not know (a retired model id, an API version no
//! longer served): only an operator can fix them. A worker that meets one raises it here,
//! in Redis, where `/admin` reads it for its banner; the alert rides on
//! `astrogrowth_provider_misconfigured_total` (shared/src/metrics.rs). A raised problem
//! fades [`REMEMBERED`] after the last job that met it, so the banner goes away by itself
//! once the setting is fixed and the waiting jobs went through.

use std::time::Duration;

use jobs::Conn;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How long a problem stays on the banner after the last job that met it.
pub const REMEMBERED: Duration = Duration::from_secs(3600);

/// Each provider credential a problem may be raised for (the pipeline's gate names), and
/// the setting an operator changes to fix it.
pub const PROVIDERS: [(&str, &str); 4] = [
    (
        "places",
        "providers.google.places_base_url (AG_PROVIDERS__GOOGLE__PLACES_BASE_URL)",
    ),
    (
        "gemini_text",
        "providers.google.text_model (AG_PROVIDERS__GOOGLE__TEXT_MODEL)",
    ),
    (
        "image",
        "providers.google.image_model (AG_PROVIDERS__GOOGLE__IMAGE_MODEL)",
    ),
    ("linkedin_app", "linkedin.version (AG_LINKEDIN__VERSION)"),
];

/// One problem, as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misconfiguration {
    /// The credential's gate name (`image`, `gemini_text`, `places`, `linkedin_app`).
    pub provider: String,
    /// The setting to change.
    pub setting: String,
    /// The provider's own answer, as the waiting jobs show it.
    pub reason: String,
    /// When a job last met it (ms since the epoch).
    pub seen_at_ms: u64,
}

fn key(prefix: &str, provider: &str) -> String {
    format!("{prefix}misconfigured:{provider}")
}

/// The setting to fix for `provider`'s problems.
pub fn setting_of(provider: &str) -> &'static str {
    PROVIDERS
        .iter()
        .find(|(p, _)| *p == provider)
        .map_or("the provider's settings", |(_, s)| s)
}

/// Records that a job met `provider`'s misconfiguration, for [`REMEMBERED`].
pub async fn raise(conn: &Conn, prefix: &str, provider: &str, reason: &str) -> Result<(), Error> {
    let value = Misconfiguration {
        provider: provider.to_owned(),
        setting: setting_of(provider).to_owned(),
        reason: reason.to_owned(),
        seen_at_ms: jobs::now_ms(),
    };
    let json = serde_json::to_string(&value).unwrap_or_default();
    let mut conn = conn.clone();
    let () = redis::cmd("SET")
        .arg(key(prefix, provider))
        .arg(json)
        .arg("PX")
        .arg(u64::try_from(REMEMBERED.as_millis()).unwrap_or(u64::MAX))
        .query_async(&mut conn)
        .await?;
    Ok(())
}

/// Every provider's current problem (one key each: no SCAN, so a Redis Cluster answers too).
pub async fn current(conn: &Conn, prefix: &str) -> Result<Vec<Misconfiguration>, Error> {
    let mut out = Vec::new();
    for (provider, _) in PROVIDERS {
        let mut c = conn.clone();
        let raw: Option<String> = redis::cmd("GET")
            .arg(key(prefix, provider))
            .query_async(&mut c)
            .await?;
        if let Some(m) = raw.and_then(|r| serde_json::from_str::<Misconfiguration>(&r).ok()) {
            out.push(m);
        }
    }
    Ok(out)
}
