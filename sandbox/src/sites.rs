//! The small website of every invented business: a home page and a contact page whose
//! HTML carries the e-mail and phone in the forms real sites use (mailto and tel links,
//! plain text, JSON-LD, an obfuscated `name [at] domain [dot] com`), and some with none.
//! Fault modes: `huge` (50 MB), `hang` (handled by the dispatcher), `redirect_loop`,
//! `not_html`.

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::call::Call;
use crate::fixtures::{self, hash};

/// How a site shows its contact details, from its slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Links,
    PlainText,
    JsonLd,
    Obfuscated,
    ContactPageOnly,
    Nothing,
}

fn style(seed: u64, slug: &str) -> Style {
    match hash(seed, &format!("style:{slug}")) % 6 {
        0 => Style::Links,
        1 => Style::PlainText,
        2 => Style::JsonLd,
        3 => Style::Obfuscated,
        4 => Style::ContactPageOnly,
        _ => Style::Nothing,
    }
}

/// What the site of `slug` publishes, for tests that check an extractor against the truth:
/// its e-mail and its phone (international form), or `None` for a site that shows neither.
pub fn published_contacts(seed: u64, slug: &str) -> Option<(String, String)> {
    if style(seed, slug) == Style::Nothing {
        return None;
    }
    Some((fixtures::email(seed, slug), fixtures::phone(seed, slug).1))
}

pub(crate) fn serve(call: &Call<'_>) -> HttpResponse {
    let rest = call.req.path().trim_start_matches("/sites/");
    let (slug, page) = rest.split_once('/').unwrap_or((rest, ""));
    if slug.is_empty() {
        return HttpResponse::NotFound().body("no such site");
    }
    match call.mode {
        Some("huge") => {
            let chunk = actix_web::web::Bytes::from(vec![b'a'; 1024 * 1024]);
            let body = futures_stream(chunk, 50);
            return HttpResponse::Ok().content_type("text/html").streaming(body);
        }
        Some("redirect_loop") => {
            let to = format!(
                "{}/sites/{slug}/{}",
                call.base,
                if page == "loop" { "" } else { "loop" }
            );
            return HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .finish();
        }
        Some("not_html") => {
            return HttpResponse::Ok()
                .content_type("application/pdf")
                .body(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n".to_vec());
        }
        _ => {}
    }
    let seed = call.shared.options.seed;
    let name = fixtures::capitalize(
        &slug
            .rsplit_once('-')
            .map_or(slug, |(n, _)| n)
            .replace('-', " "),
    );
    let email = fixtures::email(seed, slug);
    let (national, international) = fixtures::phone(seed, slug);
    let style = style(seed, slug);
    let tel = international.replace([' ', '-'], "");
    let contact_block = match style {
        Style::Links | Style::ContactPageOnly => format!(
            r#"<p>Write to us: <a href="mailto:{email}">{email}</a></p><p>Call: <a href="tel:{tel}">{national}</a></p>"#
        ),
        Style::PlainText => format!("<p>E-mail: {email} — Téléphone : {national}</p>"),
        Style::JsonLd => format!(
            r#"<script type="application/ld+json">{{"@context":"https://schema.org","@type":"LocalBusiness","name":"{name}","email":"{email}","telephone":"{international}"}}</script><p>Find us downtown.</p>"#
        ),
        Style::Obfuscated => {
            let (user, domain) = email.split_once('@').unwrap_or((&email, ""));
            let domain = domain.replace('.', " [dot] ");
            format!("<p>Contact: {user} [at] {domain}</p><p>Phone {national}</p>")
        }
        Style::Nothing => "<p>Visit us in person, we love to meet our customers.</p>".to_owned(),
    };
    let body = match (page, style) {
        ("contact", _) | ("contact/", _) => contact_block,
        ("" | "index.html", Style::ContactPageOnly) => {
            r#"<p>Welcome! See our <a href="contact">contact page</a>.</p>"#.to_owned()
        }
        ("" | "index.html", _) => format!(
            r#"<p>Welcome to {name}, a family business since 19{:02}.</p>{contact_block}<p><a href="contact">Contact</a></p>"#,
            hash(seed, slug) % 100
        ),
        _ => {
            return HttpResponse::NotFound()
                .content_type("text/html")
                .body("<h1>Not found</h1>");
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title></head><body><header><h1>{name}</h1></header><main>{body}</main><footer>© {name}</footer></body></html>"#
    ))
}

/// `n` copies of `chunk` as a streaming body.
fn futures_stream(
    chunk: actix_web::web::Bytes,
    n: usize,
) -> impl futures_core::Stream<Item = Result<actix_web::web::Bytes, std::io::Error>> {
    let mut left = n;
    futures_util::stream::poll_fn(move |_| {
        if left == 0 {
            std::task::Poll::Ready(None)
        } else {
            left -= 1;
            std::task::Poll::Ready(Some(Ok(chunk.clone())))
        }
    })
}
