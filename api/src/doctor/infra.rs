//! PostgreSQL (reachable, every migration of this build applied) and Redis (reachable).

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::PgPool;

use super::{Check, chain};

const DATABASE_FIX: &str =
    "check AG_DATABASE__URL (or DATABASE_URL) and that PostgreSQL accepts this host";

pub async fn postgres(db: &PgPool) -> Vec<Check> {
    if let Err(e) = sqlx::query("SELECT 1").execute(db).await {
        return vec![Check::fail("postgres", chain(&e), DATABASE_FIX)];
    }
    vec![Check::ok("postgres", "reachable"), migrations(db).await]
}

/// Every migration this build embeds is recorded as applied in `_sqlx_migrations`; the
/// code's queries assume them all.
async fn migrations(db: &PgPool) -> Check {
    let name = "migrations";
    let fix = "run `api migrate` with this build (or start the api with `serve --migrate`)";
    let expected: Vec<(i64, String)> = shared::db::MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    let applied: BTreeSet<i64> =
        match sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(db)
            .await
        {
            Ok(v) => v.into_iter().collect(),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => {
                return Check::fail(name, "the database has no migrations applied", fix);
            }
            Err(e) => return Check::fail(name, chain(&e), DATABASE_FIX),
        };
    let missing: Vec<&(i64, String)> = expected
        .iter()
        .filter(|(v, _)| !applied.contains(v))
        .collect();
    let known: BTreeSet<i64> = expected.iter().map(|(v, _)| *v).collect();
    let unknown = applied.iter().filter(|v| !known.contains(v)).count();
    match missing.first() {
        Some((version, description)) => Check::fail(
            name,
            format!(
                "{} of {} migrations not applied, the first {version} ({description})",
                missing.len(),
                expected.len()
            ),
            fix,
        ),
        None if unknown > 0 => Check::warn(
            name,
            format!(
                "all {} applied, and {unknown} this build does not know",
                expected.len()
            ),
            "a newer build migrated this database: deploy that build",
        ),
        None => Check::ok(name, format!("all {} applied", expected.len())),
    }
}

pub async fn redis(url: &str) -> Vec<Check> {
    let name = "redis";
    let fix = "check AG_REDIS__URL (or REDIS_URL) and that Redis accepts this host";
    let shown = shared::config::redact_url(url);
    let ping = async {
        let mut conn = jobs::connection::connect(url, Duration::from_secs(5))
            .await
            .map_err(|e| chain(&e))?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .map_err(|e| chain(&e))
    };
    vec![
        match tokio::time::timeout(Duration::from_secs(20), ping).await {
            Ok(Ok(_)) => Check::ok(name, format!("{shown} answers PING")),
            Ok(Err(e)) => Check::fail(name, format!("{shown}: {e}"), fix),
            Err(_) => Check::fail(name, format!("{shown}: no answer within 20 s"), fix),
        },
    ]
}
