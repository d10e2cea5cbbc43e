//! Clients of the external APIs, speaking their real wire formats (providers.md). This
//! issue brings LinkedIn's OAuth code exchange; Places, Gemini, images and posting follow.

pub mod linkedin_oauth;
