//! A real SMTP server for the tests: scripts/mail_sink.py (aiosmtpd, in .run/venv-mail,
//! installed by scripts/mail-sink.sh) on a free port, keeping each message it receives as
//! a file that [`MailSink::wait_for`] reads. The test apps run no worker: [`deliver`] does
//! what the mail queue's SendMail job does, with the mailer pointed at the sink.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use shared::config::MailConfig;
use shared::mail::{self, Mailer};
use sqlx::PgPool;

pub struct MailSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl MailSink {
    pub async fn start() -> Self {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let status = Command::new(root().join("scripts/mail-sink.sh"))
                .arg("install")
                .status()
                .expect("scripts/mail-sink.sh runs");
            assert!(status.success(), "aiosmtpd could not be installed");
        });
        let port = crate::free_port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(root().join(".run/venv-mail/bin/python"))
            .arg(root().join("scripts/mail_sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("the mail sink starts");
        crate::wait_for(
            Duration::from_secs(20),
            "the mail sink listens",
            async || {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            },
        )
        .await;
        Self { port, dir, child }
    }

    /// Every message kept so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The messages to `to`, waiting up to 20 s for at least `count` of them.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<String> {
        let mut found = Vec::new();
        let arrived = crate::wait_until(Duration::from_secs(20), || {
            found = self
                .messages()
                .into_iter()
                .filter(|m| m.lines().next().is_some_and(|l| l.contains(to)))
                .collect();
            let enough = found.len() >= count;
            async move { enough }
        })
        .await;
        assert!(
            arrived,
            "{count} mail(s) to {to} expected, {} arrived",
            found.len()
        );
        found
    }
}

/// Sends the mail of this `mails` row as the SendMail job does (`shared::mail::deliver`,
/// the handler's whole work) through this sink; answers what became of it ("sent", or why
/// not), `None` when it was done already.
pub async fn deliver(db: &PgPool, sink: &MailSink, mail_id: i64) -> Option<&'static str> {
    let mailer = Mailer::from_config(&MailConfig {
        smtp_port: sink.port,
        ..MailConfig::default()
    })
    .unwrap();
    mail::deliver(db, &mailer, crate::app::PUBLIC_URL, mail_id)
        .await
        .unwrap()
}

/// Sends every mail not sent yet, oldest first, as the mail queue's workers would.
pub async fn deliver_all(db: &PgPool, sink: &MailSink) -> Vec<&'static str> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM mails WHERE sent_at IS NULL ORDER BY id")
            .fetch_all(db)
            .await
            .unwrap();
    let mut outcomes = Vec::new();
    for id in ids {
        outcomes.extend(deliver(db, sink, id).await);
    }
    outcomes
}

impl Drop for MailSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a kept message, its quoted-printable soft line breaks undone, so a link
/// reads whole.
pub fn body(message: &str) -> String {
    let body = message.split_once("\r\n\r\n").map_or(message, |(_, b)| b);
    body.replace("=\r\n", "").replace("=3D", "=")
}

/// The text of a kept message as its reader sees it: its transfer encoding (quoted-printable
/// or base64, whichever the mailer chose for it) undone, accents included.
pub fn text(message: &str) -> String {
    let (head, body) = message.split_once("\r\n\r\n").unwrap_or(("", message));
    let encoding = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-transfer-encoding:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "base64" => STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .expect("a base64 body"),
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes)
        .expect("a UTF-8 body")
        .replace("\r\n", "\n")
}

/// RFC 2045's quoted-printable: `=` at a line's end joins it to the next, `=XX` is a byte.
fn quoted_printable(body: &str) -> Vec<u8> {
    let joined = body.replace("=\r\n", "");
    let raw = joined.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// The password-reset link in a kept message, whole, as the owner would click it.
pub fn reset_link(message: &str) -> String {
    let text = text(message);
    let start = text.find("http").expect("a link in the message");
    text[start..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The password-reset link's token in a kept message.
pub fn reset_token(message: &str) -> String {
    let body = body(message);
    let start = body.find("reset-password?token=").expect("a reset link") + 21;
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
