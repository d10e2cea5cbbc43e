//! `workers` processes for the tests that run the real binary: killed when the test ends
//! (pass or fail), their stderr kept in a log whose tail a failing test prints.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// The `workers` binary beside this test's own (`target/<profile>/workers`): cargo builds a
/// package's binaries before its integration tests, so the workers' tests always find one
/// as fresh as their code.
pub fn workers_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>-<hash>
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in target/<profile>/deps");
    let binary = profile.join("workers");
    assert!(
        binary.exists(),
        "{} is missing: the tests that start worker processes are workers' own \
         (cargo test -p workers builds it)",
        binary.display()
    );
    binary
}

/// One `workers` child process. Killed (SIGKILL) on drop; if the test is failing, the
/// tail of its log is printed so the failure explains itself.
pub struct WorkerProcess {
    name: String,
    child: Child,
    log: PathBuf,
    exit: Option<ExitStatus>,
}

impl WorkerProcess {
    /// Starts `workers <args>` with `REDIS_URL=redis_url` and `env`; its stderr goes to
    /// `<log_dir>/<name>.log`. The parent's `AG_*` variables are not passed on, and the
    /// working directory is `log_dir`, so no stray `config/default.toml` is read.
    pub fn spawn(
        name: &str,
        redis_url: &str,
        log_dir: &Path,
        args: &[&str],
        env: &[(String, String)],
    ) -> Self {
        // These tests are about the queue; the outbox relay has its own tests.
        let mut with_flag = vec!["--no-outbox-relay"];
        with_flag.extend_from_slice(args);
        Self::spawn_with_relay(name, redis_url, log_dir, &with_flag, env)
    }

    /// As [`Self::spawn`], with the outbox relay running (the pipeline's handlers write the
    /// jobs they cause to the outbox).
    pub fn spawn_with_relay(
        name: &str,
        redis_url: &str,
        log_dir: &Path,
        args: &[&str],
        env: &[(String, String)],
    ) -> Self {
        let log = log_dir.join(format!("{name}.log"));
        let stderr = File::create(&log).expect("worker log file");
        let mut cmd = Command::new(workers_binary());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AG_") {
                cmd.env_remove(key);
            }
        }
        cmd.args(args)
            .current_dir(log_dir)
            .env("REDIS_URL", redis_url)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            // An error exit prints its cause chain, not a backtrace.
            .env("RUST_LIB_BACKTRACE", "0")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr));
        let child = cmd.spawn().expect("spawn the workers binary");
        Self {
            name: name.to_owned(),
            child,
            log,
            exit: None,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for the worker's `ready` log line (its consumer groups exist, it fetches).
    pub async fn wait_ready(&mut self) {
        let ready = crate::wait_until(Duration::from_secs(20), || {
            let ready = self.log().lines().any(|l| l.contains(" ready"));
            if !ready && let Some(status) = self.try_exit() {
                panic!(
                    "worker {} exited before it was ready ({status}):\n{}",
                    self.name,
                    self.log()
                );
            }
            async move { ready }
        })
        .await;
        assert!(
            ready,
            "worker {} not ready after 20s:\n{}",
            self.name,
            self.log()
        );
    }

    /// `None` while the process runs.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("query the worker process");
        }
        self.exit
    }

    pub fn is_alive(&mut self) -> bool {
        self.try_exit().is_none()
    }

    /// What a crash looks like: no shutdown code runs.
    pub fn sigkill(&mut self) {
        let _ = self.child.kill();
        self.exit = Some(self.child.wait().expect("reap the killed worker"));
    }

    /// What an orchestrator sends to stop a worker gracefully.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// The exit status, or `None` if the process still runs after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        crate::wait_until(timeout, || {
            let exited = self.try_exit().is_some();
            async move { exited }
        })
        .await;
        self.try_exit()
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!(
                "--- last lines of worker {} (pid {}) ---\n{}",
                self.name,
                self.child.id(),
                tail.join("\n")
            );
        }
    }
}
