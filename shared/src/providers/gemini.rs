//! Gemini `generateContent` for post text (docs/providers.md, "2. Gemini text"): a system
//! instruction and a JSON response schema; the answer is parsed leniently, and every way
//! Gemini declines to write (blocked prompt, SAFETY, broken JSON) is a `Permanent` content
//! failure.
//!
//! Thinking models count their thought tokens against `maxOutputTokens`
//! (ai.google.dev/gemini-api/docs/thinking): a post is short, so thinking is kept low
//! (`thinkingLevel` for Gemini 3, `thinkingBudget` before it) and the limit leaves room for
//! the answer. A `MAX_TOKENS` finish is asked once more with a larger limit before it counts
//! as a failure. Gemini 3's guidance (ai.google.dev/gemini-api/docs/gemini-3) is to leave
//! `temperature` at its default of 1.0, so none is sent to those models.

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
    model: String,
    api_key: String,
}

/// The output limit of the first ask: low thinking (about a thousand tokens) plus a post
/// of at most 200 words in JSON (a few hundred) fit with room to spare.
pub const FIRST_MAX_OUTPUT_TOKENS: u32 = 4096;
/// The output limit of the one retry after `MAX_TOKENS`: the model thought longer than
/// usual; give it four times the room.
pub const RETRY_MAX_OUTPUT_TOKENS: u32 = 16_384;
/// The thinking budget of models before Gemini 3 (which take a token count, not a level).
const THINKING_BUDGET: u32 = 1024;

impl std::fmt::Debug for GeminiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl GeminiClient {
    pub fn from_config(config: &GoogleConfig) -> Result<Self, ProviderError> {
        let api_key = http::google_key(config, "gemini")?;
        Ok(Self {
            http: http::client(Duration::from_millis(config.text_timeout_ms))?,
            url: format!(
                "{}/v1beta/models/{}:generateContent",
                config.gemini_base_url.trim_end_matches('/'),
                config.text_model
            ),
            model: config.text_model.clone(),
            api_key,
        })
    }

    /// One post for `prompt`, written under `system` (the house voice and rules). A
    /// `MAX_TOKENS` finish is asked once more with [`RETRY_MAX_OUTPUT_TOKENS`].
    #[tracing::instrument(skip_all, fields(route = "gemini.text", prompt_chars = prompt.len()))]
    pub async fn write_post(&self, system: &str, prompt: &str) -> Result<PostDraft, ProviderError> {
        let raw = self.ask(system, prompt, FIRST_MAX_OUTPUT_TOKENS).await?;
        if !raw.ran_out_of_tokens() {
            return parse_post(&raw);
        }
        tracing::info!(
            thoughts = raw.usage_metadata.thoughts_token_count,
            "gemini text: MAX_TOKENS, asking once more with a larger limit"
        );
        let raw = self.ask(system, prompt, RETRY_MAX_OUTPUT_TOKENS).await?;
        parse_post(&raw)
    }

    async fn ask(
        &self,
        system: &str,
        prompt: &str,
        max_output_tokens: u32,
    ) -> Result<GenerateResponse, ProviderError> {
        let body = json!({
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": generation_config(&self.model, max_output_tokens),
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
            let e = http::google_error("gemini text", response, &[&self.api_key]).await;
            return Err(http::name_setting(
                e,
                "providers.google.text_model",
                &self.model,
            ));
        }
        http::json("gemini text", response, Effect::Idempotent).await
    }
}

/// Whether `model` is Gemini 3 or later: thinking by level, temperature left at default.
fn gemini_3_or_later(model: &str) -> bool {
    let version = model.strip_prefix("gemini-").unwrap_or_default();
    let major: String = version.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|m| m >= 3)
}

/// The `generationConfig` of a post: JSON by schema, low thinking, room for the answer.
pub(crate) fn generation_config(model: &str, max_output_tokens: u32) -> serde_json::Value {
    let mut config = json!({
        "maxOutputTokens": max_output_tokens,
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
    });
    if let Some(o) = config.as_object_mut() {
        if gemini_3_or_later(model) {
            o.insert("thinkingConfig".into(), json!({"thinkingLevel": "LOW"}));
        } else {
            o.insert("temperature".into(), json!(0.7));
            o.insert(
                "thinkingConfig".into(),
                json!({"thinkingBudget": THINKING_BUDGET}),
            );
        }
    }
    config
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GenerateResponse {
    pub candidates: Vec<Candidate>,
    pub prompt_feedback: Option<PromptFeedback>,
    pub usage_metadata: UsageMetadata,
}

/// `usageMetadata`: `thoughtsTokenCount` is what thinking spent of `maxOutputTokens`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct UsageMetadata {
    pub thoughts_token_count: u32,
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
    /// The first candidate stopped at `maxOutputTokens` (thinking may have spent it all).
    pub(crate) fn ran_out_of_tokens(&self) -> bool {
        self.candidates
            .first()
            .is_some_and(|c| c.finish_reason.as_deref() == Some("MAX_TOKENS"))
    }

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

    /// A `generateContent` answer with a thought summary (`includeThoughts`), as
    /// ai.google.dev/gemini-api/docs/thinking ("Thought summaries") and
    /// ai.google.dev/api/generate-content (`GenerateContentResponse`, `UsageMetadata`) show
    /// it: the thought part is skipped, `thoughtsTokenCount` is read.
    #[test]
    fn fixture_thought_parts_from_the_documentation() {
        let r = response(
            r##"{"candidates": [{"content": {"parts": [
                  {"text": "**Planning the post**\nThe user wants a warm post...", "thought": true},
                  {"text": "{\"post\": \"Meet Golden Bakery!\", \"hashtags\": [\"#Lyon\"], \"image_prompt\": \"warm bakery\"}"}
                ], "role": "model"}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 40, "totalTokenCount": 1184, "thoughtsTokenCount": 1024,
                  "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 120}]},
                "modelVersion": "gemini-3.8-flash", "responseId": "mK3zaPq0"}"##,
        );
        assert_eq!(r.usage_metadata.thoughts_token_count, 1024);
        assert!(!r.ran_out_of_tokens());
        let d = parse_post(&r).unwrap();
        assert_eq!(d.post, "Meet Golden Bakery!");
        assert_eq!(d.image_prompt.as_deref(), Some("warm bakery"));
    }

    /// `finishReason` SAFETY with `safetyRatings` and no content, and MAX_TOKENS after the
    /// thoughts used the whole `maxOutputTokens` (no text part), as
    /// ai.google.dev/api/generate-content (`Candidate`, `FinishReason`) documents them.
    #[test]
    fn fixture_safety_and_max_tokens_from_the_documentation() {
        let safety = response(
            r#"{"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
                {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "MEDIUM"},
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"}]}],
              "usageMetadata": {"promptTokenCount": 41, "totalTokenCount": 41}, "modelVersion": "gemini-3.8-flash"}"#,
        );
        assert!(!safety.ran_out_of_tokens(), "a refusal is not retried");
        let e = parse_post(&safety).unwrap_err();
        assert!(
            matches!(e, ProviderError::Permanent { .. }) && e.to_string().contains("SAFETY"),
            "{e}"
        );
        let max = response(
            r#"{"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}],
              "usageMetadata": {"promptTokenCount": 412, "totalTokenCount": 4508, "thoughtsTokenCount": 4096},
              "modelVersion": "gemini-3.8-flash"}"#,
        );
        assert!(
            max.ran_out_of_tokens(),
            "asked once more with a larger limit"
        );
        assert_eq!(max.usage_metadata.thoughts_token_count, 4096);
    }

    /// Gemini 3 thinks by level and keeps its default temperature
    /// (ai.google.dev/gemini-api/docs/gemini-3); earlier models take a token budget.
    #[test]
    fn generation_config_follows_the_model_generation() {
        let g3 = generation_config("gemini-3.8-flash", FIRST_MAX_OUTPUT_TOKENS);
        assert_eq!(g3["thinkingConfig"], json!({"thinkingLevel": "LOW"}));
        assert!(g3.get("temperature").is_none());
        assert_eq!(g3["maxOutputTokens"], 4096);
        let g25 = generation_config("gemini-2.5-flash", RETRY_MAX_OUTPUT_TOKENS);
        assert_eq!(g25["thinkingConfig"], json!({"thinkingBudget": 1024}));
        assert_eq!(g25["temperature"], 0.7);
        assert_eq!(g25["maxOutputTokens"], 16_384);
        assert!(gemini_3_or_later("gemini-10-flash"));
        assert!(!gemini_3_or_later("learnlm-2.0"));
    }

    /// Gemini's 429s and 404 as ai.google.dev/gemini-api/docs/rate-limits and
    /// .../troubleshooting show them (`google.rpc.Status` with `QuotaFailure`, `RetryInfo`,
    /// `ErrorInfo`; cloud.google.com/apis/design/errors for the detail types).
    #[test]
    fn fixture_gemini_errors_from_the_documentation() {
        use crate::providers::http::google_error_body;
        let error = |status: u16, body: &str| {
            google_error_body("gemini text", status, None, body.as_bytes(), &[])
        };
        let per_minute = error(
            429,
            r#"{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. Please retry in 19.4s.", "status": "RESOURCE_EXHAUSTED",
          "details": [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaDimensions": {"location": "global", "model": "gemini-3.8-flash"}, "quotaValue": "10"}]},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "19s"}]}}"#,
        );
        assert_eq!(
            per_minute.retry_after(),
            Some(Duration::from_secs(19)),
            "{per_minute:?}"
        );
        let per_day = error(
            429,
            r#"{"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
          "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier", "quotaValue": "250"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "33s"}]}}"#,
        );
        assert!(
            matches!(per_day, ProviderError::RateLimitedUntil { .. }),
            "{per_day:?}"
        );
        let info_day = error(
            429,
            r#"{"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED",
          "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com", "quota_limit": "GenerateRequestsPerDayPerProjectPerModel", "quota_metric": "generativelanguage.googleapis.com/generate_requests", "quota_limit_value": "1000"}}]}}"#,
        );
        assert!(
            matches!(info_day, ProviderError::RateLimitedUntil { .. }),
            "{info_day:?}"
        );
        let no_delay = error(
            429,
            r#"{"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}"#,
        );
        assert!(
            matches!(no_delay, ProviderError::Throttled { .. }),
            "{no_delay:?}"
        );
        let retired = error(
            404,
            r#"{"error": {"code": 404, "message": "models/gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.", "status": "NOT_FOUND"}}"#,
        );
        let named = crate::providers::http::name_setting(
            retired,
            "providers.google.text_model",
            "gemini-2.0-flash",
        );
        assert!(
            matches!(&named, ProviderError::Misconfigured { reason } if reason.contains("providers.google.text_model")),
            "{named:?}"
        );
        let overloaded = error(
            503,
            r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#,
        );
        assert!(
            matches!(overloaded, ProviderError::RetryLater { after: None, .. }),
            "{overloaded:?}"
        );
    }
}
