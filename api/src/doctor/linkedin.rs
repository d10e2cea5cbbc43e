//! The LinkedIn app: known to LinkedIn, the redirect URI it must list, the API version.

use shared::Config;
use shared::providers::linkedin::LinkedInClient;
use shared::providers::linkedin_oauth::LinkedInOAuth;

use super::{Check, chain};

const CREDENTIALS_FIX: &str = "set AG_LINKEDIN__CLIENT_ID and AG_LINKEDIN__CLIENT_SECRET to the app's (LinkedIn Developer Portal, the app's Auth tab)";

pub async fn checks(config: &Config) -> Vec<Check> {
    let redirect_uri = config.api.linkedin_redirect_uri();
    let mut out = vec![
        client(config, &redirect_uri).await,
        redirect(config, &redirect_uri),
    ];
    out.push(version(config).await);
    out
}

/// The code exchange with a made-up code: a known app is refused the code, an unknown one
/// (wrong id or secret) is refused itself, `invalid_client`.
async fn client(config: &Config, redirect_uri: &str) -> Check {
    let name = "linkedin app";
    let oauth = match LinkedInOAuth::from_config(&config.linkedin) {
        Ok(Some(o)) => o,
        Ok(None) => {
            return Check::warn(
                name,
                "no LinkedIn app configured: \"connect LinkedIn\" answers 503 and nothing is published",
                CREDENTIALS_FIX,
            );
        }
        Err(e) => return Check::fail(name, chain(&e), CREDENTIALS_FIX),
    };
    match oauth.probe_client(redirect_uri).await {
        Ok((status, error)) if status == 401 || error == "invalid_client" => Check::fail(
            name,
            format!("the token endpoint does not know this app ({status} {error})"),
            CREDENTIALS_FIX,
        ),
        Ok((status, error)) if (400..500).contains(&status) => Check::ok(
            name,
            format!(
                "LinkedIn knows the app: a made-up code is refused with {status} {error}, not invalid_client"
            ),
        ),
        Ok((status, error)) => Check::fail(
            name,
            format!("the token endpoint answered {status} {error} to a made-up code"),
            "check AG_LINKEDIN__TOKEN_URL (https://www.linkedin.com/oauth/v2/accessToken)",
        ),
        Err(e) => Check::fail(
            name,
            format!("the token endpoint: {e}"),
            "check AG_LINKEDIN__TOKEN_URL (https://www.linkedin.com/oauth/v2/accessToken) and the network path",
        ),
    }
}

/// The redirect URI the connect sends, built from `api.public_url` exactly as the api
/// builds it: LinkedIn refuses a connect whose URI the app does not list character for
/// character, so the report shows it to be copied.
fn redirect(config: &Config, redirect_uri: &str) -> Check {
    let name = "linkedin redirect";
    let parsed = url::Url::parse(redirect_uri);
    let loopback = parsed
        .as_ref()
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
    if parsed.is_err() {
        Check::fail(
            name,
            format!("{redirect_uri} is not a URL"),
            "set AG_API__PUBLIC_URL to the https URL browsers reach the dashboard at",
        )
    } else if config.api.is_production() && loopback {
        Check::fail(
            name,
            format!("{redirect_uri} sends members back to their own machine"),
            "set AG_API__PUBLIC_URL to the https URL browsers reach the dashboard at",
        )
    } else if config.api.is_production() && !redirect_uri.starts_with("https://") {
        Check::warn(
            name,
            format!("the connect sends {redirect_uri}, not https"),
            "LinkedIn wants https redirect URLs for a live app: give AG_API__PUBLIC_URL the https URL",
        )
    } else {
        Check::ok(
            name,
            format!(
                "the connect sends {redirect_uri}: the app's Auth tab must list exactly this URL"
            ),
        )
    }
}

/// `LinkedIn-Version` still served: a retired version answers 426 to every `/rest` call.
async fn version(config: &Config) -> Check {
    let name = "linkedin version";
    let v = &config.linkedin.version;
    let fix = format!(
        "set AG_LINKEDIN__VERSION to a version LinkedIn serves (YYYYMM, learn.microsoft.com/linkedin/marketing/versioning); {v} is retired"
    );
    let client = match LinkedInClient::from_config(&config.linkedin) {
        Ok(c) => c,
        Err(e) => return Check::fail(name, e.to_string(), fix),
    };
    match client.version_refused().await {
        Ok(None) => Check::ok(name, format!("LinkedIn-Version {v} is served")),
        Ok(Some(reason)) => Check::fail(name, reason, fix),
        Err(e) => Check::fail(
            name,
            format!("a /rest call with LinkedIn-Version {v}: {e}"),
            "check AG_LINKEDIN__API_BASE_URL (https://api.linkedin.com) and the network path",
        ),
    }
}
