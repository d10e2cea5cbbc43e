//! A real SMTP server for the tests: scripts/mail_sink.py (aiosmtpd, in .run/venv-mail,
//! installed by scripts/mail-sink.sh) on a free port, keeping each message it receives as
//! a file that [`MailSink::wait_for`] reads.
#![allow(dead_code, reason = "each test file uses a different part of the sink")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use tokio::time::Instant;

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
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(root().join(".run/venv-mail/bin/python"))
            .arg(root().join("scripts/mail_sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("the mail sink starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the mail sink did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found: Vec<String> = self
                .messages()
                .into_iter()
                .filter(|m| m.lines().next().is_some_and(|l| l.contains(to)))
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{count} mail(s) to {to} expected, {} arrived",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
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

/// The password-reset link's token in a kept message.
pub fn reset_token(message: &str) -> String {
    let body = body(message);
    let start = body.find("reset-password?token=").expect("a reset link") + 21;
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
