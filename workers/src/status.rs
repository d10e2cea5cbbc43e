//! `workers status`: what ops look at first — queue sizes, jobs done and failed in the
//! current minute, live workers.

use std::fmt::Write as _;
use std::time::Duration;

use jobs::admin::Admin;
use jobs::keys::{GlobalKeys, QueueKeys};
use jobs::{Client, stats};

use crate::error::Error;

/// Renders one screen of status as text.
pub async fn render(client: &Client) -> Result<String, Error> {
    let admin = Admin::new(client.connection(), client.settings());
    let mut conn = client.connection();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8} {:>7}",
        "queue", "ready", "running", "sched", "dead", "dropped", "done@min", "fail@min", "paused"
    );
    for queue in admin.queues().await? {
        let sizes = admin.sizes(&queue).await?;
        let keys = QueueKeys::new(&client.settings().prefix, &queue);
        let minutes = stats::recent(&mut conn, &keys, 2).await?;
        let last = minutes.last().cloned().unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<12} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8} {:>7}",
            queue.as_str(),
            sizes.ready,
            sizes.in_flight,
            sizes.scheduled,
            sizes.dead,
            sizes.dead_dropped,
            last.processed,
            last.failed,
            if sizes.paused { "yes" } else { "" }
        );
    }
    let globals = GlobalKeys::new(&client.settings().prefix);
    let workers =
        jobs::heartbeat::live_workers(&mut conn, &globals, client.settings().heartbeat_interval)
            .await?;
    let _ = writeln!(out, "\nlive workers: {}", workers.len());
    for w in workers {
        let queues: Vec<String> = w
            .queues
            .iter()
            .map(|(q, c)| {
                let busy = w.busy.iter().find(|(b, _)| b == q).map_or(0, |(_, n)| *n);
                format!("{q} {busy}/{c}")
            })
            .collect();
        let _ = writeln!(out, "  {:<32} {}", w.id, queues.join(", "));
    }
    Ok(out)
}

/// Prints the status every second until interrupted.
pub async fn watch(client: &Client) -> Result<(), Error> {
    loop {
        let screen = render(client).await?;
        print!("\x1b[2J\x1b[H{screen}\n(ctrl-c to stop)\n");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
