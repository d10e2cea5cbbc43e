//! The worker processes a workload starts: checked while it waits, stopped with SIGTERM and
//! then SIGKILL on every path out, killed on drop.

use std::process::Stdio;
use std::time::Instant;

use anyhow::Context;
use anyhow::Result;
use anyhow::bail;
use tokio::process::Child;
use tokio::process::Command;

use crate::STOP_TIMEOUT;

pub(crate) struct WorkerProc {
    pub(crate) pid: u32,
    pub(crate) child: Child,
}

/// Running worker processes. Dropping this kills them (SIGKILL, via `kill_on_drop`);
/// `stop` shuts them down gracefully.
pub(crate) struct Workers {
    pub(crate) procs: Vec<WorkerProc>,
}

impl Workers {
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(|p| p.pid).collect()
    }

    /// Errors if any worker has exited.
    pub(crate) fn check_alive(&mut self) -> Result<()> {
        for (i, p) in self.procs.iter_mut().enumerate() {
            if let Some(status) = p
                .child
                .try_wait()
                .with_context(|| format!("checking worker pid {}", p.pid))?
            {
                bail!("worker {} (pid {}) exited early: {status}", i + 1, p.pid);
            }
        }
        Ok(())
    }

    /// SIGTERM every worker, wait up to 10 s for all of them, SIGKILL the rest.
    pub(crate) async fn stop(mut self) {
        let started = Instant::now();
        for p in &mut self.procs {
            if matches!(p.child.try_wait(), Ok(Some(_))) {
                continue;
            }
            if let Err(e) = send_sigterm(p.pid).await {
                eprintln!(
                    "  WARN: SIGTERM to worker pid {} failed ({e:#}); killing it",
                    p.pid
                );
                if let Err(e) = p.child.start_kill() {
                    eprintln!("  WARN: SIGKILL to worker pid {} failed: {e}", p.pid);
                }
            }
        }
        let deadline = started + STOP_TIMEOUT;
        let mut statuses = Vec::new();
        for p in &mut self.procs {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, p.child.wait()).await {
                Ok(Ok(status)) => statuses.push(status.to_string()),
                Ok(Err(e)) => statuses.push(format!("wait failed: {e}")),
                Err(_) => {
                    eprintln!(
                        "  WARN: worker pid {} still running {} s after SIGTERM; sending SIGKILL",
                        p.pid,
                        STOP_TIMEOUT.as_secs()
                    );
                    match p.child.kill().await {
                        Ok(()) => statuses.push("SIGKILLed".to_owned()),
                        Err(e) => statuses.push(format!("SIGKILL failed: {e}")),
                    }
                }
            }
        }
        eprintln!(
            "  stopped {} worker(s) in {:.2} s ({})",
            self.procs.len(),
            started.elapsed().as_secs_f64(),
            statuses.join(", ")
        );
    }
}

pub(crate) async fn send_sigterm(pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .status()
        .await
        .context("running kill")?;
    if !status.success() {
        bail!("kill -TERM {pid} exited with {status}");
    }
    Ok(())
}
