//! What each mail says, in the owner's language (`users.language`: the one her browser
//! asked for when she signed up, or the one she switched to since; French for an account
//! that has none, as the pages do). The text is made when the mail is sent, from the rows as they
//! are then: a notice about posts waiting says how many wait now, and one whose cause went
//! away (the posts were approved, LinkedIn reconnected) is not sent at all.
//!
//! The words live here rather than in the pages' Fluent catalogs: the workers send mail,
//! and they carry no templates.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sqlx::{PgPool, Row};

use super::MailKind;
use crate::db::password_resets;
use crate::error::Error;

/// A grant expiring within this is worth a notice.
pub const EXPIRY_NOTICE_DAYS: i64 = 7;

/// What the mail job does with a row.
#[derive(Debug, PartialEq, Eq)]
pub enum Prepared {
    Send {
        to: String,
        subject: String,
        body: String,
    },
    /// Nothing to send (said why, for the row's outcome).
    Skip(&'static str),
    /// Sent already (a job delivered again), or the row is gone with its account.
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Fr,
    En,
}

/// Reads the mail's row and what it is about, and words it. A reset is given its link's
/// token here, so the token never exists before the mail that carries it.
pub async fn prepare(db: &PgPool, mail_id: i64, public_url: &str) -> Result<Prepared, Error> {
    // A reset asked for by address: whether an account has it is found out here.
    if password_resets::look_up(db, mail_id).await? == password_resets::Lookup::NoAccount {
        return Ok(Prepared::Skip(password_resets::NO_ACCOUNT));
    }
    let row = sqlx::query(
        "SELECT m.kind, m.user_id, m.campaign_id, m.subject_id, m.sent_at IS NOT NULL AS sent,
                u.email, u.name, u.language, u.notices_off,
                c.name AS campaign_name, c.error_details->>'campaign' AS campaign_reason
         FROM mails m JOIN users u ON u.id = m.user_id
         LEFT JOIN campaigns c ON c.id = m.campaign_id
         WHERE m.id = $1",
    )
    .bind(mail_id)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(Prepared::Done);
    };
    if row.try_get::<bool, _>("sent")? {
        return Ok(Prepared::Done);
    }
    let kind_text: String = row.try_get("kind")?;
    let kind = MailKind::parse(&kind_text)
        .ok_or_else(|| Error::Invalid(format!("unknown mail kind {kind_text:?}")))?;
    let off: Vec<String> = row.try_get("notices_off")?;
    if kind.is_notice() && off.iter().any(|k| k == kind.as_str()) {
        return Ok(Prepared::Skip("the owner turned this notice off"));
    }
    let lang = match row.try_get::<Option<String>, _>("language")?.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Fr,
    };
    let to: String = row.try_get("email")?;
    let name: String = row.try_get("name")?;
    let campaign_id: Option<i64> = row.try_get("campaign_id")?;
    let campaign: String = row
        .try_get::<Option<String>, _>("campaign_name")?
        .unwrap_or_default();
    let base = public_url.trim_end_matches('/');
    let user_id: i64 = row.try_get("user_id")?;
    let words = match kind {
        MailKind::PasswordReset => {
            let reset: i64 = row
                .try_get::<Option<i64>, _>("subject_id")?
                .ok_or_else(|| Error::Invalid("a reset mail without its reset".into()))?;
            let token = new_token();
            let Some(expires) = password_resets::issue_token(db, reset, &token).await? else {
                return Ok(Prepared::Skip(
                    "the reset was used or expired before it was sent",
                ));
            };
            password_reset(
                lang,
                &format!("{base}/reset-password?token={token}"),
                expires,
            )
        }
        MailKind::AccountExists => account_exists(lang, base),
        MailKind::ApprovalsWaiting => {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM contents WHERE campaign_id = $1 AND status = 'pending'",
            )
            .bind(campaign_id)
            .fetch_one(db)
            .await?;
            if waiting == 0 {
                return Ok(Prepared::Skip("no post waits for approval any more"));
            }
            approvals_waiting(lang, base, &campaign, waiting)
        }
        MailKind::LinkedInReconnect => {
            let grant = sqlx::query(
                "SELECT linkedin_connected, linkedin_reconnect_needed, linkedin_token_expires_at
                 FROM user_profiles WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_optional(db)
            .await?;
            let Some(grant) = grant else {
                return Ok(Prepared::Skip("no profile"));
            };
            let needed: bool = grant.try_get("linkedin_reconnect_needed")?;
            let expires: Option<DateTime<Utc>> = grant.try_get("linkedin_token_expires_at")?;
            let soon = expires.filter(|e| *e < Utc::now() + Duration::days(EXPIRY_NOTICE_DAYS));
            if !grant.try_get::<bool, _>("linkedin_connected")? || !(needed || soon.is_some()) {
                return Ok(Prepared::Skip(
                    "LinkedIn needs nothing from the owner any more",
                ));
            }
            linkedin(lang, base, if needed { None } else { soon })
        }
        MailKind::CampaignError => {
            let reason: String = row
                .try_get::<Option<String>, _>("campaign_reason")?
                .unwrap_or_default();
            campaign_error(lang, base, campaign_id.unwrap_or(0), &campaign, &reason)
        }
        MailKind::PublicationUnknown => {
            publication_unknown(lang, base, campaign_id.unwrap_or(0), &campaign)
        }
    };
    let (subject, text) = words;
    let greeting = match lang {
        Lang::Fr => format!("Bonjour {name},"),
        Lang::En => format!("Hello {name},"),
    };
    let footer = if kind.is_notice() {
        match lang {
            Lang::Fr => format!(
                "\n\n--\nVous recevez cet avis parce que votre compte AstroGrowth y est abonné. \
                 Pour ne plus le recevoir : {base}/profile#notices"
            ),
            Lang::En => format!(
                "\n\n--\nYou get this notice because your AstroGrowth account is subscribed to it. \
                 To stop it: {base}/profile#notices"
            ),
        }
    } else {
        String::new()
    };
    Ok(Prepared::Send {
        to,
        subject,
        body: format!("{greeting}\n\n{text}{footer}\n"),
    })
}

/// 256 random bits, URL-safe: cannot be guessed, fits a link unescaped.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn password_reset(lang: Lang, link: &str, expires: DateTime<Utc>) -> (String, String) {
    // Rounded up: a link made a second ago reads "30 minutes", not 29.
    let minutes = ((expires - Utc::now()).num_seconds() + 59)
        .div_euclid(60)
        .max(1);
    match lang {
        Lang::Fr => (
            "Choisir un nouveau mot de passe AstroGrowth".to_owned(),
            format!(
                "Quelqu'un (vous, sans doute) a demandé à changer le mot de passe de votre compte \
                 AstroGrowth. Ce lien permet d'en choisir un nouveau ; il sert une seule fois et \
                 pendant {minutes} minutes :\n\n{link}\n\nChoisir un nouveau mot de passe \
                 déconnecte tous vos appareils.\n\nSi vous n'avez rien demandé, ignorez ce \
                 message : votre mot de passe ne change pas."
            ),
        ),
        Lang::En => (
            "Choose a new AstroGrowth password".to_owned(),
            format!(
                "Someone (you, probably) asked to change the password of your AstroGrowth \
                 account. This link lets you choose a new one; it works once, for {minutes} \
                 minutes:\n\n{link}\n\nChoosing a new password signs you out on every \
                 device.\n\nIf you did not ask, ignore this message: your password stays \
                 as it is."
            ),
        ),
    }
}

fn account_exists(lang: Lang, base: &str) -> (String, String) {
    match lang {
        Lang::Fr => (
            "Vous avez déjà un compte AstroGrowth".to_owned(),
            format!(
                "Quelqu'un a voulu créer un compte AstroGrowth avec votre adresse, qui en a déjà \
                 un. Rien n'a été changé.\n\nPour vous connecter : {base}/sign-in\nMot de passe \
                 oublié : {base}/forgot-password\n\nSi ce n'était pas vous, vous pouvez ignorer \
                 ce message."
            ),
        ),
        Lang::En => (
            "You already have an AstroGrowth account".to_owned(),
            format!(
                "Someone tried to create an AstroGrowth account with your address, which \
                 already has one. Nothing was changed.\n\nSign in: {base}/sign-in\nForgot your \
                 password: {base}/forgot-password\n\nIf it was not you, you can ignore this \
                 message."
            ),
        ),
    }
}

fn approvals_waiting(lang: Lang, base: &str, campaign: &str, n: i64) -> (String, String) {
    match lang {
        Lang::Fr => (
            format!("{n} publication(s) attendent votre accord : {campaign}"),
            format!(
                "La campagne « {campaign} » a {n} publication(s) qui attendent votre accord \
                 avant de partir sur LinkedIn.\n\nLes relire : {base}/contents"
            ),
        ),
        Lang::En => (
            format!("{n} post(s) wait for your approval: {campaign}"),
            format!(
                "The campaign \"{campaign}\" has {n} post(s) waiting for your approval before \
                 they go to LinkedIn.\n\nReview them: {base}/contents"
            ),
        ),
    }
}

fn linkedin(lang: Lang, base: &str, expires: Option<DateTime<Utc>>) -> (String, String) {
    let date = expires.map(|e| e.format("%Y-%m-%d").to_string());
    match (lang, date) {
        (Lang::Fr, None) => (
            "Reconnectez LinkedIn à AstroGrowth".to_owned(),
            format!(
                "LinkedIn n'accepte plus l'accès que vous aviez donné à AstroGrowth : vos \
                 publications approuvées attendent. Reconnectez votre compte et elles \
                 partiront.\n\nReconnecter : {base}/profile"
            ),
        ),
        (Lang::Fr, Some(date)) => (
            "Votre connexion LinkedIn expire bientôt".to_owned(),
            format!(
                "L'accès que vous avez donné à AstroGrowth sur LinkedIn expire le {date}. \
                 Reconnectez votre compte avant cette date pour que vos publications \
                 continuent de partir.\n\nReconnecter : {base}/profile"
            ),
        ),
        (Lang::En, None) => (
            "Reconnect LinkedIn to AstroGrowth".to_owned(),
            format!(
                "LinkedIn no longer accepts the access you gave AstroGrowth: your approved \
                 posts are waiting. Reconnect your account and they will go out.\n\n\
                 Reconnect: {base}/profile"
            ),
        ),
        (Lang::En, Some(date)) => (
            "Your LinkedIn connection expires soon".to_owned(),
            format!(
                "The access you gave AstroGrowth on LinkedIn expires on {date}. Reconnect \
                 your account before then so your posts keep going out.\n\nReconnect: \
                 {base}/profile"
            ),
        ),
    }
}

fn campaign_error(
    lang: Lang,
    base: &str,
    id: i64,
    campaign: &str,
    reason: &str,
) -> (String, String) {
    match lang {
        Lang::Fr => (
            format!("La campagne « {campaign} » s'est arrêtée"),
            format!(
                "La campagne « {campaign} » s'est arrêtée sur une erreur.\n\nLa raison : \
                 {reason}\n\nVous pouvez la relancer depuis sa page : {base}/campaigns/{id}"
            ),
        ),
        Lang::En => (
            format!("The campaign \"{campaign}\" stopped"),
            format!(
                "The campaign \"{campaign}\" stopped with an error.\n\nThe reason: {reason}\n\n\
                 You can launch it again from its page: {base}/campaigns/{id}"
            ),
        ),
    }
}

fn publication_unknown(lang: Lang, base: &str, id: i64, campaign: &str) -> (String, String) {
    match lang {
        Lang::Fr => (
            "Une publication LinkedIn à vérifier".to_owned(),
            format!(
                "LinkedIn n'a pas dit si une publication de la campagne « {campaign} » est \
                 partie. Nous ne la renvoyons pas à l'aveugle, pour ne pas la publier deux \
                 fois : regardez votre page LinkedIn, puis dites-nous si elle y est.\n\n\
                 La campagne : {base}/campaigns/{id}"
            ),
        ),
        Lang::En => (
            "A LinkedIn post to check".to_owned(),
            format!(
                "LinkedIn did not say whether a post of the campaign \"{campaign}\" went out. \
                 We do not send it again blindly, so it is never posted twice: check your \
                 LinkedIn page, then tell us whether it is there.\n\nThe campaign: \
                 {base}/campaigns/{id}"
            ),
        ),
    }
}
