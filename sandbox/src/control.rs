//! The control routes under `/_sandbox/`: health, reset, the fault plan, the request log,
//! stored posts, and expiring or revoking a member's tokens.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::faults::FaultSpec;
use crate::state::{Data, Shared, now_ms};

fn bad(message: impl Into<String>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message.into() }))
}

#[derive(Deserialize)]
struct Member {
    member: String,
}

pub(crate) async fn handle(req: &HttpRequest, body: &[u8], shared: &Shared) -> HttpResponse {
    let method = req.method().clone();
    if req.path().starts_with("/_sandbox/instagram/") {
        return crate::instagram::control(&method, req.path(), body, shared);
    }
    match (method, req.path()) {
        (Method::GET, "/_sandbox/health") => HttpResponse::Ok().json(json!({ "ok": true })),
        (Method::POST, "/_sandbox/reset") => {
            *shared.lock() = Data::default();
            HttpResponse::Ok().json(json!({ "ok": true }))
        }
        (Method::POST, "/_sandbox/faults") => {
            let spec: FaultSpec = match serde_json::from_slice(body) {
                Ok(s) => s,
                Err(e) => return bad(format!("bad fault: {e}")),
            };
            if let Err(e) = spec.check() {
                return bad(e);
            }
            let mut data = shared.lock();
            data.next_fault += 1;
            let id = format!("f{}", data.next_fault);
            data.faults.push(spec.arm(id.clone()));
            HttpResponse::Ok().json(json!({ "id": id }))
        }
        (Method::GET, "/_sandbox/faults") => HttpResponse::Ok().json(&shared.lock().faults),
        (Method::DELETE, "/_sandbox/faults") => {
            let mut data = shared.lock();
            let removed = data.faults.len();
            data.faults.clear();
            HttpResponse::Ok().json(json!({ "removed": removed }))
        }
        (Method::GET, "/_sandbox/log") => {
            let route = url::form_urlencoded::parse(req.query_string().as_bytes())
                .find(|(k, _)| k == "route")
                .map(|(_, v)| v.into_owned());
            let data = shared.lock();
            let entries: Vec<_> = data
                .log
                .iter()
                .filter(|e| route.as_deref().is_none_or(|r| e.route == r))
                .collect();
            HttpResponse::Ok().json(entries)
        }
        (Method::GET, "/_sandbox/posts") => HttpResponse::Ok().json(&shared.lock().posts),
        (Method::POST, "/_sandbox/tokens/expire") | (Method::POST, "/_sandbox/tokens/revoke") => {
            let Ok(Member { member }) = serde_json::from_slice::<Member>(body) else {
                return bad("expected {\"member\": \"<sub>\"}");
            };
            let revoke = req.path().ends_with("revoke");
            let mut data = shared.lock();
            let mut n = 0;
            for token in data.tokens.values_mut().filter(|t| t.member == member) {
                if revoke {
                    token.revoked = true;
                } else {
                    token.expires_at_ms = now_ms().saturating_sub(1);
                }
                n += 1;
            }
            let key = if revoke { "revoked" } else { "expired" };
            HttpResponse::Ok().json(json!({ key: n }))
        }
        (_, p) if p.starts_with("/_sandbox/oidc/") => crate::oidc::control(req, shared),
        (m, p) => HttpResponse::NotFound().json(json!({
            "error": format!("no control route {m} {p}")
        })),
    }
}
