#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What is not one resource: health and readiness, routing errors, the OpenAPI document,
//! the admin role, and the per-user API rate limit.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use test_support::app::{error_code, retry_after, spawn_app, spawn_app_with};

#[sqlx::test(migrations = "../migrations")]
async fn health_and_readiness_answer(db: PgPool) {
    let mut app = spawn_app(db).await;
    // Liveness needs no session (this browser has one: probes ignore it).
    app.sign_up("ana@example.com").await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
    // Ready while PostgreSQL and Redis answer.
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["postgres"], true);
    assert_eq!(body["redis"], true);
    // Redis gone: 503 naming it; liveness still 200.
    app.redis.kill();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["postgres"], true);
    assert_eq!(body["redis"], false);
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_redis_outage_answers_503_in_the_error_shape(db: PgPool) {
    let mut app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    app.redis.kill();
    // A signed-in request: its session cannot be read.
    let response = app.get("/api/campaigns").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "unavailable");
    // A sign-in: its throttle cannot be checked.
    let response = app
        .visitor()
        .sign_in("ana@example.com", "anything at all")
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "unavailable");
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_routes_and_methods_answer_in_the_error_shape(db: PgPool) {
    let app = spawn_app(db).await;
    // Unknown path under /api: 404 JSON. Outside /api it is the dashboard's 404 page
    // (tests/pages.rs), since a browser, not a program, asks there.
    for path in ["/api/nope", "/api/campaigns/1/explode"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(response).await, "not_found");
    }
    let page = app.get("/nope").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Known path, wrong method: 405 with the methods it has.
    let cases = [
        (Method::DELETE, "/api/campaigns", "GET, POST"),
        (Method::GET, "/api/auth/sign-in", "POST"),
        (Method::POST, "/api/contents/1", "GET, PUT"),
        (Method::PUT, "/healthz", "GET"),
    ];
    for (method, path, allow) in cases {
        let response = app.request(method.clone(), path).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.headers()["allow"], allow);
        assert_eq!(error_code(response).await, "method_not_allowed");
    }
}

/// Client generators name a method after each operationId, and OpenAPI requires them
/// unique: handlers named alike in two modules (`list`, `get`) must say theirs.
#[sqlx::test(migrations = "../migrations")]
async fn every_operation_has_its_own_operation_id(db: PgPool) {
    let app = spawn_app(db).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut clashes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                clashes.push(format!("{method} {path} has no operationId"));
                continue;
            };
            let here = format!("{method} {path}");
            if let Some(first) = seen.insert(id.to_owned(), here.clone()) {
                clashes.push(format!("{id}: {first} and {here}"));
            }
        }
    }
    assert!(clashes.is_empty(), "{clashes:#?}");
    assert!(seen.len() > 40, "{} operations", seen.len());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_lists_every_route(db: PgPool) {
    let app = spawn_app(db).await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let routes = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/auth/sign-up", "post"),
        ("/api/auth/sign-in", "post"),
        ("/api/auth/sign-out", "post"),
        ("/api/auth/me", "get"),
        ("/api/campaigns", "get"),
        ("/api/campaigns", "post"),
        ("/api/campaigns/{id}", "get"),
        ("/api/campaigns/{id}/launch", "post"),
        ("/api/campaigns/{id}/cancel", "post"),
        ("/api/contents", "get"),
        ("/api/contents/pending", "get"),
        ("/api/contents/{id}", "get"),
        ("/api/contents/{id}", "put"),
        ("/api/contents/{id}/approve", "post"),
        ("/api/contents/{id}/reject", "post"),
        ("/api/metrics", "get"),
        ("/api/publications", "get"),
        ("/api/profile", "get"),
        ("/api/profile", "put"),
        ("/api/profile/linkedin/connect", "post"),
        ("/api/profile/linkedin/callback", "get"),
        ("/api/profile/linkedin/disconnect", "post"),
        ("/api/admin/queues", "get"),
    ];
    for (path, method) in routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    // Writes document the CSRF header; the error body is a shared schema.
    let launch = &doc["paths"]["/api/campaigns/{id}/launch"]["post"];
    assert!(launch["security"].to_string().contains("csrf"));
    assert!(launch["responses"]["404"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_queue_view_needs_the_admin_role(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    // An owner: 403.
    let response = app.get("/api/admin/queues").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "forbidden");
    // An admin sees every queue with its sizes, here the job a launch queued (the relay
    // lists the queue as it enqueues; no worker has to run first).
    let campaign = app.create_campaign("Spring").await;
    app.post(&format!("/api/campaigns/{campaign}/launch")).await;
    app.wait_for_jobs("scrape_campaign", "scrape", 1).await;
    let admin = app.admin("root@example.com").await;
    let response = admin.get("/api/admin/queues").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let scrape = body
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "scrape")
        .unwrap_or_else(|| panic!("no scrape queue in {body}"));
    assert_eq!(scrape["ready"], 1);
    assert_eq!(scrape["paused"], false);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_over_the_api_rate_limit_gets_429_with_retry_after(db: PgPool) {
    let app = spawn_app_with(
        db,
        |config| {
            config.limits.api_per_minute = 1;
            config.limits.api_burst = 2;
        },
        None,
    )
    .await;
    app.sign_up("ana@example.com").await;
    // The burst is admitted, the next call is not.
    for _ in 0..2 {
        assert_eq!(app.get("/api/auth/me").await.status(), StatusCode::OK);
    }
    let response = app.get("/api/campaigns").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after(&response);
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(response).await, "rate_limited");
    // The limit is per user: Bob is not slowed down by Ana.
    let bob = app.other_user("bob@example.com").await;
    assert_eq!(bob.get("/api/auth/me").await.status(), StatusCode::OK);
}

/// The document states what `PUT /api/contents/{id}` and the LinkedIn
/// callback accept, so a generator (schemathesis) can produce values they take.
#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_states_the_edit_and_callback_constraints(db: PgPool) {
    let app = spawn_app(db).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let edit = &doc["components"]["schemas"]["EditContent"]["properties"];
    assert!(edit["text"]["pattern"].is_string(), "{edit}");
    let hashtags = edit["hashtags"].to_string();
    assert!(hashtags.contains("pattern"), "{hashtags}");
    assert!(hashtags.contains("\"maxLength\":100"), "{hashtags}");
    let put = &doc["paths"]["/api/contents/{id}"]["put"]["responses"];
    for status in ["200", "404", "409", "422"] {
        assert!(put.get(status).is_some(), "{status}: {put}");
    }
    let params = doc["paths"]["/api/profile/linkedin/callback"]["get"]["parameters"].to_string();
    assert!(params.contains("^[A-Za-z0-9_-]{43}$"), "{params}");
    let sign_out_everywhere = &doc["paths"]["/api/auth/sign-out-everywhere"]["post"];
    assert!(
        sign_out_everywhere.is_object(),
        "sign-out-everywhere is undocumented"
    );
}

/// The text fields the API trims and checks say how in their pattern, so that a generator
/// (schemathesis) sends values the API takes rather than mostly 422s; and a value matching
/// the pattern is taken.
#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_states_the_text_rules(db: PgPool) {
    let app = spawn_app(db).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for rule in &api::openapi::TEXT_RULES {
        let (schema, field) = (rule.schema, rule.field);
        let property = &doc["components"]["schemas"][schema]["properties"][field];
        assert!(
            property["pattern"].is_string(),
            "{schema}.{field}: {property}"
        );
    }
    let pattern = |schema: &str, field: &str| {
        regex::Regex::new(
            doc["components"]["schemas"][schema]["properties"][field]["pattern"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    };
    let line = pattern("CreateCampaign", "name");
    assert!(!line.is_match("   "));
    assert!(!line.is_match("Spring\u{0}"));
    let name = " Spring\u{a0}bakeries\n";
    assert!(line.is_match(name));
    app.sign_up("ana@example.com").await;
    let created = app
        .post_json(
            "/api/campaigns",
            &serde_json::json!({ "name": name, "industry": "bakery", "location": "Lyon" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let jobs = &doc["paths"]["/api/admin/queues/{queue}/jobs"]["get"]["parameters"];
    assert!(jobs.to_string().contains("in_flight|running"), "{jobs}");
}
