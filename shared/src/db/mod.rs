//! PostgreSQL: the pool, the migrations, and one repository module per aggregate. Every
//! query that reads or changes a user's rows takes that user's id, so a row of another user
//! is simply not found.

pub mod admin_audit;
pub mod campaigns;
pub mod contents;
pub mod identities;
pub mod instagram;
pub mod leads;
pub mod lifecycle;
pub mod metrics;
pub mod password_resets;
pub mod post_counts;
pub mod profiles;
pub mod publications;
mod text_enum;
pub mod users;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::DatabaseConfig;
use crate::error::Error;

/// The schema this build expects, embedded so a deployed binary can migrate by itself.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// A lazy pool: the process starts even when PostgreSQL is down, and `/readyz` says so.
pub fn pool(config: &DatabaseConfig) -> Result<PgPool, Error> {
    Ok(PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms))
        .connect_lazy(&config.url)?)
}

pub async fn migrate(db: &PgPool) -> Result<(), Error> {
    MIGRATOR.run(db).await?;
    Ok(())
}

/// Which page of a list: 1-based `page`, at most [`Page::MAX_PER_PAGE`] rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 100;
    pub const DEFAULT_PER_PAGE: u32 = 20;
    /// Offsets beyond this make PostgreSQL scan and throw away too many rows.
    pub const MAX_PAGE: u32 = 10_000;

    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Result<Self, Error> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(Self::DEFAULT_PER_PAGE);
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(Error::Invalid(format!(
                "page must be between 1 and {}",
                Self::MAX_PAGE
            )));
        }
        if !(1..=Self::MAX_PER_PAGE).contains(&per_page) {
            return Err(Error::Invalid(format!(
                "per_page must be between 1 and {}",
                Self::MAX_PER_PAGE
            )));
        }
        Ok(Self { page, per_page })
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

/// One page of a list and how many rows the whole list has.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, page: Page, total: i64) -> Self {
        Self {
            items,
            page: page.page,
            per_page: page.per_page,
            total,
        }
    }
}
