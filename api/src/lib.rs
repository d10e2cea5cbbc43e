//! The AstroGrowth HTTP API: accounts, campaigns, contents, metrics, profile and LinkedIn
//! connect, health, and the OpenAPI document; and the dashboard pages (`pages`). `startup::Application` builds it;
//! `doctor` checks a deployment against the live services.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod doctor;
pub mod error;
pub mod metrics;
pub mod oidc;
pub mod openapi;
pub mod pages;
pub mod password;
pub mod redact;
pub mod routes;
pub mod session_store;
pub mod startup;
pub mod state;
pub mod validation;

pub use error::ApiError;
pub use startup::Application;
