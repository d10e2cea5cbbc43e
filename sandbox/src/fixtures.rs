//! Invented local businesses: deterministic for a seed and a query, with the gaps real
//! listings have (no website, no phone, no rating, no address, components in any order).

use serde_json::{Value, json};

/// splitmix64 over a seed and some text: the sandbox's only source of "randomness".
pub(crate) fn hash(seed: u64, text: &str) -> u64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for b in text.bytes() {
        h = mix(h ^ u64::from(b));
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn pick<'a>(h: u64, list: &[&'a str]) -> &'a str {
    list[usize::try_from(h % list.len() as u64).unwrap_or(0)]
}

/// Results a query has: 60 (three pages of 20), or none for a query naming the city
/// "Nowhere", or 7 for a query naming "Smallville".
pub(crate) fn total_for(query: &str) -> usize {
    let q = query.to_lowercase();
    if q.contains("nowhere") {
        0
    } else if q.contains("smallville") {
        7
    } else {
        60
    }
}

/// "dentists in Guelph, Ontario" → ("dentists", "Guelph").
pub(crate) fn industry_and_city(query: &str) -> (String, String) {
    let (industry, place) = match query.rsplit_once(" in ") {
        Some((i, p)) => (i.trim(), p.trim()),
        None => (query.trim(), "Springfield"),
    };
    let city = place.split(',').next().unwrap_or(place).trim();
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    (
        if industry.is_empty() {
            "business".to_owned()
        } else {
            industry.to_owned()
        },
        cap(if city.is_empty() { "Springfield" } else { city }),
    )
}

pub(crate) fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The phone of a site's business, in national and international form, from its slug,
/// so the listing and the website agree.
pub(crate) fn phone(seed: u64, slug: &str) -> (String, String) {
    let h = hash(seed, &format!("phone:{slug}"));
    let a = 200 + h % 700;
    let b = 555;
    let c = (h >> 16) % 10_000;
    (format!("({a}) {b}-{c:04}"), format!("+1 {a}-{b}-{c:04}"))
}

/// The e-mail a site publishes.
pub(crate) fn email(seed: u64, slug: &str) -> String {
    let user = pick(
        hash(seed, &format!("mail:{slug}")),
        &["contact", "hello", "info", "bonjour", "team"],
    );
    format!("{user}@{}.example.com", slug)
}

const ADJECTIVES: [&str; 12] = [
    "Golden",
    "Maple",
    "Riverside",
    "Blue Door",
    "Corner",
    "Old Town",
    "Sunny",
    "Harbour",
    "Little",
    "North Star",
    "Green Leaf",
    "Heritage",
];
const SUFFIXES: [&str; 6] = ["& Co", "House", "Studio", "Collective", "Atelier", "Family"];
const STREETS: [&str; 8] = [
    "Main St",
    "Carden St",
    "Rue Saint-Paul",
    "King St W",
    "Oak Ave",
    "Quai des Brumes",
    "Market Sq",
    "Wyndham St N",
];

/// The place at `index` (0-based) of the query's results, as the full Places (New) object;
/// the caller applies the field mask. `base` is the sandbox's own URL for websites.
pub(crate) fn place(seed: u64, query: &str, index: usize, base: &str) -> Value {
    let (industry, city) = industry_and_city(query);
    let h = hash(seed, &format!("{query}#{index}"));
    let name = format!(
        "{} {} {}",
        pick(h, &ADJECTIVES),
        capitalize(&industry),
        pick(h >> 8, &SUFFIXES)
    );
    let slug = format!("{}-{:06x}", slugify(&name), h & 0xFF_FFFF);
    let mut place = json!({
        "id": format!("ChIJ{:016x}", h),
        "displayName": {"text": name, "languageCode": "en"},
        "location": {
            "latitude": 43.5 + ((h >> 20) % 1000) as f64 / 10_000.0,
            "longitude": -80.2 - ((h >> 30) % 1000) as f64 / 10_000.0,
        },
    });
    let obj = place.as_object_mut();
    let Some(obj) = obj else { return place };
    // About 1 in 10 is a service-area business: no address at all.
    if h % 10 != 3 {
        let number = 1 + (h >> 12) % 400;
        let street = pick(h >> 24, &STREETS);
        let postal = format!("N1H {}A{}", (h >> 4) % 10, (h >> 6) % 10);
        obj.insert(
            "formattedAddress".into(),
            json!(format!("{number} {street}, {city}, ON {postal}, Canada")),
        );
        let mut components = vec![
            json!({"longText": city, "shortText": city, "types": ["locality", "political"], "languageCode": "en"}),
            json!({"longText": "Ontario", "shortText": "ON", "types": ["administrative_area_level_1", "political"], "languageCode": "en"}),
            json!({"longText": postal, "shortText": postal, "types": ["postal_code"], "languageCode": "en"}),
            json!({"longText": "Canada", "shortText": "CA", "types": ["country", "political"], "languageCode": "en"}),
            json!({"longText": number.to_string(), "shortText": number.to_string(), "types": ["street_number"], "languageCode": "en"}),
        ];
        // Order is not guaranteed by Google: rotate it.
        let rot = usize::try_from((h >> 40) % components.len() as u64).unwrap_or(0);
        components.rotate_left(rot);
        obj.insert("addressComponents".into(), Value::Array(components));
    }
    // About 1 in 5 without a phone.
    if h % 5 != 1 {
        let (national, international) = phone(seed, &slug);
        obj.insert("nationalPhoneNumber".into(), json!(national));
        obj.insert("internationalPhoneNumber".into(), json!(international));
    }
    // About 1 in 4 without a website.
    if (h >> 3) % 4 != 2 {
        obj.insert("websiteUri".into(), json!(format!("{base}/sites/{slug}/")));
    }
    // Some without a rating.
    if !(h >> 5).is_multiple_of(6) {
        obj.insert("rating".into(), json!(3.0 + ((h >> 9) % 21) as f64 / 10.0));
        obj.insert("userRatingCount".into(), json!((h >> 11) % 900));
    }
    place
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
