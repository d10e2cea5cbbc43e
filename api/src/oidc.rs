//! Sign-in through OpenID Connect providers, with the `openidconnect` crate doing the
//! protocol: discovery (`/.well-known/openid-configuration`), the authorization URL with
//! PKCE (S256), `state` and `nonce`, the code exchange, and the ID token's checks
//! (signature against the issuer's JWKS, `iss`, `aud`, `azp`, `exp`, `nonce`). What is ours:
//! the discovery and keys are fetched once and kept; an ID token signed with a key the kept
//! set lacks (`kid` unknown: the issuer rotated its keys) makes us fetch the set again, once,
//! before refusing; `iat` is checked (the crate accepts any), `exp` and `iat` with a minute
//! of leeway for clocks; and several audiences need `azp` naming us.
//!
//! The keys are refetched only after a successful code exchange with the issuer's own token
//! endpoint, so a stranger cannot make us fetch them at will.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use shared::config::{ApiConfig, OidcConfig, OidcProviderConfig};
use tokio::sync::RwLock;

/// Clock differences an `exp` or `iat` is allowed, in seconds.
const LEEWAY_SECS: i64 = 60;
/// An ID token from a code exchange is made for it: one issued longer ago than this (in
/// seconds) is not the answer to this sign-in.
const MAX_AGE_SECS: i64 = 600;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The configured providers, in name order (the buttons' order).
#[derive(Default)]
pub struct Providers {
    list: Vec<Arc<Provider>>,
}

impl Providers {
    pub fn from_config(oidc: &OidcConfig, api: &ApiConfig) -> Result<Self, shared::Error> {
        let http = reqwest::Client::builder()
            // The issuer's endpoints answer where they are; a redirect is not followed to
            // wherever it points (another host's keys).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(oidc.timeout_ms))
            .connect_timeout(Duration::from_millis(oidc.timeout_ms.div_ceil(3)))
            .build()
            .map_err(|e| shared::Error::Config(format!("oidc http client: {e}")))?;
        let list = oidc
            .providers
            .iter()
            .map(|(name, config)| {
                let redirect = RedirectUrl::new(api.oidc_redirect_uri(name)).map_err(|e| {
                    shared::Error::Config(format!("oidc redirect uri for {name}: {e}"))
                })?;
                let issuer = IssuerUrl::new(config.issuer.clone()).map_err(|e| {
                    shared::Error::Config(format!("oidc.providers.{name}.issuer: {e}"))
                })?;
                Ok(Arc::new(Provider {
                    name: name.clone(),
                    display_name: config.shown_name(name).to_owned(),
                    config: config.clone(),
                    issuer,
                    redirect,
                    http: http.clone(),
                    metadata: RwLock::new(None),
                }))
            })
            .collect::<Result<_, shared::Error>>()?;
        Ok(Self { list })
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        self.list.iter().find(|p| p.name == name)
    }

    pub fn all(&self) -> &[Arc<Provider>] {
        &self.list
    }

    /// The origins the browser is sent to when a form starts a sign-in (the profile page's
    /// "link" forms), for the CSP's `form-action`: the authorization endpoint's once the
    /// discovery was read, else the issuer's (the same origin at Google and Entra).
    pub fn known_form_origins(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.list {
            let kept = p
                .metadata
                .try_read()
                .ok()
                .and_then(|m| m.as_ref().map(|m| m.authorization_endpoint().url().clone()));
            let url = kept.unwrap_or_else(|| p.issuer.url().clone());
            let origin = url.origin().ascii_serialization();
            if origin != "null" && !out.contains(&origin) {
                out.push(origin);
            }
        }
        out
    }
}

/// One issuer and our client there.
pub struct Provider {
    /// Its name in the configuration and our URLs.
    pub name: String,
    /// What the button says after "Continue with".
    pub display_name: String,
    config: OidcProviderConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: reqwest::Client,
    /// The discovery document with its keys, once fetched.
    metadata: RwLock<Option<CoreProviderMetadata>>,
}

/// What the browser's session keeps between the redirect and the callback. Not `Debug`:
/// the PKCE verifier is a secret.
pub struct Started {
    pub authorize_url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the ID token says signed in, after every check passed.
#[derive(Debug, Clone)]
pub struct Verified {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// The provider vouches that `email` is the person's: only then may a first sign-in
    /// make an account.
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Why a sign-in did not go through. Each is logged (never with the token) and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Discovery, keys or the token endpoint could not be reached or answered nonsense.
    Unavailable(String),
    /// The token endpoint refused the code (used, expired, PKCE verifier wrong).
    Exchange(String),
    /// The ID token failed a check: `check` names which (signature, audience, expired...).
    Token { check: &'static str, detail: String },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(d) => write!(f, "provider unavailable: {d}"),
            Self::Exchange(d) => write!(f, "code exchange refused: {d}"),
            Self::Token { check, detail } => write!(f, "ID token refused ({check}): {detail}"),
        }
    }
}

impl Provider {
    /// The kept discovery document, or a fresh one.
    async fn metadata(&self) -> Result<CoreProviderMetadata, Refusal> {
        if let Some(m) = self.metadata.read().await.as_ref() {
            return Ok(m.clone());
        }
        let mut kept = self.metadata.write().await;
        if let Some(m) = kept.as_ref() {
            return Ok(m.clone());
        }
        let found = CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| Refusal::Unavailable(format!("discovery: {}", error_chain(&e))))?;
        tracing::info!(
            provider = %self.name,
            keys = found.jwks().keys().len(),
            "oidc discovery read"
        );
        *kept = Some(found.clone());
        Ok(found)
    }

    /// The issuer's keys fetched again (it rotated them), kept with the discovery.
    async fn refresh_keys(&self) -> Result<CoreProviderMetadata, Refusal> {
        let metadata = self.metadata().await?;
        let keys = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| Refusal::Unavailable(format!("keys: {}", error_chain(&e))))?;
        tracing::info!(provider = %self.name, keys = keys.keys().len(), "oidc keys fetched again");
        let fresh = metadata.set_jwks(keys);
        *self.metadata.write().await = Some(fresh.clone());
        Ok(fresh)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Client {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// A new sign-in: the provider's authorization URL, asking for `openid email profile`
    /// with a fresh `state`, `nonce` and PKCE challenge (S256).
    pub async fn start(&self) -> Result<Started, Refusal> {
        let client = self.client(self.metadata().await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            authorize_url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Trades the code for tokens and checks the ID token against `nonce`.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Verified, Refusal> {
        let client = self.client(self.metadata().await?);
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| Refusal::Unavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    Refusal::Exchange(format!("{:?}", r.error()))
                }
                other => Refusal::Unavailable(format!("token endpoint: {}", error_chain(&other))),
            })?;
        let id_token = response.id_token().ok_or_else(|| Refusal::Token {
            check: "missing",
            detail: "the token response has no id_token".into(),
        })?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match self.check(&client, id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let client = self.client(self.refresh_keys().await?);
                self.check(&client, id_token, &nonce)
            }
            other => other,
        }
        .map_err(|e| Refusal::Token {
            check: check_name(&e),
            detail: e.to_string(),
        })?;
        let audiences = claims.audiences();
        if audiences.len() > 1
            && claims.authorized_party().map(|a| a.as_str()) != Some(self.config.client_id.as_str())
        {
            return Err(Refusal::Token {
                check: "azp",
                detail: "several audiences and no azp naming this client".into(),
            });
        }
        Ok(Verified {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().trim().to_owned()),
            email_verified: claims.email_verified() == Some(true),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().trim().to_owned())
                .filter(|n| !n.is_empty()),
        })
    }

    /// Every check of the ID token; the claims once they all passed.
    fn check(
        &self,
        client: &Client,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        let verifier = client
            .id_token_verifier()
            // `exp` is compared with this "now": a token expired less than a minute ago
            // (by a clock a little ahead of ours) still passes.
            .set_time_fn(|| Utc::now() - chrono::Duration::seconds(LEEWAY_SECS))
            .set_issue_time_verifier_fn(|iat| {
                let now = Utc::now();
                if iat > now + chrono::Duration::seconds(LEEWAY_SECS) {
                    Err(format!("issued in the future ({iat})"))
                } else if iat < now - chrono::Duration::seconds(MAX_AGE_SECS + LEEWAY_SECS) {
                    Err(format!("issued too long ago ({iat})"))
                } else {
                    Ok(())
                }
            });
        id_token.claims(&verifier, nonce).cloned()
    }
}

/// The check a refused ID token failed, as logs and the refusal page name it.
fn check_name(e: &ClaimsVerificationError) -> &'static str {
    match e {
        ClaimsVerificationError::Expired(_) => "expired",
        ClaimsVerificationError::InvalidAudience(_) => "audience",
        ClaimsVerificationError::InvalidIssuer(_) => "issuer",
        ClaimsVerificationError::InvalidNonce(_) => "nonce",
        ClaimsVerificationError::InvalidSubject(_) => "subject",
        ClaimsVerificationError::SignatureVerification(_) => "signature",
        _ => "other",
    }
}

/// An error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
