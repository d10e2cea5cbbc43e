//! The SMTP relay, through the mailer the mail workers use.

use shared::config::{MailConfig, MailTls};
use shared::mail::Mailer;

use super::{Check, chain};

/// Connect, STARTTLS or TLS as configured, AUTH when a username is set, then QUIT: no
/// mail is sent.
pub async fn smtp(config: &MailConfig) -> Vec<Check> {
    let name = "smtp";
    let fix = "check AG_MAIL__SMTP_HOST, AG_MAIL__SMTP_PORT and AG_MAIL__TLS (none, starttls on 587, tls on 465), and AG_MAIL__SMTP_USERNAME with AG_MAIL__SMTP_PASSWORD";
    let mailer = match Mailer::from_config(config) {
        Ok(m) => m,
        Err(e) => return vec![Check::fail(name, chain(&e), fix)],
    };
    let tls = match config.tls {
        MailTls::None => "plain",
        MailTls::Starttls => "STARTTLS",
        MailTls::Tls => "TLS",
    };
    let auth = match &config.smtp_username {
        Some(user) => format!("AUTH as {user}"),
        None => "no AUTH configured".to_owned(),
    };
    let at = format!("{}:{}", config.smtp_host, config.smtp_port);
    vec![match mailer.check_connection().await {
        Ok(()) => Check::ok(name, format!("{at} answered ({tls}, {auth})")),
        Err(e) => Check::fail(name, format!("{at} ({tls}, {auth}): {}", chain(&e)), fix),
    }]
}
