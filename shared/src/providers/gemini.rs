//! Gemini `generateContent` for post text (docs/providers.md, "2. Gemini text"): a system instruction and a JSON
//! response schema; the answer is parsed leniently, and every way Gemini declines to write
//! (blocked prompt, SAFETY, MAX_TOKENS, broken JSON) is a `Permanent` content failure.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::error::ProviderError;
use super::http::{self, Effect};
use crate::config::GoogleConfig;

/// What Gemini wrote for one post.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PostDraft {
    pub post: String,
    pub hashtags: Vec<String>,
    /// A prompt for the image generator; absent when the model left it out.
    pub image_prompt: Option<String>,
}

pub struct GeminiClient {
    http: reqwest::Client,
    url: String,
    api_key: String,
}

impl std::fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl GeminiClient {
    pub fn from_config(config: &GoogleConfig) -> Result<Self, ProviderError> {
        let api_key = config
            .api_key
            .clone()
            .ok_or_else(|| ProviderError::permanent("gemini: no Google API key configured"))?;
        Ok(Self {
            http: http::client(Duration::from_millis(config.text_timeout_ms))?,
            url: format!(
                "{}/v1beta/models/{}:generateContent",
                config.gemini_base_url.trim_end_matches('/'),
                config.text_model
            ),
            api_key,
        })
    }

    /// One post for `prompt`, written under `system` (the house voice and rules).
    #[tracing::instrument(skip_all, fields(route = "gemini.text", prompt_chars = prompt.len()))]
    pub async fn write_post(&self, system: &str, prompt: &str) -> Result<PostDraft, ProviderError> {
        let body = json!({
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {
                "temperature": 0.7,
                "maxOutputTokens": 4096,
                "responseMimeType": "application/json",
                "responseSchema": {
                    "type": "OBJECT",
                    "properties": {
                        "post": {"type": "STRING"},
                        "hashtags": {"type": "ARRAY", "items": {"type": "STRING"}},
                        "image_prompt": {"type": "STRING"}
                    },
                    "required": ["post"],
                    "propertyOrdering": ["post", "hashtags", "image_prompt"]
                }
            }
        });
        let request = self
            .http
            .post(&self.url)
            .header("x-goog-api-key", &self.api_key)
            .json(&body);
        let response = http::send(
            http::Route::GeminiText,
            "gemini text",
            request,
            Effect::Idempotent,
        )
        .await?;
        if !response.status().is_success() {
            return Err(http::google_error("gemini text", response, &[&self.api_key]).await);
        }
        let raw: GenerateResponse = http::json("gemini text", response, Effect::Idempotent).await?;
        parse_post(&raw)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GenerateResponse {
    pub candidates: Vec<Candidate>,
    pub prompt_feedback: Option<PromptFeedback>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PromptFeedback {
    pub block_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Candidate {
    pub content: Option<Content>,
    pub finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Content {
    pub parts: Vec<Part>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Part {
    pub text: Option<String>,
    pub thought: bool,
    pub inline_data: Option<InlineData>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct InlineData {
    pub mime_type: String,
    pub data: String,
}

impl GenerateResponse {
    /// The first candidate, if Gemini produced one that finished normally.
    pub(crate) fn finished(&self, what: &str) -> Result<&Candidate, ProviderError> {
        if let Some(reason) = self
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_deref())
        {
            return Err(ProviderError::permanent(format!(
                "{what}: prompt blocked ({reason})"
            )));
        }
        let candidate = self
            .candidates
            .first()
            .ok_or_else(|| ProviderError::permanent(format!("{what}: no candidates")))?;
        match candidate.finish_reason.as_deref() {
            None | Some("STOP") => Ok(candidate),
            Some(other) => Err(ProviderError::permanent(format!(
                "{what}: generation ended with {other}"
            ))),
        }
    }
}

#[derive(Deserialize)]
struct RawDraft {
    #[serde(default)]
    post: String,
    #[serde(default)]
    hashtags: Vec<String>,
    #[serde(default, alias = "imagePrompt")]
    image_prompt: Option<String>,
}

fn parse_post(raw: &GenerateResponse) -> Result<PostDraft, ProviderError> {
    let candidate = raw.finished("gemini text")?;
    let text: String = candidate
        .content
        .iter()
        .flat_map(|c| &c.parts)
        .filter(|p| !p.thought)
        .filter_map(|p| p.text.as_deref())
        .collect();
    parse_draft(&text)
}

/// The JSON object in the model's text, fenced in ```json or not.
fn parse_draft(text: &str) -> Result<PostDraft, ProviderError> {
    let mut body = text.trim();
    if let Some(rest) = body.strip_prefix("```") {
        body = rest.trim_start_matches("json").trim_start_matches("JSON");
        body = body.trim_end().strip_suffix("```").unwrap_or(body).trim();
    }
    let draft: RawDraft = serde_json::from_str(body).map_err(|e| {
        ProviderError::permanent(format!("gemini text: reply is not the JSON asked for: {e}"))
    })?;
    if draft.post.trim().is_empty() {
        return Err(ProviderError::permanent(
            "gemini text: reply has no post text",
        ));
    }
    Ok(PostDraft {
        post: draft.post,
        hashtags: draft
            .hashtags
            .into_iter()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .collect(),
        image_prompt: draft.image_prompt.filter(|p| !p.trim().is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(json: &str) -> GenerateResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn text_parts_are_joined_without_thoughts_and_fences() {
        let r = response(
            r##"{"candidates":[{"content":{"parts":[{"text":"thinking...","thought":true},
            {"text":"```json\n{\"post\": \"Hello\","},{"text":" \"hashtags\": [\"#Guelph\"]}\n```"}]},
            "finishReason":"STOP"}]}"##,
        );
        let d = parse_post(&r).unwrap();
        assert_eq!(d.post, "Hello");
        assert_eq!(d.hashtags, vec!["#Guelph"]);
        assert_eq!(d.image_prompt, None);
    }

    #[test]
    fn content_failures_are_permanent() {
        for body in [
            r#"{"promptFeedback":{"blockReason":"SAFETY"}}"#,
            r#"{"candidates":[]}"#,
            r#"{"candidates":[{"finishReason":"MAX_TOKENS"}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"{\"post\": "}]},"finishReason":"STOP"}]}"#,
            r#"{"candidates":[{"content":{},"finishReason":"STOP"}]}"#,
        ] {
            let e = parse_post(&response(body)).unwrap_err();
            assert!(
                matches!(e, ProviderError::Permanent { .. }),
                "{body}: {e:?}"
            );
        }
    }
}
