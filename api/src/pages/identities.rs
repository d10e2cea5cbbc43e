//! Signing in with an OpenID Connect provider ("Continue with Google"), and the profile's
//! list of the account's ways in. The protocol is `crate::oidc`'s; this is the browser's
//! side: the flow's `state`, `nonce` and PKCE verifier kept in the session between the
//! redirect and the callback, and what the callback does with the identity it proved.
//!
//! An identity is (issuer, `sub`). A known one signs in to its account. An unknown one makes
//! an account only if the provider vouches for the e-mail (`email_verified`) and no account
//! has that e-mail: an existing account is never joined on the provider's word. Its owner
//! proves it is hers first, by signing in with her password once (the identity waits in
//! the session meanwhile) or by linking the provider from her profile while signed in.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use shared::db::identities::{self, Claimed};
use shared::db::users;
use tera::Context;

use super::account::{form_token, with_cookie};
use super::i18n::Lang;
use super::{PageCtx, Shown, redirect, safe_next};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::oidc::{Provider, Refusal, Verified};
use crate::state::AppState;

/// The flow in progress, from the redirect to the callback.
const FLOW: &str = "oidc_flow";
/// An identity waiting for its account's owner to prove the account is hers.
const PENDING: &str = "oidc_pending";
/// A provider's authorization codes live minutes; a flow older than this is refused.
const FLOW_TTL_SECS: u64 = 600;
/// How long an identity waits for the password sign-in that links it.
const PENDING_TTL_SECS: u64 = 900;

/// Why a sign-in was refused, as the page says it (`oidc-refused-<kind>`).
pub const REFUSALS: [&str; 9] = [
    "state",
    "cancelled",
    "provider-error",
    "unavailable",
    "exchange",
    "token",
    "unverified",
    "held",
    "no-email",
];

/// What `?identity=` announces on the profile page (`identities-notice-<name>`).
pub const NOTICES: [&str; 3] = ["linked", "unlinked", "last"];

#[derive(Serialize, Deserialize)]
struct Flow {
    provider: String,
    state: String,
    nonce: String,
    verifier: String,
    at: u64,
    next: String,
    /// Set when a signed-in owner links the provider from her profile.
    link_user: Option<i64>,
}

/// An identity proved at the provider whose e-mail is an existing account's.
#[derive(Serialize, Deserialize)]
pub struct PendingLink {
    user_id: i64,
    provider: String,
    issuer: String,
    subject: String,
    email: Option<String>,
    at: u64,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in/oidc/{provider}", web::get().to(start))
        .route("/sign-in/oidc/{provider}/callback", web::get().to(callback))
        .route(
            "/profile/identities/{provider}/link",
            web::post().to(link_start),
        )
        .route("/profile/identities/{id}/unlink", web::post().to(unlink));
}

/// A "Continue with …" button.
#[derive(Debug, Serialize)]
pub struct Button {
    pub name: String,
    pub display_name: String,
    pub href: String,
}

/// The sign-in and sign-up pages' buttons, one per configured provider; `next` is where
/// the sign-in leads.
pub fn buttons(req: &HttpRequest, next: Option<&str>) -> Vec<Button> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Vec::new();
    };
    let next = next.map(|n| safe_next(Some(n))).filter(|n| n != "/");
    state
        .oidc
        .all()
        .iter()
        .map(|p| Button {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
            href: match &next {
                Some(n) => format!("/sign-in/oidc/{}?next={}", p.name, super::encode(n)),
                None => format!("/sign-in/oidc/{}", p.name),
            },
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /sign-in/oidc/{provider}`: to the provider's sign-in, with a fresh flow in the
/// session. A link, not a form: starting a sign-in changes nothing until the callback
/// proves the flow is this browser's.
async fn start(
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    provider: web::Path<String>,
    query: web::Query<StartQuery>,
) -> HttpResponse {
    let Some(provider) = state.oidc.get(&provider) else {
        return ctx.respond(Err(ApiError::NotFound("provider")));
    };
    let next = safe_next(query.next.as_deref());
    ctx.respond(begin(&ctx, provider, &session, next, None).await)
}

/// Remembers a new flow and answers the redirect to the provider.
async fn begin(
    ctx: &PageCtx,
    provider: &Provider,
    session: &Session,
    next: String,
    link_user: Option<i64>,
) -> ApiResult<HttpResponse> {
    let started = match provider.start().await {
        Ok(s) => s,
        Err(refusal) => return Ok(refused(ctx, provider, &refusal_kind(&refusal), &refusal)),
    };
    let flow = Flow {
        provider: provider.name.clone(),
        state: started.state,
        nonce: started.nonce,
        verifier: started.pkce_verifier,
        at: now_secs(),
        next,
        link_user,
    };
    session.insert(FLOW, &flow).map_err(ApiError::internal)?;
    tracing::info!(provider = %provider.name, linking = link_user.is_some(), "oidc sign-in started");
    Ok(redirect(&started.authorize_url))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /sign-in/oidc/{provider}/callback`: the provider sends the browser back here.
async fn callback(
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    provider: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let Some(provider) = state.oidc.get(&provider) else {
        return ctx.respond(Err(ApiError::NotFound("provider")));
    };
    ctx.respond(finish(&ctx, &state, &session, provider, &query).await)
}

async fn finish(
    ctx: &PageCtx,
    state: &AppState,
    session: &Session,
    provider: &Provider,
    query: &CallbackQuery,
) -> ApiResult<HttpResponse> {
    // Single use: whatever happens next, this flow is over.
    let flow: Option<Flow> = session.remove_as(FLOW).and_then(Result::ok);
    let sent_state = query.state.as_deref().unwrap_or("");
    let Some(flow) = flow.filter(|f| {
        f.provider == provider.name
            && auth::same_token(&f.state, sent_state)
            && now_secs().saturating_sub(f.at) <= FLOW_TTL_SECS
    }) else {
        return Ok(refuse(
            ctx,
            provider,
            "state",
            "no flow of this session matches the state",
        ));
    };
    if let Some(error) = query.error.as_deref() {
        let kind = if error == "access_denied" {
            "cancelled"
        } else {
            "provider-error"
        };
        return Ok(refuse(ctx, provider, kind, error));
    }
    let Some(code) = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
    else {
        return Ok(refuse(ctx, provider, "state", "no code"));
    };
    let verified = match provider.finish(code, &flow.verifier, &flow.nonce).await {
        Ok(v) => v,
        Err(refusal) => return Ok(refused(ctx, provider, &refusal_kind(&refusal), &refusal)),
    };
    let claimed = Claimed {
        provider: &provider.name,
        issuer: &verified.issuer,
        subject: &verified.subject,
        email: verified.email.as_deref(),
    };
    if let Some(user_id) = flow.link_user {
        return link_to_signed_in(ctx, state, provider, user_id, &claimed).await;
    }
    if let Some(holder) = identities::holder(&state.db, &verified.issuer, &verified.subject).await?
    {
        return signed_in(state, session, holder, &provider.name, &flow.next).await;
    }
    new_identity(
        ctx, state, session, provider, &verified, &claimed, &flow.next,
    )
    .await
}

/// The profile's "link": the flow was started by this account, which must still be the
/// session's.
async fn link_to_signed_in(
    ctx: &PageCtx,
    state: &AppState,
    provider: &Provider,
    user_id: i64,
    claimed: &Claimed<'_>,
) -> ApiResult<HttpResponse> {
    let user = ctx.user().await?;
    if user.id != user_id {
        return Ok(refuse(
            ctx,
            provider,
            "state",
            "the session's account changed",
        ));
    }
    match identities::link(&state.db, user.id, claimed).await {
        Ok(()) => {
            tracing::info!(user.id = user.id, provider = %provider.name, "oidc identity linked");
            Ok(redirect("/profile?identity=linked#sign-in-ways"))
        }
        Err(shared::Error::Conflict(_)) => Ok(refuse(
            ctx,
            provider,
            "held",
            "the identity signs in to another account",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A fresh session for the identity's account, as a password sign-in makes.
async fn signed_in(
    state: &AppState,
    session: &Session,
    holder: identities::Holder,
    provider: &str,
    next: &str,
) -> ApiResult<HttpResponse> {
    users::record_sign_in(&state.db, holder.user_id).await?;
    auth::begin_session(
        session,
        &state.clock,
        holder.user_id,
        holder.session_version,
    )?;
    tracing::info!(user.id = holder.user_id, provider, "signed in through oidc");
    Ok(redirect(next))
}

/// An identity no account holds: an account whose e-mail it is waits for proof; otherwise
/// a verified e-mail makes a new account.
async fn new_identity(
    ctx: &PageCtx,
    state: &AppState,
    session: &Session,
    provider: &Provider,
    verified: &Verified,
    claimed: &Claimed<'_>,
    next: &str,
) -> ApiResult<HttpResponse> {
    let Some(email) = verified
        .email
        .as_deref()
        .and_then(|e| crate::validation::email_address(e).ok())
    else {
        return Ok(refuse(
            ctx,
            provider,
            "no-email",
            "the ID token has no usable e-mail",
        ));
    };
    if let Some(account) = users::credentials(&state.db, &email).await? {
        return Ok(wait_for_proof(
            ctx,
            session,
            provider,
            account.user_id,
            claimed,
            &email,
        ));
    }
    if !verified.email_verified {
        return Ok(refuse(
            ctx,
            provider,
            "unverified",
            "email_verified is not true",
        ));
    }
    let name = account_name(verified.name.as_deref(), &email);
    match identities::create_account(&state.db, &email, &name, claimed).await {
        Ok(holder) => {
            tracing::info!(user.id = holder.user_id, provider = %provider.name, "account created through oidc");
            if let Some(lang) = Lang::asked_by(ctx.request()) {
                users::set_language(&state.db, holder.user_id, lang.language()).await?;
            }
            signed_in(state, session, holder, &provider.name, next).await
        }
        // Made meanwhile (another tab): the same as an existing account.
        Err(shared::Error::Conflict(_)) => match users::credentials(&state.db, &email).await? {
            Some(account) => Ok(wait_for_proof(
                ctx,
                session,
                provider,
                account.user_id,
                claimed,
                &email,
            )),
            None => Ok(refuse(
                ctx,
                provider,
                "held",
                "the identity was linked meanwhile",
            )),
        },
        Err(e) => Err(e.into()),
    }
}

/// The name a new account gets: the provider's, else the e-mail's local part.
fn account_name(name: Option<&str>, email: &str) -> String {
    let shortened = name.map(|n| n.chars().take(100).collect::<String>());
    shortened
        .and_then(|n| crate::validation::required_text(&n, 100).ok())
        .unwrap_or_else(|| {
            email
                .split('@')
                .next()
                .unwrap_or(email)
                .chars()
                .take(100)
                .collect()
        })
}

/// The identity waits in the session; the page asks for the account's password, whose
/// sign-in then links it ([`link_pending`]).
fn wait_for_proof(
    ctx: &PageCtx,
    session: &Session,
    provider: &Provider,
    user_id: i64,
    claimed: &Claimed<'_>,
    email: &str,
) -> HttpResponse {
    let pending = PendingLink {
        user_id,
        provider: provider.name.clone(),
        issuer: claimed.issuer.to_owned(),
        subject: claimed.subject.to_owned(),
        email: claimed.email.map(str::to_owned),
        at: now_secs(),
    };
    if let Err(e) = session.insert(PENDING, &pending) {
        return ctx.respond(Err(ApiError::internal(e)));
    }
    tracing::warn!(
        provider = %provider.name,
        refusal = "account-exists",
        "oidc sign-in refused: an account has this e-mail; waiting for its password to link"
    );
    let (token, cookie) = form_token(ctx.request());
    let mut context = Context::new();
    context.insert("provider_name", &provider.display_name);
    context.insert("email", email);
    context.insert("form_token", &token);
    let shown = Shown {
        status: Some(StatusCode::CONFLICT),
        ..Shown::default()
    };
    with_cookie(
        ctx.respond(ctx.render("oidc_link.html", context, shown)),
        cookie,
    )
}

/// After a password sign-in as `user_id` (the session is new, `pending` was read from the
/// one before): links the identity waiting for it, if it waited for this very account.
pub async fn link_pending(
    state: &AppState,
    pending: Option<PendingLink>,
    user_id: i64,
) -> ApiResult<()> {
    let Some(p) = pending
        .filter(|p| p.user_id == user_id && now_secs().saturating_sub(p.at) <= PENDING_TTL_SECS)
    else {
        return Ok(());
    };
    let claimed = Claimed {
        provider: &p.provider,
        issuer: &p.issuer,
        subject: &p.subject,
        email: p.email.as_deref(),
    };
    match identities::link(&state.db, user_id, &claimed).await {
        Ok(()) => {
            tracing::info!(user.id = user_id, provider = %p.provider, "oidc identity linked by password");
            Ok(())
        }
        // Linked to another account meanwhile: the password sign-in stands, unlinked.
        Err(shared::Error::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The identity waiting in this session, if any (read before a sign-in renews it).
pub fn pending(session: &Session) -> Option<PendingLink> {
    session.get::<PendingLink>(PENDING).ok().flatten()
}

fn refusal_kind(r: &Refusal) -> String {
    match r {
        Refusal::Unavailable(_) => "unavailable",
        Refusal::Exchange(_) => "exchange",
        Refusal::Token { .. } => "token",
    }
    .to_owned()
}

/// Logs the refusal (its reason, never a token) and shows its page.
fn refused(ctx: &PageCtx, provider: &Provider, kind: &str, refusal: &Refusal) -> HttpResponse {
    let reason = refusal.to_string();
    refuse(ctx, provider, kind, &reason)
}

fn refuse(ctx: &PageCtx, provider: &Provider, kind: &str, reason: &str) -> HttpResponse {
    tracing::warn!(provider = %provider.name, refusal = kind, reason, "oidc sign-in refused");
    let status = match kind {
        "cancelled" => StatusCode::OK,
        "unavailable" => StatusCode::BAD_GATEWAY,
        "token" => StatusCode::UNAUTHORIZED,
        "unverified" | "no-email" => StatusCode::FORBIDDEN,
        "held" => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut context = Context::new();
    context.insert("kind", kind);
    context.insert("provider_name", &provider.display_name);
    let shown = Shown {
        status: Some(status),
        ..Shown::default()
    };
    ctx.respond(ctx.render("oidc_refused.html", context, shown))
}

#[derive(Debug, Deserialize)]
pub struct PostedForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /profile/identities/{provider}/link`: the signed-in owner adds a way in.
async fn link_start(
    ctx: PageCtx,
    state: web::Data<AppState>,
    session: Session,
    provider: web::Path<String>,
    form: web::Form<PostedForm>,
) -> HttpResponse {
    let result = async {
        let user = ctx.user_posting(&form.csrf).await?;
        let provider = state
            .oidc
            .get(&provider)
            .ok_or(ApiError::NotFound("provider"))?;
        begin(&ctx, provider, &session, "/profile".into(), Some(user.id)).await
    }
    .await;
    ctx.respond(result)
}

/// `POST /profile/identities/{id}/unlink`: refused for the account's last way in.
async fn unlink(
    ctx: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<PostedForm>,
) -> HttpResponse {
    let result = async {
        let user = ctx.user_posting(&form.csrf).await?;
        match identities::unlink(&state.db, user.id, *id).await {
            Ok(()) => {
                tracing::info!(user.id = user.id, identity = *id, "oidc identity unlinked");
                Ok(redirect("/profile?identity=unlinked#sign-in-ways"))
            }
            Err(shared::Error::Conflict(_)) => Ok(redirect("/profile?identity=last#sign-in-ways")),
            Err(e) => Err(e.into()),
        }
    }
    .await;
    ctx.respond(result)
}

/// One linked identity as the profile lists it.
#[derive(Debug, Serialize)]
struct IdentityView {
    id: i64,
    provider_name: String,
    email: Option<String>,
}

/// The profile's "ways to sign in" part.
#[derive(Debug, Serialize)]
struct SignInWays {
    has_password: bool,
    identities: Vec<IdentityView>,
    /// Configured providers, each with a "link" button.
    providers: Vec<Button>,
    /// False when removing any one would leave no way in.
    can_unlink: bool,
    notice: Option<&'static str>,
}

/// Adds the "ways to sign in" part to the profile page's context (`sign_in_ways`): shown
/// when a provider is configured or the account holds an identity.
pub async fn add_to_profile(
    context: &mut Context,
    state: &AppState,
    req: &HttpRequest,
    user_id: i64,
) -> ApiResult<()> {
    let (has_password, list) = tokio::try_join!(
        identities::has_password(&state.db, user_id),
        identities::list(&state.db, user_id),
    )?;
    if list.is_empty() && state.oidc.all().is_empty() {
        return Ok(());
    }
    let notice = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "identity")
        .and_then(|(_, v)| NOTICES.iter().copied().find(|n| *n == v));
    let can_unlink = has_password || list.len() > 1;
    let identities = list
        .into_iter()
        .map(|i| IdentityView {
            id: i.id,
            provider_name: state
                .oidc
                .get(&i.provider)
                .map_or_else(|| i.provider.clone(), |p| p.display_name.clone()),
            email: i.email,
        })
        .collect();
    context.insert(
        "sign_in_ways",
        &SignInWays {
            has_password,
            identities,
            providers: buttons(req, None),
            can_unlink,
            notice,
        },
    );
    Ok(())
}

/// The profile's CSP `form-action` origins: LinkedIn's consent (`linkedin`) and the
/// providers' sign-in pages, which the "link" forms are redirected to.
pub fn form_targets(linkedin: Option<String>, state: &AppState) -> Option<String> {
    let mut origins: Vec<String> = linkedin.into_iter().collect();
    for o in state.oidc.known_form_origins() {
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    (!origins.is_empty()).then(|| origins.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::i18n::Catalog;

    #[test]
    fn every_refusal_and_notice_has_its_message() {
        let mut keys: Vec<String> = REFUSALS
            .iter()
            .map(|k| format!("oidc-refused-{k}"))
            .collect();
        keys.extend(NOTICES.iter().map(|n| format!("identities-notice-{n}")));
        for lang in Lang::ALL {
            let have = Catalog::keys(lang);
            for k in &keys {
                assert!(have.contains(k), "{k} missing in {}", lang.code());
            }
        }
    }

    #[test]
    fn a_new_account_is_named_by_the_provider_or_the_address() {
        assert_eq!(account_name(Some("Ana Lima"), "ana@x.example"), "Ana Lima");
        assert_eq!(account_name(None, "ana@x.example"), "ana");
        assert_eq!(account_name(Some("   "), "ana@x.example"), "ana");
        assert_eq!(
            account_name(Some(&"a".repeat(300)), "b@x").chars().count(),
            100
        );
    }
}
