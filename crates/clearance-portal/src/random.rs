//! Random secrets: session tokens, CSRF tokens, form keys and demo passwords,
//! all from the operating system's random source.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes.
fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

/// 32 random bytes in base64url (43 characters), behind `prefix`.
pub(crate) fn token(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes::<32>()))
}

/// A password of four groups of four characters from an alphabet without
/// look-alikes (`k7qm-x4tp-9wd2-h3fa`): 16 characters of 32 symbols, 80 bits.
pub(crate) fn password() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let random = bytes::<16>();
    let mut out = String::with_capacity(19);
    for (index, byte) in random.iter().enumerate() {
        if index > 0 && index % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(byte % 32)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_prefix_and_differ() {
        let a = token("cls_");
        let b = token("cls_");
        assert!(a.starts_with("cls_"));
        assert_eq!(a.len(), 4 + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn passwords_are_four_groups_of_four() {
        let password = password();
        let groups: Vec<&str> = password.split('-').collect();
        assert_eq!(groups.len(), 4, "{password}");
        assert!(groups.iter().all(|group| group.len() == 4), "{password}");
        assert_ne!(password, super::password());
    }
}
