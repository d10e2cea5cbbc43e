//! Instagram after the connect, on `graph.instagram.com` (docs/providers.md, "Instagram"):
//! the long-lived token's exchange and refresh, the account (`/me`), content publishing (a
//! container from a public image URL, its `status_code`, `media_publish`, the publishing
//! limit), the media's permalink and its insights; and [`to_instagram_jpeg`], the image
//! Instagram takes. Only `media_publish` makes something the public sees, so only its
//! ambiguous failures are `OutcomeUnknown`: a container nobody publishes expires unseen.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Deserialize;

use super::error::{ProviderError, quote};
use super::http::{self, Effect, Route};
use crate::config::InstagramConfig;

/// "Content Publishing", limitations: a caption has at most 2,200 characters and 30
/// hashtags.
pub const MAX_CAPTION_CHARS: usize = 2200;
pub const MAX_HASHTAGS: usize = 30;
/// Aspect ratios Instagram accepts for a feed image: 4:5 (portrait) to 1.91:1 (landscape).
pub const MIN_ASPECT: f64 = 4.0 / 5.0;
pub const MAX_ASPECT: f64 = 1.91;
/// Instagram scales wider images down to 1,440 px: sending more only costs bytes.
pub const MAX_WIDTH: u32 = 1440;

pub struct InstagramClient {
    http: reqwest::Client,
    graph: String,
    poll_interval: Duration,
    poll_max: Duration,
}

impl std::fmt::Debug for InstagramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstagramClient")
            .field("graph", &self.graph)
            .finish_non_exhaustive()
    }
}

/// A long-lived token, new from the exchange or a refresh. Not `Debug`-printable with it.
pub struct LongLived {
    pub access_token: String,
    pub expires_in: Duration,
}

impl std::fmt::Debug for LongLived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongLived")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// `GET /me?fields=user_id,username`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Me {
    #[serde(default, deserialize_with = "string_or_number")]
    pub user_id: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// A container's `status_code` ("IG Container").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerStatus {
    InProgress,
    /// Ready for `media_publish`.
    Finished,
    /// Published: the media exists, and it is ours.
    Published,
    /// Not published within 24 h: make another.
    Expired,
    /// Processing failed (`status` carries the subcode): make another.
    Error(String),
}

impl ContainerStatus {
    /// Whether the container can no longer be published and must be made again.
    pub fn must_remake(&self) -> bool {
        matches!(self, Self::Expired | Self::Error(_))
    }
}

/// `content_publishing_limit`: posts published in the moving window, and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishingLimit {
    pub usage: u32,
    pub total: u32,
    pub window: Duration,
}

/// A post's lifetime insights; `None` for a metric Instagram did not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaInsights {
    pub likes: Option<i64>,
    pub comments: Option<i64>,
    pub reach: Option<i64>,
    pub views: Option<i64>,
}

/// What a container is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContainer<'a> {
    pub image_url: &'a str,
    pub caption: &'a str,
    pub alt_text: Option<&'a str>,
}

impl InstagramClient {
    pub fn from_config(config: &InstagramConfig) -> Result<Self, ProviderError> {
        let base = config.graph_base_url.trim_end_matches('/');
        let graph = match config.version.trim_matches('/') {
            "" => base.to_owned(),
            v => format!("{base}/{v}"),
        };
        Ok(Self {
            http: http::client(Duration::from_millis(config.timeout_ms))?,
            graph,
            poll_interval: Duration::from_millis(config.container_poll_interval_ms.max(10)),
            poll_max: Duration::from_millis(config.container_poll_max_ms),
        })
    }

    /// The unversioned host, for `access_token` and `refresh_access_token`, which live at
    /// the host's root.
    fn host(&self) -> &str {
        match self.graph.rsplit_once('/') {
            Some((host, last))
                if last.starts_with('v')
                    && last[1..].chars().all(|c| c.is_ascii_digit() || c == '.') =>
            {
                host
            }
            _ => &self.graph,
        }
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
        let status = response.status().as_u16();
        let header = |n: &str| {
            response
                .headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let app_usage = header("x-app-usage");
        let buc_usage = header("x-business-use-case-usage");
        let bytes = response.bytes().await.unwrap_or_default();
        Err(graph_error(
            what,
            status,
            app_usage.as_deref(),
            buc_usage.as_deref(),
            &bytes,
            effect,
            &[token],
        ))
    }

    /// `GET /access_token?grant_type=ig_exchange_token`: a short-lived token (1 h) for a
    /// long-lived one (60 days).
    #[tracing::instrument(skip_all, fields(route = "instagram.exchange"))]
    pub async fn exchange_for_long_lived(
        &self,
        short_lived: &str,
        client_secret: &str,
    ) -> Result<LongLived, ProviderError> {
        let what = "instagram long-lived exchange";
        let request = self
            .http
            .get(format!("{}/access_token", self.host()))
            .query(&[
                ("grant_type", "ig_exchange_token"),
                ("client_secret", client_secret),
                ("access_token", short_lived),
            ]);
        let response =
            http::send(Route::InstagramExchange, what, request, Effect::Idempotent).await?;
        if !response.status().is_success() {
            let e = self
                .check(what, response, Effect::Idempotent, short_lived)
                .await
                .err()
                .unwrap_or_else(|| ProviderError::permanent(what));
            return Err(scrub_error(e, client_secret));
        }
        let t: TokenAnswer = http::json(what, response, Effect::Idempotent).await?;
        Ok(t.into())
    }

    /// `GET /refresh_access_token?grant_type=ig_refresh_token`: a long-lived token at least
    /// 24 h old and not expired for a new one, valid 60 days from now. An invalid or
    /// expired token (code 190) is `Reconnect`.
    #[tracing::instrument(skip_all, fields(route = "instagram.refresh"))]
    pub async fn refresh(&self, token: &str) -> Result<LongLived, ProviderError> {
        let what = "instagram refresh";
        let request = self
            .http
            .get(format!("{}/refresh_access_token", self.host()))
            .query(&[("grant_type", "ig_refresh_token"), ("access_token", token)]);
        let response =
            http::send(Route::InstagramRefresh, what, request, Effect::Idempotent).await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        let t: TokenAnswer = http::json(what, response, Effect::Idempotent).await?;
        Ok(t.into())
    }

    /// The account behind `token`.
    #[tracing::instrument(skip_all, fields(route = "instagram.me"))]
    pub async fn me(&self, token: &str) -> Result<Me, ProviderError> {
        let what = "instagram me";
        let request = self
            .http
            .get(format!("{}/me", self.graph))
            .query(&[("fields", "user_id,username")])
            .bearer_auth(token);
        let response = http::send(Route::InstagramMe, what, request, Effect::Idempotent).await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        http::json(what, response, Effect::Idempotent).await
    }

    /// `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`.
    #[tracing::instrument(skip_all, fields(route = "instagram.limit"))]
    pub async fn publishing_limit(
        &self,
        token: &str,
        user_id: &str,
    ) -> Result<PublishingLimit, ProviderError> {
        let what = "instagram content_publishing_limit";
        let request = self
            .http
            .get(format!("{}/{user_id}/content_publishing_limit", self.graph))
            .query(&[("fields", "quota_usage,config")])
            .bearer_auth(token);
        let response = http::send(Route::InstagramLimit, what, request, Effect::Idempotent).await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        let body: LimitAnswer = http::json(what, response, Effect::Idempotent).await?;
        body.into_limit()
            .ok_or_else(|| ProviderError::permanent(format!("{what}: no data in the answer")))
    }

    /// `POST /{ig-user-id}/media` with `image_url`, `caption` and `alt_text`: Instagram
    /// downloads the image during this call. Returns the container id, to be stored before
    /// anything else. A lost answer only wastes a container nobody sees (it expires), so
    /// this call is retried as an idempotent one.
    #[tracing::instrument(skip_all, fields(route = "instagram.media"))]
    pub async fn create_container(
        &self,
        token: &str,
        user_id: &str,
        c: &NewContainer<'_>,
    ) -> Result<String, ProviderError> {
        let what = "instagram media";
        check_caption(c.caption)?;
        let mut form = vec![("image_url", c.image_url), ("caption", c.caption)];
        if let Some(alt) = c.alt_text.filter(|a| !a.is_empty()) {
            form.push(("alt_text", alt));
        }
        let request = self
            .http
            .post(format!("{}/{user_id}/media", self.graph))
            .bearer_auth(token)
            .form(&form);
        let response = http::send(Route::InstagramMedia, what, request, Effect::Idempotent).await?;
        // The image URL is signed: it never goes into an error.
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await
            .map_err(|e| scrub_error(e, c.image_url))?;
        let id: IdAnswer = http::json(what, response, Effect::Idempotent).await?;
        Ok(id.id)
    }

    /// `GET /{container-id}?fields=status_code,status`.
    #[tracing::instrument(skip_all, fields(route = "instagram.container", container = container_id))]
    pub async fn container_status(
        &self,
        token: &str,
        container_id: &str,
    ) -> Result<ContainerStatus, ProviderError> {
        let what = "instagram container status";
        let request = self
            .http
            .get(format!("{}/{container_id}", self.graph))
            .query(&[("fields", "status_code,status")])
            .bearer_auth(token);
        let response =
            http::send(Route::InstagramContainer, what, request, Effect::Idempotent).await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        let s: StatusAnswer = http::json(what, response, Effect::Idempotent).await?;
        s.into_status()
            .ok_or_else(|| ProviderError::permanent(format!("{what}: unknown status_code")))
    }

    /// Asks until the container is no longer IN_PROGRESS, at most the configured wait
    /// (still in progress after it is `RetryLater`). Returns the status it settled on.
    pub async fn wait_container(
        &self,
        token: &str,
        container_id: &str,
    ) -> Result<ContainerStatus, ProviderError> {
        let started = Instant::now();
        loop {
            let s = self.container_status(token, container_id).await?;
            if s != ContainerStatus::InProgress {
                return Ok(s);
            }
            if started.elapsed() + self.poll_interval > self.poll_max {
                return Err(ProviderError::RetryLater {
                    after: Some(self.poll_interval),
                    reason: format!(
                        "instagram container still IN_PROGRESS after {:?}",
                        self.poll_max
                    ),
                });
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    /// `POST /{ig-user-id}/media_publish` with `creation_id`: the post goes public. A
    /// timeout or 5xx after sending is `OutcomeUnknown`: the container's `status_code`
    /// then says whether it was published (`PUBLISHED`) or not.
    #[tracing::instrument(skip_all, fields(route = "instagram.publish", container = container_id))]
    pub async fn publish(
        &self,
        token: &str,
        user_id: &str,
        container_id: &str,
    ) -> Result<String, ProviderError> {
        let what = "instagram media_publish";
        let request = self
            .http
            .post(format!("{}/{user_id}/media_publish", self.graph))
            .bearer_auth(token)
            .form(&[("creation_id", container_id)]);
        let response = http::send(
            Route::InstagramPublish,
            what,
            request,
            Effect::CreatesSomething,
        )
        .await?;
        let response = self
            .check(what, response, Effect::CreatesSomething, token)
            .await?;
        let id: IdAnswer = http::json(what, response, Effect::CreatesSomething).await?;
        Ok(id.id)
    }

    /// `GET /{media-id}?fields=permalink`: the post's public URL.
    #[tracing::instrument(skip_all, fields(route = "instagram.permalink", media = media_id))]
    pub async fn permalink(&self, token: &str, media_id: &str) -> Result<String, ProviderError> {
        let what = "instagram media permalink";
        let request = self
            .http
            .get(format!("{}/{media_id}", self.graph))
            .query(&[("fields", "id,permalink")])
            .bearer_auth(token);
        let response =
            http::send(Route::InstagramPermalink, what, request, Effect::Idempotent).await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        #[derive(Deserialize)]
        struct Permalink {
            #[serde(default)]
            permalink: String,
        }
        let p: Permalink = http::json(what, response, Effect::Idempotent).await?;
        if p.permalink.is_empty() {
            return Err(ProviderError::permanent(format!("{what}: no permalink")));
        }
        Ok(p.permalink)
    }

    /// `GET /{media-id}/insights?metric=likes,comments,reach,views` (needs
    /// `instagram_business_manage_insights`; without it Instagram answers code 10, which is
    /// `Reconnect` like any missing permission).
    #[tracing::instrument(skip_all, fields(route = "instagram.insights", media = media_id))]
    pub async fn insights(
        &self,
        token: &str,
        media_id: &str,
    ) -> Result<MediaInsights, ProviderError> {
        let what = "instagram insights";
        let request = self
            .http
            .get(format!("{}/{media_id}/insights", self.graph))
            .query(&[("metric", "likes,comments,reach,views")])
            .bearer_auth(token);
        let response =
            http::send(Route::InstagramInsights, what, request, Effect::Idempotent).await?;
        let response = self
            .check(what, response, Effect::Idempotent, token)
            .await?;
        let body: InsightsAnswer = http::json(what, response, Effect::Idempotent).await?;
        Ok(body.into_insights())
    }
}

/// A caption Instagram would refuse is `Permanent` before any call.
pub fn check_caption(caption: &str) -> Result<(), ProviderError> {
    let n = caption.chars().count();
    if n > MAX_CAPTION_CHARS {
        return Err(ProviderError::permanent(format!(
            "the Instagram caption is {n} characters; Instagram takes at most {MAX_CAPTION_CHARS}"
        )));
    }
    let tags = hashtags(caption);
    if tags > MAX_HASHTAGS {
        return Err(ProviderError::permanent(format!(
            "the Instagram caption has {tags} hashtags; Instagram takes at most {MAX_HASHTAGS}"
        )));
    }
    Ok(())
}

/// Hashtags in a caption: words starting with `#` and something after it.
pub fn hashtags(caption: &str) -> usize {
    caption
        .split(char::is_whitespace)
        .filter(|w| w.starts_with('#') && w.chars().nth(1).is_some_and(|c| c != '#'))
        .count()
}

/// An image as Instagram takes it: a JPEG (quality 90, no alpha: transparent parts over
/// white), at most [`MAX_WIDTH`] wide, its aspect ratio brought within 4:5 to 1.91:1 by
/// white margins (never by cropping: the text in our images must stay whole).
pub fn to_instagram_jpeg(bytes: &[u8]) -> Result<Vec<u8>, ProviderError> {
    use image::{DynamicImage, GenericImageView, Rgb, RgbImage, imageops};
    let img = image::load_from_memory(bytes)
        .map_err(|e| ProviderError::permanent(format!("the image cannot be read: {e}")))?;
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Err(ProviderError::permanent("the image is empty"));
    }
    // Alpha over white.
    let rgba = img.to_rgba8();
    let mut rgb = RgbImage::new(w, h);
    for (x, y, p) in rgba.enumerate_pixels() {
        let a = u16::from(p[3]);
        let over = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        rgb.put_pixel(x, y, Rgb([over(p[0]), over(p[1]), over(p[2])]));
    }
    // Margins to the nearest accepted ratio.
    let ratio = f64::from(w) / f64::from(h);
    let (cw, ch) = if ratio < MIN_ASPECT {
        ((f64::from(h) * MIN_ASPECT).ceil() as u32, h)
    } else if ratio > MAX_ASPECT {
        (w, (f64::from(w) / MAX_ASPECT).ceil() as u32)
    } else {
        (w, h)
    };
    let mut canvas = if (cw, ch) == (w, h) {
        rgb
    } else {
        let mut c = RgbImage::from_pixel(cw, ch, Rgb([255, 255, 255]));
        imageops::replace(
            &mut c,
            &rgb,
            i64::from((cw - w) / 2),
            i64::from((ch - h) / 2),
        );
        c
    };
    if canvas.width() > MAX_WIDTH {
        let nh = (u64::from(canvas.height()) * u64::from(MAX_WIDTH) / u64::from(canvas.width()))
            .max(1) as u32;
        canvas = imageops::resize(&canvas, MAX_WIDTH, nh, imageops::FilterType::Triangle);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    DynamicImage::ImageRgb8(canvas)
        .write_with_encoder(encoder)
        .map_err(|e| ProviderError::permanent(format!("the JPEG cannot be written: {e}")))?;
    Ok(out.into_inner())
}

/// Removes a value (a signed URL, a secret) from an error's reason.
fn scrub_error(e: ProviderError, secret: &str) -> ProviderError {
    let s = |r: String| http::scrub(&r, &[secret]);
    match e {
        ProviderError::RetryLater { after, reason } => ProviderError::RetryLater {
            after,
            reason: s(reason),
        },
        ProviderError::Throttled { reason } => ProviderError::Throttled { reason: s(reason) },
        ProviderError::RateLimitedUntil { until, reason } => ProviderError::RateLimitedUntil {
            until,
            reason: s(reason),
        },
        ProviderError::Permanent { reason } => ProviderError::Permanent { reason: s(reason) },
        ProviderError::Reconnect { reason } => ProviderError::Reconnect { reason: s(reason) },
        ProviderError::DuplicateUnnamed { reason } => {
            ProviderError::DuplicateUnnamed { reason: s(reason) }
        }
        ProviderError::OutcomeUnknown { reason } => {
            ProviderError::OutcomeUnknown { reason: s(reason) }
        }
        ProviderError::Misconfigured { reason } => {
            ProviderError::Misconfigured { reason: s(reason) }
        }
        other @ ProviderError::Duplicate { .. } => other,
    }
}

/// When a rate-limit error names no time: Meta's limits are counted over a rolling hour
/// ("Rate Limiting": platform and Business Use Case limits).
const DEFAULT_LIMIT_WAIT: Duration = Duration::from_secs(3600);

#[derive(Deserialize, Default)]
struct GraphErrorBody {
    #[serde(default)]
    error: GraphError,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: bool,
}

/// The largest `estimated_time_to_regain_access` (minutes) in an
/// `X-Business-Use-Case-Usage` header, and whether any use case is at 100 %.
fn buc_regain(header: &str) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_str(header).ok()?;
    let minutes = v
        .as_object()?
        .values()
        .filter_map(|list| list.as_array())
        .flatten()
        .filter_map(|u| u.get("estimated_time_to_regain_access")?.as_u64())
        .max()?;
    (minutes > 0).then(|| Duration::from_secs(minutes * 60))
}

/// A Graph API refusal as the error the caller acts on (docs/providers.md, "Instagram's
/// error answers"), from its HTTP status, the `X-App-Usage` and `X-Business-Use-Case-Usage`
/// headers and the body (`error.code`, `error_subcode`, `message`, `type`):
///
/// - 190 (invalid, expired or revoked token) and 10 (a permission the grant lacks):
///   `Reconnect`, only the owner can fix it;
/// - 4 (the app's rate limit): `RateLimitedUntil`, the reason naming "APPLICATION"; 17, 32
///   and 613 (the account's or a use case's): the reason naming "ACCOUNT". The wait is the
///   header's `estimated_time_to_regain_access`, else an hour;
/// - 9 / 2207042 (the account's 50 posts in 24 h): `RateLimitedUntil` an hour on, naming
///   "ACCOUNT publishing limit"; the caller's own count knows better;
/// - 9007 / 2207027 (container not ready): `RetryLater` soon;
/// - -1, -2, 1, 2, `is_transient` or a 5xx: `RetryLater`, but `OutcomeUnknown` for a call
///   that creates something (`media_publish`) answered 5xx;
/// - anything else (a bad parameter, an image Instagram cannot fetch or use): `Permanent`.
pub(crate) fn graph_error(
    what: &str,
    status: u16,
    app_usage: Option<&str>,
    buc_usage: Option<&str>,
    bytes: &[u8],
    effect: Effect,
    secrets: &[&str],
) -> ProviderError {
    let body: GraphErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    let e = body.error;
    let sub = e.error_subcode.map(|s| format!("/{s}")).unwrap_or_default();
    let reason_with = |scope: &str| {
        format!(
            "{what} answered {status} {}{scope} code {}{sub}: {}",
            e.kind,
            e.code,
            http::scrub(&quote(&e.message), secrets)
        )
    };
    let reason = reason_with("");
    let regain = buc_usage.and_then(buc_regain);
    let until = |d: Duration| {
        Utc::now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
    };
    match (e.code, e.error_subcode) {
        (190, _) | (10, _) => ProviderError::Reconnect { reason },
        (4, _) => ProviderError::RateLimitedUntil {
            until: until(regain.unwrap_or(DEFAULT_LIMIT_WAIT)),
            reason: format!(
                "{} (APPLICATION limit{})",
                reason_with(""),
                app_usage
                    .map(|u| format!(", X-App-Usage {u}"))
                    .unwrap_or_default()
            ),
        },
        (17 | 32 | 613, _) => ProviderError::RateLimitedUntil {
            until: until(regain.unwrap_or(DEFAULT_LIMIT_WAIT)),
            reason: format!("{reason} (ACCOUNT limit)"),
        },
        (9, Some(2_207_042)) => ProviderError::RateLimitedUntil {
            until: until(DEFAULT_LIMIT_WAIT),
            reason: format!("{reason} (ACCOUNT publishing limit)"),
        },
        (9007, _) => ProviderError::RetryLater {
            after: Some(Duration::from_secs(5)),
            reason,
        },
        _ if status >= 500 && effect == Effect::CreatesSomething => {
            ProviderError::OutcomeUnknown { reason }
        }
        (-2 | -1 | 1 | 2, _) => ProviderError::RetryLater {
            after: None,
            reason,
        },
        _ if e.is_transient || status >= 500 || status == 429 => ProviderError::RetryLater {
            after: None,
            reason,
        },
        _ => ProviderError::Permanent { reason },
    }
}

/// Whether a rate-limit refusal is the whole app's (Meta's code 4), so every account waits.
pub fn is_app_limit(e: &ProviderError) -> bool {
    matches!(e, ProviderError::RateLimitedUntil { reason, .. } if reason.contains("APPLICATION limit"))
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

impl From<TokenAnswer> for LongLived {
    fn from(t: TokenAnswer) -> Self {
        Self {
            access_token: t.access_token,
            expires_in: Duration::from_secs(t.expires_in),
        }
    }
}

#[derive(Deserialize)]
struct IdAnswer {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
}

#[derive(Deserialize)]
struct StatusAnswer {
    #[serde(default)]
    status_code: String,
    #[serde(default)]
    status: String,
}

impl StatusAnswer {
    fn into_status(self) -> Option<ContainerStatus> {
        Some(match self.status_code.as_str() {
            "IN_PROGRESS" => ContainerStatus::InProgress,
            "FINISHED" => ContainerStatus::Finished,
            "PUBLISHED" => ContainerStatus::Published,
            "EXPIRED" => ContainerStatus::Expired,
            "ERROR" => ContainerStatus::Error(self.status),
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
struct LimitAnswer {
    #[serde(default)]
    data: Vec<LimitEntry>,
}

#[derive(Deserialize)]
struct LimitEntry {
    #[serde(default)]
    quota_usage: u32,
    #[serde(default)]
    config: Option<LimitConfig>,
}

#[derive(Deserialize)]
struct LimitConfig {
    #[serde(default)]
    quota_total: u32,
    #[serde(default)]
    quota_duration: u64,
}

impl LimitAnswer {
    fn into_limit(self) -> Option<PublishingLimit> {
        let e = self.data.into_iter().next()?;
        let (total, window) = match e.config {
            Some(c) if c.quota_total > 0 => (c.quota_total, c.quota_duration.max(1)),
            _ => (50, 86_400),
        };
        Some(PublishingLimit {
            usage: e.quota_usage,
            total,
            window: Duration::from_secs(window),
        })
    }
}

#[derive(Deserialize)]
struct InsightsAnswer {
    #[serde(default)]
    data: Vec<InsightsEntry>,
}

#[derive(Deserialize)]
struct InsightsEntry {
    #[serde(default)]
    name: String,
    #[serde(default)]
    values: Vec<InsightsValue>,
    #[serde(default)]
    total_value: Option<InsightsValue>,
}

#[derive(Deserialize)]
struct InsightsValue {
    #[serde(default)]
    value: i64,
}

impl InsightsAnswer {
    fn into_insights(self) -> MediaInsights {
        let mut out = MediaInsights::default();
        for e in self.data {
            let v = e
                .total_value
                .map(|t| t.value)
                .or_else(|| e.values.first().map(|v| v.value));
            match e.name.as_str() {
                "likes" => out.likes = v,
                "comments" => out.comments = v,
                "reach" => out.reach = v,
                "views" => out.views = v,
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str, effect: Effect) -> ProviderError {
        graph_error("t", status, None, None, body.as_bytes(), effect, &[])
    }

    /// "Error Codes" (developers.facebook.com/docs/instagram-platform/.../error-codes),
    /// the sample answer: `message`, `type`, `code`, `error_subcode`, `is_transient`,
    /// the user title and message, `fbtrace_id`.
    #[test]
    fn fixture_error_codes_sample() {
        let body = r#"{"error": {"message": "The image size is too large.", "type": "OAuthException",
          "code": 36000, "error_subcode": 2207004, "is_transient": false,
          "error_user_title": "Image size too large",
          "error_user_msg": "The image is too large to download. It should be less than 8 MiB.",
          "fbtrace_id": "A6LJylpZRKw2xKLFsAP-cJh"}}"#;
        match classify(400, body, Effect::Idempotent) {
            ProviderError::Permanent { reason } => {
                assert!(reason.contains("36000/2207004"), "{reason}");
                assert!(reason.contains("The image size is too large"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// "Access Token Errors" (Graph API, "Handling Errors"): code 190 is an invalid,
    /// expired or revoked token.
    #[test]
    fn fixture_190_and_10_are_reconnect() {
        let body = r#"{"error": {"message": "Error validating access token: Session has expired on Tuesday.", "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "H2il2t5bn4e"}}"#;
        assert!(matches!(
            classify(400, body, Effect::CreatesSomething),
            ProviderError::Reconnect { .. }
        ));
        let perm = r#"{"error": {"message": "(#10) Application does not have permission for this action", "type": "OAuthException", "code": 10}}"#;
        assert!(matches!(
            classify(403, perm, Effect::Idempotent),
            ProviderError::Reconnect { .. }
        ));
    }

    /// "Rate Limiting": code 4 is the app's limit (told by `X-App-Usage`); 17, 32 and 613
    /// an account's or a use case's (told by `X-Business-Use-Case-Usage`, whose
    /// `estimated_time_to_regain_access` is in minutes).
    #[test]
    fn fixture_rate_limits_name_their_scope_and_wait() {
        let app = r#"{"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "is_transient": true, "code": 4, "fbtrace_id": "AbC"}}"#;
        let e = graph_error(
            "t",
            400,
            Some(r#"{"call_count": 100, "total_cputime": 25, "total_time": 25}"#),
            None,
            app.as_bytes(),
            Effect::CreatesSomething,
            &[],
        );
        assert!(is_app_limit(&e), "{e:?}");
        let user = r#"{"error": {"message": "(#17) User request limit reached", "type": "OAuthException", "is_transient": true, "code": 17, "error_subcode": 2446079}}"#;
        let header = r#"{"17841405822304914": [{"type": "instagram", "call_count": 100, "total_cputime": 10, "total_time": 10, "estimated_time_to_regain_access": 7}]}"#;
        let e = graph_error(
            "t",
            400,
            None,
            Some(header),
            user.as_bytes(),
            Effect::Idempotent,
            &[],
        );
        assert!(!is_app_limit(&e));
        match e {
            ProviderError::RateLimitedUntil { until, reason } => {
                assert!(reason.contains("ACCOUNT"), "{reason}");
                let wait = (until - Utc::now()).num_seconds();
                assert!((400..=420).contains(&wait), "{wait}");
            }
            other => panic!("{other:?}"),
        }
        for code in [32, 613] {
            let body = format!(r#"{{"error": {{"message": "limit", "code": {code}}}}}"#);
            assert!(matches!(
                classify(400, &body, Effect::Idempotent),
                ProviderError::RateLimitedUntil { .. }
            ));
        }
    }

    /// "Error Codes": 9 / 2207042, "You reached maximum number of posts that is allowed to
    /// be published by Content Publishing API."
    #[test]
    fn fixture_publishing_limit_waits() {
        let body = r#"{"error": {"message": "You reached maximum number of posts that is allowed to be published by Content Publishing API.", "type": "OAuthException", "code": 9, "error_subcode": 2207042}}"#;
        match classify(400, body, Effect::CreatesSomething) {
            ProviderError::RateLimitedUntil { reason, .. } => {
                assert!(reason.contains("publishing limit"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    /// A 5xx on `media_publish` leaves the outcome unknown; on a read it is retried.
    #[test]
    fn server_errors_depend_on_the_effect() {
        let body = r#"{"error": {"message": "An unexpected error has occurred. Please retry your request later.", "type": "OAuthException", "is_transient": true, "code": 2}}"#;
        assert!(matches!(
            classify(500, body, Effect::CreatesSomething),
            ProviderError::OutcomeUnknown { .. }
        ));
        assert!(matches!(
            classify(500, body, Effect::Idempotent),
            ProviderError::RetryLater { .. }
        ));
        assert!(matches!(
            classify(502, "<html>bad gateway</html>", Effect::Idempotent),
            ProviderError::RetryLater { .. }
        ));
    }

    /// "IG Container": `{"status_code": "FINISHED", "id": "17889615691921648"}`; ERROR
    /// carries the subcode in `status`.
    #[test]
    fn fixture_container_status() {
        let s: StatusAnswer =
            serde_json::from_str(r#"{"status_code": "FINISHED", "id": "17889615691921648"}"#)
                .unwrap();
        assert_eq!(s.into_status(), Some(ContainerStatus::Finished));
        let e: StatusAnswer = serde_json::from_str(
            r#"{"status_code": "ERROR", "status": "Error: 2207001", "id": "1"}"#,
        )
        .unwrap();
        let e = e.into_status().unwrap();
        assert!(e.must_remake());
        assert_eq!(e, ContainerStatus::Error("Error: 2207001".into()));
    }

    /// "IG User Content Publishing Limit":
    /// `{"data": [{"quota_usage": 2, "config": {"quota_total": 50, "quota_duration": 86400}}]}`.
    #[test]
    fn fixture_content_publishing_limit() {
        let a: LimitAnswer = serde_json::from_str(
            r#"{"data": [{"quota_usage": 2, "config": {"quota_total": 50, "quota_duration": 86400}}]}"#,
        )
        .unwrap();
        assert_eq!(
            a.into_limit(),
            Some(PublishingLimit {
                usage: 2,
                total: 50,
                window: Duration::from_secs(86_400)
            })
        );
        let bare: LimitAnswer = serde_json::from_str(r#"{"data": [{"quota_usage": 7}]}"#).unwrap();
        assert_eq!(bare.into_limit().unwrap().total, 50);
    }

    /// "Instagram Media Insights": `data` of `{name, period, values: [{value}], title,
    /// description, id}`.
    #[test]
    fn fixture_media_insights() {
        let a: InsightsAnswer = serde_json::from_str(
            r#"{"data": [
              {"name": "likes", "period": "lifetime", "values": [{"value": 12}], "title": "Likes", "description": "", "id": "1/insights/likes/lifetime"},
              {"name": "reach", "period": "lifetime", "values": [{"value": 340}], "title": "Accounts reached", "id": "1/insights/reach/lifetime"},
              {"name": "views", "period": "lifetime", "total_value": {"value": 500}, "id": "1/insights/views/lifetime"}
            ]}"#,
        )
        .unwrap();
        let i = a.into_insights();
        assert_eq!(i.likes, Some(12));
        assert_eq!(i.reach, Some(340));
        assert_eq!(i.views, Some(500));
        assert_eq!(i.comments, None);
    }

    #[test]
    fn captions_are_checked_against_instagrams_limits() {
        assert!(check_caption(&"a".repeat(2200)).is_ok());
        assert!(check_caption(&"a".repeat(2201)).is_err());
        let thirty: String = (0..30).map(|i| format!("#t{i} ")).collect();
        assert!(check_caption(&thirty).is_ok());
        assert!(check_caption(&format!("{thirty} #one_more")).is_err());
        assert_eq!(hashtags("a # b #c ## #d"), 2);
    }

    #[test]
    fn pngs_become_jpegs_within_instagrams_ratios() {
        use image::{ImageFormat, Rgba, RgbaImage};
        let png = |w: u32, h: u32| {
            let img = RgbaImage::from_pixel(w, h, Rgba([10, 200, 30, 128]));
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, ImageFormat::Png).unwrap();
            out.into_inner()
        };
        for ((w, h), want) in [
            ((100, 100), (100, 100)),
            ((100, 400), (320, 400)),
            ((400, 100), (400, 210)),
            ((2000, 2000), (1440, 1440)),
        ] {
            let jpeg = to_instagram_jpeg(&png(w, h)).unwrap();
            assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
            let back = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg).unwrap();
            assert_eq!((back.width(), back.height()), want, "{w}x{h}");
            let ratio = f64::from(back.width()) / f64::from(back.height());
            assert!((MIN_ASPECT - 0.01..=MAX_ASPECT + 0.01).contains(&ratio));
        }
        assert!(to_instagram_jpeg(b"not an image").is_err());
    }
}
