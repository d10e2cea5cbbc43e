//! Google Places Text Search (New), Gemini `generateContent` (text and image), `models.list`
//! and Imagen `:predict` (shut down), with Google's shared error body.

#![allow(
    clippy::result_large_err,
    reason = "the Err side is the HTTP answer a route returns at once; it is never stored"
)]

use actix_web::HttpResponse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::call::{Call, code, query};
use crate::faults::Fault;
use crate::fixtures::{self, hash};
use crate::models;
use crate::png;

/// Field paths the Places mask may name.
const PLACE_FIELDS: [&str; 11] = [
    "id",
    "displayName",
    "formattedAddress",
    "addressComponents",
    "nationalPhoneNumber",
    "internationalPhoneNumber",
    "websiteUri",
    "rating",
    "userRatingCount",
    "location",
    "types",
];

fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

pub(crate) fn error(status: u16, message: &str, details: Vec<Value>) -> HttpResponse {
    HttpResponse::build(code(status)).json(json!({
        "error": {"code": status, "message": message, "status": status_name(status), "details": details}
    }))
}

/// A fault's status in Google's shape (cloud.google.com/apis/design/errors): a 429 names
/// its quota in a `QuotaFailure` violation's `quotaId` (as Gemini does,
/// ai.google.dev/gemini-api/docs/rate-limits) or, with `quota_detail: "error_info"`, in an
/// `ErrorInfo` of reason `RATE_LIMIT_EXCEEDED` whose `metadata.quota_limit` names it (as
/// Places and the other Cloud APIs do); `retry_after_s` adds a `RetryInfo`.
pub(crate) fn fault(route: &str, status: u16, f: &Fault) -> HttpResponse {
    if status == 429 {
        let per_day = f.quota.as_deref() == Some("day");
        let places = route.starts_with("places.");
        let mut details = Vec::new();
        let mut message = if f.quota_detail.as_deref() == Some("error_info") {
            let (service, metric, limit, limit_name) = if places {
                (
                    "places.googleapis.com",
                    "places.googleapis.com/search_text_requests",
                    if per_day {
                        "SearchTextRequestsPerDayPerProject"
                    } else {
                        "SearchTextRequestsPerMinutePerProject"
                    },
                    if per_day {
                        "SearchTextRequestsPerDayPerProject"
                    } else {
                        "SearchTextRequestsPerMinutePerProject"
                    },
                )
            } else {
                (
                    "generativelanguage.googleapis.com",
                    "generativelanguage.googleapis.com/generate_content_requests",
                    if per_day {
                        "GenerateRequestsPerDayPerProjectPerModel"
                    } else {
                        "GenerateRequestsPerMinutePerProjectPerModel"
                    },
                    if per_day {
                        "GenerateRequestsPerDayPerProjectPerModel"
                    } else {
                        "GenerateRequestsPerMinutePerProjectPerModel"
                    },
                )
            };
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "service": service,
                    "consumer": "projects/123456789012",
                    "quota_metric": metric,
                    "quota_limit": limit,
                    "quota_limit_value": "1000",
                    "quota_location": "global"
                }
            }));
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Request a higher quota limit.", "url": "https://cloud.google.com/docs/quotas/help/request_increase"}]
            }));
            format!(
                "Quota exceeded for quota metric '{metric}' and limit '{limit_name}' of service '{service}' for consumer 'project_number:123456789012'."
            )
        } else {
            let quota_id = if per_day {
                "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
            } else {
                "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
            };
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": quota_id, "quotaValue": "15"}]
            }));
            "You exceeded your current quota, please check your plan and billing details."
                .to_owned()
        };
        if let Some(s) = f.retry_after_s {
            details.push(json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{s}s")}));
            message.push_str(&format!(" Please retry in {s}s."));
        }
        let mut resp = error(429, &message, details);
        if f.retry_after_header
            && let Some(s) = f.retry_after_s
            && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&format!("{}", s.ceil()))
        {
            resp.headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, v);
        }
        return resp;
    }
    let message = match status {
        503 => "The model is overloaded. Please try again later.",
        500 => {
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        }
        _ => "The request failed (sandbox fault).",
    };
    error(status, message, vec![])
}

/// The API key check shared by every Google route: header or `?key=`.
fn check_key(call: &Call<'_>) -> Result<(), HttpResponse> {
    let header = call
        .req
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key = header.or_else(|| query(call, "key"));
    match key {
        None => Err(error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            vec![],
        )),
        Some(k) if k == call.shared.options.google_api_key => Ok(()),
        Some(_) => Err(error(
            400,
            "API key not valid. Please pass a valid API key.",
            vec![
                json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}),
            ],
        )),
    }
}

fn body_json(call: &Call<'_>) -> Result<Value, HttpResponse> {
    serde_json::from_slice(call.body)
        .map_err(|e| error(400, &format!("Invalid JSON payload received. {e}"), vec![]))
}

/// `POST /places/v1/places:searchText`.
pub(crate) fn places(call: &Call<'_>) -> HttpResponse {
    if let Err(r) = check_key(call) {
        return r;
    }
    let mask = call
        .req
        .headers()
        .get("x-goog-fieldmask")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query(call, "fields"))
        .or_else(|| query(call, "$fields"));
    let Some(mask) = mask.filter(|m| !m.trim().is_empty()) else {
        return error(
            400,
            "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters on how to provide it.",
            vec![],
        );
    };
    let paths: Vec<&str> = mask.split(',').collect();
    let all = paths.contains(&"*");
    let mut fields = Vec::new();
    let mut with_token = all;
    for p in &paths {
        match *p {
            "*" => {}
            "nextPageToken" => with_token = true,
            "places" | "places.*" => fields.extend(PLACE_FIELDS),
            other => match other.strip_prefix("places.") {
                Some(f) if PLACE_FIELDS.contains(&f) => fields.push(f),
                _ => {
                    return error(400, &format!("Invalid field: {other}"), vec![]);
                }
            },
        }
    }
    let body = match body_json(call) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(text) = body
        .get("textQuery")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
    else {
        return error(400, "textQuery is required.", vec![]);
    };
    let page_size = match body.get("pageSize").or_else(|| body.get("maxResultCount")) {
        None => 20,
        Some(v) => match v.as_i64() {
            Some(n) if n < 0 => return error(400, "pageSize must be non-negative.", vec![]),
            Some(0) => 20,
            Some(n) => n.min(20),
            None => return error(400, "pageSize must be an integer.", vec![]),
        },
    };
    let page_size = usize::try_from(page_size).unwrap_or(20);
    // Tokens are bound to the query and every other parameter but the token itself.
    let mut bound = body.clone();
    if let Some(o) = bound.as_object_mut() {
        o.remove("pageToken");
    }
    let binding = hash(call.shared.options.seed, &bound.to_string());
    let start = match body.get("pageToken").and_then(Value::as_str) {
        None | Some("") => 0,
        Some(token) => match parse_token(token, binding) {
            Some(offset) => offset,
            None => {
                return error(
                    400,
                    "Invalid page token: it does not match the request's other parameters.",
                    vec![],
                );
            }
        },
    };
    let total = fixtures::total_for(text);
    let end = (start + page_size).min(total);
    let places: Vec<Value> = (start..end)
        .map(|i| {
            let place = fixtures::place(call.shared.options.seed, text, i, &call.base);
            if all { place } else { keep(place, &fields) }
        })
        .collect();
    let mut out = Map::new();
    if !places.is_empty() {
        out.insert("places".into(), Value::Array(places));
    }
    if end < total && with_token {
        out.insert(
            "nextPageToken".into(),
            json!(format!("AeCr{end}x{binding:016x}")),
        );
    }
    HttpResponse::Ok().json(Value::Object(out))
}

fn parse_token(token: &str, binding: u64) -> Option<usize> {
    let rest = token.strip_prefix("AeCr")?;
    let (offset, bind) = rest.split_once('x')?;
    (u64::from_str_radix(bind, 16).ok()? == binding).then_some(())?;
    offset.parse().ok()
}

fn keep(place: Value, fields: &[&str]) -> Value {
    match place {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(k, _)| fields.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

/// Whether a `generateContent` body asks for an image (`responseModalities` has IMAGE).
pub(crate) fn wants_image(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| {
            b.pointer("/generationConfig/responseModalities")
                .and_then(Value::as_array)
                .map(|m| m.iter().any(|v| v.as_str() == Some("IMAGE")))
        })
        .unwrap_or(false)
}

/// The model id of `/gemini/v1beta/models/{model}:method`, if served: a model that never
/// existed and one shut down answer alike, 404 NOT_FOUND (ai.google.dev/gemini-api/docs/troubleshooting).
fn model(call: &Call<'_>) -> Result<String, HttpResponse> {
    let rest = call.req.path().trim_start_matches("/gemini/v1beta/models/");
    let id = rest.split(':').next().unwrap_or_default();
    if models::serves(&call.shared.options, id) {
        Ok(id.to_owned())
    } else {
        Err(error(
            404,
            &format!(
                "models/{id} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
            ),
            vec![],
        ))
    }
}

fn prompt_text(body: &Value) -> String {
    let mut out = String::new();
    for c in body
        .get("contents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for p in c
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                out.push_str(t);
                out.push('\n');
            }
        }
    }
    out
}

fn usage() -> Value {
    json!({"promptTokenCount": 41, "candidatesTokenCount": 180, "totalTokenCount": 221})
}

/// What every Gemini and Imagen route checks first: the key, the model, a JSON body.
fn prelude(call: &Call<'_>) -> Result<(String, Value), HttpResponse> {
    check_key(call)?;
    let model = model(call)?;
    Ok((model, body_json(call)?))
}

/// `POST /gemini/v1beta/models/{model}:generateContent`, text.
pub(crate) fn gemini_text(call: &Call<'_>) -> HttpResponse {
    let (model, body) = match prelude(call) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let prompt = prompt_text(&body);
    if prompt.trim().is_empty() {
        return error(
            400,
            "* GenerateContentRequest.contents: contents is not specified",
            vec![],
        );
    }
    let base = json!({"usageMetadata": usage(), "modelVersion": model, "responseId": format!("r{:x}", hash(0, &prompt))});
    let with = |extra: Value| {
        let mut v = base.clone();
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        HttpResponse::Ok().json(v)
    };
    match call.mode {
        Some("blocked") => return with(json!({"promptFeedback": {"blockReason": "SAFETY"}})),
        Some("safety") => {
            return with(json!({"candidates": [{"finishReason": "SAFETY", "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}]}]}));
        }
        Some("max_tokens") => {
            return with(
                json!({"candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}]}),
            );
        }
        Some("malformed_json") => {
            return with(
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "{\"post\": \"Une belle journée à"}]}, "finishReason": "STOP", "index": 0}]}),
            );
        }
        _ => {}
    }
    let seed = hash(call.shared.options.seed, &prompt);
    let json_mode = body
        .pointer("/generationConfig/responseMimeType")
        .and_then(Value::as_str)
        == Some("application/json");
    let text = if json_mode {
        let schema = body
            .pointer("/generationConfig/responseSchema")
            .or_else(|| body.pointer("/generationConfig/responseJsonSchema"))
            .cloned()
            .unwrap_or(json!({"type": "OBJECT", "properties": {"post": {"type": "STRING"}}}));
        from_schema(&schema, "", &prompt, seed).to_string()
    } else {
        post_text(&prompt, seed)
    };
    // Thinking comes first and counts against maxOutputTokens: what is left is the room
    // for the answer (ai.google.dev/gemini-api/docs/thinking).
    let thoughts = match models::thoughts(&model, body.get("generationConfig")) {
        Ok(t) => t,
        Err(m) => return error(400, &m, vec![]),
    };
    let limit = body
        .pointer("/generationConfig/maxOutputTokens")
        .and_then(Value::as_u64)
        .unwrap_or(models::OUTPUT_LIMIT);
    let answer = tokens(&text);
    let spent_thinking = thoughts.min(limit);
    let room = limit - spent_thinking;
    let usage = |candidates: u64| {
        json!({"promptTokenCount": tokens(&prompt), "candidatesTokenCount": candidates,
               "thoughtsTokenCount": spent_thinking,
               "totalTokenCount": tokens(&prompt) + candidates + spent_thinking})
    };
    let reply = |v: Value| {
        let mut v = v;
        if let Some(o) = v.as_object_mut() {
            o.insert("modelVersion".into(), json!(model));
            o.insert(
                "responseId".into(),
                json!(format!("r{:x}", hash(0, &prompt))),
            );
        }
        HttpResponse::Ok().json(v)
    };
    if room == 0 {
        return reply(json!({
            "candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}],
            "usageMetadata": usage(0),
        }));
    }
    if answer > room {
        let cut: String = text
            .chars()
            .take(usize::try_from(room * 4).unwrap_or(usize::MAX))
            .collect();
        return reply(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": cut}]}, "finishReason": "MAX_TOKENS", "index": 0}],
            "usageMetadata": usage(room),
        }));
    }
    // `includeThoughts` adds a thought summary before the answer, marked `"thought": true`
    // (ai.google.dev/gemini-api/docs/thinking, "Thought summaries").
    let mut parts = Vec::new();
    if body
        .pointer("/generationConfig/thinkingConfig/includeThoughts")
        .and_then(Value::as_bool)
        == Some(true)
        && spent_thinking > 0
    {
        parts.push(json!({"text": format!("**Planning the post**\nA warm, concrete post about {}.", subject(&prompt)), "thought": true}));
    }
    parts.push(json!({ "text": text }));
    reply(json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage(answer),
    }))
}

/// Tokens of a text, by Google's rule of thumb of about four characters a token.
fn tokens(text: &str) -> u64 {
    u64::try_from(text.chars().count().div_ceil(4)).unwrap_or(u64::MAX)
}

/// A value matching an OpenAPI-subset or JSON schema, with text fitting each property's
/// name (`post`, `hashtags`, `image_prompt`, ...).
fn from_schema(schema: &Value, name: &str, prompt: &str, seed: u64) -> Value {
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("STRING")
        .to_uppercase();
    match ty.as_str() {
        "OBJECT" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, v) in props {
                    out.insert(k.clone(), from_schema(v, k, prompt, seed));
                }
            }
            Value::Object(out)
        }
        "ARRAY" => {
            let item = schema
                .get("items")
                .cloned()
                .unwrap_or(json!({"type": "STRING"}));
            if name.to_lowercase().contains("hashtag")
                || item
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case("string"))
            {
                Value::Array(hashtags(prompt).into_iter().map(Value::String).collect())
            } else {
                Value::Array(vec![from_schema(&item, name, prompt, seed)])
            }
        }
        "INTEGER" | "NUMBER" => json!(1 + seed % 9),
        "BOOLEAN" => json!(true),
        _ => {
            if let Some(options) = schema.get("enum").and_then(Value::as_array)
                && let Some(first) = options.first()
            {
                return first.clone();
            }
            let n = name.to_lowercase();
            if n.contains("image") || n.contains("prompt") {
                json!(format!(
                    "Bright, natural-light photo of {}, welcoming, no text",
                    subject(prompt)
                ))
            } else if n.contains("title") || n.contains("headline") {
                json!(format!("Meet {}", subject(prompt)))
            } else {
                json!(post_text(prompt, seed))
            }
        }
    }
}

fn subject(prompt: &str) -> String {
    // The business name is usually quoted or follows "about"; fall back to the first line.
    prompt
        .split('"')
        .nth(1)
        .map(str::to_owned)
        .or_else(|| {
            prompt
                .split("about ")
                .nth(1)
                .map(|s| s.split(['.', '\n']).next().unwrap_or(s).trim().to_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            prompt
                .lines()
                .next()
                .unwrap_or("a local business")
                .chars()
                .take(60)
                .collect()
        })
}

fn hashtags(prompt: &str) -> Vec<String> {
    let words: Vec<String> = subject(prompt)
        .split_whitespace()
        .filter(|w| w.len() > 3)
        .map(|w| {
            format!(
                "#{}",
                w.chars()
                    .filter(|c| c.is_alphanumeric())
                    .collect::<String>()
            )
        })
        .filter(|w| w.len() > 1)
        .take(2)
        .collect();
    let mut out = words;
    out.push(match Language::of(prompt) {
        Language::French => "#CommerceLocal".to_owned(),
        Language::English => "#LocalBusiness".to_owned(),
    });
    out
}

/// The text between `before` and the first `after` that follows it in the prompt.
fn between<'a>(prompt: &'a str, before: &str, after: &str) -> Option<&'a str> {
    let start = prompt.find(before)? + before.len();
    let rest = &prompt[start..];
    let text = rest[..rest.find(after)?].trim();
    (!text.is_empty()).then_some(text)
}

/// The language a post is written in: our prompt asks for the business's city's. A model
/// knows where every city is; the sandbox knows the French-speaking cities of its demos.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Language {
    French,
    English,
}

impl Language {
    fn of(prompt: &str) -> Self {
        const FRENCH: &[&str] = &[
            "paris",
            "lyon",
            "marseille",
            "bordeaux",
            "toulouse",
            "nantes",
            "lille",
            "strasbourg",
            "nice",
            "montpellier",
            "rennes",
            "grenoble",
            "dijon",
            "angers",
            "reims",
            "tours",
            "nancy",
            "metz",
            "rouen",
            "caen",
            "brest",
            "annecy",
            "montréal",
            "montreal",
            "québec",
            "quebec",
            "bruxelles",
            "genève",
            "geneve",
            "lausanne",
        ];
        let city = between(prompt, "why people in ", " should know")
            .unwrap_or_default()
            .to_lowercase();
        let accented = city.chars().any(|c| "éèêëàâçîïôûùœ".contains(c));
        if accented
            || FRENCH
                .iter()
                .any(|f| city.split([' ', ',', '-']).any(|w| w == *f))
        {
            Self::French
        } else {
            Self::English
        }
    }
}

/// A LinkedIn post as our prompt asks for it (`workers/src/handlers/generate.rs`): the
/// owner, in her own voice, puts the spotlight on a business of her city, in one language
/// (the city's), and ends on an invitation to connect. Some carry little-text reserved
/// characters (parentheses, a plus), as model output does.
///
/// Its quality score stays what the tests rely on (80–90 with an image, 60–70 without):
/// it names the business and the city and asks no call to action the scoring knows of,
/// an invitation to connect not being one (no "book", "visit", "share", "?", ...).
fn post_text(prompt: &str, seed: u64) -> String {
    let who = subject(prompt);
    let language = Language::of(prompt);
    let city = between(prompt, "why people in ", " should know").map(str::to_owned);
    let industry = between(prompt, "named below, a ", " in ").map(str::to_owned);
    // "Maison Dupont, a local bakery": her business's name, when she gave it.
    let owner = between(prompt, "post from ", " spotlighting")
        .filter(|o| *o != "a local business")
        .map(|o| o.split(", a local ").next().unwrap_or(o).to_owned());
    let i = usize::try_from(seed % 4).unwrap_or(0);
    let j = usize::try_from((seed >> 8) % 4).unwrap_or(0);
    let k = usize::try_from((seed >> 16) % 4).unwrap_or(0);
    // A real model never writes the same post for two prompts; 1,024 combinations keep
    // businesses that share a name (the fixtures invent some) from colliding on LinkedIn's
    // duplicate check in a demo, except about once in a thousand pairs.
    let d = usize::try_from((seed >> 24) % 16).unwrap_or(0);
    match language {
        Language::English => {
            let city = city.unwrap_or_else(|| "our town".to_owned());
            let openers = [
                "Good news for our neighbourhood!",
                "I love our community.",
                "A little spotlight this week.",
                "One of my favourite places deserves a word.",
            ];
            let me = match &owner {
                Some(o) => format!("At {o}, we like to put our neighbours in the spotlight."),
                None => "Running a small business, I like to put our neighbours in the spotlight."
                    .to_owned(),
            };
            let today = match &industry {
                Some(kind) => format!("Today: {who}, a {kind} in {city}."),
                None => format!("Today: {who}, in {city}."),
            };
            let middles = [
                format!(
                    "The team at {who} takes care of every detail (and every guest) with a smile."
                ),
                format!(
                    "{who} has been part of life in {city} for 10+ years, and it shows: quality first."
                ),
                format!(
                    "What I like about {who}: people who know their trade and love their street."
                ),
                format!("If you do not know {who} yet, it is one of the best addresses in {city}."),
            ];
            let details = [
                "Fresh this week: something new to try.",
                "Family-run and proud of it.",
                "Their seasonal specials are worth the detour.",
                "Open early, closing late on Fridays.",
                "Everything made right there, by hand.",
                "Ten wonderful years, and counting.",
                "Parking is easy, just around the corner.",
                "Gift cards at the counter.",
                "The regulars know the secret menu.",
                "A brand-new terrace this season.",
                "Local suppliers, short distances.",
                "Kids and dogs welcome.",
                "New faces on their team this month.",
                "Rain or shine, they are there.",
                "A warm welcome, every single day.",
                "Small business, big heart.",
            ];
            let closers = [
                "If you know them too, let's connect and swap good addresses.",
                "Let's connect: I am always glad to introduce good people.",
                "Say hello from me next time you are there.",
                "Let's connect and keep the businesses around us thriving.",
            ];
            format!(
                "{} {me} {today} {} {} {}",
                openers[i], middles[j], details[d], closers[k]
            )
        }
        Language::French => {
            let city = city.unwrap_or_else(|| "notre ville".to_owned());
            let openers = [
                "Bonne nouvelle pour le quartier !",
                "J'aime notre quartier.",
                "Un petit coup de projecteur cette semaine.",
                "Une de mes adresses préférées mérite un mot.",
            ];
            let me = match &owner {
                Some(o) => format!("Chez {o}, on aime mettre nos voisins à l'honneur."),
                None => "Entrepreneuse ici, j'aime mettre nos voisins à l'honneur.".to_owned(),
            };
            let today = match &industry {
                Some(kind) => format!("Aujourd'hui : {who} ({kind}, {city})."),
                None => format!("Aujourd'hui : {who}, à {city}."),
            };
            let middles = [
                format!(
                    "L'équipe de {who} soigne chaque détail (et chaque client) avec le sourire."
                ),
                format!(
                    "{who} fait partie de la vie de {city} depuis 10+ ans, et ça se voit : la qualité d'abord."
                ),
                format!(
                    "Ce que j'aime chez {who} : des gens qui connaissent leur métier et aiment leur rue."
                ),
                format!(
                    "Si vous ne connaissez pas encore {who}, c'est une des belles adresses de {city}."
                ),
            ];
            let details = [
                "Du nouveau cette semaine, à goûter.",
                "Une affaire de famille, et fière de l'être.",
                "Leurs spécialités de saison valent le détour.",
                "Ouvert tôt, et tard le vendredi.",
                "Tout est fait sur place, à la main.",
                "Dix belles années, et ce n'est qu'un début.",
                "On se gare facilement, juste à côté.",
                "Des cartes cadeaux au comptoir.",
                "Les habitués connaissent le menu secret.",
                "Une toute nouvelle terrasse cette saison.",
                "Des fournisseurs locaux, en circuit court.",
                "Enfants et chiens bienvenus.",
                "De nouvelles têtes dans l'équipe ce mois-ci.",
                "Qu'il pleuve ou qu'il vente, ils sont là.",
                "Un accueil chaleureux, tous les jours.",
                "Petite entreprise, grand cœur.",
            ];
            let closers = [
                "Si vous les connaissez aussi, connectons-nous et échangeons nos bonnes adresses.",
                "Connectons-nous : j'aime mettre en relation les gens du coin.",
                "Passez-leur le bonjour de ma part.",
                "Connectons-nous pour faire vivre les commerces autour de nous.",
            ];
            format!(
                "{} {me} {today} {} {} {}",
                openers[i], middles[j], details[d], closers[k]
            )
        }
    }
}

fn image_bytes(call: &Call<'_>, prompt: &str) -> (Vec<u8>, &'static str) {
    if call.mode == Some("not_image") {
        return (
            b"<html><body>Quota page, not an image</body></html>".to_vec(),
            "image/png",
        );
    }
    (
        png::image(hash(call.shared.options.seed, prompt), 64),
        "image/png",
    )
}

/// `generateContent` with `responseModalities: ["IMAGE"]`: the image as `inlineData`.
pub(crate) fn gemini_image(call: &Call<'_>) -> HttpResponse {
    let (model, body) = match prelude(call) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let prompt = prompt_text(&body);
    if call.mode == Some("filtered") {
        return HttpResponse::Ok().json(json!({
            "candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
            "usageMetadata": usage(), "modelVersion": model
        }));
    }
    let (bytes, mime) = image_bytes(call, &prompt);
    HttpResponse::Ok().json(json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"text": "Here is the image you asked for."},
            {"inlineData": {"mimeType": mime, "data": STANDARD.encode(bytes)}}
        ]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage(), "modelVersion": model
    }))
}

/// Imagen `:predict`: every Imagen model is shut down in the Gemini API
/// (ai.google.dev/gemini-api/docs/deprecations), and no Gemini model serves `predict`, so
/// every call after the key check is 404 NOT_FOUND.
pub(crate) fn imagen(call: &Call<'_>) -> HttpResponse {
    if let Err(r) = check_key(call) {
        return r;
    }
    let rest = call.req.path().trim_start_matches("/gemini/v1beta/models/");
    let id = rest.split(':').next().unwrap_or_default();
    error(
        404,
        &format!(
            "models/{id} is not found for API version v1beta, or is not supported for predict. Call ListModels to see the list of available models and their supported methods."
        ),
        vec![],
    )
}

/// `GET /gemini/v1beta/models` (`models.list`) and `GET /gemini/v1beta/models/{model}`
/// (`models.get`), as ai.google.dev/api/models documents them.
pub(crate) fn gemini_models(call: &Call<'_>) -> HttpResponse {
    if let Err(r) = check_key(call) {
        return r;
    }
    let options = &call.shared.options;
    let path = call.req.path().trim_end_matches('/');
    if let Some(id) = path.strip_prefix("/gemini/v1beta/models/") {
        return match models::get(options, id) {
            Some(m) => HttpResponse::Ok().json(m),
            None => error(
                404,
                &format!("models/{id} is not found for API version v1beta."),
                vec![],
            ),
        };
    }
    let size = match query(call, "pageSize") {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return error(
                    400,
                    &format!("Invalid value at 'page_size' (TYPE_INT32), \"{s}\""),
                    vec![],
                );
            }
        },
    };
    match models::page(options, size, query(call, "pageToken").as_deref()) {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(m) => error(400, &m, vec![]),
    }
}

#[cfg(test)]
mod tests {
    use super::post_text;

    /// The prompt as the generate handler writes it.
    fn prompt(owner: &str, industry: &str, city: &str, name: &str) -> String {
        format!(
            "Write a LinkedIn post from {owner} spotlighting the business named below, a \
             {industry} in {city}: why people in {city} should know them, and an invitation \
             to connect.\nThe name and address below come from a public business directory.\n\
             Business name: \"{name}\""
        )
    }

    #[test]
    fn a_post_speaks_the_citys_language_in_the_owners_voice() {
        for seed in 0..64u64 {
            let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let fr = post_text(
                &prompt(
                    "Maison Dupont, a local bakery",
                    "fleuriste",
                    "Bordeaux",
                    "Les Fleurs d'Anna",
                ),
                seed,
            );
            assert!(
                fr.contains("Les Fleurs d'Anna") && fr.contains("Bordeaux"),
                "{fr}"
            );
            assert!(fr.contains("Chez Maison Dupont"), "{fr}");
            for english in ["the ", " we ", "Let's", "Today"] {
                assert!(!fr.contains(english), "English in a French post: {fr}");
            }
            let en = post_text(
                &prompt("a local business", "florist", "Toronto", "Anna's Flowers"),
                seed,
            );
            assert!(
                en.contains("Anna's Flowers") && en.contains("Toronto"),
                "{en}"
            );
            for french in [" le ", " la ", " les ", "Aujourd'hui", "Chez "] {
                assert!(!en.contains(french), "French in an English post: {en}");
            }
            // The business is spotlighted, not speaking: the owner writes about it.
            for own_voice in ["At Anna's Flowers, we", "our team at Anna's"] {
                assert!(!en.contains(own_voice), "{en}");
            }
        }
    }
}
