//! Templates (`api/templates/`, compiled into the binary like the catalogs, so the `api`
//! binary runs from any directory and a broken template stops startup rather than a page)
//! rendered with tera, one instance per language: each has its own `t(k="key", ...)`
//! function bound to that language's catalog, so templates never name a language.

use std::collections::HashMap;
use std::sync::Arc;

use fluent_bundle::{FluentArgs, FluentValue};
use tera::{Context, Tera, Value};

use super::assets::Assets;
use super::i18n::{Catalog, Lang};

/// Every template, by the name pages render it with.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("preview.html", include_str!("../../templates/preview.html")),
    (
        "time_zone_field.html",
        include_str!("../../templates/time_zone_field.html"),
    ),
    (
        "schedule.html",
        include_str!("../../templates/schedule.html"),
    ),
    (
        "schedule_macros.html",
        include_str!("../../templates/schedule_macros.html"),
    ),
    ("error.html", include_str!("../../templates/error.html")),
    ("sign_in.html", include_str!("../../templates/sign_in.html")),
    ("sign_up.html", include_str!("../../templates/sign_up.html")),
    (
        "oidc_buttons.html",
        include_str!("../../templates/oidc_buttons.html"),
    ),
    (
        "oidc_refused.html",
        include_str!("../../templates/oidc_refused.html"),
    ),
    (
        "oidc_link.html",
        include_str!("../../templates/oidc_link.html"),
    ),
    (
        "profile_identities.html",
        include_str!("../../templates/profile_identities.html"),
    ),
    ("home.html", include_str!("../../templates/home.html")),
    ("wizard.html", include_str!("../../templates/wizard.html")),
    (
        "launched.html",
        include_str!("../../templates/launched.html"),
    ),
    (
        "campaign.html",
        include_str!("../../templates/campaign.html"),
    ),
    (
        "campaign_parts.html",
        include_str!("../../templates/campaign_parts.html"),
    ),
    (
        "campaign_live.html",
        include_str!("../../templates/campaign_live.html"),
    ),
    (
        "breakdown.html",
        include_str!("../../templates/breakdown.html"),
    ),
    (
        "contents.html",
        include_str!("../../templates/contents.html"),
    ),
    ("profile.html", include_str!("../../templates/profile.html")),
    (
        "profile_disconnect.html",
        include_str!("../../templates/profile_disconnect.html"),
    ),
    (
        "profile_instagram.html",
        include_str!("../../templates/profile_instagram.html"),
    ),
    (
        "profile_instagram_disconnect.html",
        include_str!("../../templates/profile_instagram_disconnect.html"),
    ),
    (
        "admin_overview.html",
        include_str!("../../templates/admin_overview.html"),
    ),
    (
        "admin_macros.html",
        include_str!("../../templates/admin_macros.html"),
    ),
    (
        "admin_jobs.html",
        include_str!("../../templates/admin_jobs.html"),
    ),
    (
        "admin_job.html",
        include_str!("../../templates/admin_job.html"),
    ),
    (
        "admin_confirm.html",
        include_str!("../../templates/admin_confirm.html"),
    ),
    (
        "admin_workers.html",
        include_str!("../../templates/admin_workers.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../../templates/admin_audit.html"),
    ),
    (
        "forgot_password.html",
        include_str!("../../templates/forgot_password.html"),
    ),
    (
        "profile_notices.html",
        include_str!("../../templates/profile_notices.html"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/reset_password.html"),
    ),
];

/// What renders pages; built once at startup and shared by the workers.
pub struct Ui {
    fr: Tera,
    en: Tera,
    catalogs: [Arc<Catalog>; 2],
    assets: Assets,
}

impl Ui {
    pub fn new() -> Result<Self, String> {
        let fr_catalog = Catalog::load(Lang::Fr)?;
        let en_catalog = Catalog::load(Lang::En)?;
        Ok(Self {
            fr: engine(fr_catalog.clone())?,
            en: engine(en_catalog.clone())?,
            catalogs: [fr_catalog, en_catalog],
            assets: Assets::new(),
        })
    }

    pub fn assets(&self) -> &Assets {
        &self.assets
    }

    pub fn catalog(&self, lang: Lang) -> &Catalog {
        match lang {
            Lang::Fr => &self.catalogs[0],
            Lang::En => &self.catalogs[1],
        }
    }

    pub fn render(&self, lang: Lang, template: &str, context: &Context) -> Result<String, String> {
        let tera = match lang {
            Lang::Fr => &self.fr,
            Lang::En => &self.en,
        };
        tera.render(template, context)
            .map_err(|e| jobs::error::Chain(&e).to_string())
    }
}

fn engine(catalog: Arc<Catalog>) -> Result<Tera, String> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .map_err(|e| jobs::error::Chain(&e).to_string())?;
    // Autoescaping is on for `.html`: translations and user text are escaped alike.
    tera.register_function(
        "reason",
        Reason {
            catalog: catalog.clone(),
        },
    );
    tera.register_function("t", Translate { catalog });
    // `time_zones()`: the IANA zones the time zone field suggests (`time_zone_field.html`),
    // built once: the same for every page and language.
    let zones = Value::Array(
        super::times::zone_names()
            .map(|z| Value::String(z.to_owned()))
            .collect(),
    );
    tera.register_function(
        "time_zones",
        move |_: &HashMap<String, Value>| -> tera::Result<Value> { Ok(zones.clone()) },
    );
    Ok(tera)
}

/// `reason(text=stored)`: the owner's sentence for a stored reason (`pages::reasons`).
struct Reason {
    catalog: Arc<Catalog>,
}

impl tera::Function for Reason {
    fn call(&self, args: &HashMap<String, Value>) -> tera::Result<Value> {
        let text = args.get("text").and_then(Value::as_str).unwrap_or("");
        Ok(Value::String(super::reasons::explain(text, &self.catalog)))
    }

    fn is_safe(&self) -> bool {
        false
    }
}

/// `t(k="key", name="value", count=3)`: the message `key` with the other arguments as its
/// Fluent variables. `null` arguments are left out, so a template can pass an optional value.
struct Translate {
    catalog: Arc<Catalog>,
}

impl tera::Function for Translate {
    fn call(&self, args: &HashMap<String, Value>) -> tera::Result<Value> {
        let key = args
            .get("k")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("t() needs k=\"message-id\""))?;
        let mut fluent = FluentArgs::new();
        for (name, value) in args.iter().filter(|(n, _)| n.as_str() != "k") {
            let value: FluentValue<'_> = match value {
                Value::Null => continue,
                Value::Number(n) => match n.as_i64() {
                    Some(i) => i.into(),
                    None => n.as_f64().unwrap_or(0.0).into(),
                },
                Value::String(s) => s.as_str().into(),
                Value::Bool(b) => b.to_string().into(),
                other => other.to_string().into(),
            };
            fluent.set(name.as_str(), value);
        }
        self.catalog
            .text(key, Some(&fluent))
            .map(Value::String)
            .map_err(tera::Error::msg)
    }

    fn is_safe(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_compiled_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }

    /// Every `t(k="...")` with a literal key names a message both languages have (keys
    /// built from data, like `"status-" ~ status`, are checked by the pages' tests).
    #[test]
    fn every_literal_key_in_the_templates_exists_in_both_languages() {
        let fr = Catalog::keys(Lang::Fr);
        let en = Catalog::keys(Lang::En);
        let mut missing = Vec::new();
        for (name, source) in TEMPLATES {
            for piece in source.split("t(k=\"").skip(1) {
                let (key, rest) = piece.split_once('"').unwrap_or_default();
                // `"status-" ~ status`: a prefix, checked by the test below.
                if rest.trim_start().starts_with('~') {
                    continue;
                }
                if !fr.iter().any(|k| k == key) || !en.iter().any(|k| k == key) {
                    missing.push(format!("{name}: {key}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from a catalog: {missing:?}"
        );
    }

    /// Keys the templates build from data: every value the data can take has its message.
    #[test]
    fn every_built_key_exists_in_both_languages() {
        let mut keys = Vec::new();
        let campaign_statuses = [
            "draft",
            "scraping",
            "enriching",
            "generating",
            "ready",
            "completed",
            "error",
            "cancelled",
        ];
        for s in campaign_statuses {
            keys.push(format!("status-{s}"));
            keys.push(format!("campaign-status-help-{s}"));
        }
        for s in ["pending", "approved", "rejected", "published", "failed"] {
            keys.push(format!("status-{s}"));
        }
        for kind in super::super::ERROR_KINDS {
            keys.push(format!("error-{kind}-title"));
            keys.push(format!("error-{kind}-body"));
        }
        for field in ["name", "industry", "city"] {
            for part in ["question", "label", "hint"] {
                keys.push(format!("wizard-{field}-{part}"));
            }
        }
        for field in ["name", "email", "password"] {
            keys.push(format!("field-{field}"));
        }
        for kpi in ["leads", "contents", "published", "engagement"] {
            keys.push(format!("kpi-{kpi}"));
        }
        for filter in super::super::contents::FILTERS {
            keys.push(format!("gallery-filter-{filter}"));
        }
        for notice in super::super::contents::NOTICES {
            keys.push(format!("gallery-done-{notice}"));
        }
        // The profile and home pages.
        for (field, ..) in super::super::profile::FIELDS {
            keys.push(format!("profile-field-{field}"));
            keys.push(format!("profile-hint-{field}"));
        }
        for notice in super::super::profile::NOTICES {
            keys.push(format!("profile-notice-{notice}"));
        }
        for state in super::super::profile::LINKEDIN_STATES {
            keys.push(format!("profile-linkedin-{state}"));
        }
        for lang in Lang::ALL {
            keys.push(format!("language-name-{}", lang.code()));
        }
        for (_, key) in super::super::NAV_LINKS {
            keys.push(key.to_owned());
        }
        for step in ["linkedin", "business", "schedule", "campaign", "approved"] {
            keys.push(format!("onboarding-{step}"));
        }
        for filter in super::super::contents::FILTERS {
            keys.push(format!("gallery-empty-{filter}"));
        }
        for notice in super::super::home::NOTICES {
            keys.push(format!("home-done-{notice}"));
        }
        for series in super::super::chart::SERIES {
            keys.push(format!("chart-{series}-title"));
        }
        for notice in super::super::schedule::NOTICES {
            keys.push(format!("schedule-done-{notice}"));
        }
        for (_, field) in super::super::schedule::REFUSED_FIELDS {
            keys.push(format!("schedule-error-{field}"));
        }
        for problem in ["resolve-url-required", "resolve-url-invalid"] {
            keys.push(problem.to_owned());
        }
        for problem in ["sign-in-wrong", "sign-in-throttled"] {
            keys.push(problem.to_owned());
        }
        use crate::validation::Problem;
        for p in [
            Problem::Required,
            Problem::TooLong { len: 2, max: 1 },
            Problem::ControlCharacters,
            Problem::InvisibleFormatting,
            Problem::NotAnEmail,
            Problem::PasswordTooShort { min: 10 },
            Problem::PasswordTooLong { max: 128 },
            Problem::NotAWebsite,
        ] {
            keys.push(p.key().to_owned());
        }
        for lang in Lang::ALL {
            let have = Catalog::keys(lang);
            let missing: Vec<_> = keys.iter().filter(|k| !have.contains(k)).collect();
            assert!(missing.is_empty(), "{}.ftl lacks {missing:?}", lang.code());
        }
    }

    /// The time zone field suggests every zone saving accepts, and asks the script for the
    /// browser's zone only when told to.
    #[test]
    fn the_time_zone_field_lists_the_iana_zones() {
        let catalog = Catalog::load(Lang::Fr).unwrap();
        let mut tera = engine(catalog).unwrap();
        tera.add_raw_template(
            "field.html",
            r#"{% import "time_zone_field.html" as tz %}{{ tz::field(value="UTC", browser=true) }}|{{ tz::field(value="Europe/Paris", error_id="e") }}"#,
        )
        .unwrap();
        let html = tera.render("field.html", &Context::new()).unwrap();
        let (fresh, refused) = html.split_once('|').unwrap();
        assert!(fresh.contains(r#"list="time-zone-choices""#), "{fresh}");
        assert!(fresh.contains("data-browser-time-zone"));
        assert!(
            fresh.contains(r#"<option value="Europe&#x2F;Paris">"#),
            "{fresh}"
        );
        assert!(fresh.contains(r#"<option value="America&#x2F;Argentina&#x2F;Buenos_Aires">"#));
        assert_eq!(
            fresh.matches("<option ").count(),
            super::super::times::zone_names().count()
        );
        assert!(fresh.contains("Tapez le nom de votre ville"));
        assert!(!refused.contains("data-browser-time-zone"));
        assert!(refused.contains(r#"aria-invalid="true""#));
        assert!(refused.contains(r#"aria-describedby="time-zone-help e""#));
    }

    #[test]
    fn templates_compile_in_both_languages() {
        Ui::new().unwrap();
    }
}
