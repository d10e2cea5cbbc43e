//! E-mails and phones in a page, with a real HTML parser (`scraper`, on html5ever: the
//! browsers' parsing algorithm, so broken markup reads the way a visitor sees it).
//!
//! Sources, best first: `mailto:`/`tel:` links, JSON-LD (`email`, `telephone`, at any depth),
//! then the visible text (scripts and styles skipped), where obfuscated forms like
//! `name [at] domain [dot] com` are read too. Results are validated, normalised and
//! deduplicated in that order.

use scraper::{ElementRef, Html, Node, Selector};
use serde_json::Value;
use url::Url;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    pub emails: Vec<String>,
    /// `+` and digits only: `+15145550199`, `0123456789`.
    pub phones: Vec<String>,
}

impl Contacts {
    /// Adds what `other` found that this does not have yet.
    pub fn merge(&mut self, other: Contacts) {
        for e in other.emails {
            push_unique(&mut self.emails, e);
        }
        for p in other.phones {
            push_unique(&mut self.phones, p);
        }
    }
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Everything the page shows of its e-mails and phones.
pub fn extract_contacts(html: &str, _base: &Url) -> Contacts {
    let doc = Html::parse_document(html);
    let mut found = Contacts::default();
    if let Ok(links) = Selector::parse("a[href]") {
        for a in doc.select(&links) {
            let Some(href) = a.value().attr("href") else {
                continue;
            };
            let lower = href.trim().to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("mailto:") {
                let addr = percent_decode(rest.split('?').next().unwrap_or(""));
                for one in addr.split(',') {
                    if let Some(e) = email(one) {
                        push_unique(&mut found.emails, e);
                    }
                }
            } else if let Some(rest) = lower.strip_prefix("tel:")
                && let Some(p) = phone(&percent_decode(rest))
            {
                push_unique(&mut found.phones, p);
            }
        }
    }
    if let Ok(ld) = Selector::parse(r#"script[type="application/ld+json"]"#) {
        for script in doc.select(&ld) {
            let text: String = script.text().collect();
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                json_ld(&value, &mut found, 0);
            }
        }
    }
    let text = visible_text(doc.root_element());
    for e in emails_in_text(&text) {
        push_unique(&mut found.emails, e);
    }
    for p in phones_in_text(&text) {
        push_unique(&mut found.phones, p);
    }
    found
}

/// `email` and `telephone` anywhere in a JSON-LD document (objects, arrays, `@graph`).
fn json_ld(value: &Value, found: &mut Contacts, depth: usize) {
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
                            push_unique(&mut found.emails, e);
                        }
                    }
                    ("telephone", Value::String(s)) => {
                        if let Some(p) = phone(s) {
                            push_unique(&mut found.phones, p);
                        }
                    }
                    _ => json_ld(v, found, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                json_ld(v, found, depth + 1);
            }
        }
        _ => {}
    }
}

/// The text a visitor reads: every text node outside `script`, `style`, `noscript` and
/// `template`, each followed by a space so words of adjacent elements stay apart.
fn visible_text(root: ElementRef<'_>) -> String {
    let mut out = String::new();
    for node in root.descendants() {
        if let Node::Text(t) = node.value() {
            let hidden = node.ancestors().any(|a| {
                a.value().as_element().is_some_and(|e| {
                    matches!(e.name(), "script" | "style" | "noscript" | "template")
                })
            });
            if !hidden {
                out.push_str(t);
                out.push(' ');
            }
        }
    }
    out
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
fn emails_in_text(text: &str) -> Vec<String> {
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
    let mut out = Vec::new();
    for word in normalised.split(|c: char| c.is_whitespace() || "<>,;\"'()[]".contains(c)) {
        if word.contains('@')
            && let Some(e) = email(word.trim_end_matches('.'))
        {
            push_unique(&mut out, e);
        }
    }
    out
}

/// Phone-shaped runs in text: a `+`, `(` or digit, then digits and separators, 8–15
/// digits in all, grouped the way phones are (not a date, a price or an id).
fn phones_in_text(text: &str) -> Vec<String> {
    let mut out = Vec::new();
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
            push_unique(&mut out, p);
        }
        i = j.max(i + 1);
    }
    out
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
}
