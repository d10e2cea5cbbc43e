//! A local server that imitates Google Places (Text Search), Gemini (text and image),
//! Imagen, LinkedIn (OAuth, userinfo, images, posts, analytics) and Instagram (Business
//! Login, content publishing, insights), plus a small website for
//! every business it invents, so the demo and the tests run our real reqwest clients end to
//! end. Its routes, fault plan, request log and JSON are a contract that outside tools drive
//! (docs/sandbox.md): add fields freely, remove or rename none.
//!
//! Everything is deterministic for a seed, a request and the call order (but LinkedIn post
//! and image ids and Instagram container and media ids, drawn anew at each start unless
//! `linkedin_id_epoch` fixes them); the clock is the
//! machine's.

mod call;
mod control;
mod faults;
mod fixtures;
mod google;
mod instagram;
mod linkedin;
mod models;
mod oidc;
mod png;
mod server;
mod sites;
mod state;

use std::net::SocketAddr;
use std::time::Duration;

pub use faults::ROUTES;
pub use instagram::InstagramOptions;
pub use oidc::{CLIENT_ID as OIDC_CLIENT_ID, CLIENT_SECRET as OIDC_CLIENT_SECRET};
pub use server::Sandbox;
pub use sites::published_contacts;

/// How long each provider takes to answer, before any fault's own delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Latency {
    /// The middle of what the real services answer in: Places 300 ms a page, Gemini text
    /// 1,200 ms, images 2,000 ms, LinkedIn 250 ms a call, Instagram 300 ms a call, websites
    /// 150 ms.
    Default,
    /// No added latency (fast tests).
    None,
    /// Per provider: `places`, `gemini`, `image`, `linkedin`, `instagram`, `sites`, in ms.
    Custom(Vec<(String, u64)>),
}

impl Latency {
    /// `default`, `none`, or `places=300,gemini=1200,...` (unnamed providers keep their
    /// default).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(Self::Default),
            "none" => Ok(Self::None),
            _ => {
                let mut out = Vec::new();
                for part in s.split(',').filter(|p| !p.is_empty()) {
                    let (name, ms) = part
                        .split_once('=')
                        .ok_or_else(|| format!("{part:?}: expected provider=ms"))?;
                    if !PROVIDERS.contains(&name) {
                        return Err(format!("{name:?}: providers are {PROVIDERS:?}"));
                    }
                    let ms = ms
                        .parse()
                        .map_err(|_| format!("{part:?}: {ms:?} is not a number of ms"))?;
                    out.push((name.to_owned(), ms));
                }
                Ok(Self::Custom(out))
            }
        }
    }

    /// The added latency of one call to `provider`.
    pub fn of(&self, provider: &str) -> Duration {
        let default = match provider {
            "places" => 300,
            "gemini" => 1_200,
            "image" => 2_000,
            "linkedin" => 250,
            "instagram" => 300,
            "sites" => 150,
            _ => 0,
        };
        Duration::from_millis(match self {
            Self::Default => default,
            Self::None => 0,
            Self::Custom(list) => list
                .iter()
                .find(|(p, _)| p == provider)
                .map_or(default, |(_, ms)| *ms),
        })
    }
}

/// The providers a latency can be set for.
pub const PROVIDERS: [&str; 6] = [
    "places",
    "gemini",
    "image",
    "linkedin",
    "instagram",
    "sites",
];

/// The sandbox's settings; `Default` is the production-like setup of the contract.
#[derive(Debug, Clone)]
pub struct Options {
    pub latency: Latency,
    /// Seeds every invented business, text and image.
    pub seed: u64,
    /// Posts a member may create per UTC day before LinkedIn answers 429.
    pub linkedin_daily_member: u32,
    /// Posts the whole app may create per UTC day.
    pub linkedin_daily_app: u32,
    /// The only Google API key accepted (Places, Gemini, Imagen).
    pub google_api_key: String,
    pub linkedin_client_id: String,
    pub linkedin_client_secret: String,
    /// `expires_in` of issued access tokens.
    pub token_expires_in_s: u64,
    /// Whether the token endpoint issues refresh tokens (LinkedIn gives them only to
    /// approved partners; off by default, as for self-serve apps).
    pub refresh_tokens: bool,
    /// How long LinkedIn remembers a post to refuse an identical one (422 DUPLICATE_POST):
    /// a day, as LinkedIn does. Zero forgets at once, so tests can show that publishing
    /// stays exactly-once without LinkedIn's check.
    pub duplicate_window_s: u64,
    /// Gemini model ids to treat as deprecated: still served, listed with a description
    /// that starts "Deprecated:" (the day Google announces a shutdown).
    pub deprecated_models: Vec<String>,
    /// Gemini model ids to treat as shut down: missing from `models.list`, 404 NOT_FOUND
    /// on every method (the day the shutdown comes).
    pub retired_models: Vec<String>,
    /// The `LinkedIn-Version` values served; any other answers 426 NONEXISTENT_VERSION, as
    /// LinkedIn does for a version it retired or never released. Default: the version our
    /// configuration sends and the two months either side of it.
    pub linkedin_versions: Vec<u32>,
    /// The LinkedIn products the app is approved for; the consent refuses any scope none of
    /// them gives, as LinkedIn does (`unauthorized_scope_error`). Default: the two
    /// self-serve products every app can add, [`SELF_SERVE_PRODUCTS`].
    pub linkedin_products: Vec<String>,
    /// The image status GET (`GET /rest/images/{urn}`) answers 403 ACCESS_DENIED, as for an
    /// app whose grant does not include reading images.
    pub linkedin_image_status_forbidden: bool,
    /// Makes post and image ids repeat from one start to the next (a test that needs the
    /// ids of an earlier run again). `None`, the default: every start draws its own, so ids
    /// never repeat across restarts, as LinkedIn's never do.
    pub linkedin_id_epoch: Option<u64>,
    /// Instagram (Business Login, content publishing): the app, token lifetimes, the
    /// publishing limit and the containers' expiry.
    pub instagram: InstagramOptions,
}

/// "Sign In with LinkedIn using OpenID Connect" and "Share on LinkedIn": the products any
/// LinkedIn app can add without LinkedIn's review.
pub const SELF_SERVE_PRODUCTS: [&str; 2] = [
    "Sign In with LinkedIn using OpenID Connect",
    "Share on LinkedIn",
];

/// Products the sandbox knows and the member scopes each gives ("Getting Access to LinkedIn
/// APIs", learn.microsoft.com/linkedin/shared/authentication/getting-access; the product
/// pages name their scopes).
pub const LINKEDIN_PRODUCTS: [(&str, &[&str]); 3] = [
    (
        "Sign In with LinkedIn using OpenID Connect",
        &["openid", "profile", "email"],
    ),
    ("Share on LinkedIn", &["w_member_social"]),
    (
        "Community Management API",
        &[
            "r_member_postAnalytics",
            "r_member_social",
            "w_member_social",
            "r_organization_social",
            "w_organization_social",
            "rw_organization_admin",
        ],
    ),
];

impl Default for Options {
    fn default() -> Self {
        Self {
            latency: Latency::Default,
            seed: 42,
            linkedin_daily_member: 150,
            linkedin_daily_app: 100_000,
            google_api_key: "sandbox-google-key".to_owned(),
            linkedin_client_id: "sandbox-client-id".to_owned(),
            linkedin_client_secret: "sandbox-client-secret".to_owned(),
            token_expires_in_s: 5_184_000,
            refresh_tokens: false,
            duplicate_window_s: 24 * 3600,
            deprecated_models: Vec::new(),
            retired_models: Vec::new(),
            linkedin_versions: DEFAULT_LINKEDIN_VERSIONS.to_vec(),
            linkedin_products: SELF_SERVE_PRODUCTS.map(str::to_owned).to_vec(),
            linkedin_image_status_forbidden: false,
            linkedin_id_epoch: None,
            instagram: InstagramOptions::default(),
        }
    }
}

/// The `LinkedIn-Version` values served by default: 202610 (what the configuration sends)
/// and the months around it.
pub const DEFAULT_LINKEDIN_VERSIONS: [u32; 5] = [202_608, 202_609, 202_610, 202_611, 202_612];

/// Where a sandbox listens by default.
pub const DEFAULT_BIND: &str = "127.0.0.1:8070";

/// `DEFAULT_BIND` as an address.
pub fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8070))
}
