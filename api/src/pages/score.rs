//! Score breakdowns as an owner reads them. The workers store each score with the signals
//! it adds up (`{"total": 72, "signals": [{"signal": "email", "points": 20, "max": 20,
//! "detail": "contact@bakery.fr"}]}`, see `workers/src/pipeline/scoring.rs`) and word the
//! details in English. Here each signal gets its name in the reader's language, and each
//! detail the workers write from a fixed phrase gets that phrase's translation; the other
//! details are data (a website, an e-mail, a business name) and are shown as they are.

use serde::{Deserialize, Serialize};

use super::i18n::Lang;

/// Every signal the scorers name; `score-signal-<name>` is its label.
pub const SIGNALS: [&str; 14] = [
    "website",
    "website_reachable",
    "email",
    "phone",
    "rating",
    "reviews",
    "address",
    "length",
    "names_business",
    "names_city",
    "hashtags",
    "image",
    "call_to_action",
    "clean",
];

/// The fixed phrases of the scorers, with their message (no argument).
const PHRASES: [(&str, &str); 17] = [
    ("no website listed", "score-detail-no-website"),
    ("the site answered", "score-detail-site-answered"),
    ("nothing to fetch", "score-detail-no-website"),
    ("no e-mail found", "score-detail-no-email"),
    ("no phone found", "score-detail-no-phone"),
    ("no rating", "score-detail-no-rating"),
    ("no reviews", "score-detail-no-reviews"),
    ("street, city and postal code", "score-detail-full-address"),
    ("address incomplete", "score-detail-address-incomplete"),
    (
        "the business is not named",
        "score-detail-business-not-named",
    ),
    ("the city is not named", "score-detail-city-not-named"),
    ("an image goes with the post", "score-detail-image"),
    ("no image", "score-detail-no-image"),
    ("asks a question", "score-detail-asks-question"),
    ("no call to action", "score-detail-no-call-to-action"),
    ("no template leftovers", "score-detail-no-leftovers"),
    ("website did not answer", "score-detail-site-silent"),
];

/// Phrases with a number (`"12 reviews"`): the suffix and the message taking `$count`.
const COUNTED: [(&str, &str); 3] = [
    (" reviews", "score-detail-reviews"),
    (" characters", "score-detail-characters"),
    (" hashtags", "score-detail-hashtags"),
];

#[derive(Debug, Deserialize)]
struct Stored {
    total: i64,
    #[serde(default)]
    signals: Vec<StoredSignal>,
}

#[derive(Debug, Deserialize)]
struct StoredSignal {
    signal: String,
    points: i64,
    max: i64,
    #[serde(default)]
    detail: String,
}

/// What a template shows: `{{ t(k=s.label_key) }}` or `s.label`, then the points, then the
/// detail: `{{ t(k=s.detail_key, count=s.count, value=s.value) }}` or `s.value` as is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalRow {
    pub label_key: Option<String>,
    pub label: String,
    pub points: i64,
    pub max: i64,
    /// Every point of this signal was earned (the template marks it as such).
    pub full: bool,
    pub detail_key: Option<&'static str>,
    pub count: Option<i64>,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    pub total: i64,
    pub signals: Vec<SignalRow>,
}

/// The breakdown as stored, or `None` when it is missing or not of the scorers' shape (an
/// older row, a hand-made one): the score is then shown without its details.
pub fn read(stored: Option<&serde_json::Value>, lang: Lang) -> Option<Breakdown> {
    let stored: Stored = serde_json::from_value(stored?.clone()).ok()?;
    if stored.signals.is_empty() {
        return None;
    }
    Some(Breakdown {
        total: stored.total,
        signals: stored.signals.into_iter().map(|s| row(s, lang)).collect(),
    })
}

fn row(s: StoredSignal, lang: Lang) -> SignalRow {
    let known = SIGNALS.contains(&s.signal.as_str());
    let (detail_key, count, value) = detail(&s.signal, &s.detail, lang);
    SignalRow {
        label_key: known.then(|| format!("score-signal-{}", s.signal)),
        // An unknown signal (a newer worker) still reads as words.
        label: s.signal.replace('_', " "),
        points: s.points,
        max: s.max,
        full: s.points >= s.max,
        detail_key,
        count,
        value,
    }
}

/// `(message, $count, $value / the text itself)`.
fn detail(signal: &str, text: &str, lang: Lang) -> (Option<&'static str>, Option<i64>, String) {
    let text = text.trim();
    if let Some((_, key)) = PHRASES.iter().find(|(p, _)| text.starts_with(p)) {
        return (Some(*key), None, String::new());
    }
    for (suffix, key) in COUNTED {
        if let Some(n) = text.strip_suffix(suffix).and_then(|n| n.parse().ok()) {
            return (Some(key), Some(n), String::new());
        }
    }
    if signal == "rating"
        && let Some(r) = text
            .strip_suffix(" stars")
            .and_then(|r| r.parse::<f64>().ok())
    {
        return (Some("score-detail-stars"), None, lang.decimal(r));
    }
    if let Some(word) = text.strip_prefix("asks the reader to ") {
        return (Some("score-detail-asks-to"), None, word.to_owned());
    }
    if let Some(word) = text.strip_prefix("template leftover ") {
        return (
            Some("score-detail-leftover"),
            None,
            word.trim_matches('"').to_owned(),
        );
    }
    (None, None, text.to_owned())
}

/// Every message this module can name, for the catalog test.
pub fn keys() -> Vec<String> {
    let mut keys: Vec<String> = SIGNALS
        .iter()
        .map(|s| format!("score-signal-{s}"))
        .collect();
    keys.extend(PHRASES.iter().map(|(_, k)| (*k).to_owned()));
    keys.extend(COUNTED.iter().map(|(_, k)| (*k).to_owned()));
    for k in [
        "score-detail-stars",
        "score-detail-asks-to",
        "score-detail-leftover",
    ] {
        keys.push(k.to_owned());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::i18n::Catalog;
    use serde_json::json;

    #[test]
    fn fixed_phrases_and_counts_are_translated_and_data_kept() {
        let stored = json!({"total": 45, "signals": [
            {"signal": "website", "points": 15, "max": 15, "detail": "https://a.fr"},
            {"signal": "email", "points": 0, "max": 20, "detail": "no e-mail found"},
            {"signal": "rating", "points": 10, "max": 15, "detail": "4.2 stars"},
            {"signal": "reviews", "points": 10, "max": 15, "detail": "30 reviews"},
            {"signal": "call_to_action", "points": 10, "max": 10, "detail": "asks the reader to book"},
            {"signal": "clean", "points": 0, "max": 10, "detail": "template leftover \"lorem\""},
            {"signal": "sparkle", "points": 1, "max": 2, "detail": "shiny"},
        ]});
        let b = read(Some(&stored), Lang::Fr).unwrap();
        assert_eq!(b.total, 45);
        let s = &b.signals;
        assert_eq!(s[0].label_key.as_deref(), Some("score-signal-website"));
        assert_eq!(
            (s[0].detail_key, s[0].value.as_str()),
            (None, "https://a.fr")
        );
        assert!(s[0].full);
        assert_eq!(s[1].detail_key, Some("score-detail-no-email"));
        assert!(!s[1].full);
        assert_eq!(
            (s[2].detail_key, s[2].value.as_str()),
            (Some("score-detail-stars"), "4,2")
        );
        assert_eq!(
            (s[3].detail_key, s[3].count),
            (Some("score-detail-reviews"), Some(30))
        );
        assert_eq!(s[4].value, "book");
        assert_eq!(s[5].value, "lorem");
        assert_eq!(
            (s[6].label_key.as_deref(), s[6].label.as_str()),
            (None, "sparkle")
        );
        assert_eq!(s[6].value, "shiny");
    }

    #[test]
    fn a_breakdown_of_another_shape_is_not_shown() {
        assert_eq!(read(Some(&json!({"relevance": 30})), Lang::En), None);
        assert_eq!(
            read(Some(&json!({"total": 3, "signals": []})), Lang::En),
            None
        );
        assert_eq!(read(None, Lang::En), None);
    }

    #[test]
    fn every_score_message_exists_in_both_languages() {
        for lang in Lang::ALL {
            let have = Catalog::keys(lang);
            let missing: Vec<_> = keys().into_iter().filter(|k| !have.contains(k)).collect();
            assert!(missing.is_empty(), "{}.ftl lacks {missing:?}", lang.code());
        }
    }
}
