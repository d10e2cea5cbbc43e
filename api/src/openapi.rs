//! The OpenAPI document, served at `/api/openapi.json`. Paths and schemas come from the
//! handlers' `#[utoipa::path]` attributes; the error answers every endpoint can give are
//! added here once instead of on every handler.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{
    accounts, admin, campaigns, contents, health, instagram, leads_csv, metrics, password_reset,
    profile, publications, schedule,
};
use crate::validation::patterns;

#[derive(OpenApi)]
#[openapi(
    info(title = "AstroGrowth API", version = "1",
         description = "Campaigns, leads, contents and publishing. Sign in, then send the \
                        session cookie, and on writes the X-CSRF-Token header sign-in returned."),
    paths(
        health::healthz, health::readyz,
        accounts::sign_up, accounts::sign_in, accounts::sign_out, accounts::sign_out_everywhere, accounts::me,
        password_reset::forgot, password_reset::reset,
        campaigns::create, campaigns::list, campaigns::detail, campaigns::launch, campaigns::cancel,
        leads_csv::export,
        contents::list, contents::pending, contents::get, contents::edit, contents::approve,
        contents::reject, contents::image,
        metrics::get, publications::list, publications::resolve,
        profile::get, profile::update, profile::linkedin_connect, profile::linkedin_callback,
        profile::linkedin_disconnect,
        instagram::get, instagram::connect, instagram::callback, instagram::disconnect,
        schedule::get, schedule::set, schedule::list, schedule::publish_now, schedule::move_to,
        schedule::unschedule, schedule::pause, schedule::resume,
        admin::queues, admin::overview, admin::workers, admin::jobs, admin::job, admin::find,
        admin::retry, admin::discard, admin::run_now, admin::dead_count, admin::retry_matching,
        admin::discard_matching, admin::pause, admin::resume, admin::audit_log,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Errors, &TextRules),
)]
pub struct ApiDoc;

/// The document is the same for the life of the process: render it once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| document().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")));

/// The document as JSON text, as served; `api openapi` prints it for the validator.
pub fn document() -> Result<String, serde_json::Error> {
    ApiDoc::openapi().to_json()
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}

/// Paths open without a session.
const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/api/auth/sign-up",
    "/api/auth/sign-in",
    "/api/auth/forgot-password",
    "/api/auth/reset-password",
];

struct Errors;

impl Modify for Errors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = doc.components.as_mut() {
            components.add_security_scheme(
                "session",
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("ag_session"))),
            );
            components.add_security_scheme(
                "csrf",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-CSRF-Token"))),
            );
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str()) || path == "/api/openapi.json";
            let ops: [(&str, &mut Option<Operation>); 4] = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let write = method != "get";
                let mut codes: Vec<(&str, &str)> = vec![
                    ("405", "method not allowed"),
                    ("429", "rate limited; see Retry-After"),
                    ("503", "a backing service is unavailable"),
                ];
                if path.starts_with("/api/") {
                    codes.push(("400", "the request could not be read"));
                    codes.push(("422", "a value is missing or wrong"));
                }
                if path.contains('{') {
                    codes.push(("404", "no such row for this user"));
                }
                if write {
                    codes.push(("409", "the row's state forbids this change"));
                    codes.push(("413", "body too large"));
                    codes.push(("415", "body is not JSON"));
                }
                if !public {
                    codes.push(("401", "sign in first"));
                    codes.push(("403", "missing CSRF token, or wrong role"));
                    let mut requirement =
                        vec![SecurityRequirement::new("session", Vec::<String>::new())];
                    if write {
                        requirement = vec![
                            SecurityRequirement::new("session", Vec::<String>::new())
                                .add("csrf", Vec::<String>::new()),
                        ];
                    }
                    op.security = Some(requirement);
                } else if path.starts_with("/api/auth/") {
                    codes.push(("401", "e-mail or password is wrong"));
                    codes.push(("409", "an account with this e-mail exists"));
                }
                for (code, description) in codes {
                    op.responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

/// A request field `validation` trims and checks, with the pattern of its check.
pub struct TextRule {
    pub schema: &'static str,
    pub field: &'static str,
    pub pattern: fn() -> String,
}

const fn rule(schema: &'static str, field: &'static str, pattern: fn() -> String) -> TextRule {
    TextRule {
        schema,
        field,
        pattern,
    }
}

/// Without these patterns a generator (schemathesis) sends mostly values with control
/// characters, only white space or no `@`, which the API refuses: the operation is then
/// barely tested past its 422. (`#[schema(pattern)]` takes a literal only; these patterns
/// are built from parts.)
pub const TEXT_RULES: [TextRule; 10] = [
    rule("SignUp", "email", patterns::email),
    rule("SignUp", "name", patterns::line),
    rule("CreateCampaign", "name", patterns::line),
    rule("CreateCampaign", "industry", patterns::line),
    rule("CreateCampaign", "location", patterns::line),
    rule("UpdateProfile", "business_name", patterns::optional_line),
    rule("UpdateProfile", "business_type", patterns::optional_line),
    rule("UpdateProfile", "location", patterns::optional_line),
    rule("UpdateProfile", "phone", patterns::optional_line),
    rule("UpdateProfile", "website", patterns::website),
];

struct TextRules;

impl Modify for TextRules {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        for rule in &TEXT_RULES {
            let property = match components.schemas.get_mut(rule.schema) {
                Some(RefOr::T(Schema::Object(object))) => object.properties.get_mut(rule.field),
                _ => None,
            };
            if let Some(RefOr::T(Schema::Object(property))) = property {
                property.pattern = Some((rule.pattern)());
            } else {
                // The test of the document names the field; the document is still served.
                tracing::warn!(
                    schema = rule.schema,
                    field = rule.field,
                    "no such field for its text pattern"
                );
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}
