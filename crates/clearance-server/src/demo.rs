//! The demo data of `clearance serve --demo`: five tenants in the states the
//! domain describes, built through real commands with past timestamps, and a
//! token for support staff and for each tenant's admin.
//!
//! Seeding is exactly-once: every step carries an idempotency key, so a
//! restart (even after a crash half-way) replays what was applied and applies
//! only the rest; changes made later through the API are kept. The demo tokens
//! are derived from fixed seeds so that every run prints tokens that work;
//! they are for local demos only.

use clearance_core::Catalog;
use clearance_core::workflow::{Command, SupportRole};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

/// The demo tenants: id, admin user, and what state it shows.
pub const TENANTS: [(&str, &str, &str); 5] = [
    (
        "contoso",
        "alice",
        "the seed's case: MAICPP pending qualification, verification pending 8 business days, no banner; Membership locked",
    ),
    ("fabrikam", "bob", "verification rejected, one appeal used"),
    (
        "northwind",
        "carol",
        "verification challenged: an action-required banner asks for a document",
    ),
    (
        "tailspin",
        "dave",
        "authorized and active; Buy Now disabled only by the missing payment profile",
    ),
    (
        "woodgrove",
        "erin",
        "healthy: authorized, profiles complete, membership bought",
    ),
];

/// A deterministic demo token for `principal`.
pub fn demo_token(principal: &Principal) -> String {
    let seed: [u8; 32] =
        Sha256::digest(format!("clearance demo token: {}", principal.key()).as_bytes()).into();
    auth::token_from_bytes(&seed)
}

/// A small but valid-looking PDF used as the demo's appeal document.
const DEMO_PDF: &[u8] = b"%PDF-1.4\n% clearance demo: business registration\n%%EOF\n";

/// Seeds the demo tenants (steps already applied are replayed, not repeated)
/// and stores the demo tokens. `now` anchors the past timestamps.
pub async fn seed(service: &Service, now: Timestamp) -> Result<DemoTokens, ServiceError> {
    let catalog = service.catalog();
    let admin = support_admin();
    let agent = support_agent();
    let days = |n: u32| business_days_before(catalog, now, n);
    let maicpp = || "maicpp".to_owned();
    let partner = |tenant: &str, user: &str| Principal::Partner {
        tenant: tenant.into(),
        user: user.into(),
    };

    let mut steps: Vec<(Principal, &str, Command, Timestamp)> = Vec::new();
    let create = |admin_user: &str| Command::CreateTenant {
        country: "US".into(),
        admin: admin_user.into(),
        roles: vec!["global_admin".into(), "maicpp_partner_admin".into()],
    };

    // contoso: the seed's own case.
    let alice = partner("contoso", "alice");
    steps.push((admin.clone(), "contoso", create("alice"), days(10)));
    steps.push((
        alice.clone(),
        "contoso",
        Command::Enroll { program: maicpp() },
        days(9),
    ));
    steps.push((
        alice.clone(),
        "contoso",
        Command::SubmitVerification { program: maicpp() },
        days(8),
    ));

    // fabrikam: rejected, one appeal used, rejected again.
    let bob = partner("fabrikam", "bob");
    steps.push((admin.clone(), "fabrikam", create("bob"), days(25)));
    steps.push((
        bob.clone(),
        "fabrikam",
        Command::Enroll { program: maicpp() },
        days(24),
    ));
    steps.push((
        bob.clone(),
        "fabrikam",
        Command::SubmitVerification { program: maicpp() },
        days(23),
    ));
    steps.push((
        agent.clone(),
        "fabrikam",
        Command::StartReview { program: maicpp() },
        days(21),
    ));
    steps.push((
        agent.clone(),
        "fabrikam",
        Command::Reject {
            program: maicpp(),
            reason: "The legal business name does not match the registration document.".into(),
        },
        days(20),
    ));
    steps.push((
        bob.clone(),
        "fabrikam",
        Command::Appeal {
            program: maicpp(),
            document_type: "business_registration".into(),
            document: auth::hex_sha256(DEMO_PDF),
        },
        days(15),
    ));
    steps.push((
        agent.clone(),
        "fabrikam",
        Command::StartReview { program: maicpp() },
        days(13),
    ));
    steps.push((
        agent.clone(),
        "fabrikam",
        Command::Reject {
            program: maicpp(),
            reason: "The registration document is older than 12 months.".into(),
        },
        days(12),
    ));

    // northwind: challenged, banner shown.
    let carol = partner("northwind", "carol");
    steps.push((admin.clone(), "northwind", create("carol"), days(7)));
    steps.push((
        carol.clone(),
        "northwind",
        Command::Enroll { program: maicpp() },
        days(6),
    ));
    steps.push((
        carol.clone(),
        "northwind",
        Command::SubmitVerification { program: maicpp() },
        days(5),
    ));
    steps.push((
        agent.clone(),
        "northwind",
        Command::StartReview { program: maicpp() },
        days(3),
    ));
    steps.push((
        agent.clone(),
        "northwind",
        Command::Challenge {
            program: maicpp(),
            reason: "We could not verify the company's address.".into(),
            documents: vec!["utility_bill".into(), "bank_statement".into()],
        },
        days(2),
    ));

    // tailspin: authorized, active, tax profile complete, payment missing.
    let dave = partner("tailspin", "dave");
    steps.push((admin.clone(), "tailspin", create("dave"), days(20)));
    steps.push((
        dave.clone(),
        "tailspin",
        Command::Enroll { program: maicpp() },
        days(19),
    ));
    steps.push((
        dave.clone(),
        "tailspin",
        Command::SubmitVerification { program: maicpp() },
        days(18),
    ));
    steps.push((
        agent.clone(),
        "tailspin",
        Command::StartReview { program: maicpp() },
        days(17),
    ));
    steps.push((
        agent.clone(),
        "tailspin",
        Command::Authorize { program: maicpp() },
        days(16),
    ));
    steps.push((
        dave.clone(),
        "tailspin",
        Command::UpdateProfile {
            profile: "tax".into(),
            complete: true,
        },
        days(15),
    ));

    // woodgrove: healthy, membership bought.
    let erin = partner("woodgrove", "erin");
    steps.push((admin.clone(), "woodgrove", create("erin"), days(40)));
    steps.push((
        erin.clone(),
        "woodgrove",
        Command::Enroll { program: maicpp() },
        days(39),
    ));
    steps.push((
        erin.clone(),
        "woodgrove",
        Command::SubmitVerification { program: maicpp() },
        days(38),
    ));
    steps.push((
        agent.clone(),
        "woodgrove",
        Command::StartReview { program: maicpp() },
        days(37),
    ));
    steps.push((
        agent.clone(),
        "woodgrove",
        Command::Authorize { program: maicpp() },
        days(36),
    ));
    for profile in ["payment", "tax"] {
        steps.push((
            erin.clone(),
            "woodgrove",
            Command::UpdateProfile {
                profile: profile.into(),
                complete: true,
            },
            days(35),
        ));
    }
    steps.push((
        erin.clone(),
        "woodgrove",
        Command::AcceptAgreement {
            agreement: "mpa".into(),
        },
        days(35),
    ));
    steps.push((
        agent.clone(),
        "woodgrove",
        Command::UpdateCapabilityScore { score: 82 },
        days(34),
    ));
    steps.push((
        erin.clone(),
        "woodgrove",
        Command::BuyMembership {
            offer: "maicpp_core_benefits".into(),
        },
        days(30),
    ));

    let document = service.store();
    document
        .put_blob(
            &auth::hex_sha256(DEMO_PDF),
            "application/pdf",
            DEMO_PDF.to_vec(),
        )
        .await?;
    let mut applied = 0;
    for (index, (principal, tenant, command, at)) in steps.into_iter().enumerate() {
        let key = format!("demo-seed:{tenant}:{index}:{}", command.name());
        let outcome = service
            .execute_at(&principal, tenant, command, Some(&key), at)
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
            token: demo_token(&agent),
            principal: agent,
            about: "support_agent: vetting reviews and support cases".into(),
        },
        support_admin: DemoToken {
            token: demo_token(&admin),
            principal: admin,
            about: "support_admin: also tenants and tokens".into(),
        },
        partners: Vec::new(),
    };
    for (tenant, user, about) in TENANTS {
        let principal = partner(tenant, user);
        tokens.partners.push(DemoToken {
            token: demo_token(&principal),
            principal,
            about: about.into(),
        });
    }
    for demo in [&tokens.support_agent, &tokens.support_admin]
        .into_iter()
        .chain(&tokens.partners)
    {
        service.store_token(&demo.token, &demo.principal).await?;
    }
    Ok(tokens)
}

/// The latest moment, a whole number of days before `now` (same time of day),
/// that lies `n` business days before it by the catalog's calendar.
pub fn business_days_before(catalog: &Catalog, now: Timestamp, n: u32) -> Timestamp {
    let mut days = 0i64;
    loop {
        days += 1;
        let at = now - SignedDuration::from_hours(24 * days);
        if catalog.calendar.business_days_between(at, now) >= n {
            return at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tokens_are_stable_and_distinct() {
        let a = demo_token(&support_agent());
        assert_eq!(a, demo_token(&support_agent()));
        assert_ne!(a, demo_token(&support_admin()));
        assert!(a.starts_with(auth::TOKEN_PREFIX));
    }

    #[test]
    fn past_moments_are_counted_in_business_days() {
        let catalog = Catalog::partner_center();
        // Wednesday 2026-11-25: 8 business days back crosses a weekend and
        // Veterans Day is before it; Thanksgiving is after.
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().expect("valid");
        let at = business_days_before(catalog, now, 8);
        assert_eq!(catalog.calendar.business_days_between(at, now), 8);
        assert_eq!(
            catalog
                .calendar
                .business_days_between(at + SignedDuration::from_hours(24), now),
            7
        );
    }
}
