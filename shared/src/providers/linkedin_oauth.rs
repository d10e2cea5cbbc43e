//! LinkedIn's 3-legged OAuth (docs/providers.md, "4.1 Connecting"): the authorization URL, the code exchange
//! and the member id. [`LinkedInConnect`] is what the api depends on, so tests and the
//! sandbox-backed demo run this same client against another base URL.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;

use crate::config::LinkedInConfig;
use crate::error::Error;
use crate::metrics::{self, Route};

/// What a successful connect yields. Not `Debug`-printable with its tokens.
pub struct Grant {
    pub access_token: String,
    pub expires_in: Duration,
    /// Only apps with programmatic refresh tokens get one.
    pub refresh_token: Option<String>,
    pub refresh_expires_in: Option<Duration>,
    /// `urn:li:person:{sub}`, the author of the member's posts.
    pub member_urn: String,
    /// userinfo's `name` (with the `profile` scope), at most [`MEMBER_NAME_MAX`] characters:
    /// shown to the owner so they see which LinkedIn account posts.
    pub member_name: Option<String>,
    /// userinfo's `picture`, fetched at connect (its URL expires, and the pages show it
    /// from our copy); `None` when LinkedIn gave none or it could not be fetched.
    pub member_picture: Option<Picture>,
    /// The scopes LinkedIn granted (the token response's `scope`), which may be fewer than
    /// asked; `None` when the answer had none.
    pub scope: Option<String>,
}

/// A member's profile photo, as fetched.
#[derive(Debug, Clone)]
pub struct Picture {
    pub bytes: Vec<u8>,
    /// One of [`PICTURE_TYPES`].
    pub content_type: &'static str,
}

/// The image types a photo is kept in (the column's check says the same).
pub const PICTURE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];
/// The largest photo kept: LinkedIn's 100×100 and 200×200 ones are a few KiB.
pub const PICTURE_MAX_BYTES: usize = 256 * 1024;

/// The longest member name kept (the column's limit); LinkedIn's are far shorter.
pub const MEMBER_NAME_MAX: usize = 200;

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("member_urn", &self.member_urn)
            .finish_non_exhaustive()
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait LinkedInConnect: Send + Sync {
    /// Where to send the browser; LinkedIn comes back to `redirect_uri` with `state`.
    fn authorize_url(&self, state: &str, redirect_uri: &str) -> String;

    /// Trades the single-use code for tokens and finds the member's URN.
    fn exchange_code<'a>(
        &'a self,
        code: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<Grant, Error>>;
}

/// The real client (reqwest).
pub struct LinkedInOAuth {
    http: reqwest::Client,
    client_id: String,
    client_secret: String,
    authorize_url: String,
    token_url: String,
    userinfo_url: String,
    scope: String,
}

impl LinkedInOAuth {
    /// `None` when no app is configured (no client id or secret).
    pub fn from_config(config: &LinkedInConfig) -> Result<Option<Self>, Error> {
        let (Some(client_id), Some(client_secret)) = (&config.client_id, &config.client_secret)
        else {
            return Ok(None);
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .connect_timeout(Duration::from_millis(config.timeout_ms / 3))
            .build()
            .map_err(|e| Error::Config(format!("linkedin http client: {e}")))?;
        Ok(Some(Self {
            http,
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            authorize_url: config.authorize_url.clone(),
            token_url: config.token_url.clone(),
            userinfo_url: config.userinfo_url.clone(),
            scope: config.requested_scope(),
        }))
    }

    /// The code exchange's request, as the connect sends it and the deployment check too.
    fn token_request(&self, code: &str, redirect_uri: &str) -> reqwest::RequestBuilder {
        self.http.post(&self.token_url).form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
        ])
    }

    /// Whether LinkedIn knows this app, without a member: the code exchange with a made-up
    /// code. The token endpoint authenticates the client first (RFC 6749 §5.2): a wrong
    /// client id or secret is 401 `invalid_client`; for the right app the made-up code is
    /// refused as a grant (`invalid_grant`; LinkedIn's own answer is 400 `invalid_request`
    /// "…does not match authorization code"). Returns the status and the OAuth `error`.
    #[tracing::instrument(skip_all, fields(route = "linkedin.token", probe = true))]
    pub async fn probe_client(&self, redirect_uri: &str) -> Result<(u16, String), Error> {
        let request = self.token_request("doctor-probe-made-up-code", redirect_uri);
        let response = metrics::send(Route::LinkedInToken, request)
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let body: OAuthError = response.json().await.unwrap_or_default();
        Ok((status, body.error))
    }

    #[tracing::instrument(skip_all, fields(route = "linkedin.token"))]
    async fn exchange(&self, code: &str, redirect_uri: &str) -> Result<Grant, Error> {
        let request = self.token_request(code, redirect_uri);
        let response = metrics::send(Route::LinkedInToken, request)
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            let body: OAuthError = response.json().await.unwrap_or_default();
            return Err(Error::Provider {
                // 4xx: the code is bad or used; asking again will not help.
                retryable: status.is_server_error() || status.as_u16() == 429,
                message: format!(
                    "linkedin token endpoint answered {status}: {} {}",
                    body.error, body.error_description
                ),
            });
        }
        let token: TokenResponse = response.json().await.map_err(transport)?;
        let request = self
            .http
            .get(&self.userinfo_url)
            .bearer_auth(&token.access_token);
        let info = metrics::send(Route::LinkedInUserinfo, request)
            .await
            .map_err(transport)?;
        let status = info.status();
        if !status.is_success() {
            return Err(Error::Provider {
                retryable: status.is_server_error(),
                message: format!("linkedin userinfo answered {status}"),
            });
        }
        let info: UserInfo = info.json().await.map_err(transport)?;
        if info.sub.is_empty() {
            return Err(Error::Provider {
                retryable: false,
                message: "linkedin userinfo has no member id".into(),
            });
        }
        // The photo is a nicety: a connect never fails for it.
        let member_picture = match info.picture.as_deref() {
            Some(url) => self.picture(url).await,
            None => None,
        };
        Ok(Grant {
            member_picture,
            access_token: token.access_token,
            expires_in: Duration::from_secs(token.expires_in),
            refresh_token: token.refresh_token,
            refresh_expires_in: token.refresh_token_expires_in.map(Duration::from_secs),
            scope: token.scope,
            member_urn: format!("urn:li:person:{}", info.sub),
            member_name: info
                .name
                .map(|n| n.trim().chars().take(MEMBER_NAME_MAX).collect::<String>())
                .filter(|n| !n.is_empty()),
        })
    }
}

impl LinkedInOAuth {
    /// The member's photo from LinkedIn's media host, if it is a small image; `None`
    /// otherwise (logged, never an error: the pages fall back to her initials).
    async fn picture(&self, url: &str) -> Option<Picture> {
        let fetched = async {
            let response = self.http.get(url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let declared = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })?;
            let content_type = PICTURE_TYPES.iter().find(|t| **t == declared).copied()?;
            if response
                .content_length()
                .is_some_and(|n| n > PICTURE_MAX_BYTES as u64)
            {
                return None;
            }
            let bytes = response.bytes().await.ok()?;
            (bytes.len() <= PICTURE_MAX_BYTES && !bytes.is_empty()).then(|| Picture {
                bytes: bytes.to_vec(),
                content_type,
            })
        };
        let picture = fetched.await;
        if picture.is_none() {
            tracing::warn!(
                "linkedin member photo not kept (not fetched, too large or not an image)"
            );
        }
        picture
    }
}

impl LinkedInConnect for LinkedInOAuth {
    fn authorize_url(&self, state: &str, redirect_uri: &str) -> String {
        let mut url = match url::Url::parse(&self.authorize_url) {
            Ok(u) => u,
            Err(_) => return self.authorize_url.clone(),
        };
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", &self.scope);
        url.into()
    }

    fn exchange_code<'a>(
        &'a self,
        code: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<Grant, Error>> {
        Box::pin(self.exchange(code, redirect_uri))
    }
}

fn transport(e: reqwest::Error) -> Error {
    Error::Provider {
        retryable: !e.is_decode(),
        // Without the URL: errors are logged and shown, URLs are not theirs to carry.
        message: format!("linkedin: {}", e.without_url()),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
struct UserInfo {
    #[serde(default)]
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    picture: Option<String>,
}
