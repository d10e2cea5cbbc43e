//! One typed configuration, loaded once at startup: `config/default.toml`, then
//! `AG_`-prefixed environment variables (`AG_REDIS__URL` sets `redis.url`), then the
//! conventional `REDIS_URL` and `DATABASE_URL`. Secrets (`vault.key`, `api.cookie_key`,
//! `linkedin.client_secret`, `providers.google.api_key`) belong in the environment; only the
//! Google key has a default, the sandbox's, and only while the Google URLs are the
//! sandbox's: every provider URL defaults to the sandbox (`http://127.0.0.1:8070`,
//! docs/sandbox.md) so a local run never reaches Google or LinkedIn. Production sets the
//! URLs too (`AG_PROVIDERS__GOOGLE__PLACES_BASE_URL`, ...). A bad value stops the process at
//! startup, not at the first job that needs it; so do the sandbox's credentials beside a
//! real provider's URL, and production pointed at the sandbox (docs/going-live.md).

use std::path::Path;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::error::Error;

mod oidc;
pub use oidc::{
    OidcConfig, OidcProviderConfig, SANDBOX_OIDC_CLIENT_ID, SANDBOX_OIDC_CLIENT_SECRET,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub redis: RedisConfig,
    pub queue: QueueConfig,
    pub workers: WorkersConfig,
    pub database: DatabaseConfig,
    pub api: ApiConfig,
    pub vault: VaultConfig,
    pub limits: LimitsConfig,
    pub linkedin: LinkedInConfig,
    /// Instagram through the Instagram API with Instagram Login; a deployment that names no
    /// app (no `client_id`) has no "Connect Instagram".
    #[serde(default)]
    pub instagram: InstagramConfig,
    pub providers: ProvidersConfig,
    pub pipeline: PipelineConfig,
    pub storage: StorageConfig,
    pub website: WebsiteConfig,
    #[serde(default)]
    pub mail: MailConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Sign-in through OpenID Connect providers; none by default.
    #[serde(default)]
    pub oidc: OidcConfig,
}

/// Prometheus's `/metrics` of the api (docs/operations.md, "Metrics and alerts"). Workers
/// take their own address on the command line (`workers --metrics-bind`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// `host:port` of the api's metrics listener, never the public one
    /// (`AG_METRICS__BIND`); unset, the api serves no metrics.
    #[serde(default)]
    pub bind: Option<String>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseConfig {
    pub url: String,
    /// Per process. The api and every worker process each open this many at most.
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout_ms: u64,
}

/// A working day.
fn default_session_idle_secs() -> u64 {
    8 * 3600
}

/// `Debug` by hand: the cookie key is a secret.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiConfig {
    /// `host:port`; port 0 picks a free one (tests).
    pub bind: String,
    /// Where browsers reach us; LinkedIn's redirect URL is built from it.
    pub public_url: String,
    /// Whether the session cookie is `Secure` (never sent in clear). Unset: it follows
    /// `public_url` (https → Secure); see [`ApiConfig::secure_cookies`].
    #[serde(default)]
    pub cookie_secure: Option<bool>,
    pub session_ttl_secs: u64,
    /// A session unused this long is over, whatever its TTL.
    #[serde(default = "default_session_idle_secs")]
    pub session_idle_secs: u64,
    /// Signs the session cookie (base64, 64 bytes). Required in production (see
    /// [`ApiConfig::is_production`]); unset elsewhere, derived from the current vault key.
    #[serde(default)]
    pub cookie_key: Option<String>,
    /// Largest JSON body accepted; above it the answer is 413.
    pub body_limit_bytes: usize,
    /// actix-web worker threads; 0 = one per core.
    pub http_workers: usize,
    /// Production without TLS in `public_url` (TLS ends before us and the URL says http).
    #[serde(default)]
    pub production: bool,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("cookie_secure", &self.cookie_secure)
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("session_idle_secs", &self.session_idle_secs)
            .field(
                "cookie_key",
                &self.cookie_key.as_ref().map(|_| "[redacted]"),
            )
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("http_workers", &self.http_workers)
            .field("production", &self.production)
            .finish()
    }
}

impl ApiConfig {
    /// The session cookie's `Secure`: as set, else whether browsers reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.cookie_secure
            .unwrap_or_else(|| self.public_url.starts_with("https://"))
    }

    /// Production: the flag, or a public URL served over https.
    pub fn is_production(&self) -> bool {
        self.production || self.public_url.starts_with("https://")
    }

    /// Where an OpenID Connect provider sends the browser back after sign-in: the redirect
    /// URI its client must list, character for character.
    pub fn oidc_redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}/sign-in/oidc/{provider}/callback",
            self.public_url.trim_end_matches('/')
        )
    }

    /// Where LinkedIn sends the member back after the consent: the URL the connect sends
    /// and the one the LinkedIn app must list, character for character.
    pub fn linkedin_redirect_uri(&self) -> String {
        format!(
            "{}/api/profile/linkedin/callback",
            self.public_url.trim_end_matches('/')
        )
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct VaultConfig {
    /// 32 bytes, base64. Only from the environment (`AG_VAULT__KEY`).
    #[serde(default)]
    pub key: Option<String>,
    /// Written into every sealed value, so a rotated key can still open older ones.
    pub key_id: u8,
    /// The keyring, `id:base64,id:base64` (`AG_VAULT__KEYS`): every key that may have sealed
    /// a stored value. `key` above, if set, is one more entry (`key_id`).
    #[serde(default)]
    pub keys: Option<String>,
    /// The id new values are sealed with (`AG_VAULT__CURRENT`); unset, the highest.
    #[serde(default)]
    pub current: Option<u8>,
}

impl std::fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultConfig")
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("key_id", &self.key_id)
            .field("keys", &self.keys.as_ref().map(|_| "[redacted]"))
            .field("current", &self.current)
            .finish()
    }
}

/// Limits enforced in Redis (`shared::rate_limit`), shared by every process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitsConfig {
    /// REST calls per user per minute, sustained.
    pub api_per_minute: u32,
    /// REST calls a user may make at once above the sustained rate.
    pub api_burst: u32,
    /// Failed sign-ins per account per 15 minutes.
    pub sign_in_failures_per_account: u32,
    /// Failed sign-ins per client address per 15 minutes (an office shares one address).
    pub sign_in_failures_per_ip: u32,
}

/// The Meta app's Instagram product ("API setup with Instagram login", docs/providers.md,
/// "Instagram"): Business Login for Instagram, then content publishing on
/// `graph.instagram.com`. Unset `client_id`: "Connect Instagram" answers 503.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstagramConfig {
    /// The Instagram app id and secret (App Dashboard, Instagram, "Business login settings").
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// `https://www.instagram.com/oauth/authorize`: the consent window.
    pub authorize_url: String,
    /// `https://api.instagram.com/oauth/access_token`: the code exchange.
    pub token_url: String,
    /// `https://graph.instagram.com`: the long-lived token calls and the Graph API.
    pub graph_base_url: String,
    /// The Graph API version in the path (`v25.0`); empty calls the unversioned path.
    pub version: String,
    /// The permissions every connect asks for, comma-separated.
    pub scope: String,
    /// Also ask for `instagram_business_manage_insights`, so the dashboard shows Instagram's
    /// likes, comments, reach and views.
    pub insights: bool,
    pub timeout_ms: u64,
    /// How often and how long to ask whether a container is FINISHED.
    pub container_poll_interval_ms: u64,
    pub container_poll_max_ms: u64,
    /// How often the periodic job looks for tokens to refresh.
    pub refresh_every_secs: u64,
    /// A token is refreshed once it expires within this many days (and is over 24 h old,
    /// which Instagram requires): 60-day tokens are renewed about a month in, leaving a
    /// month of retries before one expires.
    pub refresh_before_days: u32,
}

impl Default for InstagramConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            authorize_url: format!("{SANDBOX}/instagram-www/oauth/authorize"),
            token_url: format!("{SANDBOX}/instagram-api/oauth/access_token"),
            graph_base_url: format!("{SANDBOX}/instagram-graph"),
            version: "v25.0".to_owned(),
            scope: "instagram_business_basic,instagram_business_content_publish".to_owned(),
            insights: false,
            timeout_ms: 15_000,
            container_poll_interval_ms: 1_000,
            container_poll_max_ms: 60_000,
            refresh_every_secs: 3600,
            refresh_before_days: 30,
        }
    }
}

impl InstagramConfig {
    /// The permissions a connect asks for: `scope`, plus
    /// `instagram_business_manage_insights` with `insights`.
    pub fn requested_scope(&self) -> String {
        const INSIGHTS: &str = "instagram_business_manage_insights";
        let mut parts: Vec<&str> = self
            .scope
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .collect();
        if self.insights && !parts.contains(&INSIGHTS) {
            parts.push(INSIGHTS);
        }
        parts.join(",")
    }
}

impl std::fmt::Debug for InstagramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstagramConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("graph_base_url", &self.graph_base_url)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// LinkedIn's OAuth app. Unset `client_id`: "connect LinkedIn" answers 503.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkedInConfig {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    /// The scopes every connect asks for: `openid profile w_member_social`, what the two
    /// self-serve products ("Sign In with LinkedIn using OpenID Connect", "Share on
    /// LinkedIn") allow. LinkedIn refuses the whole connect (`unauthorized_scope_error`)
    /// when one scope is outside the app's products.
    pub scope: String,
    /// Also ask for `r_member_postAnalytics`, so the dashboard shows LinkedIn's engagement.
    /// Only for an app LinkedIn approved for the Community Management API; off by default.
    #[serde(default)]
    pub analytics: bool,
    /// `https://api.linkedin.com`: the `/rest` and `/v2` calls go below it.
    pub api_base_url: String,
    /// `LinkedIn-Version` (YYYYMM); versions retire about a year after release.
    pub version: String,
    pub timeout_ms: u64,
    /// How often and how long to ask whether an uploaded image is AVAILABLE.
    pub image_poll_interval_ms: u64,
    pub image_poll_max_ms: u64,
    /// When LinkedIn refuses the image status GET (403: the grant lacks the permission to
    /// read images, which `w_member_social` alone may not give), how long after the upload
    /// to wait before posting instead of asking: LinkedIn processes an image in seconds.
    #[serde(default = "default_image_unpolled_wait_ms")]
    pub image_unpolled_wait_ms: u64,
}

fn default_image_unpolled_wait_ms() -> u64 {
    8_000
}

impl LinkedInConfig {
    /// The scope a connect asks for: `scope`, plus `r_member_postAnalytics` with `analytics`.
    pub fn requested_scope(&self) -> String {
        const ANALYTICS: &str = "r_member_postAnalytics";
        let mut parts: Vec<&str> = self
            .scope
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .collect();
        if self.analytics && !parts.contains(&ANALYTICS) {
            parts.push(ANALYTICS);
        }
        parts.join(" ")
    }
}

impl std::fmt::Debug for LinkedInConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkedInConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("api_base_url", &self.api_base_url)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Where generated images are kept (see `crate::storage`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    /// The directory of the `local` backend (created if missing).
    pub local_dir: String,
    #[serde(default)]
    pub s3: S3Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

/// An S3 bucket, on AWS or any S3-protocol server (`endpoint`). Without keys, the usual
/// AWS environment and instance credentials apply.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Config {
    pub bucket: Option<String>,
    pub region: String,
    /// `http://127.0.0.1:9000` for a local S3-protocol server; unset for AWS.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    /// Only from the environment (`AG_STORAGE__S3__SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// Plain http to `endpoint` (a server on the same host or network).
    pub allow_http: bool,
    /// Put before every key, for a bucket shared with other data.
    pub prefix: String,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            bucket: None,
            region: "us-east-1".to_owned(),
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            prefix: String::new(),
        }
    }
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "[redacted]"),
            )
            .field("allow_http", &self.allow_http)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// How workers read leads' websites (see `crate::website`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebsiteConfig {
    /// One deadline for a lead's whole enrichment: the home page and its contact pages,
    /// each connect, headers, body and reading together.
    pub timeout_ms: u64,
    /// Pages larger than this are not read (a site that streams forever, a video).
    pub max_bytes: usize,
    pub max_redirects: u8,
    /// Fetch addresses on private, loopback and link-local networks. Off in production:
    /// a lead's website must never make a worker fetch our own infrastructure. The demo
    /// and the tests turn it on for the sandbox's sites on 127.0.0.1.
    pub allow_private: bool,
    pub user_agent: String,
}

/// The pipeline's behaviour and its limits (docs/pipeline.md, "Limits" and "What ends a step").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// A content scoring at least this is approved without the owner, when LinkedIn is
    /// connected; below it, the owner decides in the gallery.
    pub auto_approve_score: i16,
    /// Businesses a campaign asks Places for (Places stops at 60).
    pub max_leads: usize,
    /// Work whose rows have not moved for this long is enqueued again by the reconciler
    /// (its job was lost with Redis's data, or never reached Redis).
    pub stall_after_secs: u64,
    /// How often the reconciler runs (once per period across all workers).
    pub reconcile_every_secs: u64,
    /// How often publications' likes, comments, shares and impressions are refreshed.
    pub analytics_every_secs: u64,
    /// Publications older than this are no longer refreshed.
    pub analytics_window_days: u32,
    /// How long a step keeps waiting on a provider that says "later" (429s with a delay, a
    /// quota, a LinkedIn grant that needs reconnecting) before it ends with that reason:
    /// a wait uses no attempt, so without this bound a provider that never says yes would
    /// keep the campaign open forever. Our own limits (daily budgets) are not counted:
    /// they always reopen.
    pub give_up_waiting_secs: u64,
    /// The longest wait after a 429 that names no delay: it is a wait (no attempt used),
    /// with the provider's credential held back for everyone meanwhile. The waits of a run
    /// of such 429s start at `throttle_first_wait_ms` and double up to this.
    pub throttle_wait_secs: u64,
    /// The wait after the first 429 in a row that names no delay (and the most jitter any
    /// such wait gets): Google's guidance is exponential backoff from about a second.
    pub throttle_first_wait_ms: u64,
    /// How long LinkedIn refuses an identical post by the same author (a day). A POST
    /// whose answer was lost may be sent once more only within it: then LinkedIn refuses
    /// the copy and names the first; past it, the copy would be a second post, so the
    /// publication is `unknown` for the owner instead.
    pub duplicate_window_secs: u64,
    /// When set, the first retry's delay ceiling (doubling each attempt, with jitter, up
    /// to the kind's cap) of every pipeline job, instead of each kind's own (1 s; 5 s for
    /// publishing). Tests shorten it.
    pub retry_base_ms: Option<u64>,
    /// Campaigns one owner may have running (scraping, enriching, generating) at once; a
    /// launch beyond it is refused with the reason, so one owner's backlog cannot fill the
    /// queues every owner shares.
    pub max_running_campaigns: u32,
    pub limits: PipelineLimits,
}

/// A steady rate with a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateConfig {
    pub per_minute: u32,
    pub burst: u32,
}

impl RateConfig {
    pub fn limit(self) -> crate::rate_limit::Limit {
        crate::rate_limit::Limit::per_minute(self.per_minute.max(1), self.burst.max(1))
    }
}

/// Per provider credential (shared by every user: the app's quota with the provider) and
/// per user (so one owner's big campaign cannot use up everyone's quota). Over a limit, a
/// job is deferred with the reason; it uses no attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineLimits {
    /// Places Text Search calls (a call is a page of up to 20).
    pub places: RateConfig,
    pub gemini_text: RateConfig,
    pub image: RateConfig,
    /// LinkedIn calls of the app (all members).
    pub linkedin_app: RateConfig,
    /// Leads enriched per UTC day, all users together.
    pub leads_per_day: u32,
    /// Contents generated per UTC day, all users together.
    pub contents_per_day: u32,
    /// Posts a member may publish per UTC day (LinkedIn counts the same way).
    pub user_posts_per_day: u32,
    /// Leads enriched per UTC day for one owner: the app's daily budget is shared, and one
    /// owner's many campaigns must not use it all.
    pub user_leads_per_day: u32,
    /// Contents generated per UTC day for one owner, likewise.
    pub user_contents_per_day: u32,
    pub user_places: RateConfig,
    pub user_gemini_text: RateConfig,
    pub user_image: RateConfig,
}

/// The external APIs other than LinkedIn (docs/providers.md, sections 1–3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvidersConfig {
    pub google: GoogleConfig,
}

/// Why an `imagen` backend is refused: at start-up (config validation) and by the client.
pub const IMAGEN_SHUT_DOWN: &str = "providers.google.image_backend = \"imagen\": Imagen is shut down \
in the Gemini API (ai.google.dev/gemini-api/docs/deprecations); set image_backend = \"gemini\" \
and providers.google.image_model to a Gemini image model";

/// Which API makes images: Gemini `generateContent` with IMAGE output. `imagen` is still
/// read from files so that a deployment that names it is refused at start-up with the
/// reason (Imagen is shut down in the Gemini API), not with "unknown variant".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageBackend {
    Gemini,
    Imagen,
}

/// Places and Gemini share one key. Base URLs point at the sandbox by default, so a local run
/// never reaches (or pays) Google; production sets them and the key from `AG_PROVIDERS__GOOGLE__*`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct GoogleConfig {
    pub places_base_url: String,
    pub gemini_base_url: String,
    /// Only from the environment in production (`AG_PROVIDERS__GOOGLE__API_KEY`).
    #[serde(default)]
    pub api_key: Option<String>,
    /// Model ids are retired by Google within months: a model Google no longer knows is an
    /// operator alert (`ag_provider_misconfigured_total`), never a silent fallback.
    pub text_model: String,
    pub image_model: String,
    pub image_backend: ImageBackend,
    pub places_timeout_ms: u64,
    pub text_timeout_ms: u64,
    pub image_timeout_ms: u64,
}

impl std::fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("places_base_url", &self.places_base_url)
            .field("gemini_base_url", &self.gemini_base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("text_model", &self.text_model)
            .field("image_model", &self.image_model)
            .field("image_backend", &self.image_backend)
            .finish_non_exhaustive()
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTls {
    /// Plain SMTP: a relay on the same host or network (the demo's and the tests' sink).
    None,
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Outgoing mail (`AG_MAIL__*`): password resets and the owners' notices, sent by the
/// workers of the `mail` queue. The defaults point at the local sink `just demo` starts,
/// so a local run never mails a real address.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_username: Option<String>,
    /// Only from the environment (`AG_MAIL__SMTP_PASSWORD`).
    pub smtp_password: Option<String>,
    pub tls: MailTls,
    /// `AstroGrowth <no-reply@example.com>`: the sender every mail shows.
    pub from: String,
    /// Where the links in mails lead: the site as owners reach it.
    pub public_url: String,
    /// One deadline for each SMTP conversation step (connect, each command).
    pub timeout_ms: u64,
    /// How often the periodic notice scan runs (posts waiting for approval, LinkedIn
    /// grants about to expire).
    pub notices_every_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: "127.0.0.1".to_owned(),
            smtp_port: 2525,
            smtp_username: None,
            smtp_password: None,
            tls: MailTls::None,
            from: "AstroGrowth <no-reply@astrogrowth.local>".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            timeout_ms: 15_000,
            notices_every_secs: 600,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "[redacted]"),
            )
            .field("tls", &self.tls)
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RedisConfig {
    pub url: String,
}

/// A connection URL as it may be shown: its password replaced. One that does not parse
/// is not shown at all (it might be a secret pasted in the wrong place).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Only fails for URLs that cannot have a password, which this one has.
                let _ = parsed.set_password(Some("[redacted]"));
            }
            parsed.to_string()
        }
        Err(_) => "[unparsable url]".to_owned(),
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_ms", &self.acquire_timeout_ms)
            .finish()
    }
}

/// The queue engine's tunables (see `jobs::Settings` for what each does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub prefix: String,
    pub visibility_timeout_ms: u64,
    pub block_ms: u64,
    pub mover_interval_ms: u64,
    pub dead_max: u64,
    /// Jobs a worker reads beyond its concurrency; unset = as many as its concurrency
    /// (at most 100). Lower it for queues of slow jobs so idle workers are not starved.
    #[serde(default)]
    pub read_ahead: Option<usize>,
    /// Replicas that must confirm an enqueue before it returns (`WAIT`, in the enqueue's own
    /// round trip); 0 = the master's reply. Set it to 1 on a Redis with replicas (a Redis
    /// Cluster) so a failover cannot lose a job a producer was told is queued.
    #[serde(default)]
    pub enqueue_replicas: u32,
    /// How long an enqueue waits for those replicas before failing.
    #[serde(default = "default_enqueue_replicas_timeout_ms")]
    pub enqueue_replicas_timeout_ms: u64,
    /// Owners take turns in each queue, so one owner's backlog does not hold another
    /// owner's jobs behind it (on by default; off = first come, first served).
    #[serde(default = "default_owner_turns")]
    pub owner_turns: bool,
}

fn default_owner_turns() -> bool {
    true
}

fn default_enqueue_replicas_timeout_ms() -> u64 {
    500
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkersConfig {
    /// How long a SIGTERM waits for running jobs before leaving them to crash recovery.
    pub shutdown_deadline_ms: u64,
    pub heartbeat_interval_ms: u64,
}

/// Where the sandbox listens by default (docs/sandbox.md, "Running it"): local runs talk to it, not to Google
/// or LinkedIn, until the environment says otherwise.
const SANDBOX: &str = "http://127.0.0.1:8070";

/// The sandbox's built-in credentials (its defaults, docs/sandbox.md): accepted by the
/// sandbox only, so with a real provider's URL they are a forgotten secret.
pub const SANDBOX_GOOGLE_KEY: &str = "sandbox-google-key";
pub const SANDBOX_LINKEDIN_CLIENT_ID: &str = "sandbox-client-id";
pub const SANDBOX_LINKEDIN_CLIENT_SECRET: &str = "sandbox-client-secret";

/// The path prefixes the sandbox serves each provider under (docs/sandbox.md, "Routes"),
/// wherever it runs; the real providers serve none of them.
const SANDBOX_PREFIXES: [&str; 7] = [
    "/places",
    "/gemini",
    "/linkedin-www",
    "/linkedin-api",
    "/instagram-www",
    "/instagram-api",
    "/instagram-graph",
];

/// Whether `url`'s host is `domain` or one of its subdomains.
fn host_is(url: &str, domain: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| h == domain || h.ends_with(&format!(".{domain}")))
}

/// Whether `url` is the sandbox's: its default address, or one of its route prefixes.
fn is_sandbox_url(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let default = matches!(u.host_str(), Some("127.0.0.1" | "localhost"))
        && u.port_or_known_default() == Some(8070);
    default
        || SANDBOX_PREFIXES
            .iter()
            .any(|p| u.path() == *p || u.path().starts_with(&format!("{p}/")))
}

impl Default for Config {
    fn default() -> Self {
        let q = jobs::Settings::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            redis: RedisConfig {
                url: "redis://127.0.0.1:6379/0".to_owned(),
            },
            queue: QueueConfig {
                prefix: q.prefix,
                visibility_timeout_ms: ms(q.visibility_timeout),
                block_ms: ms(q.block),
                mover_interval_ms: ms(q.mover_interval),
                dead_max: q.dead_max,
                read_ahead: q.read_ahead,
                enqueue_replicas: q.enqueue_replicas,
                enqueue_replicas_timeout_ms: ms(q.enqueue_replicas_timeout),
                owner_turns: q.owner_turns,
            },
            workers: WorkersConfig {
                shutdown_deadline_ms: 25_000,
                heartbeat_interval_ms: ms(q.heartbeat_interval),
            },
            database: DatabaseConfig {
                url: "postgres://postgres@127.0.0.1:5432/astrogrowth".to_owned(),
                max_connections: 20,
                acquire_timeout_ms: 5_000,
            },
            api: ApiConfig {
                bind: "127.0.0.1:8080".to_owned(),
                public_url: "http://127.0.0.1:8080".to_owned(),
                cookie_secure: None,
                session_ttl_secs: 7 * 24 * 3600,
                session_idle_secs: default_session_idle_secs(),
                cookie_key: None,
                body_limit_bytes: 64 * 1024,
                http_workers: 0,
                production: false,
            },
            vault: VaultConfig {
                key: None,
                key_id: 1,
                keys: None,
                current: None,
            },
            limits: LimitsConfig {
                api_per_minute: 1_200,
                api_burst: 100,
                sign_in_failures_per_account: 5,
                sign_in_failures_per_ip: 50,
            },
            linkedin: LinkedInConfig {
                client_id: None,
                client_secret: None,
                authorize_url: format!("{SANDBOX}/linkedin-www/oauth/v2/authorization"),
                token_url: format!("{SANDBOX}/linkedin-www/oauth/v2/accessToken"),
                userinfo_url: format!("{SANDBOX}/linkedin-api/v2/userinfo"),
                scope: "openid profile w_member_social".to_owned(),
                analytics: false,
                api_base_url: format!("{SANDBOX}/linkedin-api"),
                version: "202610".to_owned(),
                timeout_ms: 15_000,
                image_poll_interval_ms: 500,
                image_poll_max_ms: 30_000,
                image_unpolled_wait_ms: default_image_unpolled_wait_ms(),
            },
            instagram: InstagramConfig::default(),
            providers: ProvidersConfig {
                google: GoogleConfig {
                    places_base_url: format!("{SANDBOX}/places"),
                    gemini_base_url: format!("{SANDBOX}/gemini"),
                    api_key: Some(SANDBOX_GOOGLE_KEY.to_owned()),
                    // The newest GA Flash text model and the GA Flash image model, neither
                    // with a shutdown date, on ai.google.dev/gemini-api/docs/deprecations
                    // (as of late 2026).
                    text_model: "gemini-3.8-flash".to_owned(),
                    image_model: "gemini-3.1-flash-image".to_owned(),
                    image_backend: ImageBackend::Gemini,
                    places_timeout_ms: 10_000,
                    text_timeout_ms: 60_000,
                    image_timeout_ms: 90_000,
                },
            },
            storage: StorageConfig {
                backend: StorageBackend::Local,
                local_dir: ".run/images".to_owned(),
                s3: S3Config::default(),
            },
            website: WebsiteConfig {
                timeout_ms: 10_000,
                max_bytes: 2 * 1024 * 1024,
                max_redirects: 5,
                allow_private: false,
                user_agent: "AstroGrowthBot/0.1 (+https://astrogrowth.example/bot)".to_owned(),
            },
            metrics: MetricsConfig::default(),
            mail: MailConfig::default(),
            oidc: OidcConfig::default(),
            pipeline: PipelineConfig {
                auto_approve_score: 70,
                max_leads: 60,
                stall_after_secs: 600,
                reconcile_every_secs: 60,
                analytics_every_secs: 3600,
                analytics_window_days: 30,
                give_up_waiting_secs: 3 * 24 * 3600,
                throttle_wait_secs: 30,
                throttle_first_wait_ms: 1_000,
                duplicate_window_secs: 24 * 3600,
                retry_base_ms: None,
                max_running_campaigns: 5,
                limits: PipelineLimits {
                    places: RateConfig {
                        per_minute: 600,
                        burst: 30,
                    },
                    // A campaign's worth (60) at once; sustained rates below the usual
                    // paid-tier quotas, so our limiter, not Google's 429s, paces the work.
                    gemini_text: RateConfig {
                        per_minute: 600,
                        burst: 60,
                    },
                    image: RateConfig {
                        per_minute: 300,
                        burst: 60,
                    },
                    linkedin_app: RateConfig {
                        per_minute: 3000,
                        burst: 300,
                    },
                    leads_per_day: 500,
                    contents_per_day: 500,
                    user_posts_per_day: 100,
                    user_leads_per_day: 180,
                    user_contents_per_day: 180,
                    user_places: RateConfig {
                        per_minute: 60,
                        burst: 10,
                    },
                    // One owner's campaign runs at full speed; several of one owner's at
                    // once share a fraction of the app's rate.
                    user_gemini_text: RateConfig {
                        per_minute: 300,
                        burst: 60,
                    },
                    user_image: RateConfig {
                        per_minute: 150,
                        burst: 60,
                    },
                },
            },
        }
    }
}

impl Config {
    /// Defaults, then `config/default.toml` if present, then the environment.
    pub fn load() -> Result<Self, Error> {
        Self::load_from(Path::new("config/default.toml"))
    }

    pub fn load_from(file: &Path) -> Result<Self, Error> {
        // The sandbox's key is a default only for a deployment that talks to the sandbox:
        // with Google's URLs and no key of its own, a process has no key (the api and the
        // migration Job never call Google and are not given one), rather than a key that
        // start-up must refuse.
        let mut defaults = Self::default();
        defaults.providers.google.api_key = None;
        let mut config: Self = Figment::from(Serialized::defaults(defaults))
            .merge(Toml::file(file))
            .merge(Env::prefixed("AG_").split("__"))
            .merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()))
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        let g = &mut config.providers.google;
        if g.api_key.is_none()
            && ![&g.places_base_url, &g.gemini_base_url]
                .iter()
                .any(|url| host_is(url, "googleapis.com"))
        {
            g.api_key = Some(SANDBOX_GOOGLE_KEY.to_owned());
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), Error> {
        if !(self.redis.url.starts_with("redis://")
            || self.redis.url.starts_with("rediss://")
            || self.redis.url.starts_with("unix://")
            || self.redis.url.starts_with("redis+unix://")
            || jobs::connection::is_cluster_url(&self.redis.url))
        {
            return Err(Error::Config(format!(
                "redis.url must be a redis:// or rediss:// URL (redis+cluster://host:port,... \
                 for a Redis Cluster, rediss+cluster://host:port,... over TLS), got {:?}",
                redact_url(&self.redis.url)
            )));
        }
        // A malformed cluster URL is refused here, with what is wrong, not at first use.
        jobs::connection::cluster_nodes(&self.redis.url)
            .map_err(|e| Error::Config(format!("redis.url: {e}")))?;
        if self.providers.google.image_backend == ImageBackend::Imagen {
            return Err(Error::Config(IMAGEN_SHUT_DOWN.to_owned()));
        }
        if self.queue.visibility_timeout_ms < 1_000 {
            return Err(Error::Config(
                "queue.visibility_timeout_ms must be at least 1000".into(),
            ));
        }
        if self.queue.block_ms == 0 || self.queue.block_ms >= self.queue.visibility_timeout_ms {
            return Err(Error::Config(
                "queue.block_ms must be above 0 and below the visibility timeout".into(),
            ));
        }
        jobs::QueueName::new(self.queue.prefix.trim_end_matches(':'))
            .map_err(|e| Error::Config(format!("queue.prefix: {e}")))?;
        if !(self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            return Err(Error::Config(
                "database.url must be a postgres:// URL".to_owned(),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(Error::Config(
                "database.max_connections must be above 0".into(),
            ));
        }
        if self.limits.api_per_minute == 0 || self.limits.api_burst == 0 {
            return Err(Error::Config("limits.api_* must be above 0".into()));
        }
        let g = &self.providers.google;
        let li = &self.linkedin;
        for (name, url) in [
            ("providers.google.places_base_url", &g.places_base_url),
            ("providers.google.gemini_base_url", &g.gemini_base_url),
            ("linkedin.api_base_url", &li.api_base_url),
            ("linkedin.token_url", &li.token_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::Config(format!("{name} must be an http(s) URL")));
            }
        }
        if [
            g.places_timeout_ms,
            g.text_timeout_ms,
            g.image_timeout_ms,
            li.timeout_ms,
        ]
        .contains(&0)
        {
            return Err(Error::Config("provider timeouts must be above 0".into()));
        }
        if li.version.len() != 6 || !li.version.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Config("linkedin.version must be YYYYMM".into()));
        }
        if self.website.timeout_ms == 0 || self.website.max_bytes == 0 {
            return Err(Error::Config(
                "website.timeout_ms and website.max_bytes must be above 0".into(),
            ));
        }
        if self.storage.backend == StorageBackend::S3
            && self.storage.s3.bucket.as_deref().is_none_or(str::is_empty)
        {
            return Err(Error::Config(
                "storage.s3.bucket is required with storage.backend = \"s3\"".into(),
            ));
        }
        let p = &self.pipeline;
        if !(0..=100).contains(&p.auto_approve_score) {
            return Err(Error::Config(
                "pipeline.auto_approve_score must be between 0 and 100".into(),
            ));
        }
        if p.stall_after_secs == 0
            || p.reconcile_every_secs == 0
            || p.analytics_every_secs == 0
            || p.give_up_waiting_secs == 0
            || p.throttle_wait_secs == 0
            || p.throttle_first_wait_ms == 0
        {
            return Err(Error::Config(
                "pipeline.stall_after_secs, give_up_waiting_secs, throttle_wait_secs, \
                 throttle_first_wait_ms and the pipeline's periods must be above 0"
                    .into(),
            ));
        }
        if p.throttle_first_wait_ms > p.throttle_wait_secs.saturating_mul(1000) {
            return Err(Error::Config(
                "pipeline.throttle_first_wait_ms must not exceed throttle_wait_secs".into(),
            ));
        }
        if let Some(bind) = &self.metrics.bind {
            if bind.trim().is_empty() || !bind.contains(':') {
                return Err(Error::Config(format!(
                    "metrics.bind must be host:port, got {bind:?}"
                )));
            }
            if bind.trim() == self.api.bind.trim() {
                return Err(Error::Config(
                    "metrics.bind must differ from api.bind: metrics are never served on the \
                     public listener"
                        .into(),
                ));
            }
        }
        let m = &self.mail;
        if m.smtp_host.trim().is_empty() || m.smtp_port == 0 || m.timeout_ms == 0 {
            return Err(Error::Config(
                "mail.smtp_host, smtp_port and timeout_ms must be set".into(),
            ));
        }
        if m.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(Error::Config(format!(
                "mail.from must be an address like \"AstroGrowth <no-reply@example.com>\", got {:?}",
                m.from
            )));
        }
        if !(m.public_url.starts_with("http://") || m.public_url.starts_with("https://")) {
            return Err(Error::Config(
                "mail.public_url must be an http(s) URL".into(),
            ));
        }
        if m.notices_every_secs == 0 {
            return Err(Error::Config(
                "mail.notices_every_secs must be above 0".into(),
            ));
        }
        if self.api.body_limit_bytes < 1024 {
            return Err(Error::Config(
                "api.body_limit_bytes must be at least 1024".into(),
            ));
        }
        self.oidc.validate(self.api.is_production())?;
        self.refuse_sandbox_mixups()
    }

    /// Settings that cannot work together, refused before anything runs: the real
    /// providers with the sandbox's built-in credentials (every call would answer 400 or
    /// 401, at the first campaign rather than now), and production pointed at the sandbox
    /// (every owner's posts would go nowhere). Each refusal names the setting to change.
    fn refuse_sandbox_mixups(&self) -> Result<(), Error> {
        let g = &self.providers.google;
        let li = &self.linkedin;
        let google_urls = [
            ("providers.google.places_base_url", &g.places_base_url),
            ("providers.google.gemini_base_url", &g.gemini_base_url),
        ];
        let linkedin_urls = [
            ("linkedin.authorize_url", &li.authorize_url),
            ("linkedin.token_url", &li.token_url),
            ("linkedin.userinfo_url", &li.userinfo_url),
            ("linkedin.api_base_url", &li.api_base_url),
        ];
        if g.api_key.as_deref() == Some(SANDBOX_GOOGLE_KEY)
            && let Some((name, _)) = google_urls
                .iter()
                .find(|(_, url)| host_is(url, "googleapis.com"))
        {
            return Err(Error::Config(format!(
                "providers.google.api_key is the sandbox's built-in key while {name} is                  Google's: set AG_PROVIDERS__GOOGLE__API_KEY to the project's API key"
            )));
        }
        for (setting, value, builtin) in [
            (
                "linkedin.client_id",
                li.client_id.as_deref(),
                SANDBOX_LINKEDIN_CLIENT_ID,
            ),
            (
                "linkedin.client_secret",
                li.client_secret.as_deref(),
                SANDBOX_LINKEDIN_CLIENT_SECRET,
            ),
        ] {
            if value == Some(builtin)
                && let Some((name, _)) = linkedin_urls
                    .iter()
                    .find(|(_, url)| host_is(url, "linkedin.com"))
            {
                return Err(Error::Config(format!(
                    "{setting} is the sandbox's built-in value while {name} is LinkedIn's: set                      AG_{} to the LinkedIn app's (Developer Portal, Auth tab)",
                    setting.replace('.', "__").to_uppercase()
                )));
            }
        }
        if self.api.is_production()
            && let Some((name, url)) = google_urls
                .iter()
                .chain(linkedin_urls.iter())
                .find(|(_, url)| is_sandbox_url(url))
        {
            return Err(Error::Config(format!(
                "{name} is the sandbox ({}) but this is production (api.production, or an                  https api.public_url): set AG_{} to the provider's real URL                  (docs/going-live.md)",
                redact_url(url),
                name.replace('.', "__").to_uppercase()
            )));
        }
        Ok(())
    }

    /// The engine settings this configuration describes.
    pub fn queue_settings(&self) -> jobs::Settings {
        jobs::Settings {
            prefix: self.queue.prefix.clone(),
            visibility_timeout: Duration::from_millis(self.queue.visibility_timeout_ms),
            block: Duration::from_millis(self.queue.block_ms),
            mover_interval: Duration::from_millis(self.queue.mover_interval_ms.max(1)),
            dead_max: self.queue.dead_max.max(1),
            heartbeat_interval: Duration::from_millis(self.workers.heartbeat_interval_ms.max(100)),
            read_ahead: self.queue.read_ahead,
            enqueue_replicas: self.queue.enqueue_replicas,
            enqueue_replicas_timeout: Duration::from_millis(
                self.queue.enqueue_replicas_timeout_ms.max(1),
            ),
            owner_turns: self.queue.owner_turns,
            ..jobs::Settings::default()
        }
    }

    pub fn shutdown_deadline(&self) -> Duration {
        Duration::from_millis(self.workers.shutdown_deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_map_to_engine_settings() {
        let config = Config::default();
        config.validate().unwrap();
        let settings = config.queue_settings();
        assert_eq!(settings.prefix, "ag:");
        assert_eq!(settings.visibility_timeout, Duration::from_secs(30));
        assert_eq!(config.shutdown_deadline(), Duration::from_secs(25));
    }

    #[test]
    fn bad_values_are_refused_at_startup() {
        let mut c = Config::default();
        c.redis.url = "http://localhost".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.redis.url = "redis+cluster://10.0.0.1:7000,10.0.0.2:7000".into();
        assert!(c.validate().is_ok());
        c.redis.url = "redis+cluster://10.0.0.1".into();
        assert!(c.validate().is_err());
        c.redis.url = "rediss+cluster://10.0.0.1:7000,10.0.0.2:7000".into();
        assert!(c.validate().is_ok());
        c.redis.url = "rediss+cluster://10.0.0.1".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.queue.block_ms = c.queue.visibility_timeout_ms;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.queue.visibility_timeout_ms = 10;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.queue.prefix = "has space:".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.linkedin.version = "2026-10".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.providers.google.text_timeout_ms = 0;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.providers.google.places_base_url = "places.googleapis.com".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.mail.from = "not an address".into();
        assert!(c.validate().is_err());
        // Metrics never on the public listener.
        let mut c = Config::default();
        c.metrics.bind = Some(c.api.bind.clone());
        assert!(c.validate().is_err());
        c.metrics.bind = Some("nowhere".into());
        assert!(c.validate().is_err());
        c.metrics.bind = Some("127.0.0.1:9464".into());
        c.validate().unwrap();
    }

    /// A configuration pointed at the real providers, with real-looking credentials.
    fn live() -> Config {
        let mut c = Config::default();
        c.api.public_url = "https://astrogrowth.example.com".into();
        let g = &mut c.providers.google;
        g.places_base_url = "https://places.googleapis.com".into();
        g.gemini_base_url = "https://generativelanguage.googleapis.com".into();
        g.api_key = Some("AIzaSy-real".into());
        let li = &mut c.linkedin;
        li.authorize_url = "https://www.linkedin.com/oauth/v2/authorization".into();
        li.token_url = "https://www.linkedin.com/oauth/v2/accessToken".into();
        li.userinfo_url = "https://api.linkedin.com/v2/userinfo".into();
        li.api_base_url = "https://api.linkedin.com".into();
        li.client_id = Some("86abc".into());
        li.client_secret = Some("real-secret".into());
        c
    }

    fn refusal(c: &Config) -> String {
        c.validate().expect_err("refused").to_string()
    }

    #[test]
    fn real_providers_and_a_live_deployment_are_valid() {
        live().validate().unwrap();
        // The sandbox on another host, outside production: the demo in a container.
        let mut c = Config::default();
        c.providers.google.places_base_url = "http://sandbox:8070/places".into();
        c.validate().unwrap();
    }

    #[test]
    fn the_sandbox_key_is_a_default_only_beside_the_sandbox() {
        let dir = std::env::temp_dir().join(format!("ag-config-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("default.toml");
        std::fs::write(&file, "").unwrap();
        let local = Config::load_from(&file).unwrap();
        assert_eq!(
            local.providers.google.api_key.as_deref(),
            Some(SANDBOX_GOOGLE_KEY)
        );
        // Google's URLs without a key: a process that never calls Google (the api, the
        // migration Job) starts, with no key rather than the sandbox's.
        std::fs::write(
            &file,
            "[providers.google]\nplaces_base_url = \"https://places.googleapis.com\"\n",
        )
        .unwrap();
        let live = Config::load_from(&file).unwrap();
        assert_eq!(live.providers.google.api_key, None);
        // The sandbox's key set by hand beside Google's URL is refused.
        std::fs::write(
            &file,
            "[providers.google]\nplaces_base_url = \"https://places.googleapis.com\"\napi_key = \"sandbox-google-key\"\n",
        )
        .unwrap();
        let e = Config::load_from(&file).unwrap_err().to_string();
        assert!(e.contains("providers.google.api_key"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn google_with_the_sandbox_key_is_refused_naming_the_key() {
        let mut c = live();
        c.providers.google.api_key = Some(SANDBOX_GOOGLE_KEY.into());
        let e = refusal(&c);
        assert!(e.contains("providers.google.api_key"), "{e}");
        assert!(e.contains("AG_PROVIDERS__GOOGLE__API_KEY"), "{e}");
        // Only one of the two Google URLs real is enough to refuse, outside production too.
        let mut c = Config::default();
        c.providers.google.gemini_base_url = "https://generativelanguage.googleapis.com".into();
        let e = refusal(&c);
        assert!(e.contains("providers.google.gemini_base_url"), "{e}");
    }

    #[test]
    fn linkedin_with_the_sandbox_app_is_refused_naming_the_setting() {
        let mut c = live();
        c.linkedin.client_id = Some(SANDBOX_LINKEDIN_CLIENT_ID.into());
        let e = refusal(&c);
        assert!(e.contains("linkedin.client_id"), "{e}");
        assert!(e.contains("AG_LINKEDIN__CLIENT_ID"), "{e}");
        let mut c = live();
        c.linkedin.client_secret = Some(SANDBOX_LINKEDIN_CLIENT_SECRET.into());
        let e = refusal(&c);
        assert!(e.contains("linkedin.client_secret"), "{e}");
        assert!(!e.contains("real-secret"), "{e}");
    }

    #[test]
    fn production_pointed_at_the_sandbox_is_refused_naming_the_url() {
        // The built-in defaults are the sandbox: an https public URL makes them production.
        let mut c = Config::default();
        c.api.public_url = "https://astrogrowth.example.com".into();
        let e = refusal(&c);
        assert!(e.contains("providers.google.places_base_url"), "{e}");
        // Each provider URL, wherever the sandbox runs.
        for (name, set) in [
            (
                "providers.google.gemini_base_url",
                (|c: &mut Config| {
                    c.providers.google.gemini_base_url = "http://sb.internal/gemini".into()
                }) as fn(&mut Config),
            ),
            ("linkedin.authorize_url", |c| {
                c.linkedin.authorize_url =
                    "http://sb.internal/linkedin-www/oauth/v2/authorization".into()
            }),
            ("linkedin.token_url", |c| {
                c.linkedin.token_url =
                    "http://127.0.0.1:8070/linkedin-www/oauth/v2/accessToken".into()
            }),
            ("linkedin.userinfo_url", |c| {
                c.linkedin.userinfo_url = "http://sb.internal/linkedin-api/v2/userinfo".into()
            }),
            ("linkedin.api_base_url", |c| {
                c.linkedin.api_base_url = "http://localhost:8070".into()
            }),
        ] {
            let mut c = live();
            set(&mut c);
            let e = refusal(&c);
            assert!(e.contains(name), "{name}: {e}");
            assert!(e.contains("production"), "{e}");
            // The flag makes a deployment production whatever its URL says.
            let mut c = live();
            c.api.public_url = "http://10.0.0.5:8080".into();
            c.api.production = true;
            set(&mut c);
            assert!(refusal(&c).contains(name));
            c.api.production = false;
            c.validate().unwrap();
        }
    }

    #[test]
    fn the_metrics_bind_comes_from_the_file_or_the_environment() {
        let dir = std::env::temp_dir().join(format!("ag-config-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("default.toml");
        std::fs::write(&file, "[metrics]\nbind = \"127.0.0.1:9464\"\n").unwrap();
        let config = Config::load_from(&file).unwrap();
        assert_eq!(config.metrics.bind.as_deref(), Some("127.0.0.1:9464"));
        std::fs::write(&file, "").unwrap();
        assert_eq!(Config::load_from(&file).unwrap().metrics.bind, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let mut c = Config::default();
        c.providers.google.api_key = Some("g-secret-1".into());
        c.linkedin.client_secret = Some("l-secret-2".into());
        c.vault.key = Some("v-secret-3".into());
        c.storage.s3.secret_access_key = Some("s-secret-4".into());
        c.mail.smtp_password = Some("m-secret-5".into());
        let shown = format!("{c:?}");
        for secret in [
            "g-secret-1",
            "l-secret-2",
            "v-secret-3",
            "s-secret-4",
            "m-secret-5",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("gemini-3.8-flash"), "the rest is shown");
    }

    #[test]
    fn image_backend_is_lower_case_in_files() {
        let dir = std::env::temp_dir().join(format!("ag-config-img-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("default.toml");
        std::fs::write(&file, "[providers.google]\nimage_backend = \"imagen\"\n").unwrap();
        let refused = Config::load_from(&file).unwrap_err().to_string();
        assert!(
            refused.contains("Imagen is shut down") && refused.contains("image_backend"),
            "{refused}"
        );
        std::fs::write(&file, "[providers.google]\nimage_backend = \"gemini\"\n").unwrap();
        let config = Config::load_from(&file).unwrap();
        assert_eq!(config.providers.google.image_backend, ImageBackend::Gemini);
        std::fs::write(&file, "[providers.google]\nimage_backend = \"dalle\"\n").unwrap();
        assert!(Config::load_from(&file).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_values_override_defaults() {
        let dir = std::env::temp_dir().join(format!("ag-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("default.toml");
        std::fs::write(&file, "[queue]\nvisibility_timeout_ms = 60000\n").unwrap();
        let config = Config::load_from(&file).unwrap();
        assert_eq!(config.queue.visibility_timeout_ms, 60_000);
        std::fs::write(&file, "[queue]\nvisibility_timeout_ms = \"soon\"\n").unwrap();
        let err = Config::load_from(&file).unwrap_err().to_string();
        assert!(err.contains("visibility_timeout_ms"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
