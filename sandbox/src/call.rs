//! What every route handler is given, and the small readers they share. It sits apart from
//! `server` so that the providers' modules depend on it and `server` depends on them,
//! with no arrow back.

use actix_web::HttpRequest;

use crate::state::Shared;

/// What a route handler gets.
pub(crate) struct Call<'a> {
    pub req: &'a HttpRequest,
    pub body: &'a [u8],
    /// `scheme://host:port` as the client reached us, for URLs we hand out.
    pub base: String,
    pub shared: &'a Shared,
    pub mode: Option<&'a str>,
}

/// A status code from a number a fault or a mode names; an unknown one answers 500.
pub(crate) fn code(status: u16) -> actix_web::http::StatusCode {
    actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// The first value of a query parameter, decoded.
pub(crate) fn query(call: &Call<'_>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(call.req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
