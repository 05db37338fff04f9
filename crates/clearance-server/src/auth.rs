//! Who is calling: principals, bearer API tokens and their hashes.
//!
//! A token is `clr_` followed by 32 random bytes in base64url; the store keeps
//! only its SHA-256, so a leaked database does not leak usable tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clearance_core::workflow::{Actor, SupportRole};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The prefix of every API token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "clr_";

/// Who a request acts as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    /// The operator's support staff: any tenant's vetting and cases.
    Staff {
        /// Staff member id.
        id: String,
        /// `support_agent` or `support_admin` (also administers tenants and tokens).
        #[schema(value_type = String)]
        role: SupportRole,
    },
    /// A user of one tenant: may do what `decide` allows that user.
    Partner {
        /// The tenant the user belongs to.
        tenant: String,
        /// The user id within the tenant.
        user: String,
    },
}

impl Principal {
    /// The actor recorded with the events this principal causes.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Staff { id, role } => Actor::Support {
                id: id.clone(),
                role: *role,
            },
            Principal::Partner { user, .. } => Actor::Partner { user: user.clone() },
        }
    }

    /// Whether this principal may see and act on `tenant` at all (partners: only their own).
    pub fn reaches(&self, tenant: &str) -> bool {
        match self {
            Principal::Staff { .. } => true,
            Principal::Partner { tenant: own, .. } => own == tenant,
        }
    }

    /// Operator staff of any role.
    pub fn is_staff(&self) -> bool {
        matches!(self, Principal::Staff { .. })
    }

    /// Operator staff allowed to administer tenants and tokens.
    pub fn is_support_admin(&self) -> bool {
        matches!(
            self,
            Principal::Staff {
                role: SupportRole::SupportAdmin,
                ..
            }
        )
    }

    /// A stable text key for scoping idempotency keys per principal.
    pub fn key(&self) -> String {
        match self {
            Principal::Staff { id, .. } => format!("staff:{id}"),
            Principal::Partner { tenant, user } => format!("partner:{tenant}:{user}"),
        }
    }
}

/// A fresh random API token (`clr_` + 43 base64url characters).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The lower-case hex SHA-256 of a token: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex_sha256(token.as_bytes())
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_prefix_and_differ() {
        let a = new_token();
        let b = new_token();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn the_hash_is_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_partner_reaches_only_its_tenant() {
        let partner = Principal::Partner {
            tenant: "contoso".into(),
            user: "alice".into(),
        };
        assert!(partner.reaches("contoso"));
        assert!(!partner.reaches("fabrikam"));
        let staff = Principal::Staff {
            id: "sam".into(),
            role: SupportRole::SupportAgent,
        };
        assert!(staff.reaches("fabrikam"));
        assert!(!staff.is_support_admin());
    }
}
