//! Fetching a lead's website, safely (see the module above).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::address;
use super::contacts::{self, Contacts};
use super::page::{self, Link};
use crate::config::WebsiteConfig;
use crate::error::Error;

/// Why a website could not be read, in words for the lead's score breakdown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebsiteError {
    #[error("website address {0:?} is not an http(s) URL")]
    BadUrl(String),
    #[error("website host {host} is {why} ({ip}): not fetched")]
    Forbidden {
        host: String,
        ip: IpAddr,
        why: &'static str,
    },
    #[error("website host {0} does not resolve")]
    Unresolved(String),
    #[error("website did not answer within {0} s")]
    Timeout(u64),
    #[error("website could not be reached: {0}")]
    Unreachable(String),
    #[error("website answered {0}")]
    Status(u16),
    #[error("website redirects more than {0} times")]
    TooManyRedirects(u8),
    #[error("website is larger than {0} KiB")]
    TooLarge(usize),
    #[error("website is not HTML ({0})")]
    NotHtml(String),
    /// Only the web's own ports: a lead's URL naming another one is aimed at a service
    /// (a database, an admin console), not at a website.
    #[error("website port {0} is not 80 or 443: not fetched")]
    Port(u16),
    /// Reading a page is CPU work on input someone else wrote; one built to be costly is
    /// given up rather than waited for.
    #[error("website page could not be read within {0} ms: not read")]
    TooSlowToRead(u64),
    /// The page reader failed (it panicked, or the runtime is shutting down).
    #[error("website could not be read: {0}")]
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPage {
    /// Where the page was found, after redirects (relative links resolve against it).
    pub final_url: Url,
    pub html: String,
}

/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct SiteFetcher {
    config: WebsiteConfig,
}

/// Same-site pages worth a second look when the home page lacks an e-mail or a phone.
const CONTACT_WORDS: &[&str] = &[
    "contact",
    "nous-contacter",
    "contactez",
    "about",
    "a-propos",
    "qui-sommes",
    "impressum",
];
/// Extra pages read at most, after the home page.
const MAX_EXTRA_PAGES: usize = 2;
/// Reading a 2 MiB page takes tens of milliseconds; one taking a second was built to be
/// slow, and is given up rather than let it hold a blocking thread for the whole deadline.
const READ_BUDGET: Duration = Duration::from_secs(1);

impl SiteFetcher {
    pub fn new(config: &WebsiteConfig) -> Result<Self, Error> {
        if config.timeout_ms == 0 || config.max_bytes == 0 {
            return Err(Error::Config(
                "website.timeout_ms and website.max_bytes must be above 0".into(),
            ));
        }
        Ok(Self {
            config: config.clone(),
        })
    }

    /// The home page, then up to two contact-like pages of the same site while an e-mail
    /// or a phone is missing, all within one `website.timeout_ms`: a site whose pages
    /// each answer just in time must not hold the job for three deadlines. An error on
    /// an extra page (its share of the deadline used up included) keeps what the home
    /// page gave.
    pub async fn fetch_contacts(&self, url: &str) -> Result<Contacts, WebsiteError> {
        let deadline = Instant::now() + self.timeout();
        let home = self.fetch_until(url, deadline).await?;
        let (mut found, links) = self.read(home, deadline).await?;
        if found.emails.is_empty() || found.phones.is_empty() {
            for link in links {
                if let Ok(page) = self.fetch_until(link.as_str(), deadline).await
                    && let Ok((more, _)) = self.read(page, deadline).await
                {
                    found.merge(more);
                }
                let complete = !found.emails.is_empty() && !found.phones.is_empty();
                if complete || Instant::now() >= deadline {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// One page, following at most `max_redirects` redirects, each hop checked, within
    /// `website.timeout_ms`.
    pub async fn fetch(&self, url: &str) -> Result<FetchedPage, WebsiteError> {
        self.fetch_until(url, Instant::now() + self.timeout()).await
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.config.timeout_ms)
    }

    /// The error for a deadline passed: the whole allowance, in seconds.
    fn timed_out(&self) -> WebsiteError {
        WebsiteError::Timeout(self.timeout().as_secs().max(1))
    }

    /// The page's contacts and its contact-like links. Parsing is CPU work on hostile
    /// input: it runs on the blocking pool, so a costly page never keeps the runtime's
    /// threads from a worker's heartbeats and keepalives, and it stops at the deadline or
    /// after [`READ_BUDGET`], whichever comes first.
    async fn read(
        &self,
        fetched: FetchedPage,
        deadline: Instant,
    ) -> Result<(Contacts, Vec<Url>), WebsiteError> {
        let budget_end = Instant::now() + READ_BUDGET;
        let until = deadline.min(budget_end);
        let std_until = until.into_std();
        let read = tokio::task::spawn_blocking(move || {
            let page = page::read(&fetched.html, Some(std_until))?;
            let links = contact_links(&page.links, &fetched.final_url);
            Ok::<_, page::OutOfTime>((contacts::from_page(&page), links))
        })
        .await
        .map_err(|e| WebsiteError::Unreadable(e.to_string()))?;
        read.map_err(|page::OutOfTime| {
            if until == deadline {
                self.timed_out()
            } else {
                WebsiteError::TooSlowToRead(READ_BUDGET.as_millis() as u64)
            }
        })
    }

    /// [`Self::fetch`] against a deadline that the pages of one site share.
    async fn fetch_until(&self, url: &str, deadline: Instant) -> Result<FetchedPage, WebsiteError> {
        let mut current = parse(url)?;
        let mut hops = 0u8;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timed_out());
            }
            let response = tokio::time::timeout(left, self.request(&current, left))
                .await
                .map_err(|_| self.timed_out())??;
            let status = response.status();
            if status.is_redirection() {
                hops += 1;
                if hops > self.config.max_redirects {
                    return Err(WebsiteError::TooManyRedirects(self.config.max_redirects));
                }
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(WebsiteError::Status(status.as_u16()))?;
                let next = current
                    .join(location)
                    .map_err(|_| WebsiteError::BadUrl(location.to_owned()))?;
                current = parse(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(WebsiteError::Status(status.as_u16()));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let html = tokio::time::timeout(left, self.body(response))
                .await
                .map_err(|_| self.timed_out())??;
            return Ok(FetchedPage {
                final_url: current,
                html,
            });
        }
    }

    /// One request to the address this function checked, not whatever DNS says later,
    /// and never through a proxy from the environment (`HTTP_PROXY`...): a proxy would
    /// connect on its own, to whatever the name means to it, past these checks.
    async fn request(&self, url: &Url, left: Duration) -> Result<reqwest::Response, WebsiteError> {
        let host = url
            .host_str()
            .ok_or_else(|| WebsiteError::BadUrl(url.to_string()))?
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs = self.resolve(&host, port).await?;
        // After the address check, whose refusal says more about a URL aimed inside.
        if !self.config.allow_private && !address::port_allowed(port) {
            return Err(WebsiteError::Port(port));
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(left)
            .user_agent(&self.config.user_agent)
            .resolve_to_addrs(bare, &addrs)
            .build()
            .map_err(|e| WebsiteError::Unreachable(e.to_string()))?;
        let request = client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml");
        crate::metrics::send(crate::metrics::Route::Site, request)
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    self.timed_out()
                } else {
                    WebsiteError::Unreachable(without_url(e))
                }
            })
    }

    /// Every address of `host`, each one allowed; one forbidden address refuses the host
    /// (a name that resolves to both is someone's trick).
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, WebsiteError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|_| WebsiteError::Unresolved(host.to_owned()))?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(WebsiteError::Unresolved(host.to_owned()));
        }
        if !self.config.allow_private {
            for a in &addrs {
                if let Some(why) = address::forbidden(a.ip()) {
                    return Err(WebsiteError::Forbidden {
                        host: host.to_owned(),
                        ip: a.ip(),
                        why,
                    });
                }
            }
        }
        Ok(addrs)
    }

    /// The body as text, read only up to the size cap, only if it is HTML.
    async fn body(&self, mut response: reqwest::Response) -> Result<String, WebsiteError> {
        let cap = self.config.max_bytes;
        let too_large = WebsiteError::TooLarge(cap / 1024);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        if let Some(ct) = &content_type {
            let mime = ct.split(';').next().unwrap_or("").trim();
            if mime != "text/html" && mime != "application/xhtml+xml" {
                return Err(WebsiteError::NotHtml(mime.to_owned()));
            }
        }
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| WebsiteError::Unreachable(without_url(e)))?
        {
            if body.len() + chunk.len() > cap {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8_lossy(&body).into_owned();
        if content_type.is_none() && !looks_like_html(&text) {
            return Err(WebsiteError::NotHtml("no content type, not HTML".into()));
        }
        Ok(text)
    }
}

/// http(s) only; a bare `bakery.fr` (as listings often give) is taken as http.
fn parse(url: &str) -> Result<Url, WebsiteError> {
    let url = url.trim();
    let parsed = match Url::parse(url) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) if !url.contains(':') || url.contains('.') => {
            Url::parse(&format!("http://{url}"))
                .map_err(|_| WebsiteError::BadUrl(url.to_owned()))?
        }
        Err(_) => return Err(WebsiteError::BadUrl(url.to_owned())),
    };
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(WebsiteError::BadUrl(url.to_owned()));
    }
    Ok(parsed)
}

fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.contains("<html") || head.contains("<!doctype html") || head.contains("<body")
}

/// reqwest's message and causes, without the URL (a query may carry anything).
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

/// Same-site links that look like a contact or about page, from their address or their
/// words.
fn contact_links(links: &[Link], base: &Url) -> Vec<Url> {
    let words: Vec<(&str, String)> = CONTACT_WORDS
        .iter()
        .map(|w| (*w, w.replace('-', " ")))
        .collect();
    let mut out: Vec<Url> = Vec::new();
    for link in links {
        let Ok(url) = base.join(&link.href) else {
            continue;
        };
        let same_site =
            url.host_str() == base.host_str() && matches!(url.scheme(), "http" | "https");
        if !same_site || url == *base || out.contains(&url) {
            continue;
        }
        let path = url.path().to_lowercase();
        let text = link.text.to_lowercase();
        if words
            .iter()
            .any(|(w, spaced)| path.contains(w) || text.contains(spaced.as_str()))
        {
            out.push(url);
        }
        if out.len() >= MAX_EXTRA_PAGES {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_fetched() {
        assert_eq!(parse("bakery.fr").unwrap().as_str(), "http://bakery.fr/");
        assert!(parse("https://bakery.fr/x").is_ok());
        for bad in [
            "ftp://bakery.fr",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "mailto:a@b.fr",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn contact_pages_of_the_same_site_are_found() {
        let base = Url::parse("http://a.fr/").unwrap();
        let html = r#"<a href="/contact">Contact</a><a href="http://evil.fr/contact">x</a>
                      <a href="/menu">Menu</a><a href="a-propos.html">À propos</a>"#;
        let page = page::read(html, None).unwrap();
        let links: Vec<String> = contact_links(&page.links, &base)
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            links,
            vec!["http://a.fr/contact", "http://a.fr/a-propos.html"]
        );
    }
}
