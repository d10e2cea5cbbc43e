//! Why a campaign, a lead, a content or a publication ended without its result, told to
//! the owner in her language.
//!
//! The workers store each reason as they find it: the provider's own answer behind a
//! sentence of ours in English ("Google Places: permanent failure: places search answered
//! 403 PERMISSION_DENIED: ...", "... (gave up after waiting 3 days)"). The pages show a
//! translated sentence that says what happened and what she can do, chosen from the
//! words every such reason carries, with the stored text below it as the detail (the
//! provider's message, which no catalog can translate).

use fluent_bundle::FluentArgs;

use super::i18n::Catalog;

/// Who the stored reasons name first, with the catalog's word for those whose name is
/// not a brand.
const PROVIDERS: [(&str, Option<&str>); 6] = [
    ("Google Places", None),
    ("Gemini", None),
    ("LinkedIn", None),
    ("lead enrichment", Some("live-provider-enrichment")),
    ("image generation", Some("live-provider-images")),
    ("image:", Some("live-provider-images")),
];

/// The sentence for `reason` in the catalog's language.
pub fn explain(reason: &str, catalog: &Catalog) -> String {
    let lower = reason.to_lowercase();
    let key = if lower.contains("found no business") {
        "reason-no-business"
    } else if lower.contains("did not say whether the post was created") {
        "reason-outcome-unknown"
    } else if lower.contains("already has this exact text") {
        "reason-same-text"
    } else if lower.contains("which is not yours") {
        "reason-foreign-mention"
    } else if lower.starts_with("image:") {
        "reason-no-image"
    } else if lower.contains("gave up after waiting") {
        "reason-waited"
    } else if lower.contains("reconnect") || lower.contains("grant cannot be opened") {
        "reason-reconnect"
    } else if lower.contains("gave up after") {
        "reason-attempts"
    } else if lower.contains("gemini") && (lower.contains("block") || lower.contains("safety")) {
        "reason-model-declined"
    } else if lower.contains("permanent failure") || lower.contains("refused") {
        "reason-refused"
    } else {
        "reason-other"
    };
    let mut args = FluentArgs::new();
    args.set("provider", provider(reason, catalog));
    catalog
        .text(key, Some(&args))
        .unwrap_or_else(|_| reason.to_owned())
}

/// The provider a stored reason (or a live event's) names first, in the catalog's words;
/// `None` when it names none.
pub(super) fn named_provider(reason: &str, catalog: &Catalog) -> Option<String> {
    let (name, key) = PROVIDERS.iter().find(|(p, _)| reason.starts_with(p))?;
    match key {
        Some(key) => catalog.text(key, None).ok(),
        None => Some((*name).to_owned()),
    }
}

/// The provider the reason names, in the catalog's words ("the provider" when none).
fn provider(reason: &str, catalog: &Catalog) -> String {
    named_provider(reason, catalog).unwrap_or_else(|| {
        catalog
            .text("reason-provider-unnamed", None)
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::i18n::Lang;

    #[test]
    fn each_kind_of_end_reads_in_both_languages() {
        let en = Catalog::load(Lang::En).unwrap();
        let fr = Catalog::load(Lang::Fr).unwrap();
        // (stored reason, words of the English sentence)
        let cases = [
            (
                "Google Places found no business for \"bakery in Nowhere\"",
                "found no business",
            ),
            (
                "Google Places: permanent failure: places search answered 403 PERMISSION_DENIED: x",
                "Google Places refused",
            ),
            (
                "Gemini: throttled: generateContent answered 429 (gave up after waiting 3 days)",
                "Gemini kept asking us to wait",
            ),
            (
                "Gemini: retry later: answered 500 (gave up after 5 attempts)",
                "Gemini kept failing",
            ),
            (
                "LinkedIn did not say whether the post was created: timed out",
                "did not say whether",
            ),
            ("image: the image was filtered", "could not be made"),
            ("Gemini blocked the prompt (SAFETY)", "Gemini declined"),
            (
                "waits for your approval: the post mentions @someone, which is not yours",
                "not yours",
            ),
            ("something new", "Something went wrong"),
        ];
        for (reason, words) in cases {
            let english = explain(reason, &en);
            assert!(english.contains(words), "{reason:?} → {english:?}");
            let french = explain(reason, &fr);
            assert_ne!(french, english, "{reason:?} has no French sentence");
            assert!(!french.is_empty());
        }
    }
}
