//! What a generated post must not carry on the owner's behalf without her look: a link,
//! an e-mail address or an @handle that is not hers.
//!
//! The business a post spotlights comes from a public directory, written by whoever listed
//! it, and the model reads it: a listing can smuggle "visit evil.example" or "follow
//! @someone" into the post. The prompt tells the model to copy none of it, but a model does
//! not always obey, so the result is checked too: a post carrying anything of the kind
//! that is not on the owner's own site's domain is never approved by itself; it waits in
//! the gallery with the reason.

/// The links, e-mail addresses and handles in `text` that are not the owner's, in order.
/// `owner_site` is the website on her profile (any form: `https://www.bakery.fr/`,
/// `bakery.fr`).
pub fn foreign_mentions(text: &str, owner_site: Option<&str>) -> Vec<String> {
    let own = owner_site.and_then(host_of);
    let mut found = Vec::new();
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| {
            matches!(
                c,
                '(' | ')' | '[' | ']' | '<' | '>' | ',' | ';' | '!' | '?' | '"' | '\''
            )
        });
        let word = word.trim_end_matches(['.', ':']);
        let foreign = if let Some(handle) = word.strip_prefix('@') {
            // Any handle: the owner's own LinkedIn handle is not known here.
            handle.chars().next().is_some_and(char::is_alphanumeric)
        } else if let Some((_, domain)) = word.split_once('@') {
            looks_like_domain(domain) && !is_own(domain, own.as_deref())
        } else if let Some(host) = host_of(word) {
            !is_own(&host, own.as_deref())
        } else {
            false
        };
        if foreign && !found.iter().any(|f| f == word) {
            found.push(word.to_owned());
        }
    }
    found
}

/// The host a word names, when it is a link: `https://x.fr/a`, `www.x.fr`, `x.fr/menu`.
fn host_of(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.split(':').next().unwrap_or(host);
    let host = host.strip_prefix("www.").unwrap_or(host);
    looks_like_domain(host).then(|| host.to_owned())
}

/// `name.tld` with a top-level part of letters only (so "9.50" or "v1.2" are not links).
fn looks_like_domain(s: &str) -> bool {
    let Some((name, tld)) = s.rsplit_once('.') else {
        return false;
    };
    !name.is_empty()
        && (2..=24).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && name.chars().any(|c| c.is_ascii_alphabetic())
}

fn is_own(host: &str, own: Option<&str>) -> bool {
    let host = host.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    own.is_some_and(|own| host == own || host.ends_with(&format!(".{own}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_addresses_and_handles_not_the_owners_are_found() {
        let own = Some("https://www.boulangerie-ana.fr/");
        // (post, what is foreign)
        let cases: [(&str, &[&str]); 8] = [
            ("Fresh bread every morning! #Lyon", &[]),
            ("Prices from 9.50 € (v1.2 menu)", &[]),
            (
                "Order at boulangerie-ana.fr or www.boulangerie-ana.fr/menu.",
                &[],
            ),
            ("Write to hello@boulangerie-ana.fr", &[]),
            (
                "Visit https://evil.example/win now!",
                &["https://evil.example/win"],
            ),
            ("Follow @someone for more", &["@someone"]),
            (
                "Mail promo@evil.example, or see www.evil.example.",
                &["promo@evil.example", "www.evil.example"],
            ),
            (
                "shop.boulangerie-ana.fr is ours; boulangerie-ana.fr.evil.io is not",
                &["boulangerie-ana.fr.evil.io"],
            ),
        ];
        for (post, foreign) in cases {
            assert_eq!(foreign_mentions(post, own), foreign, "{post}");
        }
        // Without a site of her own, every link is someone else's.
        assert_eq!(foreign_mentions("see bakery.fr", None), ["bakery.fr"]);
    }
}
