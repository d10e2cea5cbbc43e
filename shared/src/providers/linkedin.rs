//! LinkedIn after the connect (docs/providers.md, 4.2–4.7): refreshing a grant, the member's
//! userinfo, the image upload (initializeUpload, PUT, wait for AVAILABLE), creating a post
//! with its commentary in little-text format, and member post analytics. Every `/rest` call
//! carries the §4.2 headers. Only `POST /rest/posts` creates something, so only its
//! ambiguous failures are `OutcomeUnknown`.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::error::ProviderError;
use super::http::{self, Effect};
use crate::config::LinkedInConfig;

/// LinkedIn's commentary limit, counted in characters after escaping.
pub const MAX_COMMENTARY_CHARS: usize = 3000;

pub struct LinkedInClient {
    http: reqwest::Client,
    api_base: String,
    token_url: String,
    userinfo_url: String,
    version: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    poll_interval: Duration,
    poll_max: Duration,
    unpolled_wait: Duration,
}

impl std::fmt::Debug for LinkedInClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInClient")
            .field("api_base", &self.api_base)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// New tokens from a refresh. Not `Debug`-printable with its tokens.
pub struct Refreshed {
    pub access_token: String,
    pub expires_in: Duration,
    pub refresh_token: Option<String>,
    pub refresh_expires_in: Option<Duration>,
    /// The scopes this token holds, as LinkedIn answered them (comma-separated); `None`
    /// when the answer had none.
    pub scope: Option<String>,
}

impl std::fmt::Debug for Refreshed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refreshed")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

impl UserInfo {
    pub fn member_urn(&self) -> String {
        format!("urn:li:person:{}", self.sub)
    }
}

/// Where to PUT the bytes and the image's URN; store the URN before uploading.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpload {
    pub upload_url: String,
    pub image: String,
    #[serde(default)]
    pub upload_url_expires_at: Option<i64>,
}

/// A post to create. `commentary` is plain text; it is escaped here.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPost<'a> {
    pub author_urn: &'a str,
    pub commentary: &'a str,
    pub image_urn: Option<&'a str>,
    pub image_alt_text: Option<&'a str>,
}

/// Totals for one post; zero when LinkedIn has no data yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PostStats {
    pub impressions: i64,
    pub reactions: i64,
    pub comments: i64,
    pub reshares: i64,
}

impl LinkedInClient {
    pub fn from_config(config: &LinkedInConfig) -> Result<Self, ProviderError> {
        Ok(Self {
            http: http::client(Duration::from_millis(config.timeout_ms))?,
            api_base: config.api_base_url.trim_end_matches('/').to_owned(),
            token_url: config.token_url.clone(),
            userinfo_url: config.userinfo_url.clone(),
            version: config.version.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            poll_interval: Duration::from_millis(config.image_poll_interval_ms.max(10)),
            poll_max: Duration::from_millis(config.image_poll_max_ms),
            unpolled_wait: Duration::from_millis(config.image_unpolled_wait_ms),
        })
    }

    /// A `/rest` request with the versioned headers.
    fn rest(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/rest/{path}", self.api_base))
            .bearer_auth(token)
            .header("LinkedIn-Version", &self.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
    }

    async fn check(
        &self,
        what: &str,
        response: reqwest::Response,
        effect: Effect,
        token: &str,
    ) -> Result<reqwest::Response, ProviderError> {
        if response.status().is_success() {
            return Ok(response);
        }
        let secret = self.client_secret.as_deref().unwrap_or("");
        Err(http::linkedin_error(what, response, effect, &[token, secret]).await)
    }

    /// Trades a refresh token for a new access token. Any refusal (the refresh token
    /// expired or was revoked) means the member must connect again: `Reconnect`.
    #[tracing::instrument(skip_all, fields(route = "linkedin.token"))]
    pub async fn refresh(&self, refresh_token: &str) -> Result<Refreshed, ProviderError> {
        let (Some(id), Some(secret)) = (&self.client_id, &self.client_secret) else {
            return Err(ProviderError::permanent(
                "linkedin refresh: no app configured",
            ));
        };
        let request = self.http.post(&self.token_url).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", id),
            ("client_secret", secret),
        ]);
        let response = http::send(
            http::Route::LinkedInToken,
            "linkedin refresh",
            request,
            Effect::Idempotent,
        )
        .await?;
        let status = response.status();
        if !status.is_success() {
            let e = http::linkedin_error(
                "linkedin refresh",
                response,
                Effect::Idempotent,
                &[refresh_token, secret],
            )
            .await;
            return Err(match e {
                ProviderError::Permanent { reason } if status.is_client_error() => {
                    ProviderError::Reconnect { reason }
                }
                other => other,
            });
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: u64,
            #[serde(default)]
            refresh_token: Option<String>,
            #[serde(default)]
            refresh_token_expires_in: Option<u64>,
            #[serde(default)]
            scope: Option<String>,
        }
        let t: Token = http::json("linkedin refresh", response, Effect::Idempotent).await?;
        Ok(Refreshed {
            access_token: t.access_token,
            expires_in: Duration::from_secs(t.expires_in),
            refresh_token: t.refresh_token,
            refresh_expires_in: t.refresh_token_expires_in.map(Duration::from_secs),
            scope: t.scope,
        })
    }

    /// The member behind `token` (`sub` makes the author URN).
    #[tracing::instrument(skip_all, fields(route = "linkedin.userinfo"))]
    pub async fn userinfo(&self, token: &str) -> Result<UserInfo, ProviderError> {
        let request = self.http.get(&self.userinfo_url).bearer_auth(token);
        let response = http::send(
            http::Route::LinkedInUserinfo,
            "linkedin userinfo",
            request,
            Effect::Idempotent,
        )
        .await?;
        let response = self
            .check("linkedin userinfo", response, Effect::Idempotent, token)
            .await?;
        let info: UserInfo = http::json("linkedin userinfo", response, Effect::Idempotent).await?;
        if info.sub.is_empty() {
            return Err(ProviderError::permanent("linkedin userinfo: no member id"));
        }
        Ok(info)
    }

    /// Step 1 of an image upload. Creates nothing visible; retrying only wastes a URN.
    #[tracing::instrument(skip_all, fields(route = "linkedin.images.init"))]
    pub async fn init_image_upload(
        &self,
        token: &str,
        owner_urn: &str,
    ) -> Result<ImageUpload, ProviderError> {
        let what = "linkedin images init";
        let request = self
            .rest(
                reqwest::Method::POST,
                "images?action=initializeUpload",
                token,
            )
            .json(&json!({"initializeUploadRequest": {"owner": owner_urn}}));
        let response = http::send(
            http::Route::LinkedInImagesInit,
            what,
            request,
            Effect::Idempotent,
        )
        .await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        let w: InitializeUploadAnswer = http::json(what, response, Effect::Idempotent).await?;
        Ok(w.value)
    }

    /// Step 2: the bytes to the upload URL (any 2xx is success).
    #[tracing::instrument(skip_all, fields(route = "linkedin.images.upload", bytes = bytes.len()))]
    pub async fn upload_image(
        &self,
        token: &str,
        upload_url: &str,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<(), ProviderError> {
        let what = "linkedin images upload";
        let request = self
            .http
            .put(upload_url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, mime)
            .body(bytes);
        let response = http::send(
            http::Route::LinkedInImagesUpload,
            what,
            request,
            Effect::Idempotent,
        )
        .await?;
        self.check(what, response, Effect::Idempotent, token)
            .await?;
        Ok(())
    }

    /// Step 3: asks until the image is AVAILABLE, at most the configured wait; still
    /// processing after it is `RetryLater`, a failed processing `Permanent`. Call it right
    /// after the upload.
    ///
    /// A 403 on the status GET is LinkedIn refusing the read, not the image: the Images API
    /// ("Images API", learn.microsoft.com/linkedin/marketing/community-management/shares/images-api)
    /// documents the GET with permissions a self-serve app's `w_member_social` may not
    /// include. Then it waits `image_unpolled_wait_ms` from its start (a bounded time after
    /// the upload, in which LinkedIn processes an image) and answers Ok: the post goes out
    /// without the poll, and the refusal never fails a publication.
    #[tracing::instrument(skip_all, fields(route = "linkedin.images.get", image = image_urn))]
    pub async fn wait_image_available(
        &self,
        token: &str,
        image_urn: &str,
    ) -> Result<(), ProviderError> {
        let what = "linkedin images get";
        let path = format!("images/{}", encode(image_urn));
        let started = Instant::now();
        loop {
            let request = self.rest(reqwest::Method::GET, &path, token);
            let response = http::send(
                http::Route::LinkedInImagesGet,
                what,
                request,
                Effect::Idempotent,
            )
            .await?;
            if response.status() == reqwest::StatusCode::FORBIDDEN {
                let wait = self.unpolled_wait.saturating_sub(started.elapsed());
                tracing::warn!(
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "linkedin refused the image status read (403); posting after a bounded wait instead"
                );
                tokio::time::sleep(wait).await;
                return Ok(());
            }
            let response = self
                .check(what, response, Effect::Idempotent, token)
                .await?;
            let s: ImageStatus = http::json(what, response, Effect::Idempotent).await?;
            match s.status.as_str() {
                "AVAILABLE" => return Ok(()),
                "PROCESSING_FAILED" | "FAILED" => {
                    return Err(ProviderError::permanent(format!(
                        "{what}: image processing failed ({})",
                        s.status
                    )));
                }
                _ => {}
            }
            if started.elapsed() + self.poll_interval > self.poll_max {
                return Err(ProviderError::RetryLater {
                    after: Some(self.poll_interval),
                    reason: format!("{what}: image still {} after {:?}", s.status, self.poll_max),
                });
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// Whether LinkedIn refuses our `LinkedIn-Version`, asked without a member: the image
    /// status GET of a made-up image with a made-up token. A version LinkedIn retired (or
    /// never released) answers 426 `NONEXISTENT_VERSION` whatever the token
    /// (learn.microsoft.com/linkedin/marketing/versioning); that answer is `Some(reason)`.
    /// Any other refusal of the made-up token (401) is `None`: the version was not refused.
    #[tracing::instrument(skip_all, fields(route = "linkedin.images.get", probe = true))]
    pub async fn version_refused(&self) -> Result<Option<String>, ProviderError> {
        let what = "linkedin version probe";
        let token = "doctor-probe-not-a-token";
        let path = format!("images/{}", encode("urn:li:image:doctor-probe"));
        let request = self.rest(reqwest::Method::GET, &path, token);
        let response = http::send(
            http::Route::LinkedInImagesGet,
            what,
            request,
            Effect::Idempotent,
        )
        .await?;
        let status = response.status().as_u16();
        if status == 426 {
            let e = http::linkedin_error(what, response, Effect::Idempotent, &[]).await;
            return Ok(Some(e.to_string()));
        }
        if status == 401 || response.status().is_success() {
            return Ok(None);
        }
        Err(http::linkedin_error(what, response, Effect::Idempotent, &[]).await)
    }

    /// Creates the post; its URN comes from `x-restli-id`. A timeout or 5xx after sending is
    /// `OutcomeUnknown`: retry once with the identical commentary, which either creates it
    /// or answers `Duplicate` with the URN of the one that was created.
    #[tracing::instrument(skip_all, fields(route = "linkedin.posts", author = post.author_urn))]
    pub async fn create_post(
        &self,
        token: &str,
        post: &NewPost<'_>,
    ) -> Result<String, ProviderError> {
        let what = "linkedin posts";
        let commentary = escape_little_text(post.commentary)?;
        let mut body = json!({
            "author": post.author_urn,
            "commentary": commentary,
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false
        });
        if let Some(image) = post.image_urn {
            body["content"] =
                json!({"media": {"id": image, "altText": post.image_alt_text.unwrap_or("")}});
        }
        let request = self.rest(reqwest::Method::POST, "posts", token).json(&body);
        let response = http::send(
            http::Route::LinkedInPosts,
            what,
            request,
            Effect::CreatesSomething,
        )
        .await?;
        let response = self
            .check(what, response, Effect::CreatesSomething, token)
            .await?;
        let urn = created_post_urn(
            response
                .headers()
                .get("x-restli-id")
                .and_then(|v| v.to_str().ok()),
        );
        urn.ok_or_else(|| ProviderError::OutcomeUnknown {
            reason: format!("{what}: created but no x-restli-id in the answer"),
        })
    }

    /// Impressions, reactions, comments and reshares of one of the member's posts: one call
    /// per metric, as the API wants.
    #[tracing::instrument(skip_all, fields(route = "linkedin.analytics", post = post_urn))]
    pub async fn post_stats(
        &self,
        token: &str,
        post_urn: &str,
    ) -> Result<PostStats, ProviderError> {
        let entity = if post_urn.starts_with("urn:li:ugcPost:") {
            format!("(ugc:{})", encode(post_urn))
        } else {
            format!("(share:{})", encode(post_urn))
        };
        let mut stats = PostStats::default();
        for (metric, slot) in [
            ("IMPRESSION", &mut stats.impressions),
            ("REACTION", &mut stats.reactions),
            ("COMMENT", &mut stats.comments),
            ("RESHARE", &mut stats.reshares),
        ] {
            *slot = self.metric(token, &entity, metric).await?;
        }
        Ok(stats)
    }

    async fn metric(&self, token: &str, entity: &str, metric: &str) -> Result<i64, ProviderError> {
        let what = "linkedin analytics";
        let path = format!(
            "memberCreatorPostAnalytics?q=entity&entity={entity}&queryType={metric}&aggregation=TOTAL"
        );
        let request = self.rest(reqwest::Method::GET, &path, token);
        let response = http::send(
            http::Route::LinkedInAnalytics,
            what,
            request,
            Effect::Idempotent,
        )
        .await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        #[derive(Deserialize, Default)]
        #[serde(default, rename_all = "camelCase")]
        struct Element {
            count: i64,
            metric_type: serde_json::Value,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Elements {
            elements: Vec<Element>,
        }
        let body: Elements = http::json(what, response, Effect::Idempotent).await?;
        Ok(body
            .elements
            .iter()
            .filter(|e| metric_name(&e.metric_type).is_none_or(|m| m == metric))
            .map(|e| e.count)
            .sum())
    }
}

/// `POST /rest/images?action=initializeUpload`'s answer: the upload wrapped in `value`.
#[derive(Debug, Deserialize)]
struct InitializeUploadAnswer {
    value: ImageUpload,
}

/// `GET /rest/images/{urn}`: only `status` matters here (`WAITING_UPLOAD`, `PROCESSING`,
/// `AVAILABLE`, `PROCESSING_FAILED`).
#[derive(Debug, Deserialize)]
struct ImageStatus {
    #[serde(default)]
    status: String,
}

/// The created post's URN, from the 201's `x-restli-id` header ("Posts API": "the Post ID
/// is returned in the response header x-restli-id"); `None` when absent or not a URN.
fn created_post_urn(x_restli_id: Option<&str>) -> Option<String> {
    x_restli_id
        .map(str::trim)
        .filter(|u| u.starts_with("urn:li:") && u.len() > "urn:li:".len())
        .map(str::to_owned)
}

/// `metricType` as a plain string (202605 on) or wrapped in a one-key object (before).
fn metric_name(v: &serde_json::Value) -> Option<&str> {
    match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Object(o) => o.values().next().and_then(|v| v.as_str()),
        _ => None,
    }
}

/// URL-encodes a URN for a path segment or a Rest.li query value.
fn encode(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

/// The text as posted, and as the previews show it: the hashtags the text does not already
/// carry go at the end.
pub fn commentary(text: &str, hashtags: &[String]) -> String {
    let missing: Vec<String> = hashtags
        .iter()
        .map(|t| {
            if t.starts_with('#') {
                t.clone()
            } else {
                format!("#{t}")
            }
        })
        .filter(|t| !text.contains(t.as_str()))
        .collect();
    if missing.is_empty() {
        text.to_owned()
    } else {
        format!("{text}\n\n{}", missing.join(" "))
    }
}

/// Plain text in LinkedIn's little-text format: every reserved character backslash-escaped,
/// so LinkedIn does not silently cut the post at it, except a `#` that starts a hashtag
/// (a `#` not after a word character and followed by a letter or digit), which stays bare so
/// it links. Longer than 3000 characters once escaped is `Permanent`.
pub fn escape_little_text(text: &str) -> Result<String, ProviderError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        let hashtag = c == '#'
            && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if matches!(
            c,
            '\\' | '|'
                | '{'
                | '}'
                | '@'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '#'
                | '*'
                | '_'
                | '~'
        ) && !hashtag
        {
            out.push('\\');
        }
        out.push(c);
    }
    let n = out.chars().count();
    if n > MAX_COMMENTARY_CHARS {
        return Err(ProviderError::permanent(format!(
            "post text is {n} characters once escaped; LinkedIn takes at most {MAX_COMMENTARY_CHARS}"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_missing_from_the_text_are_appended_once() {
        let tags = vec!["#Lyon".to_owned(), "Bakery".to_owned()];
        assert_eq!(
            commentary("Fresh bread in #Lyon", &tags),
            "Fresh bread in #Lyon\n\n#Bakery"
        );
        assert_eq!(
            commentary("All here #Lyon #Bakery", &tags),
            "All here #Lyon #Bakery"
        );
    }

    #[test]
    fn every_reserved_character_is_escaped_but_hashtags() {
        assert_eq!(
            escape_little_text(r"a\b|c{d}e@f[g]h(i)j<k>l*m_n~o # p#q").unwrap(),
            r"a\\b\|c\{d\}e\@f\[g\]h\(i\)j\<k\>l\*m\_n\~o \# p\#q"
        );
        assert_eq!(
            escape_little_text("#Guelph rocks 🦷 #1 (Mon–Fri)").unwrap(),
            r"#Guelph rocks 🦷 #1 \(Mon–Fri\)"
        );
        assert_eq!(escape_little_text("##tag").unwrap(), r"\##tag");
    }

    #[test]
    fn too_long_once_escaped_is_permanent() {
        assert!(escape_little_text(&"a".repeat(3000)).is_ok());
        let e = escape_little_text(&"(".repeat(1501)).unwrap_err();
        assert!(matches!(e, ProviderError::Permanent { .. }));
    }

    #[test]
    fn metric_types_in_both_forms() {
        assert_eq!(metric_name(&json!("REACTION")), Some("REACTION"));
        assert_eq!(
            metric_name(
                &json!({"com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": "COMMENT"})
            ),
            Some("COMMENT")
        );
        assert_eq!(metric_name(&serde_json::Value::Null), None);
    }

    // Contract fixtures: each body is written from the shape LinkedIn documents on the page
    // named above it, and parsed by the code the client runs on a real answer.

    use super::super::http::{Effect, classify_linkedin};

    fn classify(
        status: u16,
        retry_after_s: Option<u64>,
        body: &str,
        effect: Effect,
    ) -> ProviderError {
        classify_linkedin(
            "linkedin test",
            status,
            retry_after_s.map(Duration::from_secs),
            body.as_bytes(),
            effect,
            &[],
        )
    }

    /// "Posts API" (learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api),
    /// "Create a Post": `201 Created` with the post's id in the `x-restli-id` header.
    #[test]
    fn fixture_posts_create_201_x_restli_id() {
        assert_eq!(
            created_post_urn(Some("urn:li:share:6844785523593134080")).as_deref(),
            Some("urn:li:share:6844785523593134080")
        );
        assert_eq!(
            created_post_urn(Some("urn:li:ugcPost:7166666666666666666")).as_deref(),
            Some("urn:li:ugcPost:7166666666666666666")
        );
        assert_eq!(created_post_urn(None), None);
        assert_eq!(created_post_urn(Some("")), None);
    }

    /// "Images API" (learn.microsoft.com/linkedin/marketing/community-management/shares/images-api),
    /// "Initialize Image Upload": the answer wraps `uploadUrlExpiresAt`, `uploadUrl` and
    /// `image` in `value`.
    #[test]
    fn fixture_images_initialize_upload() {
        let body = r#"{
          "value": {
            "uploadUrlExpiresAt": 1650567510704,
            "uploadUrl": "https://www.linkedin.com/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploaded-image/0?ca=vector_ads&cn=uploads&m=AQJbrN86Zm265gAAAYBAGq4aGAZMTnKZ5aUVfbKIUZzRJc1YxsKmR6nvkQ&app=1953784&sync=0&v=beta&ut=1Dnjy796bpjEY1",
            "image": "urn:li:image:C4E10AQFoyyAjHPMQuQ"
          }
        }"#;
        let a: InitializeUploadAnswer = serde_json::from_str(body).unwrap();
        assert_eq!(a.value.image, "urn:li:image:C4E10AQFoyyAjHPMQuQ");
        assert!(
            a.value
                .upload_url
                .starts_with("https://www.linkedin.com/dms-uploads/")
        );
        assert_eq!(a.value.upload_url_expires_at, Some(1_650_567_510_704));
    }

    /// "Images API", "Get a Single Image": `owner`, `status`, `downloadUrl`,
    /// `downloadUrlExpiresAt`, `id` (and the media's dimensions when available).
    #[test]
    fn fixture_image_get() {
        let body = r#"{
          "owner": "urn:li:person:8675309",
          "status": "AVAILABLE",
          "downloadUrlExpiresAt": 1650747116230,
          "downloadUrl": "https://media.licdn.com/dms/image/C4E10AQFoyyAjHPMQuQ/image-shrink_800/0/1650660716220?e=1650747116&v=beta&t=xyz",
          "id": "urn:li:image:C4E10AQFoyyAjHPMQuQ"
        }"#;
        let s: ImageStatus = serde_json::from_str(body).unwrap();
        assert_eq!(s.status, "AVAILABLE");
        let processing: ImageStatus = serde_json::from_str(
            r#"{"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "status": "PROCESSING"}"#,
        )
        .unwrap();
        assert_eq!(processing.status, "PROCESSING");
    }

    /// "Sign In with LinkedIn using OpenID Connect"
    /// (learn.microsoft.com/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2),
    /// "API Request to Retrieve Member Details": `GET /v2/userinfo`.
    #[test]
    fn fixture_userinfo() {
        let body = r#"{
          "sub": "782bbtaQ",
          "name": "John Doe",
          "given_name": "John",
          "family_name": "Doe",
          "picture": "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
          "locale": "en-US",
          "email": "doe@email.com",
          "email_verified": true
        }"#;
        let u: UserInfo = serde_json::from_str(body).unwrap();
        assert_eq!(u.member_urn(), "urn:li:person:782bbtaQ");
        assert_eq!(u.name.as_deref(), Some("John Doe"));
        assert_eq!(u.email.as_deref(), Some("doe@email.com"));
        // Without the `email` and `profile` scopes only `sub` is certain.
        let bare: UserInfo = serde_json::from_str(r#"{"sub": "782bbtaQ"}"#).unwrap();
        assert_eq!(bare.name, None);
    }

    /// "Posts API", duplicate content: 422 with `DUPLICATE_POST` in `errorDetails` and the
    /// earlier post's URN in `message`.
    #[test]
    fn fixture_duplicate_post_422() {
        let body = r#"{
          "errorDetailType": "com.linkedin.common.error.BadRequest",
          "message": "ERROR :: /commentary :: Content is a duplicate of urn:li:share:7141138937766391808",
          "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected",
            "input": {"inputPath": {"fieldPath": "/commentary"}}, "code": "DUPLICATE_POST"}]},
          "status": 422
        }"#;
        assert_eq!(
            classify(422, None, body, Effect::CreatesSomething),
            ProviderError::Duplicate {
                urn: "urn:li:share:7141138937766391808".into()
            }
        );
        let unnamed = r#"{"message": "Duplicate post is detected", "errorDetails": {"inputErrors": [{"code": "DUPLICATE_POST"}]}, "status": 422}"#;
        assert!(matches!(
            classify(422, None, unnamed, Effect::CreatesSomething),
            ProviderError::DuplicateUnnamed { .. }
        ));
    }

    /// "Error Handling" (learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling)
    /// and "Authorization Code Flow" ("Step 4: ... expired or revoked tokens"): 401 with
    /// `serviceErrorCode` 65600 (invalid), 65601 (revoked) or 65602 (expired).
    #[test]
    fn fixture_401_is_reconnect() {
        for body in [
            r#"{"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message": "Invalid access token"}"#,
            r#"{"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN", "message": "The token used in the request has been revoked by the user"}"#,
            r#"{"status": 401, "serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN", "message": "The token used in the request has expired"}"#,
        ] {
            let e = classify(401, None, body, Effect::CreatesSomething);
            assert!(matches!(e, ProviderError::Reconnect { .. }), "{e:?}");
        }
    }

    /// "Error Handling": 403 `ACCESS_DENIED` "Not enough permissions to access: ..." (a scope
    /// the grant lacks): the same call gets the same answer.
    #[test]
    fn fixture_403_is_permanent() {
        let body = r#"{"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED", "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20261001"}"#;
        match classify(403, None, body, Effect::CreatesSomething) {
            ProviderError::Permanent { reason } => {
                assert!(reason.contains("403 ACCESS_DENIED"), "{reason}");
                assert!(reason.contains("Not enough permissions"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// "Rate Limits" (learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits):
    /// 429 `TOO_MANY_REQUESTS`; daily limits reset at midnight UTC, and LinkedIn names no
    /// delay unless a `Retry-After` header does.
    #[test]
    fn fixture_429() {
        let body = r#"{"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}"#;
        assert!(matches!(
            classify(429, None, body, Effect::CreatesSomething),
            ProviderError::RateLimitedUntil { .. }
        ));
        assert!(matches!(
            classify(429, Some(5), body, Effect::CreatesSomething),
            ProviderError::RetryLater { after: Some(d), .. } if d == Duration::from_secs(5)
        ));
    }

    /// "Versioning" (learn.microsoft.com/linkedin/marketing/versioning): a `LinkedIn-Version`
    /// that is sunset or not released answers 426 `NONEXISTENT_VERSION`. Only an operator
    /// can fix it, whatever the call.
    #[test]
    fn fixture_426_nonexistent_version_is_misconfigured() {
        let body = r#"{"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20230101 is not active"}"#;
        for effect in [Effect::Idempotent, Effect::CreatesSomething] {
            match classify(426, None, body, effect) {
                ProviderError::Misconfigured { reason } => {
                    assert!(reason.contains("NONEXISTENT_VERSION"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
