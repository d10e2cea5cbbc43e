//! What every handler can reach, built once at startup.

use std::sync::Arc;

use actix_web::cookie::Key;
use jobs::Conn;
use shared::Config;
use shared::rate_limit::RateLimiter;
use shared::storage::Storage;
use shared::vault::Vault;
use sqlx::PgPool;

use shared::providers::instagram_oauth::InstagramConnect;
use shared::providers::linkedin_oauth::LinkedInConnect;

pub struct AppState {
    pub config: Config,
    /// Signs the session cookie; a live stream reads its session key from the cookie with
    /// it, to check later that the session still exists.
    pub cookie_key: Key,
    pub db: PgPool,
    pub redis: Conn,
    pub limiter: RateLimiter,
    pub queue_admin: jobs::admin::Admin,
    pub vault: Vault,
    /// The generated images, served to their owner only.
    pub storage: Storage,
    /// `None` when no LinkedIn app is configured: connecting answers 503.
    pub linkedin: Option<Arc<dyn LinkedInConnect>>,
    /// `None` when no Instagram app is configured: connecting answers 503.
    pub instagram: Option<Arc<dyn InstagramConnect>>,
    /// The OpenID Connect providers people sign in with; none configured, no button.
    pub oidc: Arc<crate::oidc::Providers>,
    /// The campaign pages' live streams open on this instance, bounded per user.
    pub live_streams: Arc<crate::pages::live::Streams>,
    /// What a session's idleness is judged on: the system clock, which a test stops and
    /// moves forward instead of waiting.
    pub clock: crate::clock::Clock,
}
