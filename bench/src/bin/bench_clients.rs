//! What our provider clients cost per call, without the providers' own latency: starts the
//! sandbox in-process with `Latency::None` and times 1,000 calls of each client, printing
//! p50/p99. Run it on a quiet machine (numbers vary with load):
//! `cargo run -p bench --release --bin bench-clients [calls]`.

use std::future::Future;
use std::time::{Duration, Instant};

use bench::report::{Align, quantile, table};
use shared::providers::gemini::GeminiClient;
use shared::providers::images::ImageClient;
use shared::providers::linkedin::{LinkedInClient, NewPost};
use shared::providers::linkedin_oauth::{LinkedInConnect, LinkedInOAuth};
use shared::providers::places::{PlaceQuery, PlacesClient};

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let calls: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000);
    let sandbox = sandbox::Sandbox::start(
        "127.0.0.1:0".parse()?,
        sandbox::Options {
            latency: sandbox::Latency::None,
            linkedin_daily_member: u32::MAX,
            linkedin_daily_app: u32::MAX,
            // Post analytics are measured too: the app is approved for them.
            linkedin_products: sandbox::LINKEDIN_PRODUCTS
                .map(|(name, _)| name.to_owned())
                .to_vec(),
            ..Default::default()
        },
    )
    .await?;
    let url = sandbox.url();
    let mut config = shared::Config::default();
    let google = &mut config.providers.google;
    google.places_base_url = format!("{url}/places");
    google.gemini_base_url = format!("{url}/gemini");
    let li = &mut config.linkedin;
    li.client_id = Some("sandbox-client-id".into());
    li.client_secret = Some("sandbox-client-secret".into());
    li.authorize_url = format!("{url}/linkedin-www/oauth/v2/authorization");
    li.token_url = format!("{url}/linkedin-www/oauth/v2/accessToken");
    li.userinfo_url = format!("{url}/linkedin-api/v2/userinfo");
    li.api_base_url = format!("{url}/linkedin-api");
    li.analytics = true;

    let places = PlacesClient::from_config(&config.providers.google)?;
    let gemini = GeminiClient::from_config(&config.providers.google)?;
    let images = ImageClient::from_config(&config.providers.google)?;
    let linkedin = LinkedInClient::from_config(&config.linkedin)?;
    let (token, member) = connect(&config.linkedin, &url).await?;
    let query = PlaceQuery {
        text_query: "dentists in Guelph, Ontario".into(),
        ..Default::default()
    };
    let post_urn = linkedin
        .create_post(&token, &post(&member, "the analytics target"))
        .await?;

    let mut rows = Vec::new();
    rows.push(time("places page", calls, |_| places.page(&query, None)).await?);
    rows.push(
        time("gemini text", calls, |_| {
            gemini.write_post("You write posts.", "A dentist")
        })
        .await?,
    );
    rows.push(time("image (gemini)", calls, |_| images.generate("a clinic")).await?);
    rows.push(time("userinfo", calls, |_| linkedin.userinfo(&token)).await?);
    rows.push(
        time("image init", calls, |_| {
            linkedin.init_image_upload(&token, &member)
        })
        .await?,
    );
    let texts: Vec<String> = (0..calls)
        .map(|i| format!("Post number {i} (timed)"))
        .collect();
    rows.push(
        time("post", calls, |i| {
            let p = post(&member, &texts[i]);
            let (l, t) = (&linkedin, &token);
            async move { l.create_post(t, &p).await }
        })
        .await?,
    );
    rows.push(
        time("analytics (4 calls)", calls, |_| {
            linkedin.post_stats(&token, &post_urn)
        })
        .await?,
    );
    sandbox.stop().await;

    println!("{calls} sequential calls per client, sandbox in-process, no added latency");
    println!(
        "{}",
        table(
            &["call", "calls", "p50 ms", "p99 ms", "max ms"],
            &[
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right
            ],
            &rows
        )
    );
    Ok(())
}

fn post<'a>(member: &'a str, text: &'a str) -> NewPost<'a> {
    NewPost {
        author_urn: member,
        commentary: text,
        image_urn: None,
        image_alt_text: None,
    }
}

/// Times `calls` sequential calls; any failure stops the measurement.
async fn time<'a, F, Fut, T, E>(
    name: &str,
    calls: usize,
    mut call: F,
) -> Result<Vec<String>, Failure>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, E>> + 'a,
    E: std::error::Error + 'static,
{
    let mut ms = Vec::with_capacity(calls);
    for i in 0..calls {
        let started = Instant::now();
        call(i).await.map_err(|e| format!("{name}: {e}"))?;
        ms.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    ms.sort_by(f64::total_cmp);
    let q = |p| quantile(&ms, p).map_or("-".to_owned(), |v| format!("{v:.2}"));
    Ok(vec![
        name.to_owned(),
        calls.to_string(),
        q(0.5),
        q(0.99),
        q(1.0),
    ])
}

/// A member's access token and URN through the real OAuth flow (`?auto=allow`).
async fn connect(
    config: &shared::config::LinkedInConfig,
    url: &str,
) -> Result<(String, String), Failure> {
    let oauth = LinkedInOAuth::from_config(config)?.ok_or("no LinkedIn app configured")?;
    let redirect = format!("{url}/callback");
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()?;
    let answer = browser
        .get(format!(
            "{}&auto=allow",
            oauth.authorize_url("latency", &redirect)
        ))
        .send()
        .await?;
    let location = answer
        .headers()
        .get("location")
        .ok_or("no redirect from the consent page")?
        .to_str()?;
    let code = url::Url::parse(location)?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or("no code in the redirect")?;
    let grant = oauth.exchange_code(&code, &redirect).await?;
    Ok((grant.access_token, grant.member_urn))
}
