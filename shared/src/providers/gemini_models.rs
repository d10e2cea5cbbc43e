//! Gemini `models.list` (ai.google.dev/api/models#method:-models.list): which model ids the
//! key can call today. Google shuts models down within months of deprecating them, so a
//! deployment checks its configured ids against this list (`api doctor`) instead of
//! learning it from a 404 on the first content.
//!
//! Google's `Model` resource has no deprecation field; a model Google has deprecated but
//! still serves says so in its `description` ("Deprecated: …", as the sandbox lists them,
//! docs/sandbox.md), and a shut-down one is absent from the list.

use std::time::Duration;

use serde::Deserialize;

use super::error::ProviderError;
use super::http::{self, Effect};
use crate::config::GoogleConfig;

/// The most pages read: Google lists a few dozen models; a list that never ends is a
/// broken server, not a reason to loop.
const MAX_PAGES: usize = 20;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The id our configuration uses (`gemini-3.5-flash`), without `models/`.
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub methods: Vec<String>,
}

impl ModelInfo {
    /// Whether Google marks the model deprecated: still served, shut down soon.
    pub fn is_deprecated(&self) -> bool {
        self.description
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("deprecated")
            || self
                .display_name
                .to_ascii_lowercase()
                .contains("deprecated")
    }
}

pub struct ModelList {
    http: reqwest::Client,
    url: String,
    api_key: String,
}

impl std::fmt::Debug for ModelList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelList")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl ModelList {
    pub fn from_config(config: &GoogleConfig) -> Result<Self, ProviderError> {
        let api_key = http::google_key(config, "gemini")?;
        Ok(Self {
            http: http::client(Duration::from_millis(config.text_timeout_ms))?,
            url: format!(
                "{}/v1beta/models",
                config.gemini_base_url.trim_end_matches('/')
            ),
            api_key,
        })
    }

    /// Every model the key may call, following `nextPageToken`.
    #[tracing::instrument(skip_all, fields(route = "gemini.models"))]
    pub async fn all(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let mut models = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .http
                .get(&self.url)
                .header("x-goog-api-key", &self.api_key)
                .query(&[("pageSize", "1000")]);
            if let Some(t) = &token {
                request = request.query(&[("pageToken", t)]);
            }
            // Not one of the pipeline's provider routes: a check's call, not counted in
            // the provider metrics.
            let response = request
                .send()
                .await
                .map_err(|e| http::transport("gemini models", e, Effect::Idempotent))?;
            if !response.status().is_success() {
                return Err(http::google_error("gemini models", response, &[&self.api_key]).await);
            }
            let page: RawList = http::json("gemini models", response, Effect::Idempotent).await?;
            models.extend(page.models.into_iter().map(RawModel::into_info));
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(models),
            }
        }
        Err(ProviderError::permanent(format!(
            "gemini models: the list did not end after {MAX_PAGES} pages"
        )))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawList {
    models: Vec<RawModel>,
    next_page_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawModel {
    name: String,
    display_name: String,
    description: String,
    supported_generation_methods: Vec<String>,
}

impl RawModel {
    fn into_info(self) -> ModelInfo {
        ModelInfo {
            id: self
                .name
                .strip_prefix("models/")
                .unwrap_or(&self.name)
                .to_owned(),
            display_name: self.display_name,
            description: self.description,
            methods: self.supported_generation_methods,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of ai.google.dev/api/models#response-body_4 (ListModelsResponse).
    #[test]
    fn the_documented_list_parses_and_deprecation_is_read_from_the_description() {
        let page: RawList = serde_json::from_str(
            r#"{"models": [
              {"name": "models/gemini-3.5-flash", "baseModelId": "gemini-3.5-flash",
               "version": "3.5", "displayName": "Gemini 3.5 Flash",
               "description": "Fast and versatile", "inputTokenLimit": 1048576,
               "outputTokenLimit": 65536,
               "supportedGenerationMethods": ["generateContent", "countTokens"],
               "thinking": true, "temperature": 1, "maxTemperature": 2},
              {"name": "models/gemini-3.1-flash-lite", "displayName": "Gemini 3.1 Flash-Lite",
               "description": "Deprecated: shut down on 2027-01-15. Use gemini-3.8-flash."}
            ], "nextPageToken": "p2"}"#,
        )
        .unwrap();
        assert_eq!(page.next_page_token.as_deref(), Some("p2"));
        let models: Vec<ModelInfo> = page.models.into_iter().map(RawModel::into_info).collect();
        assert_eq!(models[0].id, "gemini-3.5-flash");
        assert_eq!(models[0].methods, vec!["generateContent", "countTokens"]);
        assert!(!models[0].is_deprecated());
        assert!(models[1].is_deprecated());
    }
}
