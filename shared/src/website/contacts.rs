//! E-mails and phones in a page, read from one pass of the browsers' tokenizer (see
//! [`super::page`]: broken markup reads the way a visitor sees it, in time linear in the
//! page's size).
//!
//! Sources, best first: `mailto:`/`tel:` links, JSON-LD (`email`, `telephone`, at any depth),
//! then the visible text (scripts and styles skipped), where obfuscated forms like
//! `name [at] domain [dot] com` are read too. Results are validated, normalised and
//! deduplicated in that order.

use std::collections::HashSet;

use serde_json::Value;
use url::Url;

use super::page::{self, Page};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    pub emails: Vec<String>,
    /// `+` and digits only: `+15145550199`, `0123456789`.
    pub phones: Vec<String>,
}

impl Contacts {
    /// Adds what `other` found that this does not have yet.
    pub fn merge(&mut self, other: Contacts) {
        let mut emails = Unique::from(std::mem::take(&mut self.emails));
        let mut phones = Unique::from(std::mem::take(&mut self.phones));
        other.emails.into_iter().for_each(|e| emails.push(e));
        other.phones.into_iter().for_each(|p| phones.push(p));
        self.emails = emails.list;
        self.phones = phones.list;
    }
}

/// A list without repeats, in first-seen order. The set makes each addition O(1): a page
/// listing 10,000 addresses must not cost 5 * 10^7 comparisons.
#[derive(Default)]
struct Unique {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Unique {
    fn push(&mut self, value: String) {
        if !self.seen.contains(&value) {
            self.seen.insert(value.clone());
            self.list.push(value);
        }
    }
}

impl From<Vec<String>> for Unique {
    fn from(list: Vec<String>) -> Self {
        let mut unique = Self::default();
        list.into_iter().for_each(|v| unique.push(v));
        unique
    }
}

/// Everything the page shows of its e-mails and phones. CPU work in proportion to the
/// page's size, without a time limit: `SiteFetcher` calls [`from_page`] off the async
/// runtime with a deadline instead.
pub fn extract_contacts(html: &str, _base: &Url) -> Contacts {
    match page::read(html, None) {
        Ok(page) => from_page(&page),
        // Without a deadline a read cannot run out of time.
        Err(page::OutOfTime) => Contacts::default(),
    }
}

/// The contacts of a page already read.
pub(crate) fn from_page(page: &Page) -> Contacts {
    let mut emails = Unique::default();
    let mut phones = Unique::default();
    for link in &page.links {
        let lower = link.href.trim().to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("mailto:") {
            let addr = percent_decode(rest.split('?').next().unwrap_or(""));
            for one in addr.split(',') {
                if let Some(e) = email(one) {
                    emails.push(e);
                }
            }
        } else if let Some(rest) = lower.strip_prefix("tel:")
            && let Some(p) = phone(&percent_decode(rest))
        {
            phones.push(p);
        }
    }
    for text in &page.json_ld {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            json_ld(&value, &mut emails, &mut phones, 0);
        }
    }
    emails_in_text(&page.text, &mut emails);
    phones_in_text(&page.text, &mut phones);
    Contacts {
        emails: emails.list,
        phones: phones.list,
    }
}

/// `email` and `telephone` anywhere in a JSON-LD document (objects, arrays, `@graph`).
fn json_ld(value: &Value, emails: &mut Unique, phones: &mut Unique, depth: usize) {
    if depth > 16 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("email", Value::String(s)) => {
                        let s = s.trim().trim_start_matches("mailto:");
                        if let Some(e) = email(s) {
                            emails.push(e);
                        }
                    }
                    ("telephone", Value::String(s)) => {
                        if let Some(p) = phone(s) {
                            phones.push(p);
                        }
                    }
                    _ => json_ld(v, emails, phones, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                json_ld(v, emails, phones, depth + 1);
            }
        }
        _ => {}
    }
}

/// Placeholders and addresses that are never a business's.
const NOT_AN_EMAIL_DOMAIN: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "domain.com",
    "yourdomain.com",
    "email.com",
    "sentry.io",
    "wixpress.com",
];
const NOT_AN_EMAIL_TLD: &[&str] = &["png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js"];

/// A sane `local@domain.tld`, domain lower-cased; `None` for anything else.
pub fn email(raw: &str) -> Option<String> {
    let raw = raw
        .trim()
        .trim_matches(|c: char| "<>()[]{},;:\"'".contains(c));
    let (local, domain) = raw.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-'".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    let domain_ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic());
    if !local_ok || !domain_ok || NOT_AN_EMAIL_TLD.contains(&tld) {
        return None;
    }
    if NOT_AN_EMAIL_DOMAIN.contains(&domain.as_str()) {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// `+` and 8–15 digits, from any usual way of writing a number.
pub fn phone(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw
        .chars()
        .any(|c| !(c.is_ascii_digit() || " .-()/+\u{a0}".contains(c)))
    {
        return None;
    }
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if !(8..=15).contains(&digits.len()) {
        return None;
    }
    let plus = raw.starts_with('+') || raw.starts_with("00");
    let digits = if raw.starts_with("00") {
        digits[2..].to_owned()
    } else {
        digits
    };
    Some(if plus { format!("+{digits}") } else { digits })
}

/// E-mails in running text, including `name [at] domain [dot] com` and `name(at)domain.com`.
fn emails_in_text(text: &str, out: &mut Unique) {
    let mut normalised = text.to_owned();
    for (from, to) in [
        (" [at] ", "@"),
        ("[at]", "@"),
        (" (at) ", "@"),
        ("(at)", "@"),
        (" {at} ", "@"),
        (" [dot] ", "."),
        ("[dot]", "."),
        (" (dot) ", "."),
        ("(dot)", "."),
    ] {
        normalised = normalised.replace(from, to);
    }
    for word in normalised.split(|c: char| c.is_whitespace() || "<>,;\"'()[]".contains(c)) {
        if word.contains('@')
            && let Some(e) = email(word.trim_end_matches('.'))
        {
            out.push(e);
        }
    }
}

/// Phone-shaped runs in text: a `+`, `(` or digit, then digits and separators, 8–15
/// digits in all, grouped the way phones are (not a date, a price or an id).
fn phones_in_text(text: &str, out: &mut Unique) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c == '+' || c == '(' || c.is_ascii_digit();
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '/');
        if !starts || after_word {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && (chars[j].is_ascii_digit() || " .-()+\u{a0}".contains(chars[j])) {
            j += 1;
        }
        let run: String = chars[i..j].iter().collect();
        let run = run.trim_end_matches([' ', '.', '-', '(', '\u{a0}']);
        let groups = run
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .count();
        // A bare digit string is more often an id than a phone; a real number is written
        // in groups (or with a +). In text, 9 digits at least: a date (2024-05-01) has 8.
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if (groups >= 2 || run.starts_with('+'))
            && digits >= 9
            && !run.contains("..")
            && let Some(p) = phone(run)
        {
            out.push(p);
        }
        i = j.max(i + 1);
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://a.example.net/").unwrap()
    }

    #[test]
    fn links_json_ld_text_and_obfuscated_forms_are_read() {
        let html = r#"<html><body>
            <a href="mailto:Contact@Boulangerie.FR?subject=Hi">write</a>
            <a href="tel:+33%201%2023%2045%2067%2089">call</a>
            <script type="application/ld+json">
              {"@context":"https://schema.org","@graph":[{"@type":"LocalBusiness",
               "email":"mailto:hello@bakery.fr","telephone":"+1 514-555-0199"}]}
            </script>
            <p>Or: info@pains-co.fr — Téléphone : 01 23 45 67 89</p>
            <p>Devis : bonjour [at] fournil [dot] fr, (514) 555-0123</p>
            <script>var x = "tracker@analytics.js.com";</script>
        </body></html>"#;
        let c = extract_contacts(html, &base());
        assert_eq!(
            c.emails,
            vec![
                "contact@boulangerie.fr",
                "hello@bakery.fr",
                "info@pains-co.fr",
                "bonjour@fournil.fr"
            ]
        );
        assert_eq!(
            c.phones,
            vec!["+33123456789", "+15145550199", "0123456789", "5145550123"]
        );
    }

    #[test]
    fn look_alikes_are_not_contacts() {
        let html = r#"<body><img src="logo@2x.png"><p>logo@2x.png user@example.com
            Open 2024-05-01, price 12.50, order 123456789012, SIRET 12345678900012</p>
            <a href="tel:call-us">x</a></body>"#;
        let c = extract_contacts(html, &base());
        assert!(c.emails.is_empty(), "{:?}", c.emails);
        assert!(c.phones.is_empty(), "{:?}", c.phones);
    }

    #[test]
    fn merge_keeps_order_and_drops_repeats() {
        let mut a = Contacts {
            emails: vec!["a@b.fr".into()],
            phones: vec![],
        };
        a.merge(Contacts {
            emails: vec!["a@b.fr".into(), "c@d.fr".into()],
            phones: vec!["+33123456789".into()],
        });
        assert_eq!(a.emails, vec!["a@b.fr", "c@d.fr"]);
        assert_eq!(a.phones, vec!["+33123456789"]);
    }

    /// `unit` repeated (numbered where it has `{}`) up to the default size cap, 2 MiB.
    fn up_to_cap(head: &str, unit: &str) -> String {
        let cap = 2 * 1024 * 1024;
        let mut page = format!("<!doctype html><html><body>{head}");
        for i in 0.. {
            let one = unit.replace("{}", &i.to_string());
            if page.len() + one.len() > cap {
                break;
            }
            page.push_str(&one);
        }
        page
    }

    /// A reader in quadratic time takes minutes on these pages, a linear one tens of
    /// milliseconds in release; the debug bound leaves room for unoptimised code on a
    /// loaded machine and still tells the two apart.
    #[test]
    fn hostile_pages_at_the_size_cap_are_read_in_linear_time() {
        let limit = if cfg!(debug_assertions) {
            std::time::Duration::from_secs(5)
        } else {
            std::time::Duration::from_secs(1)
        };
        let mut emails = String::new();
        for i in 0..10_000 {
            emails.push_str(&format!(
                r#"<p><a href="mailto:u{i}@d{i}.fr">u{i}@d{i}.fr</a> u{i} [at] d{i} [dot] fr</p>"#
            ));
        }
        for (name, page, expected_emails) in [
            // ~350,000 elements, each inside the previous one.
            ("deep nesting", up_to_cap("", "<div>a"), 0),
            ("300k elements", up_to_cap("", "<br>a"), 0),
            (
                "script in deep nesting",
                up_to_cap("<script>", "<div>a@b.fr "),
                0,
            ),
            ("10k e-mails", up_to_cap(&emails, "<p>x</p>"), 10_000),
        ] {
            // On its own thread, so a reader that takes minutes fails the test instead.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                let found = extract_contacts(&page, &base());
                let _ = tx.send((found, started.elapsed()));
            });
            let (found, took) = rx
                .recv_timeout(limit)
                .unwrap_or_else(|_| panic!("{name}: not read within {limit:?}"));
            eprintln!("{name}: {took:?}");
            assert_eq!(found.emails.len(), expected_emails, "{name}");
            if expected_emails > 0 {
                // Each address once (it is there three times), in page order.
                assert_eq!(found.emails[0], "u0@d0.fr");
                assert_eq!(found.emails[9_999], "u9999@d9999.fr");
            }
        }
    }
}
