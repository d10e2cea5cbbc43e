//! Reading a lead's website for its e-mail and phone (the EnrichLead step).
//!
//! The address comes from Google, i.e. from whoever owns the listing: it is untrusted. So
//! [`fetch`] only speaks http(s), resolves the host itself and refuses private, loopback and
//! link-local addresses (unless `website.allow_private`, for the sandbox), connects to the
//! address it checked (a second DNS answer cannot slip in), follows redirects by hand with
//! the same checks at each hop, and caps both time and size. [`contacts`] reads the page
//! with a real HTML parser: links, visible text and JSON-LD.

pub mod address;
pub mod contacts;
pub mod fetch;

pub use contacts::{Contacts, extract_contacts};
pub use fetch::{FetchedPage, SiteFetcher, WebsiteError};
