//! `api`: serves the HTTP API; `api migrate` applies the migrations; `api create-user`
//! creates (or resets) an account, for the demo and for ops; `api openapi` prints the
//! OpenAPI document, for the validator `just test` runs on it; `api doctor` checks the
//! deployment's configuration against the live services (docs/going-live.md).

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::Config;
use shared::db::users::{self, NewUser, Role};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "api", about = "AstroGrowth HTTP API")]
struct Cli {
    /// Log as JSON lines (for log shippers) instead of text.
    #[arg(long, global = true)]
    json_logs: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Apply pending migrations first.
        #[arg(long)]
        migrate: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (what `/api/openapi.json` serves) and exit; needs no
    /// configuration, database or Redis.
    Openapi,
    /// Check this configuration against the live services (providers, mail, storage,
    /// PostgreSQL, Redis): one line per check; exits non-zero when one fails.
    Doctor,
    /// Create an account, or set the password and role of an existing one.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, env = "AG_USER_PASSWORD")]
        password: String,
        #[arg(long)]
        admin: bool,
    },
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    return_big_buffers_to_the_os();
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        // Before the configuration: printing the document needs none.
        return print_openapi();
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if cli.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let config = Config::load().context("loading configuration")?;
    let db = shared::db::pool(&config.database).context("configuring the database pool")?;
    match cli.command.unwrap_or(Command::Serve { migrate: false }) {
        Command::Migrate => {
            shared::db::migrate(&db)
                .await
                .context("applying migrations")?;
            tracing::info!("migrations applied");
        }
        Command::CreateUser {
            email,
            name,
            password,
            admin,
        } => {
            let email = api::validation::email(&email).map_err(|e| anyhow::anyhow!("{e}"))?;
            api::validation::password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let role = if admin { Role::Admin } else { Role::Owner };
            let hash = api::password::hash(password)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let new = NewUser {
                email: &email,
                name: &name,
                password_hash: &hash,
                role,
            };
            let user = match users::create(&db, &new).await {
                Err(shared::Error::Conflict(_)) => users::reset(&db, &email, &hash, role)
                    .await
                    .context("resetting the account")?,
                other => other.context("creating the account")?,
            };
            println!(
                "account {} ({}) ready, role {}",
                user.email, user.id, user.role
            );
        }
        Command::Openapi => print_openapi()?,
        Command::Doctor => {
            let checks = api::doctor::run(&config, &db).await;
            print!("{}", api::doctor::render(&checks));
            if api::doctor::any_failed(&checks) {
                anyhow::bail!("the deployment is not ready: fix what failed above");
            }
        }
        Command::Serve { migrate } => {
            if migrate {
                shared::db::migrate(&db)
                    .await
                    .context("applying migrations")?;
            }
            let app = api::Application::build(config.clone(), db)
                .await
                .context("starting the api")?;
            tracing::info!(port = app.port(), bind = %config.api.bind, "api listening");
            app.run_until_stopped().await.context("serving")?;
        }
    }
    Ok(())
}

fn print_openapi() -> anyhow::Result<()> {
    let document = api::openapi::document().context("rendering the OpenAPI document")?;
    println!("{document}");
    Ok(())
}

/// Each password hash allocates 19 MiB. glibc raises its mmap threshold after the first
/// such buffer is freed and then keeps later ones in per-thread arenas: measured, 850 MiB
/// resident after 50 sign-ups. A fixed 1 MiB threshold returns them to the OS (11 MiB).
fn return_big_buffers_to_the_os() {
    // SAFETY: mallopt only sets an allocator parameter; called once, first thing in main.
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
    if set != 1 {
        eprintln!("mallopt(M_MMAP_THRESHOLD) refused; hashing buffers may stay resident");
    }
}
