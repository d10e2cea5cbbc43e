//! Business Login for Instagram (docs/providers.md, "Instagram"): the authorization URL, the
//! code exchange for a short-lived token (1 h) and the account's id, the exchange of that
//! token for a long-lived one (60 days), and the account's username. [`InstagramConnect`] is
//! what the api depends on, so tests and the sandbox-backed demo run this same client
//! against another base URL.

use std::time::Duration;

use serde::Deserialize;

use super::error::{ProviderError, quote};
use super::http::{self, Effect, Route};
use super::instagram::{InstagramClient, graph_error};
use super::linkedin_oauth::BoxFuture;
use crate::config::InstagramConfig;

/// What a successful connect yields. Not `Debug`-printable with its token.
pub struct InstagramGrant {
    /// The long-lived token (60 days), refreshed by the periodic job.
    pub access_token: String,
    pub expires_in: Duration,
    /// The app-scoped Instagram user id: the `{ig-user-id}` of every publishing call.
    pub user_id: String,
    /// The account's username, shown to the owner so she sees which account posts.
    pub username: Option<String>,
    /// The permissions granted (comma-separated), which may be fewer than asked.
    pub permissions: Option<String>,
}

impl std::fmt::Debug for InstagramGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstagramGrant")
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub trait InstagramConnect: Send + Sync {
    /// Where to send the browser; Instagram comes back to `redirect_uri` with `state`.
    fn authorize_url(&self, state: &str, redirect_uri: &str) -> String;

    /// Trades the single-use code for a long-lived token and finds the account.
    fn exchange_code<'a>(
        &'a self,
        code: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<InstagramGrant, ProviderError>>;
}

/// The real client (reqwest).
pub struct InstagramOAuth {
    http: reqwest::Client,
    client_id: String,
    client_secret: String,
    authorize_url: String,
    token_url: String,
    scope: String,
    graph: InstagramClient,
}

impl InstagramOAuth {
    /// `None` when no app is configured (no client id or secret).
    pub fn from_config(config: &InstagramConfig) -> Result<Option<Self>, ProviderError> {
        let (Some(client_id), Some(client_secret)) = (&config.client_id, &config.client_secret)
        else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: http::client(Duration::from_millis(config.timeout_ms))?,
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            authorize_url: config.authorize_url.clone(),
            token_url: config.token_url.clone(),
            scope: config.requested_scope(),
            graph: InstagramClient::from_config(config)?,
        }))
    }

    /// `POST api.instagram.com/oauth/access_token`: the short-lived token and the user id.
    #[tracing::instrument(skip_all, fields(route = "instagram.token"))]
    async fn short_lived(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<ShortLived, ProviderError> {
        let what = "instagram code exchange";
        let request = self.http.post(&self.token_url).form(&[
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.as_str()),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
            ("code", code),
        ]);
        // A code is single-use: a lost answer cannot be asked again, but nothing the
        // owner sees was created either, so it is retried as a whole connect.
        let response = http::send(Route::InstagramToken, what, request, Effect::Idempotent).await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(oauth_error(
                what,
                status,
                &bytes,
                &[code, &self.client_secret],
            ));
        }
        parse_short_lived(&bytes)
            .ok_or_else(|| ProviderError::permanent(format!("{what}: unexpected response shape")))
    }

    async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<InstagramGrant, ProviderError> {
        let short = self.short_lived(code, redirect_uri).await?;
        let long = self
            .graph
            .exchange_for_long_lived(&short.access_token, &self.client_secret)
            .await?;
        let me = self.graph.me(&long.access_token).await?;
        let user_id = if me.user_id.is_empty() {
            short.user_id
        } else {
            me.user_id
        };
        Ok(InstagramGrant {
            access_token: long.access_token,
            expires_in: long.expires_in,
            user_id,
            username: me.username.filter(|u| !u.is_empty()),
            permissions: short.permissions,
        })
    }
}

impl InstagramConnect for InstagramOAuth {
    fn authorize_url(&self, state: &str, redirect_uri: &str) -> String {
        let mut url = match url::Url::parse(&self.authorize_url) {
            Ok(u) => u,
            Err(_) => return self.authorize_url.clone(),
        };
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.scope)
            .append_pair("state", state);
        url.into()
    }

    fn exchange_code<'a>(
        &'a self,
        code: &'a str,
        redirect_uri: &'a str,
    ) -> BoxFuture<'a, Result<InstagramGrant, ProviderError>> {
        Box::pin(self.exchange(code, redirect_uri))
    }
}

/// The code exchange's answer. Business Login documents it as `data` holding one grant
/// whose `permissions` is a comma-separated string; the endpoint has also answered the
/// grant unwrapped, with `permissions` as a list: both are read.
#[derive(Debug, PartialEq)]
struct ShortLived {
    access_token: String,
    user_id: String,
    permissions: Option<String>,
}

fn parse_short_lived(bytes: &[u8]) -> Option<ShortLived> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let grant = v
        .get("data")
        .and_then(|d| d.as_array())
        .and_then(|a| a.first())
        .unwrap_or(&v);
    let access_token = grant.get("access_token")?.as_str()?.to_owned();
    // A number in the unwrapped answer: serde_json keeps an integer as u64, so no digit is
    // lost.
    let user_id = match grant.get("user_id")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let permissions = match grant.get("permissions") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(a)) => Some(
            a.iter()
                .filter_map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    };
    (!access_token.is_empty() && !user_id.is_empty()).then_some(ShortLived {
        access_token,
        user_id,
        permissions,
    })
}

#[derive(Deserialize, Default)]
struct OAuthErrorBody {
    #[serde(default)]
    error_type: String,
    #[serde(default)]
    error_message: String,
}

/// `api.instagram.com`'s refusal (`error_type`, `code`, `error_message`), or a Graph-shaped
/// one: a bad, used or mismatched code is `Permanent` (the owner connects again), a 5xx
/// `RetryLater`.
fn oauth_error(what: &str, status: u16, bytes: &[u8], secrets: &[&str]) -> ProviderError {
    let body: OAuthErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    if body.error_message.is_empty() {
        return graph_error(what, status, None, None, bytes, Effect::Idempotent, secrets);
    }
    let reason = format!(
        "{what} answered {status} {}: {}",
        body.error_type,
        http::scrub(&quote(&body.error_message), secrets)
    );
    if status >= 500 || status == 429 {
        ProviderError::RetryLater {
            after: None,
            reason,
        }
    } else {
        ProviderError::Permanent { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Business Login for Instagram", "Step 2: Exchange the code for a token": `data`
    /// holding the token, the user id and the permissions as a comma-separated string.
    #[test]
    fn fixture_business_login_code_exchange() {
        let body = br#"{
          "data": [
            {
              "access_token": "EAACEdEose0...",
              "user_id": "1020...",
              "permissions": "instagram_business_basic,instagram_business_manage_messages,instagram_business_content_publish,instagram_business_manage_comments"
            }
          ]
        }"#;
        let g = parse_short_lived(body).unwrap();
        assert_eq!(g.access_token, "EAACEdEose0...");
        assert_eq!(g.user_id, "1020...");
        assert!(
            g.permissions
                .unwrap()
                .contains("instagram_business_content_publish")
        );
    }

    /// "Oauth Access Token" (reference): the unwrapped grant, `user_id` a number.
    #[test]
    fn fixture_unwrapped_code_exchange() {
        let body = br#"{"access_token": "IGQVJ...", "user_id": 17841405793187218, "permissions": ["instagram_business_basic"]}"#;
        let g = parse_short_lived(body).unwrap();
        assert_eq!(g.user_id, "17841405793187218");
        assert_eq!(g.permissions.as_deref(), Some("instagram_business_basic"));
        assert_eq!(parse_short_lived(br#"{"data": []}"#), None);
    }

    #[test]
    fn a_refused_code_is_permanent_and_a_5xx_retries() {
        let body = br#"{"error_type": "OAuthException", "code": 400, "error_message": "Invalid authorization code"}"#;
        match oauth_error("t", 400, body, &[]) {
            ProviderError::Permanent { reason } => {
                assert!(reason.contains("Invalid authorization code"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(oauth_error("t", 503, body, &[]).is_retryable());
    }
}
