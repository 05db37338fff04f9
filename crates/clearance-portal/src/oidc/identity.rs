//! Who a verified ID token names in clearance: its claims mapped, as the
//! issuer's configuration says, to a support staff member or to a user of a
//! tenant. Pure: whether that tenant and user exist is the caller's question.

use clearance_core::workflow::SupportRole;
use serde_json::{Map, Value};

use super::config::{Audience, IssuerConfig, UserClaim};
use super::refusal::Refusal;

/// The clearance identity the claims name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claimed {
    /// Support staff (a staff issuer, or a staff group on any issuer).
    Staff {
        /// The staff id (the user claim's value).
        id: String,
        /// The highest role the groups give (`support_agent` on a staff
        /// issuer without staff groups).
        role: SupportRole,
    },
    /// A user of a partner tenant.
    Partner {
        /// The tenant id.
        tenant: String,
        /// The user id (the user claim's value).
        user: String,
        /// The verified e-mail address, lower-case, if the token has one.
        email: Option<String>,
        /// The catalog roles the groups map to (given only when just-in-time
        /// linking adds the user).
        roles: Vec<String>,
    },
}

/// Reads the identity out of the ID token's `claims`.
pub fn claimed(issuer: &IssuerConfig, claims: &Map<String, Value>) -> Result<Claimed, Refusal> {
    let email = verified_email(claims);
    let user = match issuer.user_claim {
        UserClaim::Subject => text(claims, "sub").map(str::to_owned),
        UserClaim::Email => email.clone(),
    }
    .filter(|user| !user.is_empty() && user.len() <= 128)
    .ok_or_else(|| Refusal::MissingClaim {
        claim: match issuer.user_claim {
            UserClaim::Subject => "sub".to_owned(),
            UserClaim::Email => "email (verified)".to_owned(),
        },
    })?;
    let groups = groups(claims, &issuer.groups_claim);
    let staff_role = issuer
        .staff_groups
        .iter()
        .filter(|(group, _)| groups.contains(group))
        .map(|(_, role)| *role)
        .max_by_key(|role| matches!(role, SupportRole::SupportAdmin));
    match (issuer.audience, staff_role) {
        (_, Some(role)) => return Ok(Claimed::Staff { id: user, role }),
        (Audience::Staff, None) if issuer.staff_groups.is_empty() => {
            return Ok(Claimed::Staff {
                id: user,
                role: SupportRole::SupportAgent,
            });
        }
        (Audience::Staff, None) => return Err(Refusal::NotStaff),
        (Audience::Partner, None) => {}
    }
    let tenant = match &issuer.tenant_claim {
        Some(claim) => {
            text(claims, claim)
                .map(str::to_owned)
                .ok_or_else(|| Refusal::MissingClaim {
                    claim: claim.clone(),
                })?
        }
        None => {
            let domain = email
                .as_deref()
                .and_then(|email| email.rsplit_once('@'))
                .map(|(_, domain)| domain)
                .ok_or_else(|| Refusal::MissingClaim {
                    claim: "email (verified)".to_owned(),
                })?;
            issuer
                .tenant_email_domains
                .get(domain)
                .cloned()
                .ok_or_else(|| Refusal::UnknownTenant {
                    named: domain.to_owned(),
                })?
        }
    };
    let mut roles: Vec<String> = issuer
        .role_groups
        .iter()
        .filter(|(group, _)| groups.contains(group))
        .flat_map(|(_, roles)| roles.iter().cloned())
        .collect();
    roles.sort();
    roles.dedup();
    Ok(Claimed::Partner {
        tenant,
        user,
        email,
        roles,
    })
}

/// Whether just-in-time linking may add a user with `email` to `tenant`.
pub fn may_link(issuer: &IssuerConfig, tenant: &str, email: Option<&str>) -> bool {
    let Some(domain) = email
        .and_then(|email| email.rsplit_once('@'))
        .map(|(_, domain)| domain)
    else {
        return false;
    };
    issuer
        .jit
        .get(tenant)
        .is_some_and(|domains| domains.iter().any(|allowed| allowed == domain))
}

fn text<'c>(claims: &'c Map<String, Value>, name: &str) -> Option<&'c str> {
    claims.get(name).and_then(Value::as_str)
}

/// The e-mail address, lower-case, unless the issuer says it is not verified.
fn verified_email(claims: &Map<String, Value>) -> Option<String> {
    let verified = claims.get("email_verified").is_none_or(|verified| {
        verified.as_bool() == Some(true) || verified.as_str() == Some("true")
    });
    text(claims, "email")
        .filter(|_| verified)
        .map(str::to_lowercase)
}

/// The groups claim: an array of strings, or one string.
fn groups(claims: &Map<String, Value>, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use serde_json::json;

    fn issuer(audience: Audience) -> IssuerConfig {
        IssuerConfig {
            name: "idp".into(),
            label: "IdP".into(),
            url: "https://idp.example".into(),
            client_id: "clearance".into(),
            client_secret: None,
            audience,
            user_claim: UserClaim::Subject,
            tenant_claim: None,
            tenant_email_domains: BTreeMap::from([("contoso.com".into(), "contoso".into())]),
            groups_claim: "groups".into(),
            staff_groups: BTreeMap::new(),
            role_groups: BTreeMap::from([("admins".into(), vec!["global_admin".into()])]),
            jit: BTreeMap::from([("contoso".into(), vec!["contoso.com".into()])]),
            scopes: vec![],
        }
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().expect("an object").clone()
    }

    #[test]
    fn the_email_domain_names_the_tenant_and_groups_name_the_roles() {
        let found = claimed(
            &issuer(Audience::Partner),
            &claims(
                json!({"sub": "alice", "email": "Alice@Contoso.com", "groups": ["admins", "x"]}),
            ),
        );
        assert_eq!(
            found,
            Ok(Claimed::Partner {
                tenant: "contoso".into(),
                user: "alice".into(),
                email: Some("alice@contoso.com".into()),
                roles: vec!["global_admin".into()],
            })
        );
    }

    #[test]
    fn an_unknown_domain_an_unverified_email_and_a_missing_claim_are_refused() {
        let partner = issuer(Audience::Partner);
        assert_eq!(
            claimed(
                &partner,
                &claims(json!({"sub": "m", "email": "m@evil.example"}))
            ),
            Err(Refusal::UnknownTenant {
                named: "evil.example".into()
            })
        );
        assert!(matches!(
            claimed(
                &partner,
                &claims(json!({"sub": "m", "email": "m@contoso.com", "email_verified": false}))
            ),
            Err(Refusal::MissingClaim { .. })
        ));
        let mut by_claim = partner.clone();
        by_claim.tenant_claim = Some("tenant".into());
        assert_eq!(
            claimed(&by_claim, &claims(json!({"sub": "m"}))),
            Err(Refusal::MissingClaim {
                claim: "tenant".into()
            })
        );
    }

    #[test]
    fn staff_come_from_a_staff_issuer_or_a_staff_group() {
        let mut staff = issuer(Audience::Staff);
        assert_eq!(
            claimed(&staff, &claims(json!({"sub": "sam"}))),
            Ok(Claimed::Staff {
                id: "sam".into(),
                role: SupportRole::SupportAgent
            })
        );
        staff.staff_groups = BTreeMap::from([
            ("support".into(), SupportRole::SupportAgent),
            ("support-admins".into(), SupportRole::SupportAdmin),
        ]);
        assert_eq!(
            claimed(&staff, &claims(json!({"sub": "sam"}))),
            Err(Refusal::NotStaff)
        );
        let mut partner = issuer(Audience::Partner);
        partner.staff_groups = staff.staff_groups.clone();
        assert_eq!(
            claimed(
                &partner,
                &claims(json!({"sub": "ada", "groups": ["support", "support-admins"]}))
            ),
            Ok(Claimed::Staff {
                id: "ada".into(),
                role: SupportRole::SupportAdmin
            })
        );
    }

    #[test]
    fn linking_needs_an_allowed_domain_for_that_tenant() {
        let partner = issuer(Audience::Partner);
        assert!(may_link(&partner, "contoso", Some("new@contoso.com")));
        assert!(!may_link(&partner, "contoso", Some("new@fabrikam.com")));
        assert!(!may_link(&partner, "fabrikam", Some("new@contoso.com")));
        assert!(!may_link(&partner, "contoso", None));
    }
}
