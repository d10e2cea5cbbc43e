#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The leads' CSV export: RFC 4180 with a BOM, headers in the owner's language, formula
//! cells neutralised, another owner's campaign a 404, a big campaign streamed in chunks.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use test_support::app::{error_code, spawn_app};

const BOM: &str = "\u{feff}";

/// The whole file, checked to start with the BOM, split into records by the csv crate.
async fn records(response: reqwest::Response) -> Vec<Vec<String>> {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    let body = text.strip_prefix(BOM).expect("the file starts with a BOM");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn leads_export_in_the_owners_language_with_formulas_neutralised(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    sqlx::query(
        "INSERT INTO leads (campaign_id, place_id, business_name, address, city, phone, email,
                            website, rating, lead_score, score_breakdown)
         VALUES ($1, 'p1', 'Boulangerie Céleste, \"la vraie\"', '3 rue Mercière', 'Lyon',
                 '+33 4 78 00 00 00', 'contact@celeste.fr', 'https://celeste.fr', 4.5, 72,
                 $2),
                ($1, 'p2', '=HYPERLINK(\"http://evil\")', NULL, '@city', '-1', NULL, NULL,
                 NULL, NULL, NULL)",
    )
    .bind(id)
    .bind(json!({"total": 72, "signals": [
        {"signal": "email", "points": 20, "max": 20, "detail": "contact@celeste.fr"},
        {"signal": "reviews", "points": 10, "max": 15, "detail": "30 reviews"},
    ]}))
    .execute(&app.db)
    .await
    .unwrap();

    // No language chosen: the browser's (French by default).
    let rows = records(app.get(&format!("/api/campaigns/{id}/leads.csv")).await).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        [
            "Commerce",
            "Adresse",
            "Ville",
            "Téléphone",
            "E-mail",
            "Site web",
            "Note",
            "Score",
            "Pourquoi ce score"
        ]
    );
    let first = &rows[1];
    // Quotes and commas survive the round trip (RFC 4180 quoting).
    assert_eq!(first[0], "Boulangerie Céleste, \"la vraie\"");
    assert_eq!(first[3], "'+33 4 78 00 00 00");
    assert_eq!(first[6], "4,5");
    assert_eq!(first[7], "72");
    assert!(
        first[8].starts_with("E-mail 20/20 (contact@celeste.fr); "),
        "{}",
        first[8]
    );
    let second = &rows[2];
    assert_eq!(second[0], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(second[2], "'@city");
    assert_eq!(second[3], "'-1");
    assert_eq!(second[7], "");

    // The account's language wins over the browser's.
    sqlx::query("UPDATE users SET language = 'en'")
        .execute(&app.db)
        .await
        .unwrap();
    let rows = records(app.get(&format!("/api/campaigns/{id}/leads.csv")).await).await;
    assert_eq!(rows[0][0], "Business");
    assert_eq!(rows[0][8], "Why this score");
    assert_eq!(rows[1][6], "4.5");
    assert!(rows[1][8].contains("30 reviews"), "{}", rows[1][8]);
}

#[sqlx::test(migrations = "../migrations")]
async fn another_owners_campaign_is_a_404_and_no_session_a_401(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Spring").await;
    app.insert_lead(id, "Secret bakery").await;
    let other = app.other_user("bob@example.com").await;
    let response = other.get(&format!("/api/campaigns/{id}/leads.csv")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "not_found");
    let response = app
        .visitor()
        .get(&format!("/api/campaigns/{id}/leads.csv"))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.get("/api/campaigns/abc/leads.csv").await;
    assert!(response.status().is_client_error());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_big_campaign_is_streamed_in_chunks(db: PgPool) {
    let app = spawn_app(db).await;
    app.sign_up("ana@example.com").await;
    let id = app.create_campaign("Big").await;
    sqlx::query(
        "INSERT INTO leads (campaign_id, place_id, business_name, address, city, website)
         SELECT $1, 'p' || n, 'Boulangerie numéro ' || n, n || ' rue de la République',
                'Lyon', 'https://b' || n || '.example'
         FROM generate_series(1, 5000) AS n",
    )
    .bind(id)
    .execute(&app.db)
    .await
    .unwrap();
    let mut response = app.get(&format!("/api/campaigns/{id}/leads.csv")).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Streamed: no length known in advance, sent as chunks as rows are read.
    assert!(response.content_length().is_none());
    let mut chunks = 0;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        chunks += 1;
        body.extend_from_slice(&chunk);
    }
    assert!(chunks > 4, "{chunks} chunk(s)");
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 5001);
    assert!(
        lines[5000].starts_with("Boulangerie numéro 5000,"),
        "{}",
        lines[5000]
    );
}
