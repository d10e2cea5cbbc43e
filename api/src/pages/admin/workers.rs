//! The live worker processes and what each is running.

use super::*;

pub async fn workers(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    ctx.respond(workers_page(&ctx, &state).await)
}

#[derive(Debug, Serialize)]
struct WorkerRow {
    id: String,
    host: String,
    pid: u32,
    queues: Vec<service::WorkerQueue>,
    jobs: Vec<(service::BusyJob, String)>,
    started: String,
    beat_age: String,
}

async fn workers_page(ctx: &PageCtx, state: &AppState) -> ApiResult<HttpResponse> {
    let user = admin(ctx).await?;
    let rows: Vec<WorkerRow> = service::workers_of(state)
        .await?
        .into_iter()
        .map(|w| WorkerRow {
            jobs: w
                .jobs
                .into_iter()
                .map(|j| {
                    let runtime = duration(j.runtime_ms);
                    (j, runtime)
                })
                .collect(),
            started: when(Some(w.started_at)),
            beat_age: duration(w.beat_age_ms),
            id: w.id,
            host: w.host,
            pid: w.pid,
            queues: w.queues,
        })
        .collect();
    let mut context = Context::new();
    context.insert("workers", &rows);
    context.insert("section", "workers");
    render(ctx, &user, "admin_workers.html", context)
}
