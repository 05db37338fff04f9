//! The demo data of `clearance serve --demo`: five tenants in the states the
//! domain describes, built through real commands with past timestamps, and a
//! token for support staff and for each tenant's admin.
//!
//! Seeding is exactly-once: every step carries an idempotency key, so a
//! restart (even after a crash half-way) replays what was applied and applies
//! only the rest; changes made later through the API are kept.
//!
//! The demo tokens are random, new at every `--demo` start, and stored marked as
//! demo credentials ([`clearance_store::demo_principal`]). Those of earlier starts
//! stay valid while the data keeps being served with the demo (several demo
//! servers over one database each print tokens that work); serving the data
//! without the demo revokes every one of them ([`revoke`]), with the portal's
//! demo sign-ins.

use std::sync::LazyLock;

use clearance_core::Journey;
use clearance_core::workflow::{Actor, Command, SupportRole};
use jiff::Timestamp;
use serde::Serialize;

use clearance_store::{DemoRevoked, demo_principal};

use crate::auth::{self, Principal};
use crate::service::{Service, ServiceError};

/// The tokens a demo run prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DemoTokens {
    /// A `support_agent`: works vetting reviews and cases.
    pub support_agent: DemoToken,
    /// A `support_admin`: also creates tenants and issues tokens.
    pub support_admin: DemoToken,
    /// One per demo tenant: its admin user.
    pub partners: Vec<DemoToken>,
}

/// One demo principal and its bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DemoToken {
    /// Who it acts as.
    pub principal: Principal,
    /// What the tenant is like (for partners), or the staff role.
    pub about: String,
    /// The bearer token.
    pub token: String,
}

/// The demo's support agent.
pub fn support_agent() -> Principal {
    Principal::Staff {
        id: "sam".into(),
        role: SupportRole::SupportAgent,
    }
}

/// The demo's support admin.
pub fn support_admin() -> Principal {
    Principal::Staff {
        id: "ada".into(),
        role: SupportRole::SupportAdmin,
    }
}

/// The demo tenants' journeys (`corpus/journeys/`), in seeding order: the
/// idempotency keys number their steps across all five in this order.
static JOURNEYS: LazyLock<Vec<Journey>> = LazyLock::new(|| {
    [
        (
            "contoso.toml",
            include_str!("../../../corpus/journeys/contoso.toml"),
        ),
        (
            "fabrikam.toml",
            include_str!("../../../corpus/journeys/fabrikam.toml"),
        ),
        (
            "northwind.toml",
            include_str!("../../../corpus/journeys/northwind.toml"),
        ),
        (
            "tailspin.toml",
            include_str!("../../../corpus/journeys/tailspin.toml"),
        ),
        (
            "woodgrove.toml",
            include_str!("../../../corpus/journeys/woodgrove.toml"),
        ),
    ]
    .into_iter()
    .map(|(file, text)| {
        Journey::from_toml(file, text).unwrap_or_else(|error| {
            panic!("the embedded demo journey does not parse (a unit test checks it): {error}")
        })
    })
    .collect()
});

/// The demo tenants' journeys, in seeding order.
pub fn journeys() -> &'static [Journey] {
    &JOURNEYS
}

/// One demo tenant: its id, its admin user and what state it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoTenant {
    /// The tenant id.
    pub id: &'static str,
    /// The admin user its journey creates it with (the primary contact).
    pub admin: &'static str,
    /// What state it is in, in a sentence.
    pub about: &'static str,
}

/// The demo tenants, in seeding order.
pub fn tenants() -> impl ExactSizeIterator<Item = DemoTenant> {
    journeys().iter().map(|journey| {
        let admin = journey
            .steps
            .iter()
            .find_map(|step| match &step.command {
                Command::CreateTenant { admin, .. } => Some(admin.as_str()),
                _ => None,
            })
            .unwrap_or_else(|| {
                panic!(
                    "demo journey `{}` creates no tenant (a unit test checks it)",
                    journey.tenant
                )
            });
        DemoTenant {
            id: &journey.tenant,
            admin,
            about: &journey.about,
        }
    })
}

/// Ends every demo credential in the store: the demo tokens, the portal's demo
/// sign-ins and the sessions signed in with them. A server started without the
/// demo runs this before it serves.
pub async fn revoke(service: &Service) -> Result<DemoRevoked, ServiceError> {
    let revoked = service.store().revoke_demo_credentials().await?;
    if revoked != DemoRevoked::default() {
        tracing::info!(
            tokens = revoked.tokens,
            sign_ins = revoked.sign_ins,
            "demo credentials revoked: this start is not a demo"
        );
    }
    Ok(revoked)
}

/// Stores `token` for `principal` marked as a demo credential.
async fn store_demo_token(
    service: &Service,
    token: &str,
    principal: &Principal,
) -> Result<(), ServiceError> {
    let value = serde_json::to_value(principal).expect("a principal serializes");
    service
        .store()
        .put_token(&auth::token_hash(token), demo_principal(value))
        .await?;
    Ok(())
}

/// A small but valid-looking PDF used as the demo's appeal document (fabrikam's
/// journey names it by its SHA-256).
const DEMO_PDF: &[u8] = b"%PDF-1.4\n% clearance demo: business registration\n%%EOF\n";

/// Seeds the demo tenants (steps already applied are replayed, not repeated)
/// and stores new random demo tokens. `now` anchors the past timestamps.
pub async fn seed(service: &Service, now: Timestamp) -> Result<DemoTokens, ServiceError> {
    let catalog = service.catalog();
    let admin = support_admin();
    let agent = support_agent();
    let partner = |tenant: &str, user: &str| Principal::Partner {
        tenant: tenant.into(),
        user: user.into(),
    };

    let document = service.store();
    document
        .put_blob(
            &auth::hex_sha256(DEMO_PDF),
            "application/pdf",
            DEMO_PDF.to_vec(),
        )
        .await?;
    let mut applied = 0;
    let steps = journeys().iter().flat_map(|journey| {
        journey
            .steps
            .iter()
            .map(move |step| (&journey.tenant, step))
    });
    // The key numbers the step across all journeys, as it always has: a store
    // seeded by an earlier version replays instead of repeating.
    for (index, (tenant, step)) in steps.enumerate() {
        let principal = match &step.actor {
            Actor::Partner { user } => partner(tenant, user),
            Actor::Support { id, role } => Principal::Staff {
                id: id.clone(),
                role: *role,
            },
            // Only people act in the demo (a unit test checks the journeys); the
            // sweeper marks overdue tenants itself.
            Actor::System => {
                return Err(ServiceError::Invalid {
                    field: format!("journeys.{tenant}.actor"),
                    message: "the demo replays people's commands only, not the system's".into(),
                });
            }
        };
        let key = format!("demo-seed:{tenant}:{index}:{}", step.command.name());
        let at = step.at.resolve(&catalog.calendar, now);
        let outcome = service
            .execute_at(&principal, tenant, step.command.clone(), Some(&key), at)
            .await?;
        if !outcome.replayed {
            applied += 1;
        }
    }
    if applied > 0 {
        tracing::info!(steps = applied, "demo data seeded");
    }

    let mut tokens = DemoTokens {
        support_agent: DemoToken {
            token: auth::new_token(),
            principal: agent,
            about: "support_agent: vetting reviews and support cases".into(),
        },
        support_admin: DemoToken {
            token: auth::new_token(),
            principal: admin,
            about: "support_admin: also tenants and tokens".into(),
        },
        partners: Vec::new(),
    };
    for tenant in tenants() {
        let principal = partner(tenant.id, tenant.admin);
        tokens.partners.push(DemoToken {
            token: auth::new_token(),
            principal,
            about: tenant.about.into(),
        });
    }
    for demo in [&tokens.support_agent, &tokens.support_admin]
        .into_iter()
        .chain(&tokens.partners)
    {
        store_demo_token(service, &demo.token, &demo.principal).await?;
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_moments_are_counted_in_business_days() {
        let catalog = clearance_core::Catalog::partner_center();
        // Wednesday 2026-11-25: 8 business days back crosses a weekend and
        // Veterans Day is before it; Thanksgiving is after.
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().expect("valid");
        let at = catalog.calendar.business_days_before(now, 8);
        assert_eq!(catalog.calendar.business_days_between(at, now), 8);
        assert_eq!(
            catalog
                .calendar
                .business_days_between(at + jiff::SignedDuration::from_hours(24), now),
            7
        );
    }

    #[test]
    fn the_journeys_name_five_tenants_with_their_admins() {
        let tenants: Vec<(&str, &str)> = tenants().map(|t| (t.id, t.admin)).collect();
        assert_eq!(
            tenants,
            [
                ("contoso", "alice"),
                ("fabrikam", "bob"),
                ("northwind", "carol"),
                ("tailspin", "dave"),
                ("woodgrove", "erin"),
            ]
        );
    }

    #[test]
    fn the_journeys_replay_and_the_appeal_names_the_demo_document() {
        let catalog = clearance_core::Catalog::partner_center();
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().expect("valid");
        for journey in journeys() {
            journey
                .replay(catalog, now)
                .expect("every demo step is accepted");
            assert!(
                journey.steps.iter().all(|step| step.actor != Actor::System),
                "{}: the demo acts as people only",
                journey.tenant
            );
        }
        let appeals: Vec<&str> = journeys()
            .iter()
            .flat_map(|journey| &journey.steps)
            .filter_map(|step| match &step.command {
                Command::Appeal { document, .. } => Some(document.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(appeals, [auth::hex_sha256(DEMO_PDF)]);
    }
}
