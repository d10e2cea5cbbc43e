//! `api doctor`: checks a deployment's configuration against the live services, with the
//! deployment's own keys, before an owner finds out: one line per check, `ok`, `warn` or
//! `fail`, with the setting to change. Tests and the sandbox prove the code; only this
//! proves that a key, a model id, a LinkedIn app, a mail relay and a bucket are the ones
//! the providers accept today (model ids and API versions are retired within months).
//!
//! It lives on `api`, not `workers`: the api is the binary an operator already runs once
//! per deployment for `migrate` and `create-user`, with the whole configuration and the
//! database; the LinkedIn redirect URI checked here is the api's own; and a check must not
//! need a queue list or a worker's flags. Each check calls the same provider clients,
//! mailer and storage the pipeline uses, so it sends exactly what production will send.

mod google;
mod infra;
mod linkedin;
mod mail;
mod storage;

use std::fmt::Write as _;
use std::future::Future;
use std::time::Duration;

use shared::Config;
use sqlx::PgPool;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works today, will not for long or not fully (a deprecated model, no LinkedIn app).
    Warn,
    /// Cannot work: the deployment is not ready.
    Fail,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`gemini.text_model`, `smtp`, ...).
    pub name: String,
    pub status: Status,
    /// What the service answered.
    pub detail: String,
    /// Which setting to change and how; empty when there is nothing to do.
    pub fix: String,
}

impl Check {
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Ok, detail, "")
    }

    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(name, Status::Warn, detail, fix)
    }

    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(name, Status::Fail, detail, fix)
    }

    fn new(
        name: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            status,
            detail: one_line(&detail.into()),
            fix: one_line(&fix.into()),
        }
    }
}

/// The longest any one check may take: each call has its client's own timeout; this only
/// bounds a check that makes several.
const CHECK_DEADLINE: Duration = Duration::from_secs(60);

/// Every check, in the report's order. They run at once: each talks to another service.
pub async fn run(config: &Config, db: &PgPool) -> Vec<Check> {
    let (pg, redis, places, gemini, linkedin, smtp, storage) = tokio::join!(
        bounded("postgres", infra::postgres(db)),
        bounded("redis", infra::redis(&config.redis.url)),
        bounded("places", google::places(&config.providers.google)),
        bounded("gemini", google::gemini(&config.providers.google)),
        bounded("linkedin", linkedin::checks(config)),
        bounded("smtp", mail::smtp(&config.mail)),
        bounded("storage", storage::round_trip(&config.storage)),
    );
    [pg, redis, places, gemini, linkedin, smtp, storage]
        .into_iter()
        .flatten()
        .collect()
}

async fn bounded(name: &str, checks: impl Future<Output = Vec<Check>>) -> Vec<Check> {
    match tokio::time::timeout(CHECK_DEADLINE, checks).await {
        Ok(checks) => checks,
        Err(_) => vec![Check::fail(
            name,
            format!("no answer within {CHECK_DEADLINE:?}"),
            "the service is unreachable from here: check the network path and its URL",
        )],
    }
}

/// Whether the deployment is not ready (the process exits non-zero).
pub fn any_failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}

/// The report: one line per check, then a summary line.
pub fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let _ = write!(
            out,
            "{:<4}  {:<width$}  {}",
            c.status.label(),
            c.name,
            c.detail
        );
        if !c.fix.is_empty() {
            let _ = write!(out, " | fix: {}", c.fix);
        }
        out.push('\n');
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let _ = writeln!(
        out,
        "{} ok, {} warn, {} fail",
        count(Status::Ok),
        count(Status::Warn),
        count(Status::Fail)
    );
    out
}

/// Provider text on one line: a report line is one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error with its causes, on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    jobs::error::Chain(e).to_string()
}

/// `section.field` as its environment variable (`AG_SECTION__FIELD`).
fn env_name(setting: &str) -> String {
    format!("AG_{}", setting.replace('.', "__").to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_has_one_line_per_check_and_a_summary() {
        let checks = vec![
            Check::ok("places", "answered"),
            Check::fail("smtp", "refused\nconnection", "set AG_MAIL__SMTP_PORT"),
        ];
        let report = render(&checks);
        assert_eq!(
            report,
            "ok    places  answered\nFAIL  smtp    refused connection | fix: set AG_MAIL__SMTP_PORT\n1 ok, 0 warn, 1 fail\n"
        );
        assert!(any_failed(&checks));
        assert!(!any_failed(&checks[..1]));
        assert_eq!(env_name("linkedin.client_id"), "AG_LINKEDIN__CLIENT_ID");
    }
}
