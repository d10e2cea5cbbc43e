//! The Gemini model catalogue: which model ids exist, which are deprecated, which are shut
//! down, and `models.list` / `models.get` over it.
//!
//! The shapes follow ai.google.dev/api/models (`GET /v1beta/models`, `pageSize` default 50,
//! at most 1,000, `pageToken` / `nextPageToken`; a `Model` has `name`, `baseModelId`,
//! `version`, `displayName`, `description`, `inputTokenLimit`, `outputTokenLimit`,
//! `supportedGenerationMethods`, `thinking`, `temperature`, `maxTemperature`, `topP`,
//! `topK`). The statuses follow ai.google.dev/gemini-api/docs/deprecations: a deprecated
//! model still answers (and is still listed) until its shutdown date; a shut-down model is
//! gone from the list and answers 404 NOT_FOUND. The `Model` resource has no deprecation
//! field, so a deprecated entry says so at the start of its `description` ("Deprecated: …"),
//! the one place a reader of the list can see it.

use serde_json::{Value, json};

use crate::Options;

/// Where a model is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Current,
    /// Announced for shutdown: still served and listed.
    Deprecated,
    /// Shut down: not listed, 404 on every method.
    Retired,
}

/// One model of the built-in catalogue.
struct Entry {
    id: &'static str,
    display: &'static str,
    version: &'static str,
    /// `generateContent` text (`true`: thinks before answering) or image.
    kind: Kind,
    status: Status,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text {
        thinking: bool,
    },
    Image,
    /// Imagen: `:predict` only.
    Imagen,
}

/// The catalogue as ai.google.dev/gemini-api/docs/deprecations stood in late 2026: the
/// Gemini 3 Flash and image models are current, `gemini-3.1-flash-lite` has a shutdown date
/// (deprecated), the Gemini 2.5 models and `gemini-2.0-flash` are shut down, and so is
/// every Imagen model in the Gemini API.
const CATALOGUE: [Entry; 10] = [
    Entry {
        id: "gemini-3.8-flash",
        display: "Gemini 3.8 Flash",
        version: "3.8",
        kind: Kind::Text { thinking: true },
        status: Status::Current,
    },
    Entry {
        id: "gemini-3.5-flash",
        display: "Gemini 3.5 Flash",
        version: "3.5",
        kind: Kind::Text { thinking: true },
        status: Status::Current,
    },
    Entry {
        id: "gemini-3.1-flash-image",
        display: "Gemini 3.1 Flash Image",
        version: "3.1",
        kind: Kind::Image,
        status: Status::Current,
    },
    Entry {
        id: "gemini-3-pro-image",
        display: "Gemini 3 Pro Image",
        version: "3.0",
        kind: Kind::Image,
        status: Status::Current,
    },
    Entry {
        id: "gemini-3.1-flash-lite",
        display: "Gemini 3.1 Flash-Lite",
        version: "3.1",
        kind: Kind::Text { thinking: true },
        status: Status::Deprecated,
    },
    Entry {
        id: "gemini-2.5-flash",
        display: "Gemini 2.5 Flash",
        version: "2.5",
        kind: Kind::Text { thinking: true },
        status: Status::Retired,
    },
    Entry {
        id: "gemini-2.5-flash-image",
        display: "Gemini 2.5 Flash Image",
        version: "2.5",
        kind: Kind::Image,
        status: Status::Retired,
    },
    Entry {
        id: "gemini-2.0-flash",
        display: "Gemini 2.0 Flash",
        version: "2.0",
        kind: Kind::Text { thinking: false },
        status: Status::Retired,
    },
    Entry {
        id: "imagen-4.0-generate-001",
        display: "Imagen 4",
        version: "001",
        kind: Kind::Imagen,
        status: Status::Retired,
    },
    Entry {
        id: "imagen-4.0-fast-generate-001",
        display: "Imagen 4 Fast",
        version: "001",
        kind: Kind::Imagen,
        status: Status::Retired,
    },
];

/// A model's status under `options`: `retired_models` and `deprecated_models` override the
/// catalogue (so a test or a demo can play the day Google retires the configured model).
/// An id in neither the catalogue nor the options does not exist.
pub(crate) fn status(options: &Options, id: &str) -> Option<Status> {
    if options.retired_models.iter().any(|m| m == id) {
        return Some(Status::Retired);
    }
    let known = CATALOGUE.iter().find(|e| e.id == id)?;
    if options.deprecated_models.iter().any(|m| m == id) {
        return Some(Status::Deprecated);
    }
    Some(known.status)
}

/// Whether `id` answers `method` (`generateContent` or `predict`) today.
pub(crate) fn serves(options: &Options, id: &str) -> bool {
    matches!(
        status(options, id),
        Some(Status::Current | Status::Deprecated)
    )
}

/// The listed models (every one not shut down), in catalogue order.
fn listed(options: &Options) -> Vec<Value> {
    CATALOGUE
        .iter()
        .filter_map(|e| match status(options, e.id)? {
            Status::Retired => None,
            s => Some(resource(e, s)),
        })
        .collect()
}

fn resource(e: &Entry, status: Status) -> Value {
    let (methods, thinking, output): (&[&str], bool, u32) = match e.kind {
        Kind::Text { thinking } => (
            &[
                "generateContent",
                "countTokens",
                "createCachedContent",
                "batchGenerateContent",
            ],
            thinking,
            65_536,
        ),
        Kind::Image => (&["generateContent", "countTokens"], false, 32_768),
        Kind::Imagen => (&["predict"], false, 0),
    };
    let about = match e.kind {
        Kind::Text { .. } => "Fast, cost-efficient multimodal model for everyday text tasks.",
        Kind::Image => "Generates and edits images from text and image prompts.",
        Kind::Imagen => "Text-to-image model.",
    };
    let description = if status == Status::Deprecated {
        format!(
            "Deprecated: this model will be shut down; see the deprecations page for its replacement. {about}"
        )
    } else {
        about.to_owned()
    };
    let mut model = json!({
        "name": format!("models/{}", e.id),
        "baseModelId": e.id,
        "version": e.version,
        "displayName": e.display,
        "description": description,
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": output,
        "supportedGenerationMethods": methods,
    });
    if let (Some(o), Kind::Text { .. }) = (model.as_object_mut(), e.kind) {
        o.insert("thinking".into(), json!(thinking));
        o.insert("temperature".into(), json!(1.0));
        o.insert("maxTemperature".into(), json!(2.0));
        o.insert("topP".into(), json!(0.95));
        o.insert("topK".into(), json!(64));
    }
    model
}

/// One page of `models.list`: `page_size` absent or 0 means 50, at most 1,000; the token
/// is the offset of the next page.
pub(crate) fn page(
    options: &Options,
    page_size: Option<i64>,
    token: Option<&str>,
) -> Result<Value, String> {
    let size = match page_size {
        None | Some(0) => 50,
        Some(n) if n < 0 => return Err("pageSize must not be negative.".to_owned()),
        Some(n) => usize::try_from(n.min(1000)).unwrap_or(1000),
    };
    let start = match token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .strip_prefix("models~")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| "Invalid page token.".to_owned())?,
    };
    let all = listed(options);
    let end = (start + size).min(all.len());
    let mut out = json!({ "models": all.get(start..end).unwrap_or_default() });
    if end < all.len()
        && let Some(o) = out.as_object_mut()
    {
        o.insert("nextPageToken".into(), json!(format!("models~{end}")));
    }
    Ok(out)
}

/// `models.get`: the resource of a listed model.
pub(crate) fn get(options: &Options, id: &str) -> Option<Value> {
    let e = CATALOGUE.iter().find(|e| e.id == id)?;
    match status(options, id)? {
        Status::Retired => None,
        s => Some(resource(e, s)),
    }
}

/// Whether `id` is a thinking model (its thoughts count against `maxOutputTokens`).
pub(crate) fn thinks(id: &str) -> bool {
    CATALOGUE
        .iter()
        .any(|e| e.id == id && matches!(e.kind, Kind::Text { thinking: true }))
}

/// The output limit when a request sets no `maxOutputTokens`.
pub(crate) const OUTPUT_LIMIT: u64 = 65_536;

/// The thought tokens a thinking model spends on one short request, fixed per setting so
/// that tests are deterministic (ai.google.dev/gemini-api/docs/thinking: Gemini 3 takes a
/// `thinkingLevel`, defaulting to HIGH; earlier models a `thinkingBudget`, where -1 is
/// dynamic; the two together are a 400). `Err` is that 400's message.
pub(crate) fn thoughts(id: &str, generation_config: Option<&Value>) -> Result<u64, String> {
    if !thinks(id) {
        return Ok(0);
    }
    let thinking = generation_config.and_then(|g| g.get("thinkingConfig"));
    let level = thinking
        .and_then(|t| t.get("thinkingLevel"))
        .and_then(Value::as_str);
    let budget = thinking
        .and_then(|t| t.get("thinkingBudget"))
        .and_then(Value::as_i64);
    match (level, budget) {
        (Some(_), Some(_)) => {
            Err("thinking_budget and thinking_level are not supported together.".to_owned())
        }
        (Some(level), None) => match level.to_ascii_uppercase().as_str() {
            "MINIMAL" => Ok(128),
            "LOW" => Ok(1_024),
            "MEDIUM" => Ok(4_096),
            "HIGH" | "THINKING_LEVEL_UNSPECIFIED" => Ok(8_192),
            other => Err(format!(
                "Invalid value at 'generation_config.thinking_config.thinking_level', \"{other}\""
            )),
        },
        (None, Some(-1)) | (None, None) => Ok(8_192),
        (None, Some(n)) if n >= 0 => Ok(u64::try_from(n).unwrap_or(0).min(24_576)),
        (None, Some(n)) => Err(format!("thinking_budget {n} is out of range.")),
    }
}
