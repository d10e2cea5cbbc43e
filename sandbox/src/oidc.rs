//! An OpenID Connect provider (as Google's or Microsoft Entra's sign-in is), under `/oidc`:
//! discovery (`/oidc/.well-known/openid-configuration`), its keys (`/oidc/jwks`), a consent
//! page with Allow and Cancel (`/oidc/authorize`), and the token endpoint (`/oidc/token`),
//! whose answer carries an RS256-signed ID token. The authorization code flow only, with
//! PKCE (S256) checked as a provider checks it.
//!
//! The issuer is `<base>/oidc`, `<base>` being the address the caller reached us at. The
//! client is `sandbox-oidc-client` / `sandbox-oidc-secret`. The person signing in types an
//! e-mail on the consent page (or the test passes `email=`, `name=`, `auto=allow|cancel`);
//! their `sub` is derived from the e-mail, so the same person comes back with the same one.
//!
//! `POST /_sandbox/oidc/rotate` rotates the signing key (the JWKS then lists the new key and
//! the one before it). The fault plan's modes on `oidc.token` make the next ID token one a
//! client must refuse: `unknown_key` (signed with a key the JWKS never lists), `wrong_aud`,
//! `expired`, `replayed_nonce` (the nonce of the sign-in before), `unverified_email`
//! (`email_verified: false`), and `other_sub` (another `sub` for the same e-mail, as a second
//! account at the provider with the same address).

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::{Digest, Sha256};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

use crate::call::Call;
use crate::fixtures::hash;
use crate::state::{Shared, now_ms};

pub const CLIENT_ID: &str = "sandbox-oidc-client";
pub const CLIENT_SECRET: &str = "sandbox-oidc-secret";

/// The modes `oidc.token` knows (the fault plan's `mode`).
pub(crate) const TOKEN_MODES: [&str; 6] = [
    "unknown_key",
    "wrong_aud",
    "expired",
    "replayed_nonce",
    "unverified_email",
    "other_sub",
];

/// Test keys made for the sandbox (2048-bit RSA, PKCS#8): the signing keys the rotations go
/// through, and one the JWKS never lists. They sign nothing but the sandbox's tokens.
static KEYS: LazyLock<Vec<RsaPrivateKey>> = LazyLock::new(|| {
    [
        include_str!("oidc_keys/1.pem"),
        include_str!("oidc_keys/2.pem"),
        include_str!("oidc_keys/3.pem"),
    ]
    .iter()
    .filter_map(|pem| RsaPrivateKey::from_pkcs8_pem(pem).ok())
    .collect()
});
static STRANGER: LazyLock<Option<RsaPrivateKey>> =
    LazyLock::new(|| RsaPrivateKey::from_pkcs8_pem(include_str!("oidc_keys/stranger.pem")).ok());

/// What the provider remembers; reset with the rest of the sandbox.
#[derive(Default)]
pub(crate) struct State {
    /// Key rotations asked for so far: key `rotation` signs.
    pub rotation: u64,
    pub codes: HashMap<String, Grant>,
    /// The nonce of the last authorization, for `replayed_nonce`.
    pub last_nonce: Option<String>,
}

pub(crate) struct Grant {
    redirect_uri: String,
    nonce: Option<String>,
    challenge: Option<String>,
    email: String,
    name: String,
    /// The nonce of the authorization before this one.
    earlier_nonce: Option<String>,
    used: bool,
}

/// The route of a request under `/oidc`, if it is one.
pub(crate) fn identify(method: &Method, path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/oidc/")?;
    let get = method == Method::GET;
    let post = method == Method::POST;
    match rest {
        ".well-known/openid-configuration" if get => Some("oidc.discovery"),
        "jwks" if get => Some("oidc.jwks"),
        "authorize" if get || post => Some("oidc.authorize"),
        "token" if post => Some("oidc.token"),
        _ => None,
    }
}

pub(crate) fn serve(route: &str, call: &Call<'_>) -> HttpResponse {
    match route {
        "oidc.discovery" => discovery(call),
        "oidc.jwks" => jwks(call.shared),
        "oidc.authorize" => authorize(call),
        "oidc.token" => token(call),
        _ => HttpResponse::NotFound().finish(),
    }
}

/// `POST /_sandbox/oidc/rotate`: the next key signs; the JWKS lists it and the one before.
pub(crate) fn control(req: &HttpRequest, shared: &Shared) -> HttpResponse {
    match (req.method().clone(), req.path()) {
        (Method::POST, "/_sandbox/oidc/rotate") => {
            let mut data = shared.lock();
            data.oidc.rotation += 1;
            HttpResponse::Ok().json(json!({ "kid": kid(data.oidc.rotation) }))
        }
        (m, p) => HttpResponse::NotFound().json(json!({
            "error": format!("no control route {m} {p}")
        })),
    }
}

fn issuer(call: &Call<'_>) -> String {
    format!("{}/oidc", call.base)
}

fn kid(rotation: u64) -> String {
    format!("sandbox-{rotation}")
}

fn key(rotation: u64) -> Option<&'static RsaPrivateKey> {
    let n = KEYS.len() as u64;
    if n == 0 {
        return None;
    }
    KEYS.get(usize::try_from(rotation % n).unwrap_or(0))
}

fn oauth_err(status: u16, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(crate::call::code(status))
        .json(json!({ "error": error, "error_description": description }))
}

fn discovery(call: &Call<'_>) -> HttpResponse {
    let iss = issuer(call);
    HttpResponse::Ok().json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "jwks_uri": format!("{iss}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["aud", "email", "email_verified", "exp", "iat", "iss", "name", "sub", "nonce"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

fn jwk(rotation: u64) -> Option<Value> {
    let public = key(rotation)?.to_public_key();
    Some(json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": kid(rotation),
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }))
}

fn jwks(shared: &Shared) -> HttpResponse {
    let rotation = shared.lock().oidc.rotation;
    let mut keys: Vec<Value> = jwk(rotation).into_iter().collect();
    if rotation > 0 {
        keys.extend(jwk(rotation - 1));
    }
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

fn params(call: &Call<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        url::form_urlencoded::parse(call.req.query_string().as_bytes())
            .into_owned()
            .collect();
    if call.req.method() == Method::POST {
        out.extend(url::form_urlencoded::parse(call.body).into_owned());
    }
    out
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `/oidc/authorize`: checks the request as a provider does (our client, `response_type`
/// code, `openid` in the scope, an S256 challenge), then shows the consent page; its
/// buttons (or `auto=`) send the browser back with a code or `error=access_denied`.
fn authorize(call: &Call<'_>) -> HttpResponse {
    let p = params(call);
    if param(&p, "client_id") != Some(CLIENT_ID) {
        return oauth_err(400, "invalid_client", "unknown client_id");
    }
    let Some(redirect) = param(&p, "redirect_uri").filter(|r| r.starts_with("http")) else {
        return oauth_err(400, "invalid_request", "a redirect_uri is required");
    };
    if param(&p, "response_type") != Some("code") {
        return oauth_err(
            400,
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    let scope = param(&p, "scope").unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return oauth_err(400, "invalid_scope", "the scope must include openid");
    }
    let challenge = param(&p, "code_challenge");
    if challenge.is_some() && param(&p, "code_challenge_method") != Some("S256") {
        return oauth_err(400, "invalid_request", "code_challenge_method must be S256");
    }
    let state = param(&p, "state").unwrap_or_default();
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let decision = param(&p, "decision").or_else(|| param(&p, "auto"));
    let email = param(&p, "email")
        .map(str::trim)
        .filter(|e| e.contains('@'))
        .map(str::to_owned);
    match (decision, email) {
        (Some("allow"), Some(email)) => {
            let name = param(&p, "name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map_or_else(
                    || email.split('@').next().unwrap_or("").to_owned(),
                    str::to_owned,
                );
            let seed = call.shared.options.seed;
            let mut data = call.shared.lock();
            let n = data.next();
            let code = format!("oc{:x}{n}", hash(seed, &format!("oidc-code:{n}:{state}")));
            let nonce = param(&p, "nonce").map(str::to_owned);
            let earlier_nonce = std::mem::replace(&mut data.oidc.last_nonce, nonce.clone());
            data.oidc.codes.insert(
                code.clone(),
                Grant {
                    redirect_uri: redirect.to_owned(),
                    nonce,
                    challenge: challenge.map(str::to_owned),
                    email,
                    name,
                    earlier_nonce,
                    used: false,
                },
            );
            let to = format!("{redirect}{sep}code={}&state={}", enc(&code), enc(state));
            HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .finish()
        }
        (Some("cancel"), _) => {
            let to = format!(
                "{redirect}{sep}error=access_denied&error_description={}&state={}",
                enc("The user cancelled the sign-in"),
                enc(state)
            );
            HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .finish()
        }
        _ => consent_page(&p),
    }
}

/// The consent page: who signs in (an e-mail and a name), Allow and Cancel. The form posts
/// back with every parameter of the request.
fn consent_page(p: &[(String, String)]) -> HttpResponse {
    let hidden: String = p
        .iter()
        .filter(|(k, _)| !["decision", "auto", "email", "name"].contains(&k.as_str()))
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape_html(k),
                escape_html(v)
            )
        })
        .collect();
    let email = escape_html(param(p, "email").or(param(p, "login_hint")).unwrap_or(""));
    let name = escape_html(param(p, "name").unwrap_or(""));
    let page = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sandbox sign-in: allow access</title></head>
<body><main><h1>Sign in to AstroGrowth with the sandbox's provider</h1>
<p>AstroGrowth will receive your e-mail address and your name.</p>
<form method="post" action="authorize">{hidden}
<p><label for="email">E-mail</label> <input id="email" name="email" type="email" required value="{email}"></p>
<p><label for="name">Name</label> <input id="name" name="name" type="text" value="{name}"></p>
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="cancel" id="cancel" formnovalidate>Cancel</button></form></main></body></html>"#
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// The client's id and secret, from HTTP Basic (`client_secret_basic`) or the form
/// (`client_secret_post`).
fn client_credentials(call: &Call<'_>, p: &[(String, String)]) -> Option<(String, String)> {
    let basic = call
        .req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let (id, secret) = s.split_once(':')?;
            let decode = |x: &str| {
                url::form_urlencoded::parse(format!("x={x}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    basic.or_else(|| {
        Some((
            param(p, "client_id")?.to_owned(),
            param(p, "client_secret")?.to_owned(),
        ))
    })
}

/// `POST /oidc/token`: the code for tokens. Single-use codes, the same redirect_uri, the
/// PKCE verifier whose SHA-256 is the challenge.
fn token(call: &Call<'_>) -> HttpResponse {
    let p: Vec<(String, String)> = url::form_urlencoded::parse(call.body)
        .into_owned()
        .collect();
    if client_credentials(call, &p) != Some((CLIENT_ID.to_owned(), CLIENT_SECRET.to_owned())) {
        return oauth_err(401, "invalid_client", "client authentication failed");
    }
    if param(&p, "grant_type") != Some("authorization_code") {
        return oauth_err(400, "unsupported_grant_type", "only authorization_code");
    }
    let code = param(&p, "code").unwrap_or_default();
    let redirect = param(&p, "redirect_uri").unwrap_or_default();
    let verifier = param(&p, "code_verifier");
    let mut data = call.shared.lock();
    let rotation = data.oidc.rotation;
    let Some(grant) = data.oidc.codes.get_mut(code) else {
        return oauth_err(400, "invalid_grant", "unknown or expired code");
    };
    if grant.used {
        return oauth_err(400, "invalid_grant", "the code was already used");
    }
    if grant.redirect_uri != redirect {
        return oauth_err(
            400,
            "invalid_grant",
            "redirect_uri does not match the code's",
        );
    }
    if let Some(challenge) = &grant.challenge {
        let computed = verifier.map(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())));
        if computed.as_deref() != Some(challenge.as_str()) {
            return oauth_err(
                400,
                "invalid_grant",
                "code_verifier does not match the challenge",
            );
        }
    }
    grant.used = true;
    let mode = call.mode.unwrap_or("");
    let now = now_ms() / 1000;
    let (iat, exp) = if mode == "expired" {
        (now - 7200, now - 3600)
    } else {
        (now, now + 3600)
    };
    let seed = call.shared.options.seed;
    let who = if mode == "other_sub" { "other:" } else { "" };
    let sub = format!(
        "{:020}",
        hash(
            seed,
            &format!("oidc-sub:{who}{}", grant.email.to_lowercase())
        )
    );
    let nonce = if mode == "replayed_nonce" {
        Some(
            grant
                .earlier_nonce
                .clone()
                .unwrap_or_else(|| "an-earlier-nonce".into()),
        )
    } else {
        grant.nonce.clone()
    };
    let mut claims = json!({
        "iss": issuer(call),
        "sub": sub,
        "aud": if mode == "wrong_aud" { "another-client" } else { CLIENT_ID },
        "iat": iat,
        "exp": exp,
        "email": grant.email,
        "email_verified": mode != "unverified_email",
        "name": grant.name,
    });
    if let (Some(n), Some(o)) = (nonce, claims.as_object_mut()) {
        o.insert("nonce".into(), json!(n));
    }
    let n = data.next();
    drop(data);
    let signed = if mode == "unknown_key" {
        STRANGER
            .as_ref()
            .and_then(|k| sign(k, "sandbox-unknown", &claims))
    } else {
        key(rotation).and_then(|k| sign(k, &kid(rotation), &claims))
    };
    let Some(id_token) = signed else {
        return oauth_err(500, "server_error", "the sandbox's keys did not load");
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "access_token": format!("oa{:x}{n}", hash(seed, &format!("oidc-access:{n}"))),
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
            "id_token": id_token,
        }))
}

/// A compact JWS, RS256.
fn sign(key: &RsaPrivateKey, kid: &str, claims: &Value) -> Option<String> {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": kid });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).ok()?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).ok()?)
    );
    let signature = SigningKey::<Sha256>::new(key.clone())
        .try_sign(input.as_bytes())
        .ok()?;
    Some(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_loads_and_they_differ() {
        assert_eq!(KEYS.len(), 3);
        assert!(STRANGER.is_some());
        let ns: Vec<_> = KEYS.iter().map(|k| k.n().clone()).collect();
        assert!(ns[0] != ns[1] && ns[1] != ns[2]);
    }
}
