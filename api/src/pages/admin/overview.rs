//! The overview: every queue with its sizes, the last hours charted per minute.

use super::*;
use crate::pages::chart::{self, Rect};

#[derive(Debug, Serialize)]
struct QueueRow {
    #[serde(flatten)]
    sizes: QueueSizes,
    lag: String,
}

/// A bar chart as the template draws it: SVG coordinates computed here, so the page needs
/// no script; the same numbers are in the text alternative.
#[derive(Debug, Serialize)]
struct Chart {
    id: &'static str,
    title_key: &'static str,
    color: &'static str,
    width: f64,
    height: f64,
    /// Only the minutes with something: 180 empty rectangles would weigh for nothing.
    bars: Vec<Rect>,
    total: u64,
    peak: u64,
    peak_at: String,
    start: String,
    middle: String,
    end: String,
    /// Totals per 15 minutes, for the table under the chart.
    rows: Vec<(String, u64)>,
}

fn hhmm(minute: u64) -> String {
    when(Some(minute * 60_000))
        .get(11..16)
        .unwrap_or_default()
        .to_owned()
}

fn chart(
    id: &'static str,
    title_key: &'static str,
    color: &'static str,
    minutes: &[MinuteTotals],
    value: impl Fn(&MinuteTotals) -> u64,
) -> Chart {
    let values: Vec<u64> = minutes.iter().map(&value).collect();
    let peak = values.iter().copied().max().unwrap_or(0);
    let peak_at = minutes
        .iter()
        .zip(&values)
        .find(|(_, v)| **v == peak && peak > 0)
        .map(|(m, _)| hhmm(m.minute))
        .unwrap_or_default();
    let bars = chart::scale(
        &values
            .iter()
            .map(|v| i64::try_from(*v).unwrap_or(i64::MAX))
            .collect::<Vec<_>>(),
    )
    .into_iter()
    .filter(|r| r.height > 0.0)
    .collect();
    let rows = minutes
        .chunks(15)
        .map(|c| {
            let first = c.first().map_or(0, |m| m.minute);
            (hhmm(first), c.iter().map(&value).sum())
        })
        .collect();
    let at = |i: usize| minutes.get(i).map(|m| hhmm(m.minute)).unwrap_or_default();
    Chart {
        id,
        title_key,
        color,
        width: chart::WIDTH,
        height: chart::HEIGHT,
        bars,
        total: values.iter().sum(),
        peak,
        peak_at,
        start: at(0),
        middle: at(minutes.len() / 2),
        end: at(minutes.len().saturating_sub(1)),
        rows,
    }
}

#[derive(Debug, Deserialize)]
pub struct OverviewQuery {
    /// A job id searched for and not found.
    missing: Option<String>,
}

pub async fn overview(
    ctx: PageCtx,
    state: web::Data<AppState>,
    query: web::Query<OverviewQuery>,
) -> HttpResponse {
    ctx.respond(overview_page(&ctx, &state, &query).await)
}

async fn overview_page(
    ctx: &PageCtx,
    state: &AppState,
    query: &OverviewQuery,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let overview = service::overview_of(state, service::CHART_MINUTES).await?;
    let rows: Vec<QueueRow> = overview
        .queues
        .into_iter()
        .map(|sizes| QueueRow {
            lag: sizes.lag_ms.map(duration).unwrap_or_default(),
            sizes,
        })
        .collect();
    let charts = [
        chart(
            "throughput",
            "admin-chart-throughput",
            "#4f46e5",
            &overview.minutes,
            |m| m.processed,
        ),
        chart(
            "failures",
            "admin-chart-failures",
            "#b91c1c",
            &overview.minutes,
            |m| m.failed,
        ),
    ];
    let mut context = Context::new();
    context.insert("misconfigured", &misconfigured(state).await);
    context.insert("queues", &rows);
    context.insert("charts", &charts);
    context.insert("hours", &(service::CHART_MINUTES / 60));
    context.insert("live_workers", &overview.live_workers);
    context.insert("owners", &overview.owners);
    context.insert("missing", &query.missing.as_deref().map(|m| m.trim()));
    context.insert("section", "overview");
    render(ctx, &user, "admin_overview.html", context)
}

/// A provider setting the provider does not know, as the banner shows it.
#[derive(Debug, Serialize)]
struct Banner {
    provider: String,
    setting: String,
    reason: String,
    seen: String,
}

/// What the workers raised (shared/src/misconfigured.rs). Redis away: no banner, and the
/// rest of the page still answers (the alert does not depend on this page).
async fn misconfigured(state: &AppState) -> Vec<Banner> {
    match shared::misconfigured::current(&state.redis, &state.config.queue.prefix).await {
        Ok(list) => list
            .into_iter()
            .map(|m| Banner {
                provider: m.provider,
                setting: m.setting,
                reason: m.reason,
                seen: when(Some(m.seen_at_ms)),
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %jobs::error::Chain(&e), "misconfigured providers not read");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_scales_to_its_peak_and_sums_its_rows() {
        let minutes: Vec<MinuteTotals> = (0..30)
            .map(|i| MinuteTotals {
                minute: 29_000_000 + i,
                processed: if i == 3 { 10 } else { i % 2 },
                ..MinuteTotals::default()
            })
            .collect();
        let c = chart("t", "k", "#000", &minutes, |m| m.processed);
        assert_eq!(c.peak, 10);
        assert_eq!(c.total, 10 + 14);
        assert_eq!(c.rows.len(), 2);
        assert_eq!(c.rows.iter().map(|r| r.1).sum::<u64>(), c.total);
        let tallest = c.bars.iter().map(|b| b.height).fold(0.0, f64::max);
        assert_eq!(tallest, chart::HEIGHT - 4.0);
        assert_eq!(c.bars.len(), 15, "one bar per minute with something");
        assert!(
            c.bars
                .iter()
                .all(|b| b.height >= 3.0 && (b.y + b.height - chart::HEIGHT).abs() < 1e-9)
        );
    }
}
