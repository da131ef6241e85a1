//! The sha256 of every inline `<script>` and `<style>` in `index.html` (trunk's module loader,
//! the inlined stylesheet), for the policy's `script-src` and `style-src`. Computed once at build
//! time — they depend on the build, not on the environment — and shipped beside `index.html` as
//! [`FILE`].

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use html5gum::{DefaultEmitter, Token, Tokenizer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file beside `index.html` that holds its hashes.
pub const FILE: &str = "csp-inline.json";

/// The CSP sources (`'sha256-…'`) of a page's inline elements, each once, in page order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineHashes {
    #[serde(rename = "script-src")]
    pub scripts: Vec<String>,
    #[serde(rename = "style-src")]
    pub styles: Vec<String>,
}

impl InlineHashes {
    /// The hashes of `html`'s inline elements: the text of each `<script>` without `src` and of
    /// each `<style>`, as the browser's tokenizer reads it (line breaks normalised to LF, as
    /// the HTML parser's input stage does), hashed as UTF-8.
    pub fn of(html: &str) -> InlineHashes {
        let html = html.replace("\r\n", "\n").replace('\r', "\n");
        let mut hashes = InlineHashes::default();
        // The element being read: whether it is a script (else a style), and its text so far.
        let mut open: Option<(bool, String)> = None;
        // A tokenizer alone cannot know that a <script> start tag makes what follows script
        // data (tree construction tells it): the emitter switches on the tag's name, as a browser
        // does for the head elements of a page like trunk's.
        let mut emitter = DefaultEmitter::default();
        emitter.naively_switch_states(true);
        // The tokenizer's error type is Infallible: every item is a token.
        for token in Tokenizer::new_with_emitter(html.as_str(), emitter).flatten() {
            match token {
                Token::StartTag(tag) => {
                    let script = tag.name.as_slice() == b"script";
                    let inline = !tag.attributes.contains_key(b"src".as_slice());
                    if (script && inline) || tag.name.as_slice() == b"style" {
                        open = Some((script, String::new()));
                    }
                }
                Token::String(text) => {
                    if let Some((_, body)) = &mut open {
                        body.push_str(&String::from_utf8_lossy(&text));
                    }
                }
                Token::EndTag(_) => {
                    if let Some((script, body)) = open.take() {
                        let list = if script {
                            &mut hashes.scripts
                        } else {
                            &mut hashes.styles
                        };
                        let source = source(&body);
                        if !list.contains(&source) {
                            list.push(source);
                        }
                    }
                }
                _ => {}
            }
        }
        hashes
    }
}

/// `'sha256-<base64>'` of `text`.
fn source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp3_specs_example_hash() {
        // CSP Level 3, "script-src" hash example: alert('Hello, world.');
        assert_eq!(
            source("alert('Hello, world.');"),
            "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
        );
    }

    #[test]
    fn scripts_without_src_and_styles_are_hashed_as_the_browser_reads_them() {
        let html = "<!doctype html>\r\n<html><head>\r\n<SCRIPT type=\"module\">\r\n  const a = \"ünï ✓ 𝄞\";\r\n  console.log(a);\r</SCRIPT>\r\n\
            <script src=\"/external-0123456789abcdef.js\"></script>\n\
            <script>window.x = 1 < 2 && \"</scrip\";</script>\n\
            <script type=\"module\" data-x='y'></script>\n\
            <STYLE>\r\n  body::before { content: \"✓\"; }\r</STYLE>\n\
            <stylesheet>not a style element</stylesheet>\n</head><body></body></html>";
        let hashes = InlineHashes::of(html);
        assert_eq!(
            hashes.scripts,
            vec![
                source("\n  const a = \"ünï ✓ 𝄞\";\n  console.log(a);\n"),
                source("window.x = 1 < 2 && \"</scrip\";"),
                source(""),
            ]
        );
        assert_eq!(
            hashes.styles,
            vec![source("\n  body::before { content: \"✓\"; }\n")]
        );
    }

    #[test]
    fn a_repeated_element_is_listed_once() {
        let hashes = InlineHashes::of("<style>a{}</style><style>a{}</style><script>x</script>");
        assert_eq!(hashes.styles.len(), 1);
        assert_eq!(hashes.scripts, vec![source("x")]);
    }
}
