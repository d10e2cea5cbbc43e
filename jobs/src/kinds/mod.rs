//! The typed jobs. Pipeline kinds carry ids only; `probe` exists for tests and ops
//! checks (the benchmark's jobs live in the `bench` crate).

mod enrich_lead;
mod generate_content;
mod periodic;
pub mod probe;
mod publish_post;
mod scrape_campaign;
mod send_mail;

pub use enrich_lead::EnrichLead;
pub use generate_content::GenerateContent;
pub use periodic::{Reconcile, RefreshInstagramTokens, SyncAnalytics};
pub use publish_post::PublishPost;
pub use scrape_campaign::ScrapeCampaign;
pub use send_mail::{SendMail, SendNotices};
