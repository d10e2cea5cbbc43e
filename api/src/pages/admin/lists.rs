//! The jobs of a queue in one state, with filters and paging.

use super::*;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    pub(super) kind: String,
    /// A user id, as typed: checked here so a typo is a message, not an error page.
    #[serde(default)]
    pub(super) user: String,
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    pub(super) cursor: String,
}

impl ListQuery {
    /// The filter, or the message key for a user field that is not a user id.
    pub(super) fn filter(&self) -> Result<JobFilter, &'static str> {
        let user = match self.user.trim() {
            "" => None,
            u => Some(
                u.parse::<i64>()
                    .ok()
                    .filter(|u| *u > 0)
                    .ok_or("admin-filter-user-invalid")?,
            ),
        };
        if self.kind.len() > 100 || self.q.len() > 200 {
            return Err("admin-filter-too-long");
        }
        Ok(JobFilter::new(Some(&self.kind), user, Some(&self.q)))
    }

    /// The filter's part of a URL query (`kind=..&user=..&q=..`, only the fields given),
    /// without the cursor.
    pub(super) fn filter_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("kind", &self.kind), ("user", &self.user), ("q", &self.q)] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        query.finish()
    }

    /// `path` with this filter and, if given, a cursor.
    pub(super) fn url(&self, path: &str, cursor: Option<&str>) -> String {
        let mut query = self.filter_query();
        if let Some(c) = cursor {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str("cursor=");
            query.push_str(&encode(c));
        }
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

#[derive(Debug, Serialize)]
struct JobRow {
    #[serde(flatten)]
    job: JobSummary,
    error: String,
    died: String,
    runs: String,
    enqueued: String,
}

impl From<JobSummary> for JobRow {
    fn from(job: JobSummary) -> Self {
        Self {
            error: jobs::envelope::truncate(job.last_error.as_deref().unwrap_or(""), ERROR_CHARS),
            died: when(job.died_at),
            runs: when(job.run_at),
            enqueued: when(Some(job.enqueued_at)),
            job,
        }
    }
}

/// `/admin/queues/{queue}/dead` (the link the overview's counts use).
pub async fn dead(
    ctx: PageCtx,
    state: web::Data<AppState>,
    queue: web::Path<String>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    ctx.respond(list_page(&ctx, &state, &queue, "dead", &query).await)
}

/// `/admin/queues/{queue}/{state}`: ready, running, scheduled or dead.
pub async fn list(
    ctx: PageCtx,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let (queue, slug) = path.into_inner();
    ctx.respond(list_page(&ctx, &state, &queue, &slug, &query).await)
}

async fn list_page(
    ctx: &PageCtx,
    state: &AppState,
    raw: &str,
    slug: &str,
    query: &ListQuery,
) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let queue = known_queue(state, raw).await?;
    let job_state = service::parse_state(slug).ok_or(ApiError::NotFound("page"))?;
    let sizes = state.queue_admin.sizes(&queue).await?;
    let mut context = Context::new();
    let filter = query.filter();
    let filtered = !matches!(&filter, Ok(f) if f.is_empty());
    match &filter {
        Ok(filter) => {
            let cursor = Some(query.cursor.as_str()).filter(|c| !c.is_empty());
            let page =
                service::list_jobs(state, &queue, job_state, filter, cursor, service::LIST_PAGE)
                    .await?;
            let rows: Vec<JobRow> = page.jobs.into_iter().map(JobRow::from).collect();
            context.insert("jobs", &rows);
            context.insert("next_cursor", &page.next_cursor);
            context.insert("scanned", &page.scanned);
            context.insert("budget_spent", &page.budget_spent);
            context.insert("first_page", &cursor.is_none());
            context.insert("filter_error", &None::<&str>);
        }
        Err(key) => {
            context.insert("jobs", &Vec::<JobRow>::new());
            context.insert("next_cursor", &None::<String>);
            context.insert("scanned", &0);
            context.insert("budget_spent", &false);
            context.insert("first_page", &true);
            context.insert("filter_error", key);
        }
    }
    let counts = [
        ("dead", sizes.dead),
        ("ready", sizes.ready),
        ("running", sizes.in_flight),
        ("scheduled", sizes.scheduled),
    ];
    let here = format!("/admin/queues/{}/{}", queue.as_str(), slug_of(job_state));
    let cursor = Some(query.cursor.as_str()).filter(|c| !c.is_empty());
    let back = query.url(&here, cursor);
    context.insert("queue", queue.as_str());
    context.insert("paused", &sizes.paused);
    context.insert("state", slug_of(job_state));
    context.insert("states", &STATES);
    context.insert("counts", &counts);
    context.insert("filtered", &filtered);
    context.insert("kind", query.kind.trim());
    context.insert("user_filter", query.user.trim());
    context.insert("q", query.q.trim());
    context.insert("first_url", &query.url(&here, None));
    let next_cursor: Option<String> = context
        .get("next_cursor")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    context.insert("next_url", &next_cursor.map(|c| query.url(&here, Some(&c))));
    let bulk = |action: &str| {
        let f = query.filter_query();
        let sep = if f.is_empty() { "" } else { "&" };
        format!(
            "/admin/queues/{}/bulk?action={action}{sep}{f}",
            queue.as_str()
        )
    };
    context.insert("bulk_retry_url", &bulk("retry"));
    context.insert("bulk_discard_url", &bulk("discard"));
    context.insert("job_suffix", &format!("?back={}", encode(&back)));
    context.insert("back", &back);
    context.insert("budget", &jobs::admin::SCAN_BUDGET);
    context.insert("section", "queues");
    render(ctx, &user, "admin_jobs.html", context)
}
