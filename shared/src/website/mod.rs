//! Reading a lead's website for its e-mail and phone (the EnrichLead step).
//!
//! The address comes from Google, i.e. from whoever owns the listing: it is untrusted. So
//! [`fetch`] only speaks http(s) on ports 80 and 443, resolves the host itself and refuses
//! any address that is not public unicast (unless `website.allow_private`, for the
//! sandbox), connects to the address it checked without any proxy (a second DNS answer
//! cannot slip in), follows redirects by hand with the same checks at each hop, and caps
//! size and time: one deadline for all the pages of a site. The HTML is untrusted too:
//! [`page`] reads it in one linear pass of the browsers' tokenizer, off the async runtime
//! and within a time budget, and [`contacts`] takes links, visible text and JSON-LD from it.

pub mod address;
pub mod contacts;
pub mod fetch;
pub mod page;

pub use contacts::{Contacts, extract_contacts};
pub use fetch::{FetchedPage, SiteFetcher, WebsiteError};
