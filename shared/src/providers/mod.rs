//! Clients of the external APIs, speaking their real wire formats (docs/providers.md). Base URLs,
//! keys, models and the LinkedIn version come from config, so the same clients talk to the
//! real hosts or to the sandbox. Every failure is one [`ProviderError`] saying what the
//! caller must do.

pub mod error;
pub mod gemini;
pub mod gemini_models;
mod http;
pub mod images;
pub mod instagram;
pub mod instagram_oauth;
pub mod linkedin;
pub mod linkedin_oauth;
pub mod places;

pub use error::ProviderError;
