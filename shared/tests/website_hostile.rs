#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The website reader against sites built to hurt it, served over real HTTP: pages whose
//! parsing is costly, contact pages that never answer, ports that are not a website's.

// Shared with the provider tests, which use all of it; these use a part.
#[allow(dead_code)]
use std::time::{Duration, Instant};

use shared::config::{Config, WebsiteConfig};
use shared::website::{SiteFetcher, WebsiteError};
use test_support::canned::{Canned, Reply};

/// The default `website.max_bytes`: the hostile pages are as large as a page may be.
const CAP: usize = 2 * 1024 * 1024;

fn fetcher(allow_private: bool, timeout_ms: u64) -> SiteFetcher {
    SiteFetcher::new(&WebsiteConfig {
        allow_private,
        timeout_ms,
        max_bytes: CAP,
        ..Config::default().website
    })
    .unwrap()
}

fn html(body: String) -> Reply {
    Reply {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body,
        delay: Duration::ZERO,
    }
}

/// `unit` repeated (numbered where it has `{}`) until the next copy would pass the cap.
fn up_to_cap(head: &str, unit: &str) -> String {
    let mut page = format!("<!doctype html><html><body>{head}");
    for i in 0.. {
        let one = unit.replace("{}", &i.to_string());
        if page.len() + one.len() > CAP {
            break;
        }
        page.push_str(&one);
    }
    page
}

/// Pages at the size cap that cost a naive reader quadratic time, by name.
fn hostile_pages() -> Vec<(&'static str, String)> {
    let mut emails = String::from("<!doctype html><html><body>");
    for i in 0..10_000 {
        emails.push_str(&format!(
            r#"<p><a href="mailto:u{i}@d{i}.fr">u{i}@d{i}.fr</a> or u{i} [at] d{i} [dot] fr</p>"#
        ));
    }
    let emails = up_to_cap(&emails[27..], "<p>x</p>");
    vec![
        // ~350,000 open elements, one inside the other.
        ("deep nesting", up_to_cap("", "<div>a")),
        // 300,000 sibling elements.
        ("300k elements", up_to_cap("", "<br>a")),
        ("links", up_to_cap("", "<a href=/p{}>p</a>")),
        ("10k e-mails", emails),
        // One tag with ~200,000 distinct attributes.
        ("attributes", up_to_cap("<p ", "a{} ")),
    ]
}

/// Runs `body` on its own thread and runtime: code that blocks its runtime thread (the
/// failure this file guards against) then fails the test instead of hanging it.
fn within<T: Send + 'static>(
    limit: Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    rx.recv_timeout(limit)
        .map_err(|_| format!("did not finish within {limit:?}"))
}

#[test]
fn hostile_pages_are_read_within_a_second_off_the_runtime_or_refused() {
    let pages = hostile_pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| *n).collect();
    let outcomes = within(Duration::from_secs(60), move || {
        // One thread for the runtime, as a worker's heartbeat shares its threads with jobs.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let site = Canned::start().await;
            let fetcher = fetcher(true, 10_000);
            let mut outcomes = Vec::new();
            for (_, page) in pages {
                assert!(page.len() <= CAP);
                site.push(html(page));
                let started = Instant::now();
                let (result, longest_gap) =
                    longest_stall_during(fetcher.fetch_contacts(&site.url)).await;
                let took = started.elapsed();
                outcomes.push((took, longest_gap, result));
            }
            outcomes
        })
    })
    .unwrap();
    for (name, (took, gap, result)) in names.iter().zip(outcomes) {
        eprintln!(
            "{name}: {took:?}, runtime blocked at most {gap:?}, {:?}",
            result.as_ref().map(|c| (c.emails.len(), c.phones.len()))
        );
        if let Err(e) = &result {
            assert!(
                matches!(e, WebsiteError::TooSlowToRead(1_000)),
                "{name}: refused for {e}"
            );
        }
        // Reading gets a second at most; the rest is the transfer of 2 MiB over loopback.
        assert!(took < Duration::from_millis(1_500), "{name}: took {took:?}");
        assert!(
            gap < Duration::from_millis(250),
            "{name}: runtime blocked {gap:?}"
        );
    }
}

/// Runs `work` beside a heartbeat ticking every 5 ms on the same runtime; the longest
/// gap between its ticks is how long the runtime thread was kept from other work.
async fn longest_stall_during<F: Future>(work: F) -> (F::Output, Duration) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let heartbeat = tokio::spawn(async move {
        let mut longest = Duration::ZERO;
        let mut last = Instant::now();
        loop {
            tokio::select! {
                _ = &mut stopped => return longest.max(last.elapsed()),
                () = tokio::time::sleep(Duration::from_millis(5)) => {
                    longest = longest.max(last.elapsed());
                    last = Instant::now();
                }
            }
        }
    });
    let out = work.await;
    let _ = stop.send(());
    (out, heartbeat.await.unwrap())
}

#[tokio::test]
async fn one_deadline_covers_the_home_page_and_its_contact_pages() {
    let site = Canned::start().await;
    // A slow home page with an e-mail but no phone, so both contact pages are tried; they
    // never answer.
    let home = r#"<html><body><p>hello@home.fr</p>
        <a href="/contact">Contact</a><a href="/about">About us</a></body></html>"#;
    site.push(html(home.into()).delayed(Duration::from_millis(500)));
    site.push(html(String::new()).delayed(Duration::from_secs(600)));
    site.push(html(String::new()).delayed(Duration::from_secs(600)));
    let started = Instant::now();
    let found = fetcher(true, 1_000)
        .fetch_contacts(&site.url)
        .await
        .unwrap();
    let took = started.elapsed();
    // What the home page gave is kept; the contact pages share the home page's second.
    assert_eq!(found.emails, vec!["hello@home.fr"]);
    assert!(
        took < Duration::from_millis(1_300),
        "the whole read took {took:?} for a 1 s deadline"
    );
    assert!(site.seen().len() >= 2, "the contact page was not tried");
}

#[tokio::test]
async fn only_ports_80_and_443_are_fetched_unless_private_addresses_are_allowed() {
    // A public address on another port: refused without a connection attempt (which,
    // to an address that drops packets, would last the whole deadline).
    let started = Instant::now();
    let err = fetcher(false, 5_000)
        .fetch_contacts("http://93.184.216.34:8080/")
        .await
        .unwrap_err();
    assert_eq!(err, WebsiteError::Port(8080));
    assert!(started.elapsed() < Duration::from_millis(500));
    let err = fetcher(false, 5_000)
        .fetch("https://93.184.216.34:8443/x")
        .await
        .unwrap_err();
    assert_eq!(err, WebsiteError::Port(8443));
    // The sandbox's sites live on random ports of 127.0.0.1: allowed with private
    // addresses, over real HTTP.
    let site = Canned::start().await;
    site.push(html("<p>hello@site.fr</p>".into()));
    let found = fetcher(true, 1_000)
        .fetch_contacts(&site.url)
        .await
        .unwrap();
    assert_eq!(found.emails, vec!["hello@site.fr"]);
}
