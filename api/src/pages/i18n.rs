//! French and English for the pages, with Fluent (`api/locales/*.ftl`, compiled into the
//! binary). Which one a person reads: their account's language once they are signed in
//! (`users.language`, set on the profile page or by the switch), else the language this
//! browser picked (the `ag_lang` cookie the switch sets), else their browser's
//! `Accept-Language`, else French: the product's first owners are French-speaking small
//! businesses.

use std::cell::OnceCell;
use std::ops::Deref;
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use shared::db::users::Language;
use unic_langid::LanguageIdentifier;

/// Set by `/language/{code}`; a year long, so the choice outlives sessions.
pub const LANG_COOKIE: &str = "ag_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub const ALL: [Self; 2] = [Self::Fr, Self::En];

    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// `fr`, `fr-CA`, `EN_us`...: the primary subtag decides.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The one the switch offers.
    pub fn other(self) -> Self {
        match self {
            Self::Fr => Self::En,
            Self::En => Self::Fr,
        }
    }

    /// The best of ours in an `Accept-Language` header (`en-GB,en;q=0.9,fr;q=0.8`): the
    /// highest weight wins, the earlier entry on a tie; `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(Self, f32)> = None;
        for entry in header.split(',') {
            let mut parts = entry.split(';');
            let Some(lang) = parts.next().and_then(Self::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// Cookie, then `Accept-Language`, then French.
    pub fn of_request(req: &HttpRequest) -> Self {
        Self::asked_by(req).unwrap_or(Self::Fr)
    }

    /// The language the request asks for (the switch's cookie, then `Accept-Language`), if
    /// it asks for one of ours.
    pub fn asked_by(req: &HttpRequest) -> Option<Self> {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Self::parse(c.value()))
            .or_else(|| {
                req.headers()
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Self::from_accept_language)
            })
    }

    /// A count as this language writes it: `12 345` in French (with a narrow no-break
    /// space, so it never wraps), `12,345` in English.
    pub fn integer(self, n: i64) -> String {
        let separator = match self {
            Self::Fr => '\u{202F}',
            Self::En => ',',
        };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(separator);
            }
            out.push(d);
        }
        out
    }

    /// One decimal, with this language's decimal mark: `4,5` / `4.5`.
    pub fn decimal(self, x: f64) -> String {
        let text = format!("{x:.1}");
        match self {
            Self::Fr => text.replace('.', ","),
            Self::En => text,
        }
    }

    /// As the account stores it.
    pub fn language(self) -> Language {
        match self {
            Self::Fr => Language::French,
            Self::En => Language::English,
        }
    }

    fn source(self) -> &'static str {
        match self {
            Self::Fr => include_str!("../../locales/fr.ftl"),
            Self::En => include_str!("../../locales/en.ftl"),
        }
    }
}

impl From<Language> for Lang {
    fn from(language: Language) -> Self {
        match language {
            Language::French => Self::Fr,
            Language::English => Self::En,
        }
    }
}

/// The reader's language as a page handler sees it: the browser's choice
/// ([`Lang::of_request`]) until the handler authenticates the user, the account's from then
/// on. The account's is only known after the session check (it comes with it, no extra
/// query), which runs inside the handler, after this was made; it derefs to the [`Lang`] in
/// force so handlers write `ctx.lang.integer(n)` either way.
#[derive(Debug)]
pub struct ReaderLang {
    browser: Lang,
    account: OnceCell<Lang>,
}

impl ReaderLang {
    pub fn new(browser: Lang) -> Self {
        Self {
            browser,
            account: OnceCell::new(),
        }
    }

    /// The signed-in account's language, if it chose one; set once per request.
    pub fn set_account(&self, language: Option<Language>) {
        if let Some(language) = language {
            let _ = self.account.set(Lang::from(language));
        }
    }
}

impl Deref for ReaderLang {
    type Target = Lang;

    fn deref(&self) -> &Lang {
        self.account.get().unwrap_or(&self.browser)
    }
}

/// One language's messages. Thread-safe (the concurrent bundle), shared by every worker.
pub struct Catalog {
    bundle: FluentBundle<FluentResource>,
}

impl Catalog {
    /// Parses the language's `.ftl`; a syntax error or a duplicate id stops startup.
    pub fn load(lang: Lang) -> Result<Arc<Self>, String> {
        let resource = FluentResource::try_new(lang.source().to_owned())
            .map_err(|(_, errors)| format!("{}.ftl does not parse: {errors:?}", lang.code()))?;
        let id: LanguageIdentifier = lang
            .code()
            .parse()
            .map_err(|e| format!("language id {}: {e}", lang.code()))?;
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around arguments: the text goes into HTML, where they
        // would only be invisible noise in copied text and tests.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|errors| format!("{}.ftl: {errors:?}", lang.code()))?;
        Ok(Arc::new(Self { bundle }))
    }

    /// The message, or an error naming the missing key (a page that uses an unknown key
    /// fails to render, so the tests notice it before a person sees a raw key).
    pub fn text(&self, key: &str, args: Option<&FluentArgs<'_>>) -> Result<String, String> {
        let message = self
            .bundle
            .get_message(key)
            .ok_or_else(|| format!("no message {key}"))?;
        let pattern = message
            .value()
            .ok_or_else(|| format!("message {key} has no value"))?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if errors.is_empty() {
            Ok(text.into_owned())
        } else {
            Err(format!("message {key}: {errors:?}"))
        }
    }

    /// Every message id, for the test that both languages have the same keys.
    pub fn keys(lang: Lang) -> Vec<String> {
        match FluentResource::try_new(lang.source().to_owned()) {
            Ok(resource) | Err((resource, _)) => resource
                .entries()
                .filter_map(|entry| match entry {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_weighted_language_we_have() {
        let pick = Lang::from_accept_language;
        assert_eq!(pick("en-GB,en;q=0.9,fr;q=0.8"), Some(Lang::En));
        assert_eq!(pick("de-DE,fr;q=0.5,en;q=0.4"), Some(Lang::Fr));
        assert_eq!(pick("en;q=0.2, fr-CA;q=0.7"), Some(Lang::Fr));
        assert_eq!(pick("fr;q=0,en"), Some(Lang::En));
        assert_eq!(pick("de, *;q=0.1"), None);
        assert_eq!(pick(""), None);
    }

    #[test]
    fn the_account_s_language_wins_once_known() {
        let lang = ReaderLang::new(Lang::Fr);
        assert_eq!(*lang, Lang::Fr);
        // An account that never chose keeps the browser's.
        lang.set_account(None);
        assert_eq!(*lang, Lang::Fr);
        lang.set_account(Some(Language::English));
        assert_eq!(*lang, Lang::En);
        assert_eq!(lang.code(), "en");
        assert_eq!(Lang::from(Lang::Fr.language()), Lang::Fr);
    }

    #[test]
    fn numbers_are_written_the_reader_s_way() {
        assert_eq!(Lang::Fr.integer(1_234_567), "1\u{202F}234\u{202F}567");
        assert_eq!(Lang::En.integer(1_234_567), "1,234,567");
        assert_eq!(Lang::En.integer(999), "999");
        assert_eq!(Lang::En.integer(-1000), "-1,000");
        assert_eq!(Lang::Fr.integer(0), "0");
        assert_eq!(Lang::Fr.decimal(4.5), "4,5");
        assert_eq!(Lang::En.decimal(4.0), "4.0");
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let mut fr = Catalog::keys(Lang::Fr);
        let mut en = Catalog::keys(Lang::En);
        fr.sort();
        en.sort();
        let only_fr: Vec<_> = fr.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !fr.contains(k)).collect();
        assert!(
            only_fr.is_empty() && only_en.is_empty(),
            "only in fr.ftl: {only_fr:?}; only in en.ftl: {only_en:?}"
        );
        assert!(fr.len() > 20, "{fr:?}");
    }

    #[test]
    fn both_catalogs_load_and_format_arguments() {
        for lang in Lang::ALL {
            let catalog = Catalog::load(lang).unwrap();
            let mut args = FluentArgs::new();
            args.set("max", 120);
            let text = catalog.text("invalid-too-long", Some(&args)).unwrap();
            assert!(text.contains("120"), "{text}");
            assert!(catalog.text("no-such-key", None).is_err());
        }
    }
}
