//! The SMTP client (lettre, on tokio). A connection per mail: mail is rare (a few per
//! owner per day), and a pooled connection the server closed meanwhile is one more way
//! to fail.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, MailTls};
use crate::error::Error;

/// Cheap to clone; built once per worker process. Building it opens no connection.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn from_config(config: &MailConfig) -> Result<Self, Error> {
        let host = config.smtp_host.as_str();
        let builder = match config.tls {
            MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            MailTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| Error::Config(format!("mail.smtp_host: {e}")))?,
            MailTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| Error::Config(format!("mail.smtp_host: {e}")))?,
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(Duration::from_millis(config.timeout_ms)));
        if let Some(user) = &config.smtp_username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                config.smtp_password.clone().unwrap_or_default(),
            ));
        }
        let from = config
            .from
            .parse()
            .map_err(|e| Error::Config(format!("mail.from: {e}")))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Opens a connection as a send would (connect, STARTTLS or TLS as configured, AUTH
    /// when a username is set), checks the server answers, and quits: a deployment check
    /// that sends no mail.
    pub async fn check_connection(&self) -> Result<(), Error> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::Mail {
                permanent: false,
                doing: "checking the connection".into(),
                source: "the server did not answer NOOP".into(),
            }),
            Err(e) => Err(Error::Mail {
                permanent: e.is_permanent(),
                doing: "checking the connection".into(),
                source: Box::new(e),
            }),
        }
    }

    /// Sends a plain-text mail. A refusal for good (5xx, an address that cannot be a
    /// mailbox) is a permanent error; anything else (connection refused, timeout, 4xx)
    /// may pass later.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), Error> {
        let to: Mailbox = to.parse().map_err(|e| Error::Mail {
            permanent: true,
            doing: format!("recipient {to:?}"),
            source: Box::new(e),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| Error::Mail {
                permanent: true,
                doing: "building the message".into(),
                source: Box::new(e),
            })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Error::Mail {
                permanent: e.is_permanent(),
                doing: "sending".into(),
                source: Box::new(e),
            })
    }
}
