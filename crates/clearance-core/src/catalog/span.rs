//! Turning byte offsets in a TOML document into what a person can find: a
//! 1-based line and the dotted key path (`action[3].requires`).
//!
//! The `toml` crate reports where a deserialization error happened as a byte
//! span but does not expose the key path, so the path is recovered from the
//! text: the last table header before the offset, then the keys still open
//! (inline tables, multi-line arrays) between that header and the offset.

/// Where a byte offset lies in a TOML document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    /// 1-based line.
    pub line: usize,
    /// Dotted key path; array-of-tables items are numbered from 0.
    pub path: String,
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = floor_char_boundary(text, offset.min(text.len()));
    text[..end].bytes().filter(|&b| b == b'\n').count() + 1
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Locates `offset` (a span's start) in `text`: the line, and the path of the
/// keys whose values enclose it. A span that starts at a key (an unknown key)
/// yields the path of its table; the caller adds the key.
pub(crate) fn locate(text: &str, offset: usize) -> Location {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line = line_of(text, offset);
    let line_start = text[..offset].rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |at| line_start + at + 1);
    let (header, body_start) = header_before(text, line_start);

    // The offset may lie on a header line: at its start (a table's span, as in
    // "missing field") that header is in force; inside its brackets (an
    // unknown table name) only the names before the offset are.
    let line_text = &text[line_start..line_end];
    let content = line_text.trim_start();
    if content.starts_with('[') && !inside_value(&text[body_start..line_start]) {
        let bracket_end = line_end - content.trim_start_matches('[').len();
        if offset < bracket_end {
            let (header, _) = header_before(text, line_end);
            return Location { line, path: header };
        }
        let inside = text[bracket_end..offset].trim().trim_end_matches('.');
        return Location {
            line,
            path: inside.to_string(),
        };
    }

    let mut path: Vec<String> = Vec::new();
    if !header.is_empty() {
        path.push(header);
    }
    path.extend(open_keys(&text[body_start..offset]));
    Location {
        line,
        path: path.join("."),
    }
}

/// The table header in force after the complete lines of `text[..end]`, and
/// where its body starts. Counting `[[name]]` headers numbers array items.
fn header_before(text: &str, end: usize) -> (String, usize) {
    let mut header = String::new();
    let mut body_start = 0;
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut position = 0;
    for raw_line in text[..end].split_inclusive('\n') {
        let trimmed = raw_line.trim_start();
        if raw_line.ends_with('\n')
            && trimmed.starts_with('[')
            && !inside_value(&text[body_start..position])
        {
            let content = strip_comment(trimmed).trim();
            if let Some(name) = content
                .strip_prefix("[[")
                .and_then(|rest| rest.strip_suffix("]]"))
            {
                let name = name.trim().to_string();
                let index = match counts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, count)) => {
                        *count += 1;
                        *count - 1
                    }
                    None => {
                        counts.push((name.clone(), 1));
                        0
                    }
                };
                // Nested arrays of a numbered parent restart their count.
                counts.retain(|(n, _)| !n.starts_with(&format!("{name}.")));
                header = format!("{name}[{index}]");
            } else if let Some(name) = content
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
            {
                header = name.trim().to_string();
            }
            body_start = position + raw_line.len();
        }
        position += raw_line.len();
    }
    (header, body_start)
}

fn strip_comment(line: &str) -> &str {
    match line.find('#') {
        Some(at) => &line[..at],
        None => line,
    }
}

/// Whether `body` ends inside an unfinished value (an open array or inline
/// table), so that a line starting with `[` is array content, not a header.
fn inside_value(body: &str) -> bool {
    let mut depth = 0i32;
    scan(body, |token| match token {
        Token::Open => depth += 1,
        Token::Close => depth -= 1,
        _ => {}
    });
    depth > 0
}

/// The keys whose values are still open at the end of `body`.
fn open_keys(body: &str) -> Vec<String> {
    let mut depth = 0usize;
    // (key, bracket depth at which it was written)
    let mut stack: Vec<(String, usize)> = Vec::new();
    scan(body, |token| match token {
        Token::Key(key) => {
            stack.retain(|(_, d)| *d < depth);
            stack.push((key, depth));
        }
        Token::Open => depth += 1,
        Token::Close => {
            depth = depth.saturating_sub(1);
            stack.retain(|(_, d)| *d <= depth);
        }
        // A newline or comma finishes the values written at this depth.
        Token::ValueEnd => stack.retain(|(_, d)| *d < depth),
    });
    stack.into_iter().map(|(key, _)| key).collect()
}

enum Token {
    Key(String),
    Open,
    Close,
    /// End of a line or a comma: the previous scalar value is complete.
    ValueEnd,
}

/// A small TOML tokenizer: enough to follow keys, brackets and strings.
fn scan(body: &str, mut on: impl FnMut(Token)) {
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut word_start: Option<usize> = None;
    let mut last_word: Option<(usize, usize)> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' | b'\'' => {
                let quote = b;
                let start = i + 1;
                let triple = bytes[i..].starts_with(if quote == b'"' { b"\"\"\"" } else { b"'''" });
                if triple {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(&[quote, quote, quote]) {
                        i += 1;
                    }
                    i += 3;
                    last_word = None;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                        if quote == b'"' && bytes[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    last_word = Some((start, i.min(bytes.len())));
                    i += 1;
                }
                word_start = None;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'=' => {
                if let Some(start) = word_start.take() {
                    last_word = Some((start, i));
                }
                if let Some((start, end)) = last_word.take() {
                    on(Token::Key(body[start..end].trim().to_string()));
                }
            }
            b'[' | b'{' => {
                word_start = None;
                last_word = None;
                on(Token::Open);
            }
            b']' | b'}' => {
                word_start = None;
                last_word = None;
                on(Token::Close);
            }
            b'\n' | b',' => {
                word_start = None;
                last_word = None;
                on(Token::ValueEnd);
            }
            b' ' | b'\t' | b'\r' => {
                if let Some(start) = word_start.take() {
                    last_word = Some((start, i));
                }
            }
            _ => {
                if word_start.is_none() {
                    word_start = Some(i);
                }
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> Location {
        locate(text, text.find(needle).expect("needle in text"))
    }

    #[test]
    fn top_level_key() {
        let text = "a = 1\nnow = \"x\"\n";
        assert_eq!(
            at(text, "\"x\""),
            Location {
                line: 2,
                path: "now".into()
            }
        );
    }

    #[test]
    fn key_of_a_standard_table() {
        let text = "[tenant]\nid = 1\n[tenant.programs.maicpp]\nenrollment = \"bad\"\n";
        assert_eq!(
            at(text, "\"bad\""),
            Location {
                line: 4,
                path: "tenant.programs.maicpp.enrollment".into()
            }
        );
    }

    #[test]
    fn numbered_array_of_tables_and_inline_table() {
        let text = "[[action]]\nid = \"a\"\n[[action]]\nid = \"b\"\nfixed_by = { roles = [\"x\"], support = 1 }\n";
        assert_eq!(
            at(text, "1 }"),
            Location {
                line: 5,
                path: "action[1].fixed_by.support".into()
            }
        );
        assert_eq!(at(text, "\"x\"").path, "action[1].fixed_by.roles");
    }

    #[test]
    fn multi_line_array_item() {
        let text = "[calendar]\nholidays = [\n  \"2026-01-01\",\n  \"nope\",\n]\n";
        assert_eq!(
            at(text, "\"nope\""),
            Location {
                line: 4,
                path: "calendar.holidays".into()
            }
        );
    }

    #[test]
    fn a_finished_key_does_not_leak_into_the_next() {
        let text = "[vetting]\nsla = 5\nmax = \"x\"\n";
        assert_eq!(at(text, "\"x\"").path, "vetting.max");
        assert_eq!(at(text, "max").path, "vetting");
    }

    #[test]
    fn array_content_starting_a_line_is_not_a_header() {
        let text = "[t]\nlist = [\n[1, 2],\n[3, \"x\"],\n]\n";
        assert_eq!(at(text, "\"x\"").path, "t.list");
    }
}
