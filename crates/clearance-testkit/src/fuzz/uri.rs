//! Path segments and query strings for the HTTP targets: valid ids, numbers out of every range,
//! text with control characters (percent-encoded), invalid UTF-8 once decoded, broken percent
//! escapes and traversal.

use proptest::prelude::*;

/// Percent-encodes every byte of `bytes` but unreserved ASCII.
pub fn percent_encoded(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Values a number parser, an id check or a percent decoder may trip on.
const AWKWARD: &[&str] = &[
    "0",
    "-0",
    "+1",
    "-1",
    "1.5",
    "1e400",
    "NaN",
    "0x10",
    " 7",
    "18446744073709551616",
    "9223372036854775808",
    "99999999999999999999999999999999",
    "%",
    "%Z",
    "%ZZ",
    "%00",
    "%2F",
    "..",
    "%2e%2e",
    "%C0%AF",
    "%FF%FE",
    "%0A",
    "%0D%0A",
    "%7F",
    "%E2%80%AE",
    "",
    "a%20b",
    "%25",
    "~",
    "%u0041",
];

/// A path segment or query value, as it is written in a URI: `valid`, or anything.
pub fn fuzzed_value(valid: String) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(valid),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => proptest::sample::select(AWKWARD).prop_map(str::to_owned),
        1 => "[a-z0-9_-]{0,70}",
        2 => "\\PC{0,24}".prop_map(|text| percent_encoded(text.as_bytes())),
        2 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(|bytes| percent_encoded(&bytes)),
        1 => "[!-~]{0,24}",
    ]
}

/// A query: 0 to 3 parameters, mostly named from `names` (those the routes read), valued
/// [`fuzzed_value`]`(valid)`.
pub fn query(
    names: &[&'static str],
    valid: &str,
) -> impl Strategy<Value = Vec<(String, String)>> + use<> {
    let name = prop_oneof![
        4 => proptest::sample::select(names.to_vec()).prop_map(str::to_owned),
        1 => "[a-z_]{1,12}",
        1 => "\\PC{0,8}".prop_map(|text| percent_encoded(text.as_bytes())),
    ];
    proptest::collection::vec((name, fuzzed_value(valid.to_owned())), 0..4)
}

/// `path` with `query` appended (`?name=value&…`).
pub fn with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!("{path}?{}", pairs.join("&"))
}
