//! The command line and the environment: which workloads, how many repetitions, which Redis,
//! where the two release binaries it drives are.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::Context;
use anyhow::Result;
use anyhow::anyhow;
use anyhow::bail;

use crate::{DEFAULT_REDIS_URL, ENQUEUE_BIN, WORKER_BIN};

pub(crate) const USAGE: &str = "usage: bench-run [W1 W2 W3 W4 W5 ...] [--reps N]

Runs the AstroGrowth queue workloads W1–W5 (default: all) and prints a table
of medians on stdout (per-rep numbers on stderr).

environment:
  REDIS_URL       Redis to benchmark against (default redis://127.0.0.1:6390/0); it is FLUSHed
  BENCH_BIN_DIR   directory holding bench-enqueue and workers (default: next to bench-run)
  BENCH_ALLOW_PORT_6379=1  allow running against a server on port 6379
  BENCH_W1_N      jobs per W1/W5 repetition (default 20000; fewer only to check a setup runs,
                  the targets are for 20000)
  On a Redis Cluster (REDIS_URL=redis+cluster://...) only W1 and W5 run, spread over one
  queue per master.";

// ---------------------------------------------------------------------------------------------
// Configuration

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Workload {
    W1,
    W2,
    W3,
    W4,
    W5,
}

impl Workload {
    pub(crate) const ALL: [Workload; 5] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
    ];

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|w| w.name().eq_ignore_ascii_case(s))
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
        }
    }
}

pub(crate) struct Config {
    pub(crate) redis_url: String,
    pub(crate) bin_dir: PathBuf,
    pub(crate) reps: usize,
    pub(crate) workloads: BTreeSet<Workload>,
}

/// Parses the command line; `None` means help was asked for.
pub(crate) fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Config>> {
    let mut workloads = BTreeSet::new();
    let mut reps = 3usize;
    while let Some(arg) = args.next() {
        let reps_value = if arg == "--reps" {
            Some(
                args.next()
                    .ok_or_else(|| anyhow!("--reps needs a value\n{USAGE}"))?,
            )
        } else {
            arg.strip_prefix("--reps=").map(str::to_owned)
        };
        if let Some(v) = reps_value {
            reps = v
                .parse()
                .with_context(|| format!("--reps expects a positive integer, got {v:?}"))?;
            if reps == 0 {
                bail!("--reps must be at least 1");
            }
        } else if arg == "-h" || arg == "--help" {
            return Ok(None);
        } else if let Some(w) = Workload::parse(&arg) {
            workloads.insert(w);
        } else {
            bail!("unknown argument {arg:?}\n{USAGE}");
        }
    }
    if workloads.is_empty() {
        workloads.extend(Workload::ALL);
    }
    let redis_url = std::env::var("REDIS_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned());
    let bin_dir = match std::env::var_os("BENCH_BIN_DIR").filter(|s| !s.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_exe()
            .context("locating the bench-run executable")?
            .parent()
            .ok_or_else(|| anyhow!("the bench-run executable has no parent directory"))?
            .to_path_buf(),
    };
    Ok(Some(Config {
        redis_url,
        bin_dir,
        reps,
        workloads,
    }))
}

pub(crate) fn check_binaries(cfg: &Config) -> Result<()> {
    for bin in [ENQUEUE_BIN, WORKER_BIN] {
        let path = cfg.bin_dir.join(bin);
        if !path.is_file() {
            bail!(
                "{} not found (build with `cargo build --release`, or set BENCH_BIN_DIR)",
                path.display()
            );
        }
    }
    Ok(())
}
