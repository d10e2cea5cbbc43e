//! Explainable scores: each is a sum of named signals, and the breakdown (which signals,
//! how many points of how many, and why) is stored beside the score and shown to the owner,
//! so "72" never has to be taken on trust.
//!
//! Stored as `{"total": 72, "signals": [{"signal": "email", "points": 20, "max": 20,
//! "detail": "contact@bakery.fr"}, ...]}`.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub signal: &'static str,
    pub points: i16,
    pub max: i16,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub total: i16,
    pub signals: Vec<Signal>,
}

impl Score {
    fn from(signals: Vec<Signal>) -> Self {
        let total = signals.iter().map(|s| s.points).sum::<i16>().clamp(0, 100);
        Self { total, signals }
    }

    pub fn breakdown(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn signal(signal: &'static str, points: i16, max: i16, detail: impl Into<String>) -> Signal {
    Signal {
        signal,
        points,
        max,
        detail: detail.into(),
    }
}

/// What lead scoring looks at.
pub struct LeadFacts<'a> {
    pub website: Option<&'a str>,
    /// Why the website could not be read, when it could not.
    pub website_error: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub rating: Option<f64>,
    pub review_count: Option<i32>,
    pub has_full_address: bool,
}

/// How reachable and established a business looks: contacts we can use (e-mail 20, phone
/// 15), a working website (15 + 10), reputation (rating 15, reviews 15), a full address 10.
pub fn lead(f: &LeadFacts<'_>) -> Score {
    let mut s = Vec::new();
    s.push(match f.website {
        Some(w) => signal("website", 15, 15, w),
        None => signal("website", 0, 15, "no website listed"),
    });
    s.push(match (f.website, f.website_error) {
        (Some(_), None) => signal("website_reachable", 10, 10, "the site answered"),
        (Some(_), Some(e)) => signal("website_reachable", 0, 10, e),
        (None, _) => signal("website_reachable", 0, 10, "nothing to fetch"),
    });
    s.push(match f.email {
        Some(e) => signal("email", 20, 20, e),
        None => signal("email", 0, 20, "no e-mail found"),
    });
    s.push(match f.phone {
        Some(p) => signal("phone", 15, 15, p),
        None => signal("phone", 0, 15, "no phone found"),
    });
    s.push(match f.rating {
        Some(r) if r >= 4.5 => signal("rating", 15, 15, format!("{r:.1} stars")),
        Some(r) if r >= 4.0 => signal("rating", 10, 15, format!("{r:.1} stars")),
        Some(r) if r >= 3.5 => signal("rating", 5, 15, format!("{r:.1} stars")),
        Some(r) => signal("rating", 0, 15, format!("{r:.1} stars")),
        None => signal("rating", 0, 15, "no rating"),
    });
    s.push(match f.review_count {
        Some(n) if n >= 100 => signal("reviews", 15, 15, format!("{n} reviews")),
        Some(n) if n >= 20 => signal("reviews", 10, 15, format!("{n} reviews")),
        Some(n) if n >= 1 => signal("reviews", 5, 15, format!("{n} reviews")),
        _ => signal("reviews", 0, 15, "no reviews"),
    });
    s.push(if f.has_full_address {
        signal("address", 10, 10, "street, city and postal code")
    } else {
        signal("address", 0, 10, "address incomplete")
    });
    Score::from(s)
}

/// What quality scoring looks at.
pub struct PostFacts<'a> {
    pub text: &'a str,
    pub hashtags: &'a [String],
    pub business_name: &'a str,
    pub city: &'a str,
    pub has_image: bool,
}

/// Words that ask the reader to do something.
const CALLS_TO_ACTION: &[&str] = &[
    "book",
    "visit",
    "call",
    "share",
    "comment",
    "tell us",
    "join",
    "discover",
    "order",
    "contact",
    "réserve",
    "venez",
    "découvr",
    "partage",
    "commente",
    "appel",
    "contactez",
];

/// Whether the post is ready to publish as is: a length LinkedIn readers finish (20), it
/// names the business (15) and the city (10), 3–5 hashtags (15), an image (20), a call to
/// action (10), and no template leftovers (10).
pub fn post(f: &PostFacts<'_>) -> Score {
    let text = f.text;
    let lower = text.to_lowercase();
    let chars = text.chars().count();
    let mut s = Vec::new();
    s.push(match chars {
        80..=1300 => signal("length", 20, 20, format!("{chars} characters")),
        40..=79 | 1301..=2000 => signal("length", 10, 20, format!("{chars} characters")),
        _ => signal("length", 0, 20, format!("{chars} characters")),
    });
    let name = f.business_name.trim().to_lowercase();
    s.push(if !name.is_empty() && lower.contains(&name) {
        signal("names_business", 15, 15, f.business_name)
    } else {
        signal("names_business", 0, 15, "the business is not named")
    });
    let city = f.city.trim().to_lowercase();
    s.push(if !city.is_empty() && lower.contains(&city) {
        signal("names_city", 10, 10, f.city)
    } else {
        signal("names_city", 0, 10, "the city is not named")
    });
    let tags = f.hashtags.len();
    s.push(match tags {
        3..=5 => signal("hashtags", 15, 15, format!("{tags} hashtags")),
        1..=2 | 6..=8 => signal("hashtags", 8, 15, format!("{tags} hashtags")),
        _ => signal("hashtags", 0, 15, format!("{tags} hashtags")),
    });
    s.push(if f.has_image {
        signal("image", 20, 20, "an image goes with the post")
    } else {
        signal("image", 0, 20, "no image")
    });
    s.push(match CALLS_TO_ACTION.iter().find(|w| lower.contains(*w)) {
        Some(w) => signal("call_to_action", 10, 10, format!("asks the reader to {w}")),
        None if text.contains('?') => signal("call_to_action", 10, 10, "asks a question"),
        None => signal("call_to_action", 0, 10, "no call to action"),
    });
    let leftovers = ["lorem", "[", "{", "todo", "insert", "xxx"]
        .iter()
        .find(|w| lower.contains(*w));
    s.push(match leftovers {
        Some(w) => signal("clean", 0, 10, format!("template leftover {w:?}")),
        None => signal("clean", 10, 10, "no template leftovers"),
    });
    Score::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_lead_scores_100_and_an_empty_one_0() {
        let full = lead(&LeadFacts {
            website: Some("https://a.fr"),
            website_error: None,
            email: Some("a@a.fr"),
            phone: Some("+33123456789"),
            rating: Some(4.7),
            review_count: Some(250),
            has_full_address: true,
        });
        assert_eq!(full.total, 100);
        assert!(full.signals.iter().all(|s| s.points == s.max));
        let empty = lead(&LeadFacts {
            website: None,
            website_error: None,
            email: None,
            phone: None,
            rating: None,
            review_count: None,
            has_full_address: false,
        });
        assert_eq!(empty.total, 0);
        assert_eq!(
            empty.signals.iter().map(|s| s.max).sum::<i16>(),
            100,
            "the maxima add up to 100"
        );
    }

    #[test]
    fn an_unreachable_site_costs_its_points_and_says_why() {
        let s = lead(&LeadFacts {
            website: Some("https://a.fr"),
            website_error: Some("website did not answer within 10 s"),
            email: None,
            phone: Some("+33123456789"),
            rating: Some(4.1),
            review_count: Some(30),
            has_full_address: true,
        });
        assert_eq!(s.total, 15 + 15 + 10 + 10 + 10);
        let reach = s.signals.iter().find(|s| s.signal == "website_reachable");
        assert_eq!(
            reach.map(|s| s.detail.as_str()),
            Some("website did not answer within 10 s")
        );
        let json = s.breakdown();
        assert_eq!(json["total"], 60);
        assert_eq!(json["signals"][0]["signal"], "website");
    }

    #[test]
    fn post_quality_counts_each_signal() {
        let tags = vec!["#a".to_owned(), "#b".to_owned(), "#c".to_owned()];
        let good = post(&PostFacts {
            text: "Big news! At Café Lumière in Lyon we roast our own beans every morning. \
                   Book your table today and tell us what you think.",
            hashtags: &tags,
            business_name: "Café Lumière",
            city: "Lyon",
            has_image: true,
        });
        assert_eq!(good.total, 100);
        let poor = post(&PostFacts {
            text: "Lorem ipsum [insert text]",
            hashtags: &[],
            business_name: "Café Lumière",
            city: "Lyon",
            has_image: false,
        });
        assert_eq!(poor.total, 0);
    }
}
