//! Places and Gemini, with the deployment's Google key.

use shared::config::GoogleConfig;
use shared::providers::ProviderError;
use shared::providers::gemini_models::{ModelInfo, ModelList};
use shared::providers::places::{PlaceQuery, PlacesClient};

use super::{Check, env_name};

/// What a Google refusal most often means, for the fix column.
const KEY_FIX: &str = "check AG_PROVIDERS__GOOGLE__API_KEY (the project's key, its API restrictions allowing this API) and that the API is enabled in the Google Cloud project (docs/going-live.md)";

/// A one-result Text Search with the pipeline's field mask: a refused key, a disabled
/// Places API (New) or a field Google no longer accepts in the mask all answer here.
pub async fn places(config: &GoogleConfig) -> Vec<Check> {
    let name = "places";
    let client = match PlacesClient::from_config(config) {
        Ok(c) => c,
        Err(e) => return vec![Check::fail(name, e.to_string(), KEY_FIX)],
    };
    let query = PlaceQuery {
        text_query: "dentists in Guelph, Ontario".into(),
        ..PlaceQuery::default()
    };
    vec![match client.probe(&query).await {
        Ok(page) => Check::ok(
            name,
            format!(
                "a one-result Text Search with our field mask answered ({} place)",
                page.places.len()
            ),
        ),
        Err(e) => Check::fail(name, e.to_string(), google_fix(&e, "Places API (New)")),
    }]
}

/// `models.list` against the configured text and image models: missing is a model Google
/// shut down (or a typo) and fails; deprecated works until its shutdown date and warns.
pub async fn gemini(config: &GoogleConfig) -> Vec<Check> {
    let models = match ModelList::from_config(config) {
        Ok(list) => list.all().await,
        Err(e) => Err(e),
    };
    let models = match models {
        Ok(m) => m,
        Err(e) => {
            return vec![Check::fail(
                "gemini",
                format!("models.list: {e}"),
                google_fix(&e, "Generative Language API"),
            )];
        }
    };
    [
        ("providers.google.text_model", &config.text_model),
        ("providers.google.image_model", &config.image_model),
    ]
    .into_iter()
    .map(|(setting, id)| model_check(setting, id, &models))
    .collect()
}

fn model_check(setting: &str, id: &str, models: &[ModelInfo]) -> Check {
    let name = setting
        .trim_start_matches("providers.google.")
        .replace('_', " ");
    let name = format!("gemini {name}");
    let fix_to = format!(
        "set {} to a current model id (ai.google.dev/gemini-api/docs/models)",
        env_name(setting)
    );
    match models.iter().find(|m| m.id == id) {
        None => Check::fail(
            name,
            format!(
                "{id} is not in models.list: Google shut it down or never had it, every call answers 404"
            ),
            fix_to,
        ),
        Some(m) if !m.methods.is_empty() && !m.methods.iter().any(|x| x == "generateContent") => {
            Check::fail(
                name,
                format!(
                    "{id} does not support generateContent (only {})",
                    m.methods.join(", ")
                ),
                fix_to,
            )
        }
        Some(m) if m.is_deprecated() => Check::warn(
            name,
            format!(
                "{id} is marked deprecated in models.list: {}",
                m.description
            ),
            format!("{fix_to} before its shutdown"),
        ),
        Some(_) => Check::ok(name, format!("{id} is served")),
    }
}

fn google_fix(e: &ProviderError, api: &str) -> String {
    match e {
        ProviderError::RetryLater { .. } | ProviderError::Throttled { .. } => format!(
            "Google did not answer or is throttling: check the URL (providers.google.*_base_url) and the network path, and the {api} quota"
        ),
        ProviderError::RateLimitedUntil { .. } => {
            format!("the daily quota of the {api} is used up: ask Google Cloud for more")
        }
        _ => KEY_FIX.replace("the API", &format!("the {api}")),
    }
}
