//! The CSS and JavaScript the pages load, compiled into the binary (no CDN, no files to
//! deploy beside it). Their URLs carry a hash of the whole set, `/static/<hash>/app.css`,
//! so browsers may keep them for a year: a new build changes the hash, hence the URL.

use std::hash::{DefaultHasher, Hash, Hasher};

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use actix_web::{HttpResponse, web};

/// Our own script: live progress, local times, the toast (`api/static/app.js`).
pub const APP_JS: &str = "app.js";

/// The schedule's calendar: drag a post to a free slot, or pick it and choose one with
/// the keyboard (`api/static/calendar.js`); the "Move to" menus work without it.
pub const CALENDAR_JS: &str = "calendar.js";

/// The site's icon, linked from every page and served at `/favicon.ico` too (browsers ask
/// for that path on their own, and log a 404 when it is missing).
pub const FAVICON: &str = "favicon.svg";
const FAVICON_TYPE: &str = "image/svg+xml";
const FAVICON_BYTES: &[u8] = include_bytes!("../../static/favicon.svg");
/// A day at `/favicon.ico`, whose URL does not change with the content.
const FAVICON_CACHE: &str = "public, max-age=86400";

/// Every file under `api/static/` that is served, with its type.
const FILES: &[(&str, &[u8], &str)] = &[
    (FAVICON, FAVICON_BYTES, FAVICON_TYPE),
    (
        "app.css",
        include_bytes!("../../static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        APP_JS,
        include_bytes!("../../static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        CALENDAR_JS,
        include_bytes!("../../static/calendar.js"),
        "text/javascript; charset=utf-8",
    ),
];

/// A year: the longest lifetime browsers honour; the URL changes with the content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug, Clone)]
pub struct Assets {
    version: String,
}

impl Assets {
    /// `DefaultHasher::new()` has fixed keys, so every process of one build computes the
    /// same version: any instance behind a load balancer serves any page's URLs.
    pub fn new() -> Self {
        let mut hasher = DefaultHasher::new();
        for (name, bytes, _) in FILES {
            name.hash(&mut hasher);
            bytes.hash(&mut hasher);
        }
        Self {
            version: format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff),
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("/static/{}/{name}", self.version)
    }

    /// A URL of an older build (a page open since before a deploy) still gets the file,
    /// but not for a year: what it gets is the current content.
    pub fn serve(&self, version: &str, name: &str) -> HttpResponse {
        let Some((_, bytes, content_type)) = FILES.iter().find(|(n, _, _)| *n == name) else {
            return HttpResponse::NotFound()
                .insert_header((CACHE_CONTROL, "no-store"))
                .finish();
        };
        let cache = if version == self.version {
            IMMUTABLE
        } else {
            "no-cache"
        };
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, *content_type))
            .insert_header((CACHE_CONTROL, cache))
            .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*bytes)
    }
}

impl Default for Assets {
    fn default() -> Self {
        Self::new()
    }
}

/// `GET /static/{version}/{name:.*}`.
pub async fn serve(
    assets: web::Data<crate::pages::render::Ui>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (version, name) = path.into_inner();
    assets.assets().serve(&version, &name)
}

/// `GET /favicon.ico`: the SVG icon; browsers read an icon by its content type, not by the
/// name they asked for.
pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, FAVICON_TYPE))
        .insert_header((CACHE_CONTROL, FAVICON_CACHE))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(FAVICON_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_static_file_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        let mut on_disk = Vec::new();
        for entry in walk(&dir) {
            let rel = entry
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            on_disk.push(rel);
        }
        on_disk.sort();
        let mut served: Vec<_> = FILES.iter().map(|(n, _, _)| n.to_string()).collect();
        served.sort();
        assert_eq!(on_disk, served, "api/static/ and assets::FILES differ");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
