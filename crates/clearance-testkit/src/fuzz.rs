//! Fuzzing on stable Rust with `proptest`: input generators that get deep (arbitrary text and
//! bytes, and token-level mutations of a valid input), and the case count each target runs.
//!
//! Each target runs [`cases`] cases: proptest's default (256) in the ordinary `cargo test`, and
//! as many as `CLEARANCE_FUZZ_CASES` says under `scripts/fuzz` (which spreads its total over the
//! targets). A target reports what it ran with [`report`], which `scripts/fuzz` sums.
//!
//! [`app::App`] serves the HTTP targets: the demo behind the real router, called in-process.

pub mod app;
mod multipart;
mod uri;

pub use multipart::{Upload, multipart};
pub use uri::{fuzzed_value, percent_encoded, query, with_query};

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The environment variable `scripts/fuzz` sets: cases per target.
pub const CASES_VAR: &str = "CLEARANCE_FUZZ_CASES";

/// Cases per target: `CLEARANCE_FUZZ_CASES` when set, else `default` (kept small enough that
/// the whole default test run fuzzes in well under a minute).
pub fn cases(default: u32) -> u32 {
    std::env::var(CASES_VAR)
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// The proptest configuration of a target running [`cases`]`(default)` cases, without failure
/// persistence files (the regression cases are written into the tests instead).
pub fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Prints the line `scripts/fuzz` counts: `fuzz target <name>: <cases> cases`.
pub fn report(target: &str, default: u32) {
    println!("fuzz target {target}: {} cases", cases(default));
}

/// One edit of a token list.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Insert(usize, String),
    Replace(usize, String),
    FlipByte(usize, u8),
}

/// Tokens that matter to TOML, JSON, forms and the catalog: inserted or swapped in, they push a
/// mutated input past the first syntax check into the validation behind it.
const INTERESTING: &[&str] = &[
    "=",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "\"\"\"",
    ".",
    "#",
    "\n",
    " ",
    "true",
    "false",
    "0",
    "-1",
    "18446744073709551616",
    "1e400",
    "\"\"",
    "null",
    "&",
    "%",
    "%ZZ",
    "+",
    "\u{0}",
    "\u{feff}",
    "é",
    "\u{10ffff}",
    "requires",
    "id",
    "roles",
    "action",
    "gates",
    "off",
    "program",
    "at",
    "type",
    "command",
    "2026-02-30T00:00:00Z",
    "9999 business days ago",
];

fn edit(len: usize) -> impl Strategy<Value = Edit> {
    let at = 0..len.max(1);
    let token = prop_oneof![
        proptest::sample::select(INTERESTING).prop_map(str::to_owned),
        "\\PC{0,8}",
    ];
    prop_oneof![
        at.clone().prop_map(Edit::Delete),
        at.clone().prop_map(Edit::Duplicate),
        (at.clone(), at.clone()).prop_map(|(a, b)| Edit::Swap(a, b)),
        (at.clone(), token.clone()).prop_map(|(i, t)| Edit::Insert(i, t)),
        (at.clone(), token).prop_map(|(i, t)| Edit::Replace(i, t)),
        (at, any::<u8>()).prop_map(|(i, b)| Edit::FlipByte(i, b)),
    ]
}

/// Splits text into tokens (runs of word characters, runs of space, single punctuation) so that
/// joining them gives the text back.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            0
        } else if c == ' ' || c == '\t' {
            1
        } else {
            2
        }
    };
    let mut last = None;
    for c in text.chars() {
        let kind = class(c);
        match tokens.last_mut() {
            Some(token) if last == Some(kind) && kind != 2 => token.push(c),
            _ => tokens.push(c.to_string()),
        }
        last = Some(kind);
    }
    tokens
}

fn apply(mut tokens: Vec<String>, edits: Vec<Edit>) -> String {
    for edit in edits {
        let len = tokens.len();
        if len == 0 {
            break;
        }
        match edit {
            Edit::Delete(i) => {
                tokens.remove(i % len);
            }
            Edit::Duplicate(i) => tokens.insert(i % len, tokens[i % len].clone()),
            Edit::Swap(a, b) => tokens.swap(a % len, b % len),
            Edit::Insert(i, token) => tokens.insert(i % len, token),
            Edit::Replace(i, token) => tokens[i % len] = token,
            Edit::FlipByte(i, byte) => {
                let token = &mut tokens[i % len];
                let mut bytes = std::mem::take(token).into_bytes();
                if let Some(first) = bytes.first_mut() {
                    *first ^= byte;
                }
                *token = String::from_utf8_lossy(&bytes).into_owned();
            }
        }
    }
    tokens.concat()
}

/// `valid` with 1 to 8 token edits (deleted, duplicated, swapped, inserted, replaced, a byte
/// flipped): mostly well-formed, so the fuzzing reaches the checks past the parser.
pub fn mutated(valid: &str) -> impl Strategy<Value = String> + use<> {
    let tokens = tokens(valid);
    proptest::collection::vec(edit(tokens.len()), 1..=8)
        .prop_map(move |edits| apply(tokens.clone(), edits))
}

/// Any input: arbitrary text, arbitrary bytes read as text, or a mutation of one of `valid`.
pub fn text_input(valid: &[&str]) -> BoxedStrategy<String> {
    let mutations: Vec<_> = valid.iter().map(|text| mutated(text).boxed()).collect();
    prop_oneof![
        1 => "\\PC{0,200}",
        1 => proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        6 => proptest::strategy::Union::new(mutations),
    ]
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_join_back_into_the_text() {
        let text = "[[programs]]\nid = \"maicpp\" # a comment\n\tname='x'";
        assert_eq!(tokens(text).concat(), text);
        assert!(tokens(text).contains(&"maicpp".to_owned()));
    }
}
