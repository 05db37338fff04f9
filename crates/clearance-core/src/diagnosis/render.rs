//! The sentence a user reads for each finding: one function per step code.
//!
//! Only wording lives here; what applies was decided when the finding was
//! made. Names come from the catalog, "who can fix" from [`crate::prose`].

use super::{
    Appeals, AppellantStanding, EnrollmentGap, Finding, FindingKind, SignInReason, SlaClock,
    SupportReason, VerificationReview, utc_date,
};
use crate::catalog::{ActionIx, AgreementIx, Catalog, FixedBy, ProfileIx, ProgramIx, Set};
use crate::prose::{capitalize, join_and, role_names, who_can_fix};
use crate::state::{EnrollmentStatus, VerificationStatus};

/// The sentence `user` reads for `finding`, worded with `catalog`'s names.
pub fn render(catalog: &Catalog, user: &str, finding: &Finding) -> String {
    let program = finding.program;
    match &finding.kind {
        FindingKind::CheckLegalInfo {
            enrollment,
            verification,
            legal_info_blocked,
        } => check_legal_info(
            catalog,
            user,
            program,
            *enrollment,
            *verification,
            legal_info_blocked.as_ref(),
        ),
        FindingKind::VerifyEnrollment { gap, enrollers } => {
            verify_enrollment(catalog, program, *gap, enrollers)
        }
        FindingKind::ReviewVerificationSummary { review } => {
            review_verification_summary(catalog, program, review)
        }
        FindingKind::WaitForVerification {
            sla_business_days,
            clock,
            ..
        } => wait_for_verification(*sla_business_days, clock.as_ref()),
        FindingKind::RespondToChallenge {
            reason,
            documents_requested,
            appeals,
        } => respond_to_challenge(
            catalog,
            user,
            program,
            reason.as_deref(),
            documents_requested,
            appeals,
        ),
        FindingKind::SubmitAppeal { appeals } => submit_appeal(catalog, user, appeals),
        FindingKind::ContactSupport { reason } => contact_support(catalog, program, reason),
        FindingKind::AcceptAgreement {
            agreements,
            fixed_by,
        } => accept_agreement(catalog, program, *agreements, fixed_by),
        FindingKind::CompleteProfile {
            profiles,
            actions,
            fixed_by,
        } => complete_profile(catalog, *profiles, actions, fixed_by),
        FindingKind::AssignRole {
            roles,
            workspace,
            fixed_by,
            ..
        } => format!(
            "{user} needs the {} role to open {}.{}",
            role_names(catalog, *roles),
            catalog.workspace(*workspace).name,
            can_do(catalog, fixed_by, "assign it in User management")
        ),
        FindingKind::SignInAgain {
            reason,
            home,
            closable_case,
        } => sign_in_again(catalog, *reason, *home, closable_case.as_deref()),
        FindingKind::ExplainDisabledPurchase { disabled } => {
            let lines: Vec<String> = disabled
                .iter()
                .map(|purchase| {
                    let reasons: Vec<&str> = purchase
                        .unmet
                        .iter()
                        .map(|r| catalog.requirement(*r).reason.as_str())
                        .collect();
                    format!(
                        "{} is disabled: {}",
                        action_name(catalog, purchase.action),
                        reasons.join(" ")
                    )
                })
                .collect();
            format!(
                "Learn why Buy/Renew is disabled on Membership offers: {}",
                lines.join(" ")
            )
        }
    }
}

fn program_name(catalog: &Catalog, program: ProgramIx) -> &str {
    &catalog.program(program).name
}

fn action_name(catalog: &Catalog, action: ActionIx) -> &str {
    &catalog.action(action).name
}

/// " A Global Admin can {what}." or nothing when nobody is named.
fn can_do(catalog: &Catalog, fixed_by: &FixedBy, what: &str) -> String {
    who_can_fix(catalog, fixed_by)
        .map(|who| format!(" {} can {what}.", capitalize(&who)))
        .unwrap_or_default()
}

fn check_legal_info(
    catalog: &Catalog,
    user: &str,
    program: ProgramIx,
    enrollment: EnrollmentStatus,
    verification: VerificationStatus,
    legal_info_blocked: Option<&FixedBy>,
) -> String {
    let mut text = format!(
        "Go to Account settings → Legal Info → Partner tab and check the {}: program status is {}{} and verification status is {}{}.",
        program_name(catalog, program),
        enrollment.words(),
        if enrollment == EnrollmentStatus::Active {
            ""
        } else {
            " (must be Active)"
        },
        verification.words(),
        if verification == VerificationStatus::Authorized {
            ""
        } else {
            " (must be Authorized)"
        }
    );
    if let Some(fixed_by) = legal_info_blocked {
        let who = who_can_fix(catalog, fixed_by).unwrap_or_else(|| "an admin".to_owned());
        text.push_str(&format!(
            " {user} cannot open Legal Info: ask {who} to check it or to give {user} access."
        ));
    }
    text
}

fn verify_enrollment(
    catalog: &Catalog,
    program: ProgramIx,
    gap: EnrollmentGap,
    enrollers: &FixedBy,
) -> String {
    let name = program_name(catalog, program);
    let who = who_can_fix(catalog, enrollers).unwrap_or_else(|| "support".to_owned());
    match gap {
        EnrollmentGap::NoRecord => format!(
            "The Partner tab has no {name} record: {who} must verify the enrollment (enroll in the program) from Account settings → Legal Info."
        ),
        EnrollmentGap::Closed => format!(
            "The {name} enrollment is Closed: {who} must enroll again from Account settings → Legal Info."
        ),
    }
}

fn review_verification_summary(
    catalog: &Catalog,
    program: ProgramIx,
    review: &VerificationReview,
) -> String {
    let detail = match review {
        VerificationReview::NotSubmitted { enrollers } => format!(
            "verification has not been submitted yet; {} can submit it there.",
            who_can_fix(catalog, enrollers).unwrap_or_else(|| "support".to_owned())
        ),
        VerificationReview::Waiting {
            status,
            submitted_at,
            sla_business_days,
        } => {
            let since = submitted_at
                .map(|at| format!(" since {}", utc_date(at)))
                .unwrap_or_default();
            format!(
                "the overall status is {}{since}; verification normally completes in {sla_business_days} business days.",
                status.words()
            )
        }
        VerificationReview::Challenged => "the overall status is Challenged: the reviewer needs more information (see the action-required banner).".to_owned(),
        VerificationReview::Rejected { reason } => {
            let reason = reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            let stop = if reason.ends_with('.') { "" } else { "." };
            format!("the overall status is Rejected{reason}{stop}")
        }
    };
    format!(
        "Open the Verification summary (Account settings → Verification) for the {}: {detail}",
        program_name(catalog, program)
    )
}

fn wait_for_verification(sla_business_days: u32, clock: Option<&SlaClock>) -> String {
    match clock {
        Some(clock) => format!(
            "Verification is inside its SLA: {} of {sla_business_days} business days have passed; it is due by {}. Nothing else is needed until then.",
            clock.elapsed, clock.due
        ),
        None => format!(
            "The submission date is not recorded; verification normally completes in {sla_business_days} business days. If it has been longer, contact support."
        ),
    }
}

fn respond_to_challenge(
    catalog: &Catalog,
    user: &str,
    program: ProgramIx,
    reason: Option<&str>,
    documents_requested: &[String],
    appeals: &Appeals,
) -> String {
    let reason = reason
        .map(|r| format!(" The reviewer says: \"{r}\""))
        .unwrap_or_default();
    let documents = if documents_requested.is_empty() {
        String::new()
    } else {
        format!(" Documents asked for: {}.", documents_requested.join(", "))
    };
    format!(
        "Answer the action-required (Fix now) banner for the {}: select Resolve, choose the document type, upload what is asked for and submit.{reason}{documents} {}",
        program_name(catalog, program),
        appellants(catalog, user, appeals)
    )
}

fn submit_appeal(catalog: &Catalog, user: &str, appeals: &Appeals) -> String {
    format!(
        "Open the Verification summary, choose a document type, upload supporting documentation and submit the appeal. {} {} of {} appeals {} left.",
        appellants(catalog, user, appeals),
        appeals.left,
        appeals.max,
        if appeals.left == 1 { "is" } else { "are" }
    )
}

/// Who may appeal, addressed to the user when it is them.
fn appellants(catalog: &Catalog, user: &str, appeals: &Appeals) -> String {
    let who = &appeals.appellants;
    let primary = who.primary_contact.as_deref();
    let anyone = match (primary, who.roles.is_empty()) {
        (Some(primary), true) => format!("the primary contact ({primary})"),
        (Some(primary), false) => format!(
            "the primary contact ({primary}) or a {}",
            role_names(catalog, who.roles)
        ),
        (None, true) => "the primary contact".to_owned(),
        (None, false) => format!(
            "the primary contact or a {}",
            role_names(catalog, who.roles)
        ),
    };
    match who.user {
        AppellantStanding::PrimaryContact => {
            format!("You ({user}) can do it, as the primary contact.")
        }
        AppellantStanding::HoldsRoles(held) => format!(
            "You ({user}) can do it as a {} (appeals are for {anyone}).",
            role_names(catalog, held)
        ),
        AppellantStanding::Neither => format!("Only {anyone} can do it."),
    }
}

fn contact_support(catalog: &Catalog, program: ProgramIx, reason: &SupportReason) -> String {
    let name = program_name(catalog, program);
    match reason {
        SupportReason::PastSla {
            status,
            sla_business_days,
            clock,
            open_case,
        } => {
            let follow_up = open_case
                .as_deref()
                .map(|case| format!(" Support case {case} is open: follow it up there."))
                .unwrap_or_default();
            format!(
                "Verification has been {} for {} business days, past the {sla_business_days}-business-day SLA (due {}), and the reviewer has not asked for anything: contact Partner Center support, who can review the tenant's vetting state and unblock it.{follow_up}",
                status.words(),
                clock.elapsed,
                clock.due
            )
        }
        SupportReason::AppealsExhausted { max_appeals } => format!(
            "All {max_appeals} appeals for the {name} have been used: contact support, who can review the tenant's vetting state."
        ),
        SupportReason::NotActivated { enrollment } => format!(
            "Verification is Authorized but the {name} enrollment is still {}: contact support to activate it.",
            enrollment.words()
        ),
        SupportReason::Suspended => format!(
            "The {name} enrollment is Suspended: contact support to find out why and lift it."
        ),
    }
}

fn accept_agreement(
    catalog: &Catalog,
    program: ProgramIx,
    agreements: Set<AgreementIx>,
    fixed_by: &FixedBy,
) -> String {
    let names: Vec<&str> = agreements
        .iter()
        .map(|a| catalog.agreement(a).name.as_str())
        .collect();
    format!(
        "Accept the {} in Account settings → Legal Info; the {} requires it.{}",
        join_and(&names),
        program_name(catalog, program),
        can_do(catalog, fixed_by, "accept it")
    )
}

fn complete_profile(
    catalog: &Catalog,
    profiles: Set<ProfileIx>,
    actions: &[ActionIx],
    fixed_by: &FixedBy,
) -> String {
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| catalog.profile(p).name.as_str())
        .collect();
    let held_back: Vec<&str> = actions.iter().map(|&a| action_name(catalog, a)).collect();
    format!(
        "Complete the {} in Account settings; {} need{} {}.{}",
        join_and(&names),
        join_and(&held_back),
        if held_back.len() == 1 { "s" } else { "" },
        if names.len() == 1 { "it" } else { "them" },
        can_do(catalog, fixed_by, "do it")
    )
}

fn sign_in_again(
    catalog: &Catalog,
    reason: SignInReason,
    home: Option<crate::catalog::WorkspaceIx>,
    closable_case: Option<&str>,
) -> String {
    let home_name = home
        .map(|w| catalog.workspace(w).name.as_str())
        .unwrap_or("the program's workspaces");
    let when = match reason {
        SignInReason::AfterRoleAssigned => "Once the role is assigned, sign",
        SignInReason::AccessRestored => "Access is restored: sign",
    };
    let close = closable_case
        .map(|case| format!(" Support case {case} can then be closed."))
        .unwrap_or_default();
    format!("{when} in again and open {home_name}.{close}")
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use jiff::civil::date;

    use super::*;
    use crate::diagnosis::{DisabledPurchase, StepCode};

    fn catalog() -> &'static Catalog {
        Catalog::partner_center()
    }

    /// The action the catalog declares as Partner Success Core Benefits' Buy Now.
    fn core_buy(catalog: &Catalog) -> crate::catalog::ActionIx {
        let offer = catalog
            .offer_ix("maicpp_core_benefits")
            .expect("core offer");
        catalog.offer(offer).buy.action().expect("buyable")
    }

    fn maicpp(kind: FindingKind) -> Finding {
        Finding {
            program: catalog().program_ix("maicpp").expect("maicpp"),
            kind,
        }
    }

    fn roles(ids: &[&str]) -> Set<crate::catalog::RoleIx> {
        ids.iter()
            .map(|id| catalog().role_ix(id).expect("role"))
            .collect()
    }

    fn fixed_by(role_ids: &[&str], primary_contact: bool, support: bool) -> FixedBy {
        FixedBy {
            roles: roles(role_ids),
            primary_contact,
            support,
        }
    }

    fn enrollers() -> FixedBy {
        fixed_by(&["global_admin", "maicpp_partner_admin"], false, false)
    }

    fn submitted() -> Timestamp {
        "2026-11-12T09:00:00Z".parse().expect("timestamp")
    }

    fn appeals(user: AppellantStanding) -> Appeals {
        Appeals {
            used: 1,
            left: 2,
            max: 3,
            appellants: super::super::Appellants {
                primary_contact: Some("alice".to_owned()),
                roles: roles(&["global_admin"]),
                user,
            },
        }
    }

    fn said(kind: FindingKind) -> String {
        render(catalog(), "bob", &maicpp(kind))
    }

    /// One finding of every step code, with its exact sentence.
    fn every_code() -> Vec<(FindingKind, &'static str)> {
        let catalog = catalog();
        vec![
            (
                FindingKind::CheckLegalInfo {
                    enrollment: EnrollmentStatus::PendingQualification,
                    verification: VerificationStatus::Pending,
                    legal_info_blocked: Some(fixed_by(&["global_admin"], true, false)),
                },
                "Go to Account settings → Legal Info → Partner tab and check the Microsoft AI Cloud Partner Program: program status is Pending qualification (must be Active) and verification status is Pending (must be Authorized). bob cannot open Legal Info: ask a Global Admin or the primary contact to check it or to give bob access.",
            ),
            (
                FindingKind::VerifyEnrollment {
                    gap: EnrollmentGap::Closed,
                    enrollers: enrollers(),
                },
                "The Microsoft AI Cloud Partner Program enrollment is Closed: a Global Admin or Microsoft AI Cloud Partner Program partner admin must enroll again from Account settings → Legal Info.",
            ),
            (
                FindingKind::ReviewVerificationSummary {
                    review: VerificationReview::Waiting {
                        status: VerificationStatus::InProgress,
                        submitted_at: Some(submitted()),
                        sla_business_days: 5,
                    },
                },
                "Open the Verification summary (Account settings → Verification) for the Microsoft AI Cloud Partner Program: the overall status is In progress since 2026-11-12; verification normally completes in 5 business days.",
            ),
            (
                FindingKind::WaitForVerification {
                    status: VerificationStatus::Pending,
                    sla_business_days: 5,
                    clock: Some(SlaClock {
                        submitted_at: submitted(),
                        elapsed: 3,
                        due: date(2026, 11, 19),
                    }),
                },
                "Verification is inside its SLA: 3 of 5 business days have passed; it is due by 2026-11-19. Nothing else is needed until then.",
            ),
            (
                FindingKind::RespondToChallenge {
                    reason: Some("The address does not match.".to_owned()),
                    documents_requested: vec!["utility bill".to_owned(), "lease".to_owned()],
                    appeals: appeals(AppellantStanding::Neither),
                },
                "Answer the action-required (Fix now) banner for the Microsoft AI Cloud Partner Program: select Resolve, choose the document type, upload what is asked for and submit. The reviewer says: \"The address does not match.\" Documents asked for: utility bill, lease. Only the primary contact (alice) or a Global Admin can do it.",
            ),
            (
                FindingKind::SubmitAppeal {
                    appeals: appeals(AppellantStanding::HoldsRoles(roles(&["global_admin"]))),
                },
                "Open the Verification summary, choose a document type, upload supporting documentation and submit the appeal. You (bob) can do it as a Global Admin (appeals are for the primary contact (alice) or a Global Admin). 2 of 3 appeals are left.",
            ),
            (
                FindingKind::ContactSupport {
                    reason: SupportReason::PastSla {
                        status: VerificationStatus::Pending,
                        sla_business_days: 5,
                        clock: SlaClock {
                            submitted_at: submitted(),
                            elapsed: 8,
                            due: date(2026, 11, 19),
                        },
                        open_case: Some("case-1".to_owned()),
                    },
                },
                "Verification has been Pending for 8 business days, past the 5-business-day SLA (due 2026-11-19), and the reviewer has not asked for anything: contact Partner Center support, who can review the tenant's vetting state and unblock it. Support case case-1 is open: follow it up there.",
            ),
            (
                FindingKind::AcceptAgreement {
                    agreements: [catalog.agreement_ix("mpa").expect("mpa")]
                        .into_iter()
                        .collect(),
                    fixed_by: fixed_by(&["global_admin"], false, false),
                },
                "Accept the Microsoft Partner Agreement in Account settings → Legal Info; the Microsoft AI Cloud Partner Program requires it. A Global Admin can accept it.",
            ),
            (
                FindingKind::CompleteProfile {
                    profiles: [
                        catalog.profile_ix("payment").expect("payment"),
                        catalog.profile_ix("tax").expect("tax"),
                    ]
                    .into_iter()
                    .collect(),
                    actions: vec![core_buy(catalog)],
                    fixed_by: fixed_by(&["global_admin", "account_admin"], false, false),
                },
                "Complete the Payment profile and Tax profile in Account settings; Buy Now: Partner Success Core Benefits needs them. A Global Admin or Account admin can do it.",
            ),
            (
                FindingKind::AssignRole {
                    requirement: catalog.requirement_ix("membership_role").expect("role"),
                    roles: roles(&["global_admin", "maicpp_partner_admin"]),
                    workspace: catalog.workspace_ix("membership").expect("membership"),
                    fixed_by: fixed_by(&["global_admin", "user_management_admin"], false, false),
                },
                "bob needs the Global Admin or Microsoft AI Cloud Partner Program partner admin role to open Membership. A Global Admin or User management admin can assign it in User management.",
            ),
            (
                FindingKind::SignInAgain {
                    reason: SignInReason::AccessRestored,
                    home: catalog.workspace_ix("membership"),
                    closable_case: Some("case-2".to_owned()),
                },
                "Access is restored: sign in again and open Membership. Support case case-2 can then be closed.",
            ),
            (
                FindingKind::ExplainDisabledPurchase {
                    disabled: vec![DisabledPurchase {
                        action: core_buy(catalog),
                        unmet: vec![
                            catalog
                                .requirement_ix("payment_profile_complete")
                                .expect("payment"),
                        ],
                    }],
                },
                "Learn why Buy/Renew is disabled on Membership offers: Buy Now: Partner Success Core Benefits is disabled: The payment profile is not complete.",
            ),
        ]
    }

    #[test]
    fn each_step_code_is_rendered_from_its_finding() {
        let cases = every_code();
        let codes: Vec<StepCode> = cases.iter().map(|(kind, _)| kind.code()).collect();
        assert_eq!(codes, StepCode::ALL, "one case per code, in code order");
        for (kind, expected) in cases {
            assert_eq!(said(kind.clone()), expected, "{:?}", kind.code());
        }
    }

    #[test]
    fn other_situations_of_a_step_have_their_own_sentence() {
        assert_eq!(
            said(FindingKind::VerifyEnrollment {
                gap: EnrollmentGap::NoRecord,
                enrollers: FixedBy {
                    support: true,
                    ..FixedBy::default()
                },
            }),
            "The Partner tab has no Microsoft AI Cloud Partner Program record: support must verify the enrollment (enroll in the program) from Account settings → Legal Info."
        );
        assert_eq!(
            said(FindingKind::ReviewVerificationSummary {
                review: VerificationReview::Rejected {
                    reason: Some("Documents unreadable.".to_owned())
                },
            }),
            "Open the Verification summary (Account settings → Verification) for the Microsoft AI Cloud Partner Program: the overall status is Rejected: Documents unreadable."
        );
        assert_eq!(
            said(FindingKind::WaitForVerification {
                status: VerificationStatus::Pending,
                sla_business_days: 5,
                clock: None,
            }),
            "The submission date is not recorded; verification normally completes in 5 business days. If it has been longer, contact support."
        );
        assert_eq!(
            said(FindingKind::ContactSupport {
                reason: SupportReason::AppealsExhausted { max_appeals: 3 },
            }),
            "All 3 appeals for the Microsoft AI Cloud Partner Program have been used: contact support, who can review the tenant's vetting state."
        );
        assert_eq!(
            said(FindingKind::SubmitAppeal {
                appeals: Appeals {
                    left: 1,
                    ..appeals(AppellantStanding::PrimaryContact)
                },
            }),
            "Open the Verification summary, choose a document type, upload supporting documentation and submit the appeal. You (bob) can do it, as the primary contact. 1 of 3 appeals is left."
        );
        assert_eq!(
            said(FindingKind::SignInAgain {
                reason: SignInReason::AfterRoleAssigned,
                home: None,
                closable_case: None,
            }),
            "Once the role is assigned, sign in again and open the program's workspaces."
        );
    }
}
