//! A post as its platform will show it, before it goes out: who posts it (her LinkedIn
//! name and photo, her initials without a photo), the first lines up to where the feed
//! cuts with "…see more", the picture. The gallery and the schedule show it; each platform
//! has its own cut, and `platform` says which one a preview is for.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use shared::db::profiles;

use super::PageCtx;
use crate::state::AppState;

/// LinkedIn's feed shows about 210 characters, three lines, of a post with a picture
/// before its "…see more" (the same on a phone and a desktop since 2024; a text-only post
/// shows more on a desktop). The preview takes the shorter: what most readers see.
const LINKEDIN_CHARS: usize = 210;
const LINKEDIN_LINES: usize = 3;

/// Where a post's text is cut in the feed: what shows, and what "…see more" opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cut {
    pub shown: String,
    /// Empty when the whole text shows.
    pub rest: String,
}

/// The cut of `text` on LinkedIn: at most three lines and 210 characters, ended at a space
/// when there is one in the last words, as LinkedIn does not split a word.
pub fn linkedin_cut(text: &str) -> Cut {
    cut(text, LINKEDIN_CHARS, LINKEDIN_LINES)
}

fn cut(text: &str, max_chars: usize, max_lines: usize) -> Cut {
    let text = text.trim_end();
    let mut end = text.len();
    // The end of the line `max_lines`.
    if let Some((i, _)) = text.match_indices('\n').nth(max_lines.saturating_sub(1)) {
        end = i;
    }
    if let Some((i, _)) = text.char_indices().nth(max_chars) {
        end = end.min(i);
    }
    if end >= text.len() {
        return Cut {
            shown: text.to_owned(),
            rest: String::new(),
        };
    }
    // Back to the last space in the last 30 characters, if any: a word is not split.
    let head = &text[..end];
    if !text[end..].starts_with(char::is_whitespace)
        && let Some(space) = head.rfind(char::is_whitespace)
        && head[space..].chars().count() <= 30
    {
        end = space;
    }
    Cut {
        shown: text[..end].trim_end().to_owned(),
        rest: text[end..].trim_start().to_owned(),
    }
}

/// One post's preview on one platform.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    /// Which platform's look: `linkedin`.
    pub platform: &'static str,
    pub cut: Cut,
    pub image_url: Option<String>,
}

impl Preview {
    /// On LinkedIn: the text as the publishing job posts it (the hashtags it lacks at the
    /// end), cut as the feed cuts it.
    pub fn linkedin(text: &str, hashtags: &[String], image_url: Option<String>) -> Self {
        Self {
            platform: "linkedin",
            cut: linkedin_cut(&shared::providers::linkedin::commentary(text, hashtags)),
            image_url,
        }
    }
}

/// "CM" for "Claire Martin", "JF" for "Jean-Baptiste de La Fontaine": the first letters of
/// the first and last words, for an avatar without a photo.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let first = words.first().and_then(|w| w.chars().next());
    let last = words
        .last()
        .filter(|_| words.len() > 1)
        .and_then(|w| w.chars().next());
    first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Who the previews show as the author.
#[derive(Debug, Clone, Serialize)]
pub struct Author {
    /// Her LinkedIn name; `None` until she connects (the preview says "you").
    pub name: Option<String>,
    pub initials: String,
    /// Our copy of her LinkedIn photo, when LinkedIn gave one.
    pub picture_url: Option<String>,
}

pub async fn author(state: &AppState, user_id: i64) -> Result<Author, shared::Error> {
    let found = profiles::author(&state.db, user_id).await?;
    Ok(Author {
        initials: found.name.as_deref().map(initials).unwrap_or_default(),
        picture_url: found
            .has_picture
            .then(|| "/profile/linkedin-picture".to_owned()),
        name: found.name,
    })
}

/// `GET /profile/linkedin-picture`: the connected member's photo, to the owner only.
/// Served from our copy (see the migration): the pages' policy allows images from
/// themselves only, and her browser does not call LinkedIn's media host.
pub async fn picture(ctx: PageCtx, state: web::Data<AppState>) -> HttpResponse {
    let shown = async {
        let user = ctx.user().await?;
        let found = profiles::member_picture(&state.db, user.id).await?;
        Ok::<_, crate::error::ApiError>(match found {
            Some((bytes, kind)) => HttpResponse::Ok()
                .content_type(kind)
                .insert_header(("cache-control", "private, max-age=3600"))
                .insert_header(("x-content-type-options", "nosniff"))
                .body(bytes),
            None => HttpResponse::NotFound().finish(),
        })
    };
    ctx.respond(shown.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_post_shows_whole() {
        let c = linkedin_cut("Fresh bread every morning.\n\n#Lyon");
        assert_eq!(c.shown, "Fresh bread every morning.\n\n#Lyon");
        assert_eq!(c.rest, "");
    }

    #[test]
    fn a_long_post_is_cut_before_a_word_near_210_characters() {
        let text = "word ".repeat(60);
        let c = linkedin_cut(&text);
        assert!(c.shown.chars().count() <= 210, "{}", c.shown.len());
        assert!(c.shown.chars().count() >= 200);
        assert!(c.shown.ends_with("word"));
        assert_eq!(format!("{} {}", c.shown, c.rest), text.trim_end());
    }

    #[test]
    fn the_fourth_line_goes_behind_see_more() {
        let c = linkedin_cut("one\ntwo\nthree\nfour\nfive");
        assert_eq!(c.shown, "one\ntwo\nthree");
        assert_eq!(c.rest, "four\nfive");
    }

    #[test]
    fn accents_are_counted_as_characters_not_bytes() {
        let text = "é".repeat(300);
        let c = linkedin_cut(&text);
        assert_eq!(c.shown.chars().count(), 210);
        assert_eq!(c.rest.chars().count(), 90);
    }

    #[test]
    fn initials_of_first_and_last_words() {
        assert_eq!(initials("Claire Martin"), "CM");
        assert_eq!(initials("Jean-Baptiste de La Fontaine"), "JF");
        assert_eq!(initials("amélie"), "A");
        assert_eq!(initials(""), "");
    }
}
