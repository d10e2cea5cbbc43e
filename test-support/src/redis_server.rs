//! Private `redis-server` instances for integration tests. Each test gets its own server
//! on a free port, because some tests kill and restart it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::free_port;

/// A redis-server owned by one test; killed on drop.
pub struct TestRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    aof: bool,
}

impl TestRedis {
    /// Starts a server without persistence.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts a server with AOF on (`appendfsync always`), for restart tests.
    pub fn start_with_aof() -> Self {
        Self::start_with(true)
    }

    /// Tries `port` first (a test of this module takes a port another server holds);
    /// the server that answers is always this one's, on whatever port it got.
    pub fn start_preferring_port(port: u16) -> Self {
        Self::start_on(false, Some(port))
    }

    fn start_with(aof: bool) -> Self {
        Self::start_on(aof, None)
    }

    /// A free port can be taken by someone else between our probe and redis-server's
    /// bind; then our server exits and whatever holds the port would answer PING. So
    /// each try checks that our child is alive and that the server answering is ours
    /// (its `dir` is our temp dir), and takes a fresh port otherwise.
    fn start_on(aof: bool, first_port: Option<u16>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for redis");
        let mut redis = Self {
            port: first_port.unwrap_or_else(free_port),
            dir,
            child: None,
            aof,
        };
        for _ in 0..10 {
            if redis.spawn() {
                return redis;
            }
            redis.kill();
            redis.port = free_port();
        }
        panic!("could not start a redis-server of our own after 10 ports");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// True once our own child answers on `self.port`.
    fn spawn(&mut self) -> bool {
        let mut cmd = server_command(self.port, self.dir.path());
        if self.aof {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        self.child = Some(
            cmd.spawn()
                .expect("redis-server on PATH (apt-get install redis-server)"),
        );
        wait_own_server(&mut self.child, self.port, self.dir.path())
    }

    /// Kills the server hard (SIGKILL): what it had not persisted is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory (with AOF, the data comes back).
    pub fn restart(&mut self) {
        self.kill();
        // The same port, or the clients under test could not reconnect; if someone took
        // it meanwhile there is nothing to fall back to.
        assert!(
            self.spawn(),
            "redis-server could not get its port {} back",
            self.port
        );
    }

    /// Freezes the server (SIGSTOP): clients' commands hang, as in a Redis stall (a
    /// fork on a huge dataset, a paused VM). `thaw` resumes it.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("redis-server is running").id();
        let status = Command::new("kill")
            .arg(sig)
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {sig} {pid} failed");
    }

    /// A synchronous connection for test assertions.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .expect("redis url")
            .get_connection()
            .expect("redis connection")
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What every server here runs with: its port on 127.0.0.1, its own directory (its log
/// there), no RDB snapshots, in the foreground, quiet.
fn server_command(port: u16, dir: &Path) -> Command {
    let mut cmd = Command::new("redis-server");
    cmd.arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .args(["--save", "", "--daemonize", "no"])
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

/// Waits until the server answering on `port` is `child`: false if the child exited (the
/// port was taken) or a server of another directory answers there, so a test never runs
/// against someone else's Redis.
fn wait_own_server(child: &mut Option<Child>, port: u16, dir: &Path) -> bool {
    let mut own = None;
    crate::wait_for_blocking(
        Duration::from_secs(10),
        Duration::from_millis(20),
        &format!("redis-server on port {port} starts"),
        || {
            own = probe_own_server(child, port, dir);
            own.is_some()
        },
    );
    own.unwrap_or(false)
}

/// `None` while nothing answers on `port` and `child` runs; then whether the server
/// answering is `child` (false once it exited).
fn probe_own_server(child: &mut Option<Child>, port: u16, dir: &Path) -> Option<bool> {
    let exited = match child.as_mut() {
        Some(child) => child.try_wait().map(|s| s.is_some()).unwrap_or(true),
        None => true,
    };
    if exited {
        return Some(false);
    }
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).ok()?;
    let mut conn = client.get_connection().ok()?;
    let (_, reported) = redis::cmd("CONFIG")
        .arg("GET")
        .arg("dir")
        .query::<(String, String)>(&mut conn)
        .ok()?;
    Some(same_dir(&reported, dir))
}

fn same_dir(reported: &str, ours: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    canon(Path::new(reported)) == canon(ours)
}

/// A real Redis Cluster of three masters with a replica each, for the tests that must prove
/// every command, transaction and script of a queue stays in one slot (the cluster refuses
/// the others) and for the failover test. Each node runs in a directory of its own with a
/// low `cluster-node-timeout`, so a killed master's replica takes over within a few seconds.
pub struct TestCluster {
    nodes: Vec<ClusterNode>,
    /// Set for a cluster that also serves TLS (see [`TestCluster::start_tls`]).
    certs: Option<TestCerts>,
    dir: tempfile::TempDir,
    /// Kills every node if this test process dies without dropping the cluster (a shared
    /// cluster in a `static` is never dropped).
    watchdog: Option<Child>,
}

struct ClusterNode {
    port: u16,
    bus: u16,
    /// The TLS port, on a cluster that serves TLS.
    tls_port: Option<u16>,
    dir: PathBuf,
    child: Option<Child>,
}

/// A cluster node's command line: its own port, bus port and directory (its `nodes.conf`
/// there, so a restarted node rejoins as what the cluster made of it). With `tls`, the
/// node also serves TLS on that port with those certificates, and the nodes speak TLS to
/// each other (bus and replication); the clear port stays for the harness's own checks.
fn node_command(port: u16, bus: u16, dir: &Path, tls: Option<(u16, &TestCerts)>) -> Command {
    let mut cmd = server_command(port, dir);
    if let Some((tls_port, certs)) = tls {
        cmd.arg("--tls-port")
            .arg(tls_port.to_string())
            .arg("--tls-cert-file")
            .arg(&certs.cert)
            .arg("--tls-key-file")
            .arg(&certs.key)
            .arg("--tls-ca-cert-file")
            .arg(&certs.ca)
            // Clients prove nothing with a certificate of their own (a password is how
            // the engine would authenticate); the nodes do to each other.
            .args(["--tls-auth-clients", "no"])
            .args(["--tls-cluster", "yes", "--tls-replication", "yes"]);
    }
    cmd.arg("--cluster-port")
        .arg(bus.to_string())
        .args(["--cluster-enabled", "yes"])
        .arg("--cluster-config-file")
        .arg(dir.join("nodes.conf"))
        .arg("--cluster-node-timeout")
        .arg(CLUSTER_NODE_TIMEOUT_MS.to_string())
        // A replica may always take over, however long since it heard its master.
        .args(["--cluster-replica-validity-factor", "0"])
        .args(["--appendonly", "no"]);
    cmd
}

/// Milliseconds a node may be unreachable before its replica is promoted.
pub const CLUSTER_NODE_TIMEOUT_MS: u64 = 1_000;

static SHARED_CLUSTER: std::sync::OnceLock<TestCluster> = std::sync::OnceLock::new();

impl TestCluster {
    /// Six nodes, `redis-cli --cluster create --cluster-replicas 1`, and a wait until every
    /// node sees all slots served and every replica is in sync with its master.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// The same cluster serving TLS too, with certificates of a CA made for it
    /// ([`TestCerts`]): [`Self::tls_url`] names its TLS ports. The nodes speak TLS to each
    /// other as well.
    pub fn start_tls() -> Self {
        Self::start_with(Some(TestCerts::make()))
    }

    fn start_with(certs: Option<TestCerts>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the cluster");
        let mut cluster = Self {
            nodes: Vec::new(),
            certs,
            dir,
            watchdog: None,
        };
        for i in 0..6 {
            let node = cluster.spawn_node(i);
            cluster.nodes.push(node);
        }
        cluster.watch_this_process();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let out = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli on PATH (apt-get install redis-tools)");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.wait_healthy(Duration::from_secs(30));
        cluster
    }

    /// One cluster for the whole test binary: forming one takes seconds, and tests keep
    /// apart by their queue names and key prefixes. Its nodes die with the process.
    pub fn shared() -> &'static Self {
        SHARED_CLUSTER.get_or_init(Self::start)
    }

    /// The engine's URL for this cluster (every node as a seed).
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The engine's TLS URL for a cluster started with [`Self::start_tls`]: every node's
    /// TLS port as a seed, `rediss+cluster://`.
    pub fn tls_url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| {
                let port = n.tls_port.expect("a cluster started with start_tls");
                format!("127.0.0.1:{port}")
            })
            .collect();
        format!("rediss+cluster://{}", nodes.join(","))
    }

    /// The CA that signed the nodes' certificates (a cluster started with `start_tls`).
    pub fn certs(&self) -> Option<&TestCerts> {
        self.certs.as_ref()
    }

    /// The ports of the nodes that are still running.
    pub fn live_ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(|n| n.port)
            .collect()
    }

    fn spawn_node(&self, index: usize) -> ClusterNode {
        let dir = self.dir.path().join(format!("node-{index}"));
        std::fs::create_dir_all(&dir).expect("node dir");
        for _ in 0..10 {
            let port = free_port();
            let bus = free_port();
            let tls_port = self.certs.as_ref().map(|_| free_port());
            if port == bus || tls_port.is_some_and(|t| t == port || t == bus) {
                continue;
            }
            let tls = tls_port.zip(self.certs.as_ref());
            let child = node_command(port, bus, &dir, tls)
                .spawn()
                .expect("redis-server on PATH (apt-get install redis-server)");
            let mut node = ClusterNode {
                port,
                bus,
                tls_port,
                dir: dir.clone(),
                child: Some(child),
            };
            if wait_own_server(&mut node.child, port, &dir) {
                return node;
            }
            node.kill();
            let _ = std::fs::remove_file(dir.join("nodes.conf"));
        }
        panic!("could not start cluster node {index} after 10 ports");
    }

    /// A shell that waits for this test process to end, then kills every node.
    fn watch_this_process(&mut self) {
        let pids: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| n.child.as_ref().map(|c| c.id().to_string()))
            .collect();
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 1; done; kill -9 {} 2>/dev/null",
            std::process::id(),
            pids.join(" ")
        );
        self.watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
    }

    /// Waits until every running node says the cluster is ok, sees the others, and each
    /// replica's link to its master is up (so a failover has a synced replica to promote).
    pub fn wait_healthy(&self, within: Duration) {
        let live = self.live_ports();
        crate::wait_for_blocking(
            within,
            Duration::from_millis(100),
            "the test cluster is healthy",
            || {
                let healthy = live.iter().all(|port| {
                    let info = node_cmd(*port, &["CLUSTER", "INFO"]);
                    let repl = node_cmd(*port, &["INFO", "replication"]);
                    info.contains("cluster_state:ok")
                        && info.contains("cluster_slots_ok:16384")
                        && (repl.contains("role:master") || repl.contains("master_link_status:up"))
                });
                healthy && self.masters().len() == 3
            },
        );
    }

    /// Ports of the masters serving slots, as a running node sees them.
    pub fn masters(&self) -> Vec<u16> {
        let Some(port) = self.live_ports().first().copied() else {
            return Vec::new();
        };
        node_cmd(port, &["CLUSTER", "NODES"])
            .lines()
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 8 && f[2].contains("master") && !f[2].contains("fail")
            })
            .filter_map(|l| node_port(l.split_whitespace().nth(1)?))
            .collect()
    }

    /// The port of the master that serves `key`'s slot now.
    pub fn master_of(&self, key: &str) -> u16 {
        self.try_master_of(key)
            .unwrap_or_else(|| panic!("no master serves the slot of {key}"))
    }

    /// The port of the healthy master that serves `key`'s slot, if there is one now (none
    /// while a dead master's replica has not taken over yet).
    pub fn try_master_of(&self, key: &str) -> Option<u16> {
        let port = self.live_ports()[0];
        let slot: u16 = node_cmd(port, &["CLUSTER", "KEYSLOT", key])
            .trim()
            .parse()
            .expect("CLUSTER KEYSLOT answers a number");
        for line in node_cmd(port, &["CLUSTER", "NODES"]).lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 9 || !f[2].contains("master") || f[2].contains("fail") {
                continue;
            }
            let serves = f[8..].iter().any(|range| match range.split_once('-') {
                Some((a, b)) => {
                    a.parse::<u16>().is_ok_and(|a| a <= slot)
                        && b.parse::<u16>().is_ok_and(|b| slot <= b)
                }
                None => range.parse::<u16>().is_ok_and(|s| s == slot),
            });
            if serves && let Some(p) = node_port(f[1]) {
                return Some(p);
            }
        }
        None
    }

    /// SIGKILLs the node on `port`: what it had not replicated is gone.
    pub fn kill_node(&mut self, port: u16) {
        self.node(port).kill();
    }

    fn node(&mut self, port: u16) -> &mut ClusterNode {
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("a node of this cluster")
    }

    /// Starts a killed node again on its port and directory: it finds its cluster in its
    /// `nodes.conf` and, its slots taken over meanwhile, comes back as a replica.
    pub fn restart_node(&mut self, port: u16) {
        let certs = self.certs.take();
        let node = self.node(port);
        node.kill();
        let tls = node.tls_port.zip(certs.as_ref());
        let child = node_command(node.port, node.bus, &node.dir, tls)
            .spawn()
            .expect("redis-server on PATH");
        node.child = Some(child);
        assert!(
            wait_own_server(&mut node.child, port, &node.dir),
            "cluster node could not get its port {port} back"
        );
        self.certs = certs;
    }

    /// A synchronous connection to one node, for test assertions that need a node's view.
    pub fn node_conn(&self, port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}/0"))
            .expect("redis url")
            .get_connection()
            .expect("redis connection")
    }
}

/// A certificate authority made at test time with the `openssl` command, and a server
/// certificate it signed for `127.0.0.1` and `localhost` (also usable as a client
/// certificate, as cluster nodes use theirs with each other). Gone with the value.
pub struct TestCerts {
    /// The CA's certificate (PEM): what a client trusts.
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCerts {
    pub fn make() -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the certificates");
        let at = |name: &str| dir.path().join(name);
        let ext = at("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
             basicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth,clientAuth\n",
        )
        .expect("write the extensions file");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl on PATH (apt-get install openssl)");
            assert!(
                out.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-sha256",
            "-days",
            "2",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=AstroGrowth test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-sha256",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-sha256",
            "-days",
            "2",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ]);
        Self {
            ca: at("ca.crt"),
            cert: at("server.crt"),
            key: at("server.key"),
            _dir: dir,
        }
    }
}

impl ClusterNode {
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.kill();
        }
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

/// One command to one node as text (bulk replies; empty on any error, so a node that is
/// down reads as unhealthy rather than failing the wait).
fn node_cmd(port: u16, args: &[&str]) -> String {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}/0")) else {
        return String::new();
    };
    let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
        return String::new();
    };
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<redis::Value>(&mut conn) {
        Ok(redis::Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
        Ok(redis::Value::VerbatimString { text, .. }) => text,
        Ok(redis::Value::Int(i)) => i.to_string(),
        _ => String::new(),
    }
}

/// `127.0.0.1:7000@17000` → 7000.
fn node_port(addr: &str) -> Option<u16> {
    addr.split('@').next()?.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port taken by another server between the probe and the bind
    /// made a test talk to that other server. Here the port is taken on purpose.
    #[test]
    fn a_taken_port_never_gives_someone_elses_server() {
        let first = TestRedis::start();
        let second = TestRedis::start_preferring_port(first.port);
        assert_ne!(second.port, first.port);
        let (_, dir): (String, String) = redis::cmd("CONFIG")
            .arg("GET")
            .arg("dir")
            .query(&mut second.conn())
            .unwrap();
        assert!(same_dir(&dir, second.dir.path()), "{dir}");
    }

    /// The cluster spreads slots over three masters and refuses a command whose keys live
    /// in different slots: the property every cluster test of the engine relies on.
    #[test]
    fn a_cluster_forms_and_refuses_cross_slot_keys() {
        let cluster = TestCluster::start();
        assert_eq!(cluster.masters().len(), 3);
        let port = cluster.master_of("{a}x");
        let mut conn = cluster.node_conn(port);
        let same: redis::RedisResult<()> = redis::cmd("MSET")
            .arg("{a}x")
            .arg(1)
            .arg("{a}y")
            .arg(2)
            .query(&mut conn);
        assert!(same.is_ok(), "{same:?}");
        let cross: redis::RedisResult<()> = redis::cmd("MSET")
            .arg("{a}x")
            .arg(1)
            .arg("{b}y")
            .arg(2)
            .query(&mut conn);
        let err = cross.expect_err("cross-slot MSET must fail");
        assert!(
            matches!(
                err.kind(),
                redis::ErrorKind::Server(redis::ServerErrorKind::CrossSlot)
            ),
            "{err}"
        );
    }
}
