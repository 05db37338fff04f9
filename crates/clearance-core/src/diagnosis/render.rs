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
            catalog.workspaces[workspace.index()].name,
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
                        .map(|r| catalog.requirements[r.index()].reason.as_str())
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
    &catalog.programs[program.index()].name
}

fn action_name(catalog: &Catalog, action: ActionIx) -> &str {
    &catalog.actions[action.index()].name
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
        "Open the Verification summary (Account settings → Legal Info) for the {}: {detail}",
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
        "Select Resolve in the partner call-to-action bar, choose a document type, upload supporting documentation and submit the appeal. {} {} of {} appeals {} left.",
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
        AppellantStanding::PrimaryContact => format!("{user}, the primary contact, can do it."),
        AppellantStanding::HoldsRoles(held) => format!(
            "{user} can do it as a {} (appeals are for {anyone}).",
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
                "Verification has been {} for {} business days, past the {sla_business_days}-business-day SLA (due {}), and no action-required banner is shown: contact Partner Center support, who can review the tenant's vetting state and unblock it.{follow_up}",
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
        .map(|a| catalog.agreements[a.index()].name.as_str())
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
        .map(|p| catalog.profiles[p.index()].name.as_str())
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
        .map(|w| catalog.workspaces[w.index()].name.as_str())
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
