//! `sandbox`: the local imitation of Google Places, Gemini, Imagen and LinkedIn.
//!
//! ```text
//! sandbox [--bind 127.0.0.1:8070] [--latency default|none|places=300,...] [--seed N]
//! ```

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::Parser;
use sandbox::{Latency, Options, Sandbox};

#[derive(Parser, Debug)]
#[command(
    name = "sandbox",
    about = "Imitates Google Places, Gemini, Imagen and LinkedIn"
)]
struct Cli {
    #[arg(long, default_value = sandbox::DEFAULT_BIND)]
    bind: SocketAddr,
    /// `default`, `none`, or per provider: `places=300,gemini=1200,image=2000,linkedin=250,instagram=300,sites=150`.
    #[arg(long, default_value = "default", value_parser = Latency::parse)]
    latency: Latency,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Posts per member per UTC day before LinkedIn answers 429.
    #[arg(long, default_value_t = 150)]
    linkedin_daily_member: u32,
    /// Posts per app per UTC day.
    #[arg(long, default_value_t = 100_000)]
    linkedin_daily_app: u32,
    #[arg(long, default_value = "sandbox-google-key")]
    google_api_key: String,
    #[arg(long, default_value = "sandbox-client-id")]
    linkedin_client_id: String,
    #[arg(long, default_value = "sandbox-client-secret")]
    linkedin_client_secret: String,
    /// `expires_in` of issued LinkedIn access tokens, in seconds.
    #[arg(long, default_value_t = 5_184_000)]
    token_expires_in: u64,
    /// Issue LinkedIn refresh tokens (approved partners only, in reality).
    #[arg(long)]
    refresh_tokens: bool,
    /// Seconds LinkedIn refuses an identical post by the same author (0: never refuses).
    #[arg(long, default_value_t = 24 * 3600)]
    duplicate_window: u64,
    /// A Gemini model id to list as deprecated (repeatable).
    #[arg(long = "deprecated-model")]
    deprecated_models: Vec<String>,
    /// A Gemini model id to treat as shut down: unlisted, 404 NOT_FOUND (repeatable).
    #[arg(long = "retired-model")]
    retired_models: Vec<String>,
    /// `LinkedIn-Version` values served, comma-separated (others answer 426
    /// NONEXISTENT_VERSION). Default: 202608 to 202612.
    #[arg(long, value_delimiter = ',', default_values_t = sandbox::DEFAULT_LINKEDIN_VERSIONS)]
    linkedin_versions: Vec<u32>,
    /// The LinkedIn products the app is approved for, comma-separated; a consent asking for
    /// a scope none of them gives is refused with `unauthorized_scope_error`. Known:
    /// "Sign In with LinkedIn using OpenID Connect", "Share on LinkedIn", "Community
    /// Management API".
    #[arg(long, value_delimiter = ',', default_values_t = sandbox::SELF_SERVE_PRODUCTS.map(str::to_owned))]
    linkedin_products: Vec<String>,
    /// `GET /rest/images/{urn}` answers 403 ACCESS_DENIED.
    #[arg(long)]
    linkedin_image_status_forbidden: bool,
    /// Post and image ids repeat from one start to the next (default: never).
    #[arg(long)]
    linkedin_id_epoch: Option<u64>,
    /// Posts an Instagram account may publish in any moving 24 h window.
    #[arg(long, default_value_t = 50)]
    instagram_publish_limit: u32,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let options = Options {
        latency: cli.latency,
        seed: cli.seed,
        linkedin_daily_member: cli.linkedin_daily_member,
        linkedin_daily_app: cli.linkedin_daily_app,
        google_api_key: cli.google_api_key,
        linkedin_client_id: cli.linkedin_client_id,
        linkedin_client_secret: cli.linkedin_client_secret,
        token_expires_in_s: cli.token_expires_in,
        refresh_tokens: cli.refresh_tokens,
        duplicate_window_s: cli.duplicate_window,
        deprecated_models: cli.deprecated_models,
        retired_models: cli.retired_models,
        linkedin_versions: cli.linkedin_versions,
        linkedin_products: cli.linkedin_products,
        linkedin_image_status_forbidden: cli.linkedin_image_status_forbidden,
        linkedin_id_epoch: cli.linkedin_id_epoch,
        instagram: sandbox::InstagramOptions {
            publish_limit: cli.instagram_publish_limit,
            ..sandbox::InstagramOptions::default()
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let sandbox = Sandbox::start(cli.bind, options)
            .await
            .with_context(|| format!("listening on {}", cli.bind))?;
        tracing::info!(url = %sandbox.url(), "sandbox ready");
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        sandbox.stop().await;
        Ok(())
    })
}
