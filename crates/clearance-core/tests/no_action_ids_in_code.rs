//! No action id of the default catalog is written as a string literal in the
//! workspace's Rust code. The catalog names every gate once (`[gates]`, each
//! offer's `buy` and `renew`), and code reads the gates from there, so a
//! catalog that names things differently cannot leave a hard-coded copy behind.
//!
//! Tests may name actions: `tests/` directories, `tests.rs` files and items
//! under `#[cfg(test)]` are not scanned, nor is the load generator, whose fixed
//! request mix is its benchmark's test data.
//!
//! The same scan keeps the portal behind the service's door: its code names
//! neither `workflow::execute` nor `Tenant` (it renders the service's views).

use std::path::{Path, PathBuf};

use clearance_core::Catalog;

/// Crates not scanned, with why.
const EXEMPT_CRATES: &[(&str, &str)] = &[(
    "clearance-loadgen",
    "its check cases are benchmark data: the request mix must not follow the catalog",
)];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A string literal: its 1-based line and its text as written.
#[derive(Debug, PartialEq, Eq)]
struct Literal {
    line: usize,
    text: String,
}

/// The tokens the scan needs: string literals, identifiers and punctuation.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Literal(Literal),
    Ident(String),
    Punct(char),
}

/// Tokenizes Rust source: comments are dropped, strings (plain, byte and raw)
/// become literals, char literals and lifetimes are skipped.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let count_lines =
        |from: usize, to: usize| chars[from..to].iter().filter(|&&c| c == '\n').count();
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let start = i;
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += count_lines(start, i);
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut text = String::new();
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    text.push(chars[i]);
                    i += 1;
                }
                if let Some(&c) = chars.get(i) {
                    text.push(c);
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Literal(Literal { line, text }));
            line += count_lines(start, i.min(chars.len()));
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{0}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // Raw and byte strings: r"..", r#".."#, b"..", br#".."#.
            let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
            if matches!(word.as_str(), "r" | "br" | "b" | "c" | "cr")
                && chars.get(i + hashes) == Some(&'"')
                && (word.contains('r') || hashes == 0)
            {
                if word.contains('r') {
                    let open = i + hashes + 1;
                    let close: String = std::iter::once('"')
                        .chain(std::iter::repeat_n('#', hashes))
                        .collect();
                    let rest: String = chars[open..].iter().collect();
                    let length = rest.find(&close).unwrap_or(rest.len());
                    let text: String = rest.chars().take(length).collect();
                    let start = i;
                    i = open + text.chars().count() + close.chars().count();
                    out.push(Token::Literal(Literal { line, text }));
                    line += count_lines(start, i.min(chars.len()));
                }
                // A plain byte string is read as a string on the next turn.
            } else {
                out.push(Token::Ident(word));
            }
        } else {
            out.push(Token::Punct(c));
            i += 1;
        }
    }
    out
}

/// The string literals of `source` outside items marked `#[cfg(test)]`.
fn literals(source: &str) -> Vec<Literal> {
    let tokens = tokens(source);
    let cfg_test = [
        Token::Punct('#'),
        Token::Punct('['),
        Token::Ident("cfg".into()),
        Token::Punct('('),
        Token::Ident("test".into()),
        Token::Punct(')'),
        Token::Punct(']'),
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i..].starts_with(&cfg_test) {
            // Skip the item: up to `;` before any block, or its whole block.
            i += cfg_test.len();
            let mut depth = 0;
            while i < tokens.len() {
                match tokens[i] {
                    Token::Punct('{') => depth += 1,
                    Token::Punct('}') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Token::Punct(';') if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
        } else if let Token::Literal(literal) = &tokens[i] {
            out.push(Literal {
                line: literal.line,
                text: literal.text.clone(),
            });
        }
        i += 1;
    }
    out
}

/// Every `.rs` file under `dir`, skipping test files and directories.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable source directory")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if !matches!(name, "tests" | "benches" | "snapshots") {
                sources(&path, found);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            found.push(path);
        }
    }
}

/// `file:line: "id"` for every action id written as a literal in `crates/*/src`.
fn findings(catalog: &Catalog) -> Vec<String> {
    let root = workspace();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !EXEMPT_CRATES.iter().any(|(exempt, _)| *exempt == name)
        })
        .collect();
    crates.sort();
    let mut files = Vec::new();
    for krate in crates {
        sources(&krate.join("src"), &mut files);
    }
    assert!(files.len() > 20, "the scan found only {files:?}");
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("readable source");
        for literal in literals(&source) {
            if catalog.actions.iter().any(|a| a.id == literal.text) {
                let shown = file.strip_prefix(&root).unwrap_or(&file);
                found.push(format!(
                    "{}:{}: \"{}\"",
                    shown.display(),
                    literal.line,
                    literal.text
                ));
            }
        }
    }
    found
}

#[test]
fn no_action_id_is_a_string_literal_in_the_workspaces_code() {
    let found = findings(Catalog::partner_center());
    assert!(
        found.is_empty(),
        "action ids written in code; name them in the catalog's [gates] (or an offer's buy/renew) and read them from there:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_literals_and_skips_comments_and_test_items() {
    let source = r####"//! "users.view" in a module doc
/// "users.view" in a doc comment
fn gate() -> &'static str {
    let c = '"';
    /* "users.view" in /* a nested */ block */
    let raw = r#"raw "x""#;
    let bytes = b"bytes";
    "users.view"
}

#[cfg(test)]
mod tests {
    fn f() { let s = "users.manage_roles"; }
}

#[cfg(test)]
const T: &str = "support.open_case";
fn after() { "verification.appeal"; }
"####;
    let texts: Vec<(usize, String)> = literals(source)
        .into_iter()
        .map(|literal| (literal.line, literal.text))
        .collect();
    assert_eq!(
        texts,
        [
            (6, "raw \"x\"".to_owned()),
            (7, "bytes".to_owned()),
            (8, "users.view".to_owned()),
            (18, "verification.appeal".to_owned()),
        ]
    );
}

/// What `source` names of the core's inside (comments and strings aside):
/// `workflow::execute` and the `Tenant` type, each time, in order.
fn around_the_service(source: &str) -> Vec<&'static str> {
    let tokens = tokens(source);
    let execute = [
        Token::Punct(':'),
        Token::Punct(':'),
        Token::Ident("execute".into()),
    ];
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Ident(name) if name == "Tenant" => found.push("Tenant"),
            Token::Ident(name) if name == "workflow" && tokens[i + 1..].starts_with(&execute) => {
                found.push("workflow::execute");
            }
            _ => {}
        }
    }
    found
}

#[test]
fn the_portal_reads_the_service_and_never_runs_the_workflow_itself() {
    let root = workspace();
    let mut files = Vec::new();
    sources(&root.join("crates/clearance-portal/src"), &mut files);
    assert!(files.len() > 5, "the scan found only {files:?}");
    let mut found = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("readable source");
        for what in around_the_service(&source) {
            let shown = file.strip_prefix(&root).unwrap_or(&file);
            found.push(format!("{}: {what}", shown.display()));
        }
    }
    assert!(
        found.is_empty(),
        "the portal must render the service's views (affordances, refusals), not run the core:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_portal_scan_sees_execute_and_the_tenant_type() {
    let source = "use clearance_core::{Catalog, Tenant};\n\
                  // workflow::execute in a comment\n\
                  let _ = workflow :: execute(catalog, state, actor, command, now);\n\
                  let tenant = \"Tenant\"; let t: &TenantSummary = x;\n";
    assert_eq!(around_the_service(source), ["Tenant", "workflow::execute"]);
}
