//! Private `redis-server` instances for integration tests, here and in other crates.
//! Each test gets its own server on a free port, because some tests kill and restart it.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support: a test that cannot start Redis should fail loudly"
)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--save")
            .arg("")
            .arg("--daemonize")
            .arg("no")
            .arg("--logfile")
            .arg(self.dir.path().join("redis.log"));
        if self.aof {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server)");
        self.child = Some(child);
        self.wait_ready()
    }

    /// Waits until the server on our port is our child; false if the child exited
    /// (port taken) or someone else's server answers there.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let exited = match self.child.as_mut() {
                Some(child) => child.try_wait().map(|s| s.is_some()).unwrap_or(true),
                None => true,
            };
            if exited {
                return false;
            }
            if let Ok(client) = redis::Client::open(self.url())
                && let Ok(mut conn) = client.get_connection()
                && let Ok((_, dir)) = redis::cmd("CONFIG")
                    .arg("GET")
                    .arg("dir")
                    .query::<(String, String)>(&mut conn)
            {
                return same_dir(&dir, self.dir.path());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not start", self.port);
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

fn same_dir(reported: &str, ours: &std::path::Path) -> bool {
    let canon = |p: &std::path::Path| std::fs::canonicalize(p).ok();
    canon(std::path::Path::new(reported)) == canon(ours)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
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
}
