//! One pass over a page's HTML, keeping what contact extraction needs: links, JSON-LD
//! blocks and the text a visitor reads.
//!
//! The page is hostile input, so reading it must cost time in proportion to its size.
//! html5ever's tokenizer reads markup the way browsers do (entities, comments, attribute
//! quoting, the raw text of `script` and `style`) in one pass. Its tree builder does
//! not: for each start tag it searches the stack of open elements, so a page of 350,000
//! nested `<div>`s costs about 10^10 steps, and html5ever sets no depth limit. Nothing
//! here needs the tree's shape, so no tree is built.
//!
//! The tokenizer still compares each attribute of a tag with the tag's earlier ones; a
//! tag with 200,000 attributes is quadratic inside it. The input is therefore fed in
//! small slices with the deadline checked between them: a page built to be slow is
//! given up, at most one slice past its deadline.

use std::cell::RefCell;
use std::time::Instant;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// What a page shows and links to, in document order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    pub links: Vec<Link>,
    /// The text of each `<script type="application/ld+json">`.
    pub json_ld: Vec<String>,
    /// Text outside `script`, `style`, `noscript` and `template`, with a space at each
    /// tag so words of adjacent elements stay apart.
    pub text: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    /// The words a visitor clicks.
    pub text: String,
}

/// The page was not read by its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfTime;

/// Small enough that the slowest slice (attributes compared within one huge tag) takes
/// milliseconds, large enough that the per-slice cost does not show.
const SLICE_BYTES: usize = 4 * 1024;

/// Reads `html` in one pass; `None` is no deadline (the caller owns the thread's time).
pub fn read(html: &str, deadline: Option<Instant>) -> Result<Page, OutOfTime> {
    let tokenizer = Tokenizer::new(Reader::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    let mut start = 0;
    while start < html.len() {
        let mut end = (start + SLICE_BYTES).min(html.len());
        while !html.is_char_boundary(end) {
            end += 1;
        }
        input.push_back(StrTendril::from_slice(&html[start..end]));
        // The reader never asks to stop for a script, so each call takes all the input.
        let _ = tokenizer.feed(&input);
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(OutOfTime);
        }
        start = end;
    }
    tokenizer.end();
    Ok(tokenizer.sink.state.take().page)
}

/// The tokenizer's consumer. `TokenSink` takes `&self`, hence the cell.
#[derive(Default)]
struct Reader {
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    page: Page,
    /// Inside an element whose content the tokenizer hands over as raw text, until its
    /// end tag.
    raw: Option<Raw>,
    /// Open `<template>`s: their content is not shown.
    templates: usize,
    /// The link being read: its text gathers until `</a>` or the next `<a>`.
    link: Option<Link>,
}

enum Raw {
    /// `script`, `style`, `noscript`: not shown.
    Hidden,
    /// JSON-LD being gathered.
    JsonLd(String),
    /// `title`, `textarea`, `xmp`...: shown as text.
    Shown,
}

impl TokenSink for Reader {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut state = self.state.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                state.boundary();
                match tag.kind {
                    TagKind::StartTag => return state.start(tag),
                    TagKind::EndTag => state.end(&tag),
                }
            }
            Token::CharacterTokens(text) => state.text(&text),
            Token::CommentToken(_) => state.boundary(),
            Token::EOFToken => state.finish(),
            Token::DoctypeToken(_) | Token::NullCharacterToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

impl State {
    /// Tells the tokenizer how to read the element's content, as the tree builder would
    /// (with scripting on, as in a visitor's browser: `noscript` is raw text).
    fn start(&mut self, tag: Tag) -> TokenSinkResult<()> {
        let (raw, kind) = match &*tag.name {
            "a" => {
                self.end_link();
                let href = tag.attrs.iter().find(|a| &*a.name.local == "href");
                self.link = href.map(|a| Link {
                    href: a.value.to_string(),
                    text: String::new(),
                });
                return TokenSinkResult::Continue;
            }
            "template" => {
                self.templates += 1;
                return TokenSinkResult::Continue;
            }
            "plaintext" => {
                self.raw = Some(Raw::Shown);
                return TokenSinkResult::Plaintext;
            }
            "script" => {
                let json_ld = tag.attrs.iter().any(|a| {
                    &*a.name.local == "type"
                        && a.value.trim().eq_ignore_ascii_case("application/ld+json")
                });
                let raw = if json_ld {
                    Raw::JsonLd(String::new())
                } else {
                    Raw::Hidden
                };
                (raw, RawKind::ScriptData)
            }
            "style" | "noscript" => (Raw::Hidden, RawKind::Rawtext),
            "xmp" | "iframe" | "noembed" | "noframes" => (Raw::Shown, RawKind::Rawtext),
            "title" | "textarea" => (Raw::Shown, RawKind::Rcdata),
            _ => return TokenSinkResult::Continue,
        };
        self.raw = Some(raw);
        TokenSinkResult::RawData(kind)
    }

    fn end(&mut self, tag: &Tag) {
        // In raw text the tokenizer emits only the end tag that closes it.
        if let Some(raw) = self.raw.take() {
            if let Raw::JsonLd(json) = raw {
                self.page.json_ld.push(json);
            }
            return;
        }
        match &*tag.name {
            "a" => self.end_link(),
            "template" => self.templates = self.templates.saturating_sub(1),
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        match &mut self.raw {
            Some(Raw::Hidden) => return,
            Some(Raw::JsonLd(json)) => {
                json.push_str(text);
                return;
            }
            Some(Raw::Shown) | None => {}
        }
        if self.templates > 0 {
            return;
        }
        self.page.text.push_str(text);
        if let Some(link) = &mut self.link {
            link.text.push_str(text);
        }
    }

    fn boundary(&mut self) {
        if !self.page.text.is_empty() && !self.page.text.ends_with(' ') {
            self.page.text.push(' ');
        }
    }

    fn end_link(&mut self) {
        if let Some(link) = self.link.take() {
            self.page.links.push(link);
        }
    }

    /// An unclosed link or script at the end of the page still counts, as in a browser.
    fn finish(&mut self) {
        if let Some(Raw::JsonLd(json)) = self.raw.take() {
            self.page.json_ld.push(json);
        }
        self.end_link();
        self.boundary();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> Page {
        read(html, None).unwrap()
    }

    #[test]
    fn text_links_and_json_ld_are_read_as_a_browser_shows_them() {
        let p = page(
            r#"<title>Au Fournil</title><style>p{color:red}</style><p>Hello<b>wor</b>ld &amp;
            friends</p><a href="/contact?x=1&amp;y=2">Contact<span>ez</span>-nous</a>
            <script>var a = "</p><a href='/x'>";</script><noscript>enable JS</noscript>
            <template><p>hidden</p></template><!-- a comment -->after
            <script type="application/LD+JSON ">{"email":"a@b.fr"}</script><a href=/last>last"#,
        );
        assert_eq!(
            p.links,
            vec![
                Link {
                    href: "/contact?x=1&y=2".into(),
                    text: "Contactez-nous".into()
                },
                Link {
                    href: "/last".into(),
                    text: "last".into()
                },
            ]
        );
        assert_eq!(p.json_ld, vec![r#"{"email":"a@b.fr"}"#]);
        let words: Vec<&str> = p.text.split_whitespace().collect();
        assert_eq!(
            words,
            vec![
                "Au", "Fournil", "Hello", "wor", "ld", "&", "friends", "Contact", "ez", "-nous",
                "after", "last"
            ]
        );
    }

    #[test]
    fn a_page_past_its_deadline_is_given_up() {
        let html = "<p>a</p>".repeat(10_000);
        assert_eq!(read(&html, Some(Instant::now())), Err(OutOfTime));
        assert!(read(&html, None).is_ok());
    }
}
