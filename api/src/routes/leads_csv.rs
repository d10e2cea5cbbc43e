//! A campaign's leads as CSV, for the owner's spreadsheet.
//!
//! RFC 4180 through the `csv` crate, UTF-8 with a byte-order mark (Excel reads a file
//! without one as the local 8-bit code page and mangles "Boulangerie Céleste"), headers in
//! the owner's language. The rows are streamed from PostgreSQL in chunks through a bounded
//! channel, so a campaign of any size costs a few chunks of memory, never a `Vec` of all
//! its leads. Every cell a spreadsheet would read as a formula is neutralised (see
//! [`neutralise`]): a business name comes from Google Places and an e-mail from the
//! business's own website, both written by strangers.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use futures::stream::Stream;
use shared::db::campaigns;
use sqlx::{PgPool, Row};
use tokio::sync::mpsc;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::pages::i18n::{Catalog, Lang};
use crate::pages::render::Ui;
use crate::pages::score;
use crate::state::AppState;

/// What a chunk holds before it is sent: large enough for few syscalls, small enough that
/// the chunks in flight stay a few hundred kilobytes.
const CHUNK_BYTES: usize = 32 * 1024;
/// Chunks waiting for a slow client before the reader stops reading PostgreSQL.
const CHUNKS_IN_FLIGHT: usize = 4;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The columns, as `export-column-*` messages.
const COLUMNS: [&str; 9] = [
    "name", "address", "city", "phone", "email", "website", "rating", "score", "reasons",
];

/// The campaign's leads as a CSV file (UTF-8 with a BOM, headers in the owner's language,
/// formula-like cells prefixed with `'`). Another owner's campaign is a 404.
#[utoipa::path(get, path = "/api/campaigns/{id}/leads.csv", tag = "campaigns",
    operation_id = "export_campaign_leads_csv",
    params(("id" = i64, Path, description = "campaign id")),
    responses(
        (status = 200, description = "the leads, one per row", content_type = "text/csv", body = String),
        (status = 404, description = "no such campaign for this account")))]
#[tracing::instrument(name = "export_leads", skip_all, fields(campaign.id = %id))]
pub async fn export(
    state: web::Data<AppState>,
    ui: web::Data<Ui>,
    req: HttpRequest,
    user: CurrentUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    // Owned by this account, or 404 before anything is streamed.
    let campaign = campaigns::get(&state.db, user.id, *id).await?;
    let lang = user
        .language
        .map(Lang::from)
        .unwrap_or_else(|| Lang::of_request(&req));
    let ui = ui.into_inner();
    let body = rows(state.db.clone(), ui, lang, campaign.id);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "campaign-{}-leads.csv",
                campaign.id
            ))],
        })
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// The file's bytes: BOM and header, then the rows as PostgreSQL yields them. A database
/// error midway ends the stream with an error, so the client sees a broken download
/// rather than a file that looks whole.
fn rows(
    db: PgPool,
    ui: std::sync::Arc<Ui>,
    lang: Lang,
    campaign_id: i64,
) -> impl Stream<Item = Result<web::Bytes, std::io::Error>> {
    let (tx, rx) = mpsc::channel::<Result<web::Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        let catalog = ui.catalog(lang);
        if let Err(e) = write_all(&db, catalog, lang, campaign_id, &tx).await {
            tracing::warn!(campaign.id = campaign_id, error = %jobs::error::Chain(&e), "lead export stopped");
            let _ = tx.send(Err(std::io::Error::other(e))).await;
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("catalog: {0}")]
    Catalog(String),
    /// The client went away: nothing to report.
    #[error("the client left")]
    Gone,
}

async fn write_all(
    db: &PgPool,
    catalog: &Catalog,
    lang: Lang,
    campaign_id: i64,
    tx: &mpsc::Sender<Result<web::Bytes, std::io::Error>>,
) -> Result<(), ExportError> {
    let mut out = writer(BOM.to_vec());
    let headers = COLUMNS
        .iter()
        .map(|c| catalog.text(&format!("export-column-{c}"), None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ExportError::Catalog)?;
    out.write_record(&headers)?;
    let mut stream = sqlx::query(
        "SELECT business_name, address, city, phone, email, website, rating, lead_score,
                score_breakdown
         FROM leads WHERE campaign_id = $1 ORDER BY id",
    )
    .bind(campaign_id)
    .fetch(db);
    while let Some(row) = stream.next().await {
        let row = row?;
        let rating: Option<f64> = row.try_get("rating")?;
        let score: Option<i16> = row.try_get("lead_score")?;
        let breakdown: Option<serde_json::Value> = row.try_get("score_breakdown")?;
        let text = |name: &str| -> Result<String, sqlx::Error> {
            Ok(row.try_get::<Option<String>, _>(name)?.unwrap_or_default())
        };
        let record = [
            text("business_name")?,
            text("address")?,
            text("city")?,
            text("phone")?,
            text("email")?,
            text("website")?,
            rating.map(|r| lang.decimal(r)).unwrap_or_default(),
            score.map(|s| s.to_string()).unwrap_or_default(),
            reasons(breakdown.as_ref(), catalog, lang),
        ];
        out.write_record(record.iter().map(|cell| neutralise(cell).into_owned()))?;
        if out.get_ref().len() >= CHUNK_BYTES {
            send(&mut out, tx).await?;
        }
    }
    send(&mut out, tx).await
}

/// RFC 4180: CRLF between records, quotes only where a cell needs them.
fn writer(buffer: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(buffer)
}

/// Hands the buffered bytes to the response and starts a new buffer. Waits while the
/// client is slow (the channel is bounded): PostgreSQL is read no faster than she downloads.
async fn send(
    out: &mut csv::Writer<Vec<u8>>,
    tx: &mpsc::Sender<Result<web::Bytes, std::io::Error>>,
) -> Result<(), ExportError> {
    let chunk = std::mem::replace(out, writer(Vec::with_capacity(CHUNK_BYTES)))
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))?;
    if chunk.is_empty() {
        return Ok(());
    }
    tx.send(Ok(web::Bytes::from(chunk)))
        .await
        .map_err(|_| ExportError::Gone)
}

/// "Website 15/15 (https://…); E-mail 0/20 (no e-mail found)" in the owner's language, from
/// the stored breakdown (the same reading as the campaign page's).
fn reasons(stored: Option<&serde_json::Value>, catalog: &Catalog, lang: Lang) -> String {
    let Some(breakdown) = score::read(stored, lang) else {
        return String::new();
    };
    breakdown
        .signals
        .iter()
        .map(|s| {
            let label = s
                .label_key
                .as_deref()
                .and_then(|k| catalog.text(k, None).ok())
                .unwrap_or_else(|| s.label.clone());
            let detail = match s.detail_key {
                Some(key) => {
                    let mut args = fluent_bundle::FluentArgs::new();
                    if let Some(n) = s.count {
                        args.set("count", n);
                    }
                    args.set("value", s.value.clone());
                    catalog
                        .text(key, Some(&args))
                        .unwrap_or_else(|_| s.value.clone())
                }
                None => s.value.clone(),
            };
            if detail.is_empty() {
                format!("{label} {}/{}", s.points, s.max)
            } else {
                format!("{label} {}/{} ({detail})", s.points, s.max)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) gets a leading `'`, which makes it text: OWASP's advice against CSV
/// injection. The price is a visible quote on the few honest cells that begin so (a phone
/// written "+33 4 …"): a spreadsheet that ran a stranger's formula costs far more.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_the_rest_kept() {
        for bad in ["=1+1", "+33 4", "-2", "@SUM(A1)", "\t=x", "\r=x"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for good in ["Boulangerie Céleste", "", "a=b", "4,5", "'already"] {
            assert_eq!(neutralise(good), good);
        }
    }

    #[test]
    fn every_column_has_a_header_in_both_languages() {
        for lang in Lang::ALL {
            let have = Catalog::keys(lang);
            for c in COLUMNS {
                let key = format!("export-column-{c}");
                assert!(have.contains(&key), "{}.ftl lacks {key}", lang.code());
            }
        }
    }
}
