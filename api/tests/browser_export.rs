//! The campaign page's export link in a real browser (headless Chromium, see
//! `web/driver.rs`) against the real app, PostgreSQL and a private Redis: the link saves
//! the leads' CSV (UTF-8 with a byte-order mark, headers in the page's language), in
//! French and in English. Screenshots at 1280 and 390 px land in
//! `target/screenshots/export-*`; each screenshotted page also passes axe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sqlx::PgPool;
use test_support::app::spawn_app;
use test_support::browser::{Browser, Language, sign_up_and_in};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The CSV's header row as each language writes it.
fn header(lang: Language) -> &'static str {
    lang.says(
        "Commerce,Adresse,Ville,Téléphone,E-mail,Site web,Note,Score,Pourquoi ce score",
        "Business,Address,City,Phone,E-mail,Website,Rating,Score,Why this score",
    )
}

/// What the browser gets for `href` with its session: status, content type, disposition
/// and the body's first bytes (read as bytes: `text()` would drop the BOM).
async fn fetch_from_page(b: &Browser, href: &str) -> Value {
    b.client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.arrayBuffer().then(body => done({
                 status: r.status,
                 type: r.headers.get('content-type'),
                 disposition: r.headers.get('content-disposition'),
                 head: Array.from(new Uint8Array(body).slice(0, 3)),
             }))).catch(e => done({ error: String(e) }));",
            vec![json!(href)],
        )
        .await
        .unwrap()
}

/// Clicks the export link and reads the file Chromium saved: it starts with the BOM, then
/// the header row in `lang`, then the leads.
async fn export_downloads(b: &Browser, campaign: i64, lang: Language) -> String {
    assert_eq!(
        b.text("#export-leads").await,
        lang.says(
            "Télécharger les commerces (CSV)",
            "Download the businesses (CSV)"
        )
    );
    b.press("#export-leads").await;
    let bytes = b
        .downloaded(&format!("campaign-{campaign}-leads.csv"))
        .await;
    assert!(bytes.starts_with(BOM), "{:?}", &bytes[..8.min(bytes.len())]);
    let text = String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap();
    let first = text.split("\r\n").next().unwrap();
    assert_eq!(first, header(lang));
    text
}

async fn the_export_link_downloads_the_leads(db: PgPool, lang: Language) {
    let app = spawn_app(db).await;
    let b = Browser::start(&app.address, lang.accept()).await;
    let email = "ana@bakery.example";
    sign_up_and_in(&b, email).await;
    let user_id = app.user_id(email).await;
    let tag = lang.code();
    let campaign: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (user_id, name, industry, location, status)
         VALUES ($1, 'Boulangeries de Lyon', 'boulangerie', 'Lyon', 'ready') RETURNING id",
    )
    .bind(user_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    app.insert_lead(campaign, "Boulangerie Céleste").await;
    app.insert_lead(campaign, "Aux Délices de la Croix-Rousse, pâtisserie")
        .await;

    b.goto(&format!("/campaigns/{campaign}")).await;
    let href = format!("/api/campaigns/{campaign}/leads.csv");
    let link = b
        .client
        .find(fantoccini::Locator::Css("#export-leads"))
        .await
        .unwrap();
    assert_eq!(link.attr("href").await.unwrap().as_deref(), Some(&*href));
    assert!(link.attr("download").await.unwrap().is_some());
    b.assert_no_horizontal_scroll().await;
    b.screenshot(&format!("export-01-campaign-{tag}")).await;
    b.screenshot_of(&format!("export-02-leads-{tag}"), "#leads-heading")
        .await;

    // The response itself, as this browser's session gets it.
    let got = fetch_from_page(&b, &href).await;
    assert_eq!(got["status"], 200, "{got}");
    assert_eq!(got["type"], "text/csv; charset=utf-8", "{got}");
    assert_eq!(
        got["disposition"],
        format!("attachment; filename=\"campaign-{campaign}-leads.csv\""),
        "{got}"
    );
    assert_eq!(got["head"], json!(BOM), "{got}");

    // The file the link saves: the leads, accents and quoted commas intact.
    let text = export_downloads(&b, campaign, lang).await;
    assert!(text.contains("\r\nBoulangerie Céleste,"), "{text}");
    assert!(
        text.contains("\r\n\"Aux Délices de la Croix-Rousse, pâtisserie\","),
        "{text}"
    );

    // In the other language the page and the file follow.
    b.click("#switch-language").await;
    assert_eq!(b.path().await, format!("/campaigns/{campaign}"));
    export_downloads(&b, campaign, lang.other()).await;
    b.screenshot_of(
        &format!("export-03-leads-{}", lang.other().code()),
        "#leads-heading",
    )
    .await;
    b.close().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_campaign_pages_export_link_downloads_the_leads_csv_in_french(db: PgPool) {
    the_export_link_downloads_the_leads(db, Language::French).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_campaign_pages_export_link_downloads_the_leads_csv_in_english(db: PgPool) {
    the_export_link_downloads_the_leads(db, Language::English).await;
}
