//! A real browser for the page tests: Debian's `chromium`, headless, driven over WebDriver
//! by its `chromedriver` (both from `scripts/ensure-deps.sh`). Each test gets its own
//! chromedriver on a free port and a fresh profile directory; both go away on drop.
//!
//! The flags keep Chromium from reaching out: this machine has no internet, and without
//! them Chromium waits on refused connections (component updates, sync, QUIC probes).

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// axe-core from its npm package (`api/ui`, `npm run vendor`), for tests only: never served.
const AXE: &str = include_str!("../../vendor/axe-4.14.1.min.js");

/// Runs axe on the page; answers the serious and critical violations, one line each.
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] })
  .then(r => done(r.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)))
  .catch(e => done([`axe failed: ${e}`]));
"#;

/// The two widths every screenshot is taken at: a desktop and a phone (iPhone 12-15).
pub const WIDTHS: [(u32, u32); 2] = [(1280, 900), (390, 844)];

pub struct Browser {
    pub client: Client,
    /// Where the app listens, `http://127.0.0.1:<port>`.
    base: String,
    driver: Child,
    /// Where Chromium saves what a link downloads, without asking (inside the profile).
    downloads: PathBuf,
    _profile: tempfile::TempDir,
}

fn find(binary: &str, candidates: &[&str]) -> String {
    for c in candidates {
        if std::path::Path::new(c).exists() {
            return (*c).to_owned();
        }
    }
    panic!(
        "{binary} is not installed: run scripts/ensure-deps.sh (apt-get install chromium chromium-driver)"
    );
}

impl Browser {
    /// A headless Chromium whose `Accept-Language` is `accept_language`.
    pub async fn start(base: &str, accept_language: &str) -> Self {
        Self::start_with(base, accept_language, None).await
    }

    /// As [`Self::start`], in the IANA `time_zone` (Chromium reads `TZ`), for pages whose
    /// script reads the browser's zone: one unlike the machine's and the app's defaults
    /// shows that the page took it from the browser.
    pub async fn start_in_time_zone(base: &str, accept_language: &str, time_zone: &str) -> Self {
        Self::start_with(base, accept_language, Some(time_zone)).await
    }

    async fn start_with(base: &str, accept_language: &str, time_zone: Option<&str>) -> Self {
        let chromedriver = find(
            "chromedriver",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let chromium = find(
            "chromium",
            &["/usr/bin/chromium", "/usr/lib/chromium/chromium"],
        );
        let port = crate::free_port();
        // Its own process group, so dropping it also ends the Chromium it started even
        // when a failing test never closes the session.
        let mut command = Command::new(chromedriver);
        if let Some(zone) = time_zone {
            command.env("TZ", zone);
        }
        let driver = command
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        crate::wait_for(
            Duration::from_secs(20),
            "chromedriver listens",
            async || TcpStream::connect(("127.0.0.1", port)).is_ok(),
        )
        .await;
        let profile = tempfile::tempdir().unwrap();
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--lang={accept_language}"),
                ],
                "prefs": {
                    "intl.accept_languages": accept_language,
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromium starts under chromedriver");
        let browser = Self {
            client,
            base: base.to_owned(),
            driver,
            downloads,
            _profile: profile,
        };
        browser.resize(WIDTHS[0]).await;
        browser
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// The path of the page shown (without the origin).
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element's text. A live page replaces its parts as events arrive: an element
    /// replaced between finding it and reading it is found again.
    pub async fn text(&self, css: &str) -> String {
        let mut text = None;
        let mut error = String::new();
        let read = crate::poll_until(Duration::from_secs(5), async || {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css} on {}: {e}", self.base));
            match element.text().await {
                Ok(t) => text = Some(t),
                Err(e) if e.to_string().contains("stale element") => error = e.to_string(),
                Err(e) => panic!("{css} on {}: {e}", self.base),
            }
            text.is_some()
        })
        .await;
        assert!(read, "{css} on {}: {error}", self.base);
        text.unwrap_or_default()
    }

    /// The visible text of the whole page.
    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// The element `css` finds on the page shown; the test fails naming `css` if none.
    async fn element(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.element(css).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks a link or a submit button and waits until the next page has replaced this
    /// one. WebDriver's click usually returns after the navigation it starts, but not
    /// always on a busy machine, so the old page's root is watched until it goes stale.
    pub async fn click(&self, css: &str) {
        let old_root = self.client.find(Locator::Css("html")).await.unwrap();
        self.element(css).await.click().await.unwrap();
        crate::wait_for(
            Duration::from_secs(15),
            &format!("clicking {css} loads a page"),
            async || old_root.tag_name().await.is_err(),
        )
        .await;
        self.client
            .wait()
            .for_element(Locator::Css("body"))
            .await
            .unwrap();
    }

    /// Clicks what changes the page in place (a check box, a radio button, a download
    /// link): unlike [`Self::click`], waits for no next page.
    pub async fn press(&self, css: &str) {
        self.element(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// A form field's current value (what is typed, not the `value` attribute).
    pub async fn value(&self, css: &str) -> String {
        self.element(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Whether the check box or radio button is ticked.
    pub async fn is_checked(&self, css: &str) -> bool {
        self.element(css)
            .await
            .prop("checked")
            .await
            .unwrap()
            .as_deref()
            == Some("true")
    }

    /// Whether the element is on the page and shown (not `display: none`, not hidden).
    pub async fn is_shown(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Whether the element's top is inside the window as scrolled now: what a person sees
    /// without scrolling.
    pub async fn is_in_view(&self, css: &str) -> bool {
        self.client
            .execute(
                "const e = document.querySelector(arguments[0]);
                 if (!e) { return false; }
                 const top = e.getBoundingClientRect().top;
                 return top >= 0 && top < window.innerHeight;",
                vec![json!(css)],
            )
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            == json!(true)
    }

    /// The file a link saved under `name` in this browser's download folder, once Chromium
    /// has finished writing it (it writes `<name>.crdownload` first); fails after 15 s.
    /// The file is taken out of the folder, so the next download of that name keeps it
    /// (rather than becoming `name (1)`).
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.join(name);
        let mut bytes = None;
        let saved = crate::poll_until(Duration::from_secs(15), async || {
            let partial = self.downloads.join(format!("{name}.crdownload")).exists();
            if !partial {
                bytes = std::fs::read(&path).ok();
            }
            bytes.is_some()
        })
        .await;
        let seen: Vec<_> = std::fs::read_dir(&self.downloads)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert!(
            saved,
            "{name} was not downloaded; the folder holds {seen:?}"
        );
        std::fs::remove_file(&path).unwrap();
        bytes.unwrap_or_default()
    }

    /// The page's window at one of [`WIDTHS`] (the screenshots put it back to the first).
    pub async fn resize(&self, (width, height): (u32, u32)) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// `target/screenshots/<name>-1280.png` and `-390.png`, then back to the desktop size;
    /// at each width the page must also pass axe with no serious or critical violation.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        for size in WIDTHS {
            self.resize(size).await;
            self.assert_accessible(name, size.0).await;
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{}.png", size.0)), png).unwrap();
        }
        self.resize(WIDTHS[0]).await;
    }

    /// As [`Self::screenshot`], with the element `css` scrolled to the top of the window at
    /// each width: for what a long page shows below the fold.
    pub async fn screenshot_of(&self, name: &str, css: &str) {
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let element = self.element(css).await;
        for size in WIDTHS {
            self.resize(size).await;
            self.assert_accessible(name, size.0).await;
            self.client
                .execute(
                    "arguments[0].scrollIntoView({block: 'start'});",
                    vec![serde_json::to_value(&element).unwrap()],
                )
                .await
                .unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{}.png", size.0)), png).unwrap();
        }
        self.resize(WIDTHS[0]).await;
    }

    /// axe-core's serious and critical violations on the page shown, as a failure.
    pub async fn assert_accessible(&self, name: &str, width: u32) {
        self.client.execute(AXE, vec![]).await.unwrap();
        let found = self.client.execute_async(AXE_RUN, vec![]).await.unwrap();
        let violations: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(
            violations.is_empty(),
            "{name} at {width} px ({}): {violations:#?}",
            self.path().await
        );
    }

    /// The browser's own checks that the layout fits: no element wider than the window
    /// (which a phone shows as a sideways scroll).
    pub async fn assert_no_horizontal_scroll(&self) {
        for size in WIDTHS {
            self.resize(size).await;
            let overflow = self
                .client
                .execute(
                    "return document.documentElement.scrollWidth - window.innerWidth;",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                overflow.as_i64().unwrap_or(0) <= 0,
                "{} is {overflow} px too wide at {} px",
                self.path().await,
                size.0
            );
        }
        self.resize(WIDTHS[0]).await;
    }

    /// Ends the WebDriver session (Chromium quits); dropping then stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.driver.id()) {
            // SAFETY: a plain kill(2) of the process group we created above.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.driver.wait();
    }
}

/// `<workspace>/target/screenshots`, whichever crate directory the test runs from.
pub fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("screenshots")
}
