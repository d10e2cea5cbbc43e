//! `GET /campaigns/{id}/events`: a campaign's progress as Server-Sent Events, for its page
//! to update without reloading (`static/app.js` listens and swaps).
//!
//! The workers publish every step on their owner's Redis channel (`shared::events`,
//! `ag:events:user:{id}`). Each stream subscribes to that channel on a connection of its
//! own (a subscribed connection can do nothing else), keeps this campaign's events and
//! answers each burst of them with one message: HTML already rendered in the reader's
//! language, the activity lines to add and the parts of the page whose data changed,
//! re-read from PostgreSQL. Reading the rows rather than adding up the events keeps the
//! page equal to what a reload shows, even when an event was lost (pub/sub keeps nothing)
//! or arrived for a change the page had already read.
//!
//! Nothing is spawned: the response body owns the subscription, so when the browser goes
//! away actix drops the body and with it the Redis connection and the stream's slot.
//! actix notices a closed peer when a write fails, which is the second keep-alive comment
//! after it left (the first one still lands in the socket's buffer): 30 s at most.
//!
//! A stream lasts as long as its page, far beyond the request that authenticated it, so it
//! checks its session again before each update and at each keep-alive, and ends when the
//! session has (signed out here or everywhere, account reset, role changed, idle): a page
//! left open on a shared computer stops showing the account within one keep-alive.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use fluent_bundle::FluentArgs;
use futures::{FutureExt, Stream, StreamExt};
use redis::aio::PubSubStream;
use serde::{Deserialize, Serialize};
use shared::db::campaigns::{self, CampaignStatus};
use shared::db::{contents, leads};
use shared::events::Events;
use tera::Context;

use super::PageCtx;
use super::campaign::{self, ContentRow, LeadRow, ROWS};
use super::home::CampaignRow;
use super::i18n::{Catalog, Lang};
use super::render::Ui;
use crate::auth::SessionWatch;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use jobs::error::Chain;

/// Streams one user may hold open on one instance: a few tabs. Each holds an HTTP and a
/// Redis connection for as long as its page is open, so without a bound one account (or a
/// script with its cookie) could hold hundreds of both. Beyond it: 429.
pub const STREAMS_PER_USER: usize = 4;
/// Often enough for proxies that cut idle connections at 30-60 s, for a browser that left
/// to be noticed (by a failed write) within two of them, and for a session that ended to
/// end its streams within one.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What the browser waits before reconnecting a stream that ended (`retry:`).
const RECONNECT_MS: u32 = 5_000;
/// A Redis that does not answer the subscription in this time fails the request (503)
/// instead of holding it.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Placeholder for `$time` in a translated line, where the `<time>` element goes.
const TIME_MARK: &str = "\u{E000}";

/// Open streams per user, on this instance.
#[derive(Debug, Default)]
pub struct Streams {
    open: Mutex<HashMap<i64, usize>>,
}

impl Streams {
    fn acquire(self: &Arc<Self>, user_id: i64) -> Option<Slot> {
        // A panic while holding this lock leaves only counts behind: still usable.
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(user_id).or_insert(0);
        if *n >= STREAMS_PER_USER {
            return None;
        }
        *n += 1;
        Some(Slot {
            streams: Arc::clone(self),
            user_id,
        })
    }
}

/// One open stream; dropping it (with the response body) frees its place.
#[derive(Debug)]
struct Slot {
    streams: Arc<Streams>,
    user_id: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

/// An event as the workers publish it (`shared::events::Event`); read leniently, since a
/// newer worker may add kinds and fields.
#[derive(Debug, Clone, Deserialize)]
struct LiveEvent {
    #[serde(rename = "type")]
    kind: String,
    campaign_id: i64,
    lead_id: Option<i64>,
    content_id: Option<i64>,
    status: Option<String>,
    score: Option<i64>,
    count: Option<i64>,
    reason: Option<String>,
    post_url: Option<String>,
    until: Option<DateTime<Utc>>,
    at: Option<DateTime<Utc>>,
}

/// One line of the activity list: the translated sentence split around its time.
#[derive(Debug, Serialize)]
struct Activity {
    /// `info`, `done`, `wait` or `problem`: the line's colour.
    tone: &'static str,
    at: String,
    at_label: String,
    before: String,
    until: Option<String>,
    until_label: Option<String>,
    after: String,
    link: Option<String>,
}

/// `GET /campaigns/{id}/events`: `text/event-stream` for the campaign's owner; another
/// owner's campaign is a 404 as on the page, a fifth stream a 429.
pub async fn events(ctx: PageCtx, state: web::Data<AppState>, id: web::Path<i64>) -> HttpResponse {
    let opened = open(&ctx, state, *id).await;
    ctx.respond(opened)
}

async fn open(ctx: &PageCtx, state: web::Data<AppState>, id: i64) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    let session = SessionWatch::new(ctx.request(), &user)?;
    let campaign = campaigns::get(&state.db, user.id, id).await?;
    let slot = state
        .live_streams
        .acquire(user.id)
        .ok_or(ApiError::RateLimited {
            retry_after: KEEP_ALIVE,
        })?;
    let channel = Events::channel(&state.config.queue.prefix, user.id);
    let messages = subscribe(&state.config.redis.url, &channel).await?;
    tracing::debug!(campaign.id = id, "live stream opened");
    let feed = Feed {
        ui: ctx.ui(),
        state,
        lang: *ctx.lang,
        user_id: user.id,
        campaign_id: campaign.id,
        messages,
        session,
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        started: false,
        over: false,
        _slot: slot,
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-store"))
        // A reverse proxy (nginx) must pass each message on at once, not buffer them.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(feed.into_stream()))
}

async fn subscribe(url: &str, channel: &str) -> ApiResult<PubSubStream> {
    // On a Redis Cluster a PUBLISH reaches every node, so any one node will do: the seed
    // nodes are tried in turn, and the first that answers carries the subscription.
    let urls = jobs::connection::pubsub_urls(url).map_err(|e| {
        redis::RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "redis.url",
            e.to_string(),
        ))
    });
    let connect = async {
        let mut last = None;
        for url in urls? {
            let attempt = async {
                let client = redis::Client::open(url.as_str())?;
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(channel).await?;
                // The stream half keeps the subscription (and the connection) until dropped.
                Ok::<_, redis::RedisError>(pubsub.into_on_message())
            };
            match attempt.await {
                Ok(messages) => return Ok(messages),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            redis::RedisError::from((redis::ErrorKind::InvalidClientConfig, "no redis node"))
        }))
    };
    match tokio::time::timeout(SUBSCRIBE_TIMEOUT, connect).await {
        Ok(Ok(messages)) => Ok(messages),
        Ok(Err(e)) => {
            tracing::warn!(error = %jobs::error::Chain(&e), "live events: subscription failed");
            Err(ApiError::Unavailable("live updates are unavailable".into()))
        }
        Err(_) => Err(ApiError::Unavailable(
            "live updates are unavailable: redis did not answer".into(),
        )),
    }
}

/// One stream's state; the response body is built from it with `unfold`.
struct Feed {
    state: web::Data<AppState>,
    ui: web::Data<Ui>,
    lang: Lang,
    user_id: i64,
    campaign_id: i64,
    messages: PubSubStream,
    /// Checked before each update and at each keep-alive.
    session: SessionWatch,
    keep_alive: tokio::time::Interval,
    started: bool,
    /// The campaign is over (or could not be read): the stream ends after this message.
    over: bool,
    _slot: Slot,
}

impl Feed {
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, Infallible>> {
        futures::stream::unfold(self, |mut feed| async move {
            let frame = feed.next_frame().await?;
            Some((Ok(Bytes::from(frame)), feed))
        })
    }

    /// The next bytes to send; `None` ends the stream.
    async fn next_frame(&mut self) -> Option<String> {
        if self.over {
            return None;
        }
        if !self.started {
            self.started = true;
            // What changed between the page being read and this subscription, and how
            // long the browser should wait before reconnecting.
            let update = self.update(&[]).await?;
            return Some(format!("retry: {RECONNECT_MS}\n\n{update}"));
        }
        loop {
            tokio::select! {
                message = self.messages.next() => {
                    // Redis closed the connection: end, and the browser reconnects.
                    let message = message?;
                    let mut events = Vec::new();
                    self.keep(&message, &mut events);
                    // A burst (a scrape storing 60 leads) becomes one read and one message.
                    while let Some(Some(message)) = self.messages.next().now_or_never() {
                        self.keep(&message, &mut events);
                    }
                    if !events.is_empty() {
                        self.session_holds().await?;
                        return self.update(&events).await;
                    }
                }
                _ = self.keep_alive.tick() => {
                    self.session_holds().await?;
                    return Some(": keep-alive\n\n".to_owned());
                }
            }
        }
    }

    /// `None` (ending the stream) once the session is over. A failed check ends it too: the
    /// browser reconnects after `retry:`, and that request authenticates from scratch.
    async fn session_holds(&self) -> Option<()> {
        match self.session.holds(&self.state).await {
            Ok(true) => Some(()),
            Ok(false) => {
                tracing::debug!(user.id = self.user_id, "live stream ended with its session");
                None
            }
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "live events: session check failed");
                None
            }
        }
    }

    fn keep(&self, message: &redis::Msg, events: &mut Vec<LiveEvent>) {
        let Ok(payload) = message.get_payload::<String>() else {
            return;
        };
        match serde_json::from_str::<LiveEvent>(&payload) {
            Ok(e) if e.campaign_id == self.campaign_id => events.push(e),
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %jobs::error::Chain(&e), "live events: unreadable event skipped")
            }
        }
    }

    async fn update(&mut self, events: &[LiveEvent]) -> Option<String> {
        match self.render(events).await {
            Ok((html, over)) => {
                let mut out = frame("update", &html);
                if over {
                    self.over = true;
                    out.push_str(&frame("done", "over"));
                }
                Some(out)
            }
            Err(e) => {
                if !matches!(e, ApiError::NotFound(_)) {
                    tracing::warn!(error = %Chain(&e), "live events: update failed");
                }
                None
            }
        }
    }

    /// The campaign as it is now, the lines for `events`, and the lead rows and contents
    /// they touched; and whether the campaign is over.
    async fn render(&self, events: &[LiveEvent]) -> ApiResult<(String, bool)> {
        let db = &self.state.db;
        let lang = self.lang;
        let campaign = campaigns::get(db, self.user_id, self.campaign_id).await?;
        let leads_all = events.iter().any(|e| e.kind == "leads_found");
        let touched: Vec<i64> = events.iter().filter_map(|e| e.lead_id).collect();
        let contents_changed = events.iter().any(|e| {
            e.content_id.is_some() || matches!(e.kind.as_str(), "content_generated" | "published")
        });
        let leads = if leads_all || !touched.is_empty() {
            leads::list_for_campaign(db, campaign.id, ROWS).await?
        } else {
            Vec::new()
        };
        let contents = if contents_changed {
            contents::list_for_campaign(db, campaign.id, ROWS).await?
        } else {
            Vec::new()
        };
        let slots = super::schedule::labels(&self.state, self.user_id, &contents, lang).await?;
        let names: HashMap<i64, &str> = leads
            .iter()
            .map(|l| (l.id, l.business_name.as_str()))
            .collect();
        let catalog = self.ui.catalog(lang);
        let activity: Vec<Activity> = events
            .iter()
            .filter_map(|e| line(e, &names, catalog))
            .collect();
        let rows: Vec<LeadRow> = leads
            .iter()
            .filter(|l| leads_all || touched.contains(&l.id))
            .map(|l| LeadRow::new(l, lang))
            .collect();
        let mut context = Context::new();
        context.insert("campaign", &CampaignRow::from(&campaign));
        context.insert("kpis", &campaign::kpis(&campaign, lang));
        context.insert("activity", &activity);
        context.insert("leads_all", &leads_all);
        context.insert("leads", &rows);
        context.insert("contents_changed", &contents_changed);
        context.insert(
            "contents",
            &contents
                .iter()
                .map(|c| ContentRow::new(c, lang, &slots))
                .collect::<Vec<_>>(),
        );
        let html = self
            .ui
            .render(lang, "campaign_live.html", &context)
            .map_err(ApiError::internal)?;
        Ok((html, !campaign::runs(campaign.status)))
    }
}

/// One SSE message. Every line of `data` gets its own `data:` field (the browser joins
/// them with newlines); a lone CR would end a line too, so CRs are dropped.
fn frame(event: &str, data: &str) -> String {
    let mut out = format!("event: {event}\n");
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(&line.replace('\r', ""));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The activity line of one event, in the catalog's language; `None` for a kind this page
/// does not know (a newer worker's) or a line it cannot word.
fn line(e: &LiveEvent, names: &HashMap<i64, &str>, catalog: &Catalog) -> Option<Activity> {
    let mut args = FluentArgs::new();
    let name = e.lead_id.and_then(|id| names.get(&id)).copied();
    if let Some(n) = name {
        args.set("name", n.to_owned());
    }
    // The line naming the business when the page knows it, else the one that does not.
    let named = |key: &'static str, unnamed: &'static str| match name {
        Some(_) => key,
        None => unnamed,
    };
    let mut link = None;
    let (key, tone) = match e.kind.as_str() {
        "campaign_status" => {
            let status: CampaignStatus = e.status.as_deref()?.parse().ok()?;
            let tone = match status {
                CampaignStatus::Completed | CampaignStatus::Ready => "done",
                CampaignStatus::Error | CampaignStatus::Cancelled => "problem",
                _ => "info",
            };
            let label = catalog
                .text(&format!("status-{}", status.as_str()), None)
                .ok()?;
            args.set("status", label);
            ("live-event-status", tone)
        }
        "leads_found" => {
            args.set("count", e.count?);
            ("live-event-leads-found", "info")
        }
        "lead_enriched" => {
            let key = named(
                "live-event-lead-enriched",
                "live-event-lead-enriched-unnamed",
            );
            args.set("score", e.score?);
            (key, "info")
        }
        "content_generated" => {
            let key = named(
                "live-event-content-generated",
                "live-event-content-generated-unnamed",
            );
            args.set("score", e.score?);
            (key, "info")
        }
        "published" => {
            link = e.post_url.clone().filter(|u| u.starts_with("https://"));
            ("live-event-published", "done")
        }
        "failed" if e.status.as_deref() == Some("unknown") => {
            ("live-event-failed-unknown", "problem")
        }
        "failed" => {
            let key = match (name, e.content_id) {
                (Some(_), _) => named("live-event-failed-lead", "live-event-failed"),
                (None, Some(_)) => "live-event-failed-content",
                (None, None) => "live-event-failed",
            };
            args.set("reason", reason(e.reason.as_deref(), catalog));
            (key, "problem")
        }
        "deferred" => {
            args.set("reason", reason(e.reason.as_deref(), catalog));
            args.set("time", TIME_MARK);
            let key = match e.until {
                Some(_) => "live-event-deferred-until",
                None => "live-event-deferred",
            };
            (key, "wait")
        }
        _ => return None,
    };
    let text = catalog.text(key, Some(&args)).ok()?;
    let at = e.at.unwrap_or_else(Utc::now);
    let (before, after) = match (e.until, text.split_once(TIME_MARK)) {
        (Some(_), Some((before, after))) => (before.to_owned(), after.to_owned()),
        _ => (text, String::new()),
    };
    Some(Activity {
        tone,
        at: at.to_rfc3339(),
        at_label: super::times::clock(&at),
        before,
        until: e.until.map(|u| u.to_rfc3339()),
        // The page shows it in the reader's time zone (static/app.js); UTC until then.
        until_label: e.until.map(|u| format!("{} UTC", super::times::clock(&u))),
        after,
        link,
    })
}

/// The reasons the workers give that an owner can be told in their language (a limit, a
/// quota, a reconnect); any other is shown as written.
fn reason(reason: Option<&str>, catalog: &Catalog) -> String {
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return catalog.text("live-reason-none", None).unwrap_or_default();
    };
    known_reason(reason, catalog).unwrap_or_else(|| reason.to_owned())
}

fn known_reason(reason: &str, catalog: &Catalog) -> Option<String> {
    let lower = reason.to_lowercase();
    if lower.contains("reconnect needed") {
        return catalog.text("live-reason-reconnect", None).ok();
    }
    // Who the reason names first (`"Gemini rate limit of ..."`), as the end reasons do.
    let provider = super::reasons::named_provider(reason, catalog)?;
    let key = if lower.contains("daily limit") {
        "live-reason-daily-limit"
    } else if lower.contains("rate limited until") {
        "live-reason-quota"
    } else if lower.contains("rate limit") {
        "live-reason-rate-limit"
    } else if lower.contains("retry later") {
        "live-reason-busy"
    } else {
        return None;
    };
    let mut args = FluentArgs::new();
    args.set("provider", provider);
    catalog.text(key, Some(&args)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> LiveEvent {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_deferral_reads_in_each_language_with_its_time_apart() {
        let catalog = Catalog::load(Lang::En).unwrap();
        let e = event(serde_json::json!({
            "type": "deferred", "campaign_id": 1,
            "reason": "Gemini rate limit of the app (all users) reached (60 calls a minute), resumes in 3 s",
            "until": "2026-12-03T10:42:00Z", "at": "2026-12-03T10:40:00Z",
        }));
        let a = line(&e, &HashMap::new(), &catalog).unwrap();
        assert_eq!(a.before, "Paused: Gemini rate limit reached, next try at ");
        assert_eq!(a.until_label.as_deref(), Some("10:42 UTC"));
        assert_eq!(a.tone, "wait");
        let fr = Catalog::load(Lang::Fr).unwrap();
        let a = line(&e, &HashMap::new(), &fr).unwrap();
        assert!(a.before.contains("Gemini"), "{}", a.before);
        assert!(!a.before.contains("rate limit"), "{}", a.before);
    }

    #[test]
    fn known_reasons_are_translated_and_others_kept() {
        let c = Catalog::load(Lang::En).unwrap();
        let r = |s| reason(Some(s), &c);
        assert_eq!(
            r("LinkedIn daily limit of user 42 reached (100 posts a day), resumes 00:00 UTC"),
            "LinkedIn daily limit reached"
        );
        assert_eq!(
            r("image generation: rate limited until 2026-12-04 00:00:00 UTC: quota"),
            "image creation quota used up for today"
        );
        assert_eq!(
            r(
                "LinkedIn reconnect needed for user 4 (revoked); publishing resumes when the owner reconnects"
            ),
            "LinkedIn needs you to reconnect your account"
        );
        assert_eq!(
            r("Gemini blocked the prompt (SAFETY)"),
            "Gemini blocked the prompt (SAFETY)"
        );
    }

    #[test]
    fn every_event_kind_has_its_line_in_both_languages() {
        let names = HashMap::from([(5, "Boulangerie Martin")]);
        for lang in Lang::ALL {
            let c = Catalog::load(lang).unwrap();
            for json in [
                serde_json::json!({"type": "campaign_status", "campaign_id": 1, "status": "completed"}),
                serde_json::json!({"type": "leads_found", "campaign_id": 1, "count": 12}),
                serde_json::json!({"type": "lead_enriched", "campaign_id": 1, "lead_id": 5, "score": 70}),
                serde_json::json!({"type": "lead_enriched", "campaign_id": 1, "lead_id": 6, "score": 70}),
                serde_json::json!({"type": "content_generated", "campaign_id": 1, "lead_id": 5, "content_id": 2, "score": 80}),
                serde_json::json!({"type": "content_generated", "campaign_id": 1, "lead_id": 9, "content_id": 2, "score": 80}),
                serde_json::json!({"type": "published", "campaign_id": 1, "content_id": 2, "post_url": "https://www.linkedin.com/feed/update/urn:li:share:1"}),
                serde_json::json!({"type": "failed", "campaign_id": 1, "lead_id": 5, "reason": "x"}),
                serde_json::json!({"type": "failed", "campaign_id": 1, "lead_id": 8, "reason": "x"}),
                serde_json::json!({"type": "failed", "campaign_id": 1, "content_id": 2, "reason": "x"}),
                serde_json::json!({"type": "failed", "campaign_id": 1, "content_id": 2, "status": "unknown"}),
                serde_json::json!({"type": "deferred", "campaign_id": 1, "reason": "Google Places: retry later: 503"}),
                serde_json::json!({"type": "deferred", "campaign_id": 1}),
            ] {
                let e = event(json.clone());
                assert!(line(&e, &names, &c).is_some(), "{}: {json}", lang.code());
            }
            assert!(
                line(
                    &event(serde_json::json!({"type": "new_kind", "campaign_id": 1})),
                    &names,
                    &c
                )
                .is_none()
            );
        }
    }

    #[test]
    fn a_frame_gives_each_line_its_data_field() {
        assert_eq!(
            frame("update", "<li>a</li>\n<p>b\rc</p>"),
            "event: update\ndata: <li>a</li>\ndata: <p>bc</p>\n\n"
        );
    }

    #[test]
    fn a_user_holds_at_most_the_bound_and_a_closed_stream_frees_its_place() {
        let streams = Arc::new(Streams::default());
        let held: Vec<Slot> = (0..STREAMS_PER_USER)
            .map(|_| streams.acquire(1).unwrap())
            .collect();
        assert!(streams.acquire(1).is_none());
        assert!(streams.acquire(2).is_some(), "another user is not counted");
        drop(held);
        assert!(streams.acquire(1).is_some());
        assert!(streams.open.lock().unwrap().get(&1).is_none());
    }
}
