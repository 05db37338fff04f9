//! The few rules of English every explanation shares: lists joined as in a
//! sentence, who can fix something, a capital to open a sentence.
//!
//! Decisions (`Decision::explain`), the diagnosis renderers and the portal all
//! word "who can fix" through [`who_can_fix`], so one fact reads the same
//! everywhere.

use crate::catalog::{Catalog, FixedBy};

/// "a", "a or b", "a, b or c".
///
/// ```
/// assert_eq!(clearance_core::prose::join_or(&["a", "b", "c"]), "a, b or c");
/// ```
pub fn join_or(items: &[&str]) -> String {
    join_with(items, "or")
}

/// "a", "a and b", "a, b and c".
///
/// ```
/// assert_eq!(clearance_core::prose::join_and(&["a", "b", "c"]), "a, b and c");
/// ```
pub fn join_and(items: &[&str]) -> String {
    join_with(items, "and")
}

fn join_with(items: &[&str], word: &str) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} {word} {last}", rest.join(", ")),
    }
}

/// Who can fix something, as a sentence's subject: "a Global Admin or Account
/// admin, the primary contact or support"; `None` when nobody is named.
pub fn who_can_fix(catalog: &Catalog, fixed_by: &FixedBy) -> Option<String> {
    let roles: Vec<&str> = fixed_by
        .roles
        .iter()
        .map(|r| catalog.role(r).name.as_str())
        .collect();
    who_can_fix_named(&roles, fixed_by.primary_contact, fixed_by.support)
}

/// [`who_can_fix`] from role display names, for callers that hold ids
/// rather than catalog indices (the portal's views).
pub fn who_can_fix_named(roles: &[&str], primary_contact: bool, support: bool) -> Option<String> {
    let mut who = Vec::new();
    if !roles.is_empty() {
        who.push(format!("a {}", join_or(roles)));
    }
    if primary_contact {
        who.push("the primary contact".to_owned());
    }
    if support {
        who.push("support".to_owned());
    }
    let who: Vec<&str> = who.iter().map(String::as_str).collect();
    (!who.is_empty()).then(|| join_or(&who))
}

/// The role names of a set, joined with "or": "Global Admin or Account admin".
pub fn role_names(catalog: &Catalog, roles: crate::catalog::Set<crate::catalog::RoleIx>) -> String {
    let names: Vec<&str> = roles
        .iter()
        .map(|r| catalog.role(r).name.as_str())
        .collect();
    join_or(&names)
}

/// The text with its first letter in upper case, to open a sentence.
///
/// ```
/// assert_eq!(clearance_core::prose::capitalize("a Global Admin"), "A Global Admin");
/// ```
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_joined_as_in_a_sentence() {
        assert_eq!(join_and(&[]), "");
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
        assert_eq!(join_or(&["a", "b", "c"]), "a, b or c");
        assert_eq!(capitalize("a Global Admin"), "A Global Admin");
        assert_eq!(capitalize(""), "");
    }

    #[test]
    fn who_can_fix_names_roles_then_the_primary_contact_then_support() {
        assert_eq!(
            who_can_fix_named(&["Global Admin", "Account admin"], true, true).as_deref(),
            Some("a Global Admin or Account admin, the primary contact or support")
        );
        assert_eq!(
            who_can_fix_named(&[], true, true).as_deref(),
            Some("the primary contact or support")
        );
        assert_eq!(
            who_can_fix_named(&[], false, true).as_deref(),
            Some("support")
        );
        assert_eq!(who_can_fix_named(&[], false, false), None);
    }
}
