//! Sign-in through OpenID Connect providers (docs/operations.md, "Sign in with Google or
//! another OpenID Connect provider"). Each provider is a named entry:
//! `AG_OIDC__PROVIDERS__GOOGLE__ISSUER`, `..__CLIENT_ID`, `..__CLIENT_SECRET`,
//! `..__DISPLAY_NAME` make the provider `google`. None configured, the sign-in pages show no
//! provider button and the OIDC routes answer "not found".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The sandbox's OpenID Connect client (its defaults, docs/sandbox.md): accepted by the
/// sandbox only.
pub const SANDBOX_OIDC_CLIENT_ID: &str = "sandbox-oidc-client";
pub const SANDBOX_OIDC_CLIENT_SECRET: &str = "sandbox-oidc-secret";

fn default_timeout_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcConfig {
    /// By name: the name is the provider's part of our URLs (`/sign-in/oidc/<name>`) and of
    /// the redirect URI its client must list.
    #[serde(default)]
    pub providers: BTreeMap<String, OidcProviderConfig>,
    /// Discovery, keys and the code exchange: each call's limit.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            providers: BTreeMap::new(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

/// One issuer and our client there. `Debug` by hand: the secret is never printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcProviderConfig {
    /// The issuer exactly as its ID tokens say it (`https://accounts.google.com`); its
    /// `/.well-known/openid-configuration` is read at the first sign-in.
    pub issuer: String,
    pub client_id: String,
    /// Unset for a public client (PKCE only); Google and Entra web apps have one.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The button's "Continue with …"; the provider's name when unset.
    #[serde(default)]
    pub display_name: Option<String>,
}

impl std::fmt::Debug for OidcProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProviderConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("display_name", &self.display_name)
            .finish()
    }
}

impl OidcProviderConfig {
    /// What the button says after "Continue with".
    pub fn shown_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(name)
    }
}

impl OidcConfig {
    /// Names are URL segments; issuers are URLs (https in production: an ID token's keys are
    /// only as trustworthy as the channel they came over).
    pub(super) fn validate(&self, production: bool) -> Result<(), Error> {
        if self.timeout_ms == 0 {
            return Err(Error::Config("oidc.timeout_ms must be above 0".into()));
        }
        for (name, p) in &self.providers {
            let setting = |field: &str| format!("oidc.providers.{name}.{field}");
            if name.is_empty()
                || name.len() > 40
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(Error::Config(format!(
                    "oidc.providers.{name}: a provider's name is 1 to 40 of a-z, 0-9 and -"
                )));
            }
            let issuer = url::Url::parse(&p.issuer)
                .map_err(|e| Error::Config(format!("{} must be a URL: {e}", setting("issuer"))))?;
            let https = issuer.scheme() == "https";
            if !(https || issuer.scheme() == "http") || issuer.query().is_some() {
                return Err(Error::Config(format!(
                    "{} must be an http(s) URL without a query",
                    setting("issuer")
                )));
            }
            if production && !https {
                return Err(Error::Config(format!(
                    "{} must be https in production",
                    setting("issuer")
                )));
            }
            if p.client_id.trim().is_empty() {
                return Err(Error::Config(format!(
                    "{} is required",
                    setting("client_id")
                )));
            }
            if production && p.client_id == SANDBOX_OIDC_CLIENT_ID {
                return Err(Error::Config(format!(
                    "{} is the sandbox's built-in client in production",
                    setting("client_id")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(issuer: &str) -> OidcProviderConfig {
        OidcProviderConfig {
            issuer: issuer.into(),
            client_id: "c".into(),
            client_secret: Some("s".into()),
            display_name: None,
        }
    }

    fn with(name: &str, p: OidcProviderConfig) -> OidcConfig {
        let mut c = OidcConfig::default();
        c.providers.insert(name.into(), p);
        c
    }

    #[test]
    fn names_and_issuers_are_checked() {
        assert!(
            with("google", provider("https://accounts.google.com"))
                .validate(true)
                .is_ok()
        );
        assert!(
            with("Google", provider("https://accounts.google.com"))
                .validate(false)
                .is_err()
        );
        assert!(
            with("a/b", provider("https://accounts.google.com"))
                .validate(false)
                .is_err()
        );
        assert!(with("g", provider("ftp://x")).validate(false).is_err());
        assert!(
            with("g", provider("http://127.0.0.1:8070/oidc"))
                .validate(false)
                .is_ok()
        );
        let e = with("g", provider("http://127.0.0.1:8070/oidc"))
            .validate(true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("oidc.providers.g.issuer"), "{e}");
    }

    #[test]
    fn the_secret_is_not_printed() {
        let printed = format!("{:?}", provider("https://x").clone());
        assert!(!printed.contains("\"s\""), "{printed}");
        assert!(printed.contains("redacted"), "{printed}");
    }
}
