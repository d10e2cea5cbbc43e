#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Workers on several hosts and a network partition, with real network namespaces: three
//! `workers bench` processes, each in its own namespace ("host"), and Redis in a fourth,
//! joined by veth pairs on a private bridge. Under a steady load one host's link is cut
//! for longer than the heartbeat lapse and then healed. Nothing may be lost; only the cut
//! host's in-flight jobs may run again; the cut worker must start nothing once its lease
//! has lapsed; and it must rejoin by itself, same process.
//!
//! The cut disables the host's bridge port (`bridge link set … state 0`): the bridge then
//! drops every frame to and from that host silently, while the host's interface stays up
//! with carrier. That is a real partition as a worker sees it (a dead switch port, a
//! broken route): connections neither close nor fail, they just stop answering. Taking
//! the link down instead would tell the worker at once (no carrier, no route) and test an
//! easier case; `tc netem` and iptables are not available on every kernel these tests
//! run on, and the bridge, which this test needs anyway, is.
//!
//! Needs root (network namespaces); skipped with a loud message otherwise. Everything it
//! creates is named `agnp-<pid>-…` and removed on drop, pass or fail; leftovers of a
//! test process that no longer exists are removed at start.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bench::handlers::TRACED_KEY;
use bench::jobs::Traced;
use jobs::Conn;
use jobs::admin::Admin;
use jobs::keys::{GROUP, GlobalKeys, QueueKeys};
use jobs::{Client, QueueName, Settings, now_ms};

const NAME_PREFIX: &str = "agnp-";
const WORKERS: usize = 3;
/// The worker whose link is cut.
const CUT: usize = 0;
const CONCURRENCY: usize = 4;
const JOB_SLEEP_MS: u64 = 100;
const HEARTBEAT_MS: u64 = 500;
const VISIBILITY_MS: u64 = 2_000;
const REDIS_PORT: u16 = 6400;
/// Enqueued every `FEED_EVERY`: 150 jobs/s, a little more than the three workers run
/// (3 × 4 slots × ~9.5 jobs/s), so every worker stays busy and reads ahead.
const FEED_BATCH: usize = 15;
const FEED_EVERY: Duration = Duration::from_millis(100);
/// How long the load may take to be steady before the cut (it takes about a second).
const BEFORE: Duration = Duration::from_secs(30);
/// Far longer than the heartbeat lapse (1.5 s) plus the visibility timeout (2 s).
const CUT_FOR: Duration = Duration::from_secs(10);
/// How long the cut worker may take to run jobs again after the heal.
const AFTER: Duration = Duration::from_secs(30);
/// Jobs each worker completes before the cut, and the cut one after the heal: the load
/// is steady (a few tenths of a second of a worker's pace).
const STEADY_JOBS: usize = 20;

/// Runs `cmd args…`; panics with its stderr if it fails.
fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`run`], for cleanup: failures are ignored.
fn try_run(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The creating test process of a name `agnp-<pid hex>-…`, if it has that shape.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(NAME_PREFIX)?;
    let hex = rest.split('-').next()?;
    u32::from_str_radix(hex, 16).ok()
}

/// Kills every process in namespace `ns`, then deletes it.
fn delete_namespace(ns: &str) {
    for pid in try_run("ip", &["netns", "pids", ns]).split_whitespace() {
        try_run("kill", &["-KILL", pid]);
    }
    try_run("ip", &["netns", "del", ns]);
}

/// Namespaces and links of test processes that are gone (killed before their drop ran).
fn remove_stale() {
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    for line in try_run("ip", &["netns", "list"]).lines() {
        let Some(ns) = line.split_whitespace().next() else {
            continue;
        };
        if owner_pid(ns).is_some_and(|p| !alive(p)) {
            eprintln!("removing stale namespace {ns}");
            delete_namespace(ns);
        }
    }
    for line in try_run("ip", &["-o", "link", "show"]).lines() {
        let Some(name) = line.split(": ").nth(1).and_then(|n| n.split('@').next()) else {
            continue;
        };
        if owner_pid(name).is_some_and(|p| !alive(p)) {
            eprintln!("removing stale link {name}");
            try_run("ip", &["link", "del", name]);
        }
    }
}

/// The test's network: a bridge with an address (so this process, the "api host", reaches
/// Redis through it) and one namespace per host, each with a veth pair on the bridge.
/// Dropping it kills every process in its namespaces and removes everything.
struct Net {
    tag: String,
    bridge: String,
    hosts: Vec<Host>,
}

struct Host {
    ns: String,
    /// The veth end on the bridge, in this namespace: the one the cut disables.
    port: String,
    addr: String,
}

impl Net {
    fn create(names: &[&str]) -> Self {
        let tag = format!("{NAME_PREFIX}{:x}", std::process::id());
        let subnet = free_subnet();
        let bridge = format!("{tag}-br");
        let mut net = Self {
            tag: tag.clone(),
            bridge: bridge.clone(),
            hosts: Vec::new(),
        };
        run("ip", &["link", "add", &bridge, "type", "bridge"]);
        run(
            "ip",
            &["addr", "add", &format!("{subnet}.254/24"), "dev", &bridge],
        );
        run("ip", &["link", "set", &bridge, "up"]);
        eprintln!("network {tag}: bridge {bridge} on {subnet}.0/24");
        for (i, name) in names.iter().enumerate() {
            let ns = format!("{tag}-{name}");
            let port = format!("{tag}-h{i}");
            let inner = format!("{tag}-n{i}");
            let addr = format!("{subnet}.{}", 1 + i);
            run("ip", &["netns", "add", &ns]);
            net.hosts.push(Host {
                ns: ns.clone(),
                port: port.clone(),
                addr: addr.clone(),
            });
            run(
                "ip",
                &["link", "add", &port, "type", "veth", "peer", "name", &inner],
            );
            run("ip", &["link", "set", &inner, "netns", &ns]);
            run("ip", &["link", "set", &port, "master", &bridge]);
            run("ip", &["link", "set", &port, "up"]);
            let in_ns = |args: &[&str]| {
                let mut all = vec!["netns", "exec", &ns, "ip"];
                all.extend_from_slice(args);
                run("ip", &all);
            };
            in_ns(&["addr", "add", &format!("{addr}/24"), "dev", &inner]);
            in_ns(&["link", "set", &inner, "up"]);
            in_ns(&["link", "set", "lo", "up"]);
        }
        net
    }

    /// The bridge drops everything to and from host `i` (see the module doc), or
    /// forwards it again.
    fn set_link(&self, i: usize, up: bool) {
        let state = if up { "3" } else { "0" };
        run(
            "bridge",
            &["link", "set", "dev", &self.hosts[i].port, "state", state],
        );
    }

    /// `program args…` inside host `i`'s namespace, stderr to `log`.
    fn spawn(
        &self,
        i: usize,
        program: &str,
        args: &[&str],
        env: &[(&str, String)],
        log: &Path,
    ) -> Child {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.hosts[i].ns, program])
            .args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AG_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(log.parent().expect("log dir"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(File::create(log).expect("log file")));
        // `ip netns exec` enters the namespace and execs the program: the child's pid is
        // the program's, which is what the traced jobs record.
        cmd.spawn().expect("spawn in a namespace")
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for host in &self.hosts {
            delete_namespace(&host.ns);
            try_run("ip", &["link", "del", &host.port]);
        }
        try_run("ip", &["link", "del", &self.bridge]);
        eprintln!("removed the namespaces and bridge of {}", self.tag);
    }
}

/// A `10.213.N` no interface of this machine uses yet, so runs in parallel (other
/// worktrees, other CI jobs on the same machine) do not collide.
fn free_subnet() -> String {
    let used = run("ip", &["-o", "-4", "addr", "show"]);
    let start = std::process::id() % 150;
    (0..150)
        .map(|k| 100 + (start + k) % 150)
        .map(|n| format!("10.213.{n}"))
        .find(|s| !used.contains(&format!("{s}.")))
        .expect("a free 10.213.N.0/24")
}

/// A child process killed (and reaped) on drop; with the tail of its log when the test
/// is failing.
struct Proc {
    name: String,
    child: Child,
    log: std::path::PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn is_alive(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "--- last lines of {} (pid {}) ---\n{}",
                self.name,
                self.child.id(),
                lines[lines.len().saturating_sub(30)..].join("\n")
            );
        }
    }
}

/// One record of a `traced` job (see `bench::handlers::TRACED_KEY`).
#[derive(Debug, Clone)]
struct Rec {
    done: bool,
    seq: u64,
    pid: u32,
    attempt: u32,
    local_ms: u64,
    redis_ms: u64,
}

fn parse(line: &str) -> Rec {
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(f.len(), 6, "bad record {line:?}");
    Rec {
        done: f[0] == "done",
        seq: f[1].parse().unwrap(),
        pid: f[2].parse().unwrap(),
        attempt: f[3].parse().unwrap(),
        local_ms: f[4].parse().unwrap(),
        redis_ms: f[5].parse().unwrap(),
    }
}

async fn records(conn: &mut Conn) -> Vec<Rec> {
    let lines: Vec<String> = redis::cmd("LRANGE")
        .arg(TRACED_KEY)
        .arg(0)
        .arg(-1)
        .query_async(conn)
        .await
        .expect("read the traced records");
    lines.iter().map(|l| parse(l)).collect()
}

/// Entries each consumer holds in the bench queue's group.
async fn pending_by_consumer(conn: &mut Conn, stream: &str) -> HashMap<String, u64> {
    let reply: redis::Value = redis::cmd("XPENDING")
        .arg(stream)
        .arg(GROUP)
        .query_async(conn)
        .await
        .expect("XPENDING");
    let mut out = HashMap::new();
    if let redis::Value::Array(parts) = reply
        && let Some(redis::Value::Array(consumers)) = parts.into_iter().nth(3)
    {
        for c in consumers {
            let (name, n): (String, u64) = redis::from_redis_value(c).expect("consumer row");
            out.insert(name, n);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_host_fences_itself_and_rejoins_and_nothing_is_lost() {
    if !is_root() {
        eprintln!(
            "\n\n*** SKIPPED workers/tests/partition.rs: network namespaces need root. \
             CI runs as root and runs it; run `sudo -E cargo test -p workers --test partition` \
             to run it here. ***\n\n"
        );
        return;
    }
    remove_stale();
    let dir = tempfile::tempdir().expect("temp dir");
    let net = Net::create(&["redis", "w0", "w1", "w2"]);
    let redis_addr = net.hosts[0].addr.clone();
    let url = format!("redis://{redis_addr}:{REDIS_PORT}/0");

    // Redis listens on its bridge address only, inside its own namespace.
    let port = REDIS_PORT.to_string();
    let redis_dir = dir.path().to_string_lossy().into_owned();
    let _redis = Proc {
        name: "redis".into(),
        child: net.spawn(
            0,
            "redis-server",
            &[
                "--bind",
                &redis_addr,
                "--port",
                &port,
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &redis_dir,
            ],
            &[],
            &dir.path().join("redis.log"),
        ),
        log: dir.path().join("redis.log"),
    };
    let settings = Settings::default();
    let mut conn = test_support::retry(
        Duration::from_secs(10),
        &format!("reach redis on {url}"),
        async || {
            let mut c = jobs::connect(&url, Duration::from_secs(5))
                .await
                .map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(c)
        },
    )
    .await;
    let client = Client::with_connection(conn.clone(), settings.clone());
    let admin = Admin::new(conn.clone(), &settings);
    let queue = QueueName::new("bench").unwrap();
    let stream = QueueKeys::new(&settings.prefix, &queue).stream;

    let env = [
        ("REDIS_URL", url.clone()),
        ("RUST_LOG", "info".to_owned()),
        ("NO_COLOR", "1".to_owned()),
        ("AG_QUEUE__VISIBILITY_TIMEOUT_MS", VISIBILITY_MS.to_string()),
        ("AG_QUEUE__BLOCK_MS", "500".to_owned()),
        (
            "AG_WORKERS__HEARTBEAT_INTERVAL_MS",
            HEARTBEAT_MS.to_string(),
        ),
        ("AG_WORKERS__SHUTDOWN_DEADLINE_MS", "5000".to_owned()),
    ];
    let concurrency = CONCURRENCY.to_string();
    let mut workers: Vec<Proc> = (0..WORKERS)
        .map(|i| {
            let log = dir.path().join(format!("w{i}.log"));
            Proc {
                name: format!("worker w{i}"),
                child: net.spawn(
                    1 + i,
                    env!("CARGO_BIN_EXE_workers"),
                    &["bench", "--concurrency", &concurrency],
                    &env,
                    &log,
                ),
                log,
            }
        })
        .collect();
    let pids: Vec<u32> = workers.iter().map(|w| w.child.id()).collect();
    for w in &mut workers {
        let ready = test_support::poll_until(Duration::from_secs(30), async || {
            assert!(w.is_alive(), "{} exited:\n{}", w.name, w.log());
            w.log().contains(" ready")
        })
        .await;
        assert!(ready, "{} not ready:\n{}", w.name, w.log());
    }
    // The consumer name of each worker, from its heartbeat.
    let globals = GlobalKeys::new(&settings.prefix);
    let beat = Duration::from_millis(HEARTBEAT_MS);
    let live = async |conn: &mut Conn| -> HashMap<u32, String> {
        jobs::heartbeat::live_workers(conn, &globals, beat)
            .await
            .expect("live workers")
            .into_iter()
            .map(|w| (w.pid, w.id))
            .collect()
    };
    let mut ids = HashMap::new();
    test_support::wait_for(Duration::from_secs(10), "every worker beats", async || {
        ids = live(&mut conn.clone()).await;
        pids.iter().all(|p| ids.contains_key(p))
    })
    .await;
    let cut_pid = pids[CUT];
    let cut_id = ids[&cut_pid].clone();

    // The steady load, from this process (the "api host").
    let (stop_feed, mut feed_stopped) = tokio::sync::watch::channel(false);
    let feeder = {
        let client = client.clone();
        tokio::spawn(async move {
            let mut seq = 0u64;
            let mut tick = tokio::time::interval(FEED_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = feed_stopped.changed() => return seq,
                }
                let batch: Vec<Traced> = (seq..seq + FEED_BATCH as u64)
                    .map(|seq| Traced {
                        seq,
                        sleep_ms: JOB_SLEEP_MS,
                    })
                    .collect();
                client.enqueue_bulk(&batch).await.expect("enqueue");
                seq += FEED_BATCH as u64;
            }
        })
    };

    let started_ms = now_ms();
    // The load is steady before the cut: every worker has completed jobs, and the one to
    // be cut holds entries beyond its slots (its read-ahead, which the fence must let go).
    test_support::wait_for(
        BEFORE,
        "every worker is busy and the one to be cut reads ahead",
        async || {
            let recs = records(&mut conn.clone()).await;
            let busy = pids
                .iter()
                .all(|p| recs.iter().filter(|r| r.done && r.pid == *p).count() >= STEADY_JOBS);
            let held = pending_by_consumer(&mut conn.clone(), &stream).await;
            busy && held.get(&cut_id).copied().unwrap_or(0) > CONCURRENCY as u64
        },
    )
    .await;
    let cut_ms = now_ms();
    net.set_link(1 + CUT, false);
    eprintln!(
        "cut w{CUT} (pid {cut_pid}) off at +{} ms",
        cut_ms - started_ms
    );

    // The others take over the cut worker's entries once its heartbeat has lapsed and
    // the entries are idle past the visibility timeout.
    let mut taken_over_ms = None;
    test_support::wait_for(
        CUT_FOR,
        "the cut worker's entries are taken over",
        async || {
            let held = pending_by_consumer(&mut conn.clone(), &stream).await;
            if held.get(&cut_id).copied().unwrap_or(0) == 0 {
                taken_over_ms = Some(now_ms() - cut_ms);
                true
            } else {
                false
            }
        },
    )
    .await;
    let taken_over_ms = taken_over_ms.expect("taken over");
    eprintln!("the cut worker's entries were taken over {taken_over_ms} ms after the cut");
    assert!(
        !live(&mut conn.clone()).await.contains_key(&cut_pid),
        "the cut worker is still listed as live"
    );
    // The rest of the cut: the cut worker, fenced, must start nothing while it lasts. It
    // cannot tell anyone what it does while cut off, so this is a window of time.
    let left = CUT_FOR.saturating_sub(Duration::from_millis(now_ms() - cut_ms));
    tokio::time::sleep(left).await;
    let heal_ms = now_ms();
    net.set_link(1 + CUT, true);
    eprintln!("healed w{CUT} at +{} ms", heal_ms - started_ms);

    // It rejoins by itself: the same process beats again and runs new jobs.
    let mut rejoined_ms = 0;
    test_support::wait_for(
        Duration::from_secs(30),
        "the cut worker beats again",
        async || {
            rejoined_ms = now_ms() - heal_ms;
            live(&mut conn.clone()).await.contains_key(&cut_pid)
        },
    )
    .await;
    eprintln!("the cut worker beat again {rejoined_ms} ms after the heal");
    test_support::wait_for(AFTER, "the cut worker completes jobs again", async || {
        let recs = records(&mut conn.clone()).await;
        recs.iter()
            .filter(|r| r.done && r.pid == cut_pid && r.redis_ms >= heal_ms)
            .count()
            >= STEADY_JOBS
    })
    .await;
    let end_ms = now_ms();
    stop_feed.send(true).unwrap();
    let enqueued = feeder.await.unwrap();
    eprintln!("enqueued {enqueued} jobs; draining");

    // Every job completes.
    test_support::wait_for(
        Duration::from_secs(120),
        "every job completes",
        async || {
            let recs = records(&mut conn).await;
            let mut done: Vec<u64> = recs.iter().filter(|r| r.done).map(|r| r.seq).collect();
            done.sort_unstable();
            done.dedup();
            let sizes = admin.sizes(&queue).await.expect("sizes");
            done.len() as u64 == enqueued
                && sizes.ready == 0
                && sizes.in_flight == 0
                && sizes.scheduled == 0
        },
    )
    .await;
    let drained_ms = now_ms();
    let recs = records(&mut conn).await;
    for w in &mut workers {
        assert!(w.is_alive(), "{} exited:\n{}", w.name, w.log());
    }

    // Per-host throughput: completions that reached Redis, per phase.
    let phases = [
        ("before", started_ms, cut_ms),
        ("during cut", cut_ms, heal_ms),
        ("after heal", heal_ms, end_ms),
        ("drain", end_ms, drained_ms),
    ];
    let mut table = String::from("\nper-host throughput (jobs/s, completions landed in Redis)\n");
    table.push_str(&format!("{:<14}", "host"));
    for (name, from, to) in &phases {
        table.push_str(&format!(
            "{:>20}",
            format!("{name} ({:.1}s)", (to - from) as f64 / 1000.0)
        ));
    }
    table.push('\n');
    let mut rates: Vec<Vec<f64>> = Vec::new();
    for (i, pid) in pids.iter().enumerate() {
        let mut row = Vec::new();
        let label = if i == CUT {
            format!("w{i} (cut)")
        } else {
            format!("w{i}")
        };
        table.push_str(&format!("{label:<14}"));
        for (_, from, to) in &phases {
            let n = recs
                .iter()
                .filter(|r| r.done && r.pid == *pid && r.redis_ms >= *from && r.redis_ms < *to)
                .count();
            let rate = n as f64 * 1000.0 / (to - from).max(1) as f64;
            row.push(rate);
            table.push_str(&format!("{rate:>20.1}"));
        }
        table.push('\n');
        rates.push(row);
    }
    table.push_str(&format!(
        "taken over after {taken_over_ms} ms; beat again {rejoined_ms} ms after the heal; \
         {enqueued} jobs\n"
    ));

    // Runs per job.
    let mut by_seq: BTreeMap<u64, Vec<&Rec>> = BTreeMap::new();
    for r in &recs {
        assert!(pids.contains(&r.pid), "a record of an unknown pid: {r:?}");
        by_seq.entry(r.seq).or_default().push(r);
    }
    let lost: Vec<u64> = (0..enqueued)
        .filter(|s| !by_seq.get(s).is_some_and(|rs| rs.iter().any(|r| r.done)))
        .collect();
    // The lease lapses one beat before the others may judge the worker dead: a job it
    // started before then was in flight, and may run again.
    let fence_ms = HEARTBEAT_MS * u64::from(jobs::heartbeat::MISSED_BEATS - 1);
    let in_flight_at_cut =
        |r: &&&Rec| !r.done && r.pid == cut_pid && r.local_ms < cut_ms + fence_ms;
    let mut reruns = Vec::new();
    let mut bad_reruns = Vec::new();
    for (seq, rs) in &by_seq {
        let starts: Vec<&&Rec> = rs.iter().filter(|r| !r.done).collect();
        if starts.len() > 1 {
            if starts.iter().any(in_flight_at_cut) && starts.len() == 2 {
                reruns.push(*seq);
            } else {
                bad_reruns.push((*seq, rs.clone()));
            }
        }
    }
    // Starts by the cut worker while it was cut off and its lease had lapsed.
    let fenced_starts: Vec<&Rec> = recs
        .iter()
        .filter(|r| {
            !r.done && r.pid == cut_pid && r.local_ms >= cut_ms + fence_ms && r.local_ms < heal_ms
        })
        .collect();
    table.push_str(&format!(
        "{} jobs ran twice (the cut host's in-flight jobs), {} other re-runs, {} lost, {} starts \
         on the cut host after its lease lapsed\n",
        reruns.len(),
        bad_reruns.len(),
        lost.len(),
        fenced_starts.len()
    ));
    eprintln!("{table}");

    assert!(
        lost.is_empty(),
        "{} jobs never completed: {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );
    assert!(
        fenced_starts.is_empty(),
        "the cut worker started jobs after its lease had lapsed: {fenced_starts:?}"
    );
    assert!(
        bad_reruns.is_empty(),
        "jobs ran again that were not in flight on the cut host when it was cut off \
         (e.g. its read-ahead, started after the heal though others had taken it over): {:?}",
        &bad_reruns[..bad_reruns.len().min(10)]
    );
    // What was in flight is at most what the cut worker could run at once.
    assert!(
        reruns.len() <= CONCURRENCY,
        "{} re-runs for {CONCURRENCY} slots: {reruns:?}",
        reruns.len()
    );
    // A re-run used an attempt: the cut worker's run was the first. Except for a job the
    // cut worker started from its read-ahead after its last keepalive reached Redis: the
    // keepalive had marked it waiting (never started), so crash recovery hands it back
    // without using an attempt. Only a start between one heartbeat before the cut and the
    // fence can be that one.
    for seq in &reruns {
        let starts: Vec<&Rec> = by_seq[seq].iter().copied().filter(|r| !r.done).collect();
        let attempts: Vec<u32> = starts.iter().map(|r| r.attempt).collect();
        let started_unseen = starts.iter().any(|r| {
            r.pid == cut_pid
                && r.local_ms + HEARTBEAT_MS >= cut_ms
                && r.local_ms < cut_ms + fence_ms
        });
        assert!(
            attempts.contains(&2) || started_unseen,
            "job {seq} re-ran as {attempts:?}: {starts:?}"
        );
    }
    // The fence acted: the read-ahead the cut worker held was taken over by the others
    // (returned to the stream), and the cut worker let it go instead of starting it.
    let cut_log = workers[CUT].log();
    let let_go = cut_log
        .matches("not started: another worker took this job over")
        .count();
    eprintln!("the cut worker let go of {let_go} jobs it had read ahead");
    assert!(
        let_go > 0,
        "the cut worker's read-ahead was not fenced:\n{cut_log}"
    );
    // The cut worker's late acks of entries the others had taken over were refused.
    if by_seq.values().any(|rs| {
        rs.iter()
            .any(|r| r.done && r.pid == cut_pid && r.redis_ms >= heal_ms && r.local_ms < heal_ms)
    }) {
        let log = workers[CUT].log();
        assert!(
            log.contains("already been reclaimed") || log.contains("outcome is dropped"),
            "the cut worker's stale outcomes were not refused:\n{log}"
        );
    }
    // Nothing of the cut host reached Redis while it was cut off (half a second allowed
    // for records already on the wire when the port was disabled).
    let landed_while_cut = recs
        .iter()
        .filter(|r| r.pid == cut_pid && r.redis_ms >= cut_ms + 500 && r.redis_ms < heal_ms)
        .count();
    assert_eq!(
        landed_while_cut, 0,
        "records of the cut host landed while it was cut off"
    );
    assert!(rates[CUT][2] > 0.0, "the cut host did not rejoin: {table}");
    for (i, row) in rates.iter().enumerate().filter(|(i, _)| *i != CUT) {
        assert!(row[1] > 0.0, "w{i} ran nothing during the cut: {table}");
    }
}
