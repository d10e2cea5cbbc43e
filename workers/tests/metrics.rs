#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The metrics against the real thing: Debian's `prometheus` (a private server: its own
//! port, data directory and config, scraping every second) scrapes the api's metrics
//! listener and two worker processes' during a pipeline run, and its HTTP API must then
//! answer the series ops rely on, every expression of the Grafana dashboard, and the alert
//! rules; `promtool` checks each exposition and the rules file.
//!
//! Without `prometheus` and `promtool` this test fails, naming scripts/ensure-deps.sh.

mod harness;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use test_support::stack::Stack;

use test_support::{free_port, poll_every};

/// How often a wait asks Prometheus again: it evaluates every second at best, and the
/// machine is shared.
const PROMETHEUS_POLL: Duration = Duration::from_millis(100);

const RUN: Duration = Duration::from_secs(90);

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// A program on the PATH, or a failure that says how to get it.
fn required(program: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{program}` is not installed: this test runs a real Prometheus and promtool \
             (Debian's `prometheus` package ships both). Run scripts/ensure-deps.sh \
             (or `just deps`) to install it."
        )
    })
}

/// `promtool <args>` with `stdin`; panics with its output unless it succeeds.
fn promtool(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(required("promtool"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool {args:?} failed ({}):\n{text}",
        out.status
    );
    text
}

/// A private Prometheus server; killed on drop (its log printed if the test failed).
struct Prometheus {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Prometheus {
    fn start(api: &str, workers: &[String], rules: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let targets = |t: &[String]| {
            t.iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - \"{}\"\n\
             scrape_configs:\n\
             \x20 - job_name: astrogrowth-api\n    static_configs:\n      - targets: [{}]\n\
             \x20 - job_name: astrogrowth-workers\n    static_configs:\n      - targets: [{}]\n",
            rules.display(),
            targets(&[api.to_owned()]),
            targets(workers),
        );
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).unwrap();
        promtool(&["check", "config", config_file.to_str().unwrap()], None);
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(required("prometheus"))
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start prometheus");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let ready = poll_every(Duration::from_secs(30), PROMETHEUS_POLL, async || {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("prometheus exited ({status}):\n{}", self.log());
            }
            self.http
                .get(format!("{}/-/ready", self.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(ready, "prometheus not ready after 30 s:\n{}", self.log());
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .query(query)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// An instant query: its result vector, or Prometheus's error.
    async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let body = self.get("/api/v1/query", &[("query", expr)]).await;
        if body["status"] != "success" {
            return Err(format!("{}: {}", body["errorType"], body["error"]));
        }
        Ok(body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Polls `expr` until its result satisfies `ok` (30 s at most).
    async fn wait_for(&self, expr: &str, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let mut result = Vec::new();
        let held = poll_every(Duration::from_secs(30), PROMETHEUS_POLL, async || {
            result = self
                .query(expr)
                .await
                .unwrap_or_else(|e| panic!("{expr}: {e}"));
            ok(&result)
        })
        .await;
        assert!(
            held,
            "{expr} did not come true within 30 s; last result {result:?}"
        );
        result
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- prometheus log ---\n{}", self.log());
        }
    }
}

/// A sample's value as a number.
fn value(sample: &Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Every PromQL expression of the dashboard, with Grafana's variables as an operator
/// would have them (all queues, a one-minute rate window).
fn dashboard_expressions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_file("deploy/grafana/astrogrowth.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let expr = expr
                .replace("$__rate_interval", "1m")
                .replace("$queue", ".*");
            assert!(
                !expr.contains('$'),
                "a variable the test does not know: {expr}"
            );
            out.push((panel["title"].as_str().unwrap().to_owned(), expr));
        }
    }
    out
}

#[sqlx::test(migrations = "../migrations")]
async fn prometheus_scrapes_the_api_and_two_workers_through_a_pipeline_run(db: PgPool) {
    required("prometheus");
    let rules = repo_file("deploy/prometheus/alerts.yml");
    let checked = promtool(&["check", "rules", rules.to_str().unwrap()], None);
    assert!(checked.contains("SUCCESS"), "{checked}");

    let metrics_port = free_port();
    let mut stack = Stack::start_with(db, sandbox::Options::default(), |c| {
        c.metrics.bind = Some(format!("127.0.0.1:{metrics_port}"));
    })
    .await;
    let api_metrics = format!("127.0.0.1:{metrics_port}");
    let mut worker_metrics = Vec::new();
    for name in ["w1", "w2"] {
        let addr = format!("127.0.0.1:{}", free_port());
        stack
            .spawn_worker_with(name, &["--metrics-bind", &addr])
            .await;
        worker_metrics.push(addr);
    }
    let mut prometheus = Prometheus::start(&api_metrics, &worker_metrics, &rules);
    prometheus.wait_ready().await;
    prometheus
        .wait_for("sum(up)", |r| r.first().is_some_and(|s| value(s) == 3.0))
        .await;

    // Metrics are never on the public listener.
    let public = reqwest::get(format!("{}/metrics", stack.api))
        .await
        .unwrap();
    assert_eq!(public.status(), reqwest::StatusCode::NOT_FOUND);

    // A campaign runs to its end: Places, Gemini, the sites, LinkedIn are called, jobs
    // complete on both workers' queues.
    let owner = stack.connected_owner().await;
    let id = owner.launch("Metrics", "bakery", "Smallville").await;
    stack.wait_status(&owner, id, &["completed"], RUN).await;

    // Completions per second, summed over the two workers.
    prometheus
        .wait_for("sum(rate(astrogrowth_jobs_completed_total[1m])) > 0", |r| {
            !r.is_empty()
        })
        .await;
    // Both workers exported their own counters.
    prometheus
        .wait_for(
            "count(count by (instance) (astrogrowth_jobs_completed_total{kind=\"enrich_lead\"}))",
            |r| r.first().is_some_and(|s| value(s) == 2.0),
        )
        .await;
    // The lag of each pipeline queue, from the api only (once, not once per worker).
    let lag = prometheus
        .wait_for("astrogrowth_queue_lag_seconds", |r| r.len() >= 5)
        .await;
    for s in &lag {
        assert_eq!(s["metric"]["job"], "astrogrowth-api", "{s}");
        assert!(value(s) >= 0.0, "{s}");
    }
    // The heartbeat registry: two live workers on the enrich queue.
    prometheus
        .wait_for("astrogrowth_queue_live_workers{queue=\"enrich\"}", |r| {
            r.len() == 1 && value(&r[0]) == 2.0
        })
        .await;
    // A provider latency histogram: Places' p90 over the run.
    let p90 = prometheus
        .wait_for(
            "histogram_quantile(0.9, sum by (le) (rate(astrogrowth_provider_call_duration_seconds_bucket{route=\"places.search\"}[1m])))",
            |r| r.first().is_some_and(|s| value(s).is_finite()),
        )
        .await;
    assert!(value(&p90[0]) > 0.0, "{p90:?}");
    // LinkedIn's posts were counted too, with no error.
    prometheus
        .wait_for(
            "sum(astrogrowth_provider_calls_total{route=\"linkedin.posts\"}) > 0",
            |r| !r.is_empty(),
        )
        .await;
    // The api's requests by route template, never the raw path.
    let launches = prometheus
        .wait_for(
            "astrogrowth_http_requests_total{route=\"/api/campaigns/{id}/launch\"}",
            |r| r.iter().map(value).sum::<f64>() >= 1.0,
        )
        .await;
    assert!(
        launches
            .iter()
            .all(|s| s["metric"]["status"].as_str().unwrap().starts_with('2')),
        "{launches:?}"
    );
    let routes = prometheus
        .query("count by (route) (astrogrowth_http_requests_total)")
        .await
        .unwrap();
    for s in &routes {
        let route = s["metric"]["route"].as_str().unwrap();
        assert!(
            route == "unmatched" || !route.chars().any(|c| c.is_ascii_digit()),
            "a raw path as a route label: {route}"
        );
    }
    // Campaigns by status, from PostgreSQL.
    prometheus
        .wait_for("astrogrowth_campaigns{status=\"completed\"} == 1", |r| {
            r.len() == 1
        })
        .await;

    // Each exposition passes promtool's checks.
    let http = reqwest::Client::new();
    for target in std::iter::once(&api_metrics).chain(&worker_metrics) {
        let r = http
            .get(format!("http://{target}/metrics"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{target}: {}", r.status());
        let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
        let body = r.text().await.unwrap();
        promtool(&["check", "metrics"], Some(&body));
    }

    // Every expression of the dashboard is valid PromQL over these metrics.
    let expressions = dashboard_expressions();
    assert!(expressions.len() >= 20, "{}", expressions.len());
    for (panel, expr) in &expressions {
        if let Err(e) = prometheus.query(expr).await {
            panic!("dashboard panel {panel:?}: {expr}: {e}");
        }
    }

    // Prometheus loaded the alert rules and evaluates every one of them without error.
    let mut body = Value::Null;
    let evaluated = poll_every(Duration::from_secs(30), PROMETHEUS_POLL, async || {
        body = prometheus.get("/api/v1/rules", &[]).await;
        let rules: Vec<&Value> = body["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        assert_eq!(rules.len(), 10, "{body}");
        assert!(
            rules.iter().all(|r| r["health"] != "err"),
            "a rule fails: {body}"
        );
        rules.iter().all(|r| r["health"] == "ok")
    })
    .await;
    assert!(evaluated, "rules not evaluated: {body}");
}
