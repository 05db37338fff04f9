//! Folding one event into a tenant's state.
//!
//! Every arm resolves ids and finds the records it touches before it changes
//! anything, so an event that cannot be folded leaves the state as it was.

use jiff::Timestamp;

use super::{Event, WorkflowError};
use crate::catalog::{Catalog, ProgramIx, RoleIx, Set};
use crate::state::{
    Appeal, CaseComment, CaseStatus, EnrollmentStatus, Membership, ProgramRecord, SupportCase,
    Tenant, User, Verification, VerificationStatus,
};

pub(super) fn apply(
    tenant: &mut Tenant,
    catalog: &Catalog,
    event: &Event,
    at: Timestamp,
) -> Result<(), WorkflowError> {
    match event {
        Event::TenantCreated {
            country,
            admin,
            roles,
        } => {
            if tenant.version > 0 {
                return Err(WorkflowError::TenantExists {
                    id: tenant.id.clone(),
                });
            }
            let roles = resolve_roles(catalog, roles)?;
            tenant.country.clone_from(country);
            tenant.primary_contact = Some(admin.clone());
            tenant.users.push(User {
                id: admin.clone(),
                roles,
            });
        }
        Event::UserAdded { user, roles } => {
            if tenant.user(user).is_some() {
                return Err(WorkflowError::UserExists { id: user.clone() });
            }
            let roles = resolve_roles(catalog, roles)?;
            tenant.users.push(User {
                id: user.clone(),
                roles,
            });
        }
        Event::UserRemoved { user } => {
            let Some(at) = tenant.users.iter().position(|found| found.id == *user) else {
                return Err(WorkflowError::UnknownUser { id: user.clone() });
            };
            tenant.users.remove(at);
        }
        Event::Enrolled { program } => {
            let ix = program_ix(catalog, program)?;
            let record = ProgramRecord {
                program: ix,
                enrollment: EnrollmentStatus::PendingQualification,
                verification: not_started(),
            };
            match tenant.programs.iter().position(|p| p.program == ix) {
                None => tenant.programs.push(record),
                Some(i) => match tenant.programs[i].enrollment {
                    // A closed enrollment is replaced by the new one.
                    EnrollmentStatus::Closed => tenant.programs[i] = record,
                    status @ (EnrollmentStatus::Active
                    | EnrollmentStatus::PendingQualification
                    | EnrollmentStatus::Pending
                    | EnrollmentStatus::Suspended) => {
                        return Err(WorkflowError::AlreadyEnrolled {
                            program: program.clone(),
                            status,
                        });
                    }
                },
            }
        }
        Event::EnrollmentChanged { program, status } => {
            record_mut(tenant, catalog, program)?.enrollment = *status;
        }
        Event::VerificationChanged {
            program,
            status,
            reason,
            documents,
        } => {
            let verification = &mut record_mut(tenant, catalog, program)?.verification;
            verification.status = *status;
            verification.reason.clone_from(reason);
            verification.documents_requested.clone_from(documents);
            verification.action_required = *status == VerificationStatus::Challenged;
            match status {
                // A new round: the SLA clock restarts.
                VerificationStatus::Pending => {
                    verification.submitted_at = Some(at);
                    verification.overdue = false;
                    verification.escalated_case = None;
                }
                // The same round goes on under a reviewer; its clock keeps running.
                VerificationStatus::InProgress => {}
                // The round ended (or never began): nothing is overdue any more.
                VerificationStatus::NotStarted
                | VerificationStatus::Authorized
                | VerificationStatus::Challenged
                | VerificationStatus::Rejected => {
                    verification.overdue = false;
                    verification.escalated_case = None;
                }
            }
        }
        Event::AppealSubmitted {
            program,
            document_type,
            document,
            by,
        } => {
            let max = catalog.vetting.max_appeals;
            let verification = &mut record_mut(tenant, catalog, program)?.verification;
            if verification.appeals_used >= max {
                return Err(WorkflowError::AppealsExhausted {
                    program: program.clone(),
                    used: verification.appeals_used,
                    max,
                });
            }
            verification.appeals_used += 1;
            verification.appeals.push(Appeal {
                document_type: document_type.clone(),
                document: document.clone(),
                by: by.clone(),
                at,
            });
        }
        Event::MarkedOverdue { program } => {
            record_mut(tenant, catalog, program)?.verification.overdue = true;
        }
        Event::Escalated { program, case } => {
            if !tenant.cases.iter().any(|c| &c.id == case) {
                return Err(WorkflowError::CaseNotFound { id: case.clone() });
            }
            record_mut(tenant, catalog, program)?
                .verification
                .escalated_case = Some(case.clone());
        }
        Event::AgreementAccepted { agreement } => {
            let ix =
                catalog
                    .agreement_ix(agreement)
                    .ok_or_else(|| WorkflowError::UnknownAgreement {
                        id: agreement.clone(),
                    })?;
            tenant.agreements.insert(ix);
        }
        Event::RolesGranted { user, roles } => {
            let roles = resolve_roles(catalog, roles)?;
            let user = user_mut(tenant, user)?;
            user.roles = user.roles.union(roles);
        }
        Event::RolesRevoked { user, roles } => {
            let roles = resolve_roles(catalog, roles)?;
            let user = user_mut(tenant, user)?;
            user.roles = user.roles.difference(roles);
        }
        Event::ProfileUpdated { profile, complete } => {
            let ix = catalog
                .profile_ix(profile)
                .ok_or_else(|| WorkflowError::UnknownProfile {
                    id: profile.clone(),
                })?;
            if *complete {
                tenant.profiles.insert(ix);
            } else {
                tenant.profiles.remove(ix);
            }
        }
        Event::CapabilityScoreUpdated { score } => {
            tenant.capability_score = Some(*score);
        }
        Event::MembershipBought { offer, expires_at } => {
            let ix = catalog
                .offer_ix(offer)
                .ok_or_else(|| WorkflowError::UnknownOffer { id: offer.clone() })?;
            // One membership per offer: buying again after expiry replaces it.
            tenant.memberships.retain(|m| m.offer != ix);
            tenant.memberships.push(Membership {
                offer: ix,
                expires_at: *expires_at,
            });
        }
        Event::MembershipRenewed { offer, expires_at } => {
            let ix = catalog
                .offer_ix(offer)
                .ok_or_else(|| WorkflowError::UnknownOffer { id: offer.clone() })?;
            let membership = tenant
                .memberships
                .iter_mut()
                .find(|m| m.offer == ix)
                .ok_or_else(|| WorkflowError::NoMembership {
                    offer: offer.clone(),
                })?;
            membership.expires_at = *expires_at;
        }
        Event::CaseOpened {
            case,
            subject,
            program,
            body,
            by,
        } => {
            if tenant.cases.iter().any(|c| &c.id == case) {
                return Err(WorkflowError::InvalidInput {
                    field: "case",
                    message: format!("case {case} already exists"),
                });
            }
            let program = program
                .as_deref()
                .map(|id| program_ix(catalog, id))
                .transpose()?;
            tenant.cases.push(SupportCase {
                id: case.clone(),
                subject: subject.clone(),
                program,
                opened_by: by.clone(),
                opened_at: at,
                status: CaseStatus::Open,
                comments: vec![CaseComment {
                    by: by.clone(),
                    at,
                    body: body.clone(),
                }],
                resolution: None,
            });
        }
        Event::CaseCommented { case, body, by } => {
            case_mut(tenant, case)?.comments.push(CaseComment {
                by: by.clone(),
                at,
                body: body.clone(),
            });
        }
        Event::CaseResolved {
            case,
            resolution,
            by: _,
        } => {
            let case = case_mut(tenant, case)?;
            case.status = CaseStatus::Resolved;
            case.resolution = Some(resolution.clone());
        }
    }
    tenant.version += 1;
    Ok(())
}

/// The verification state of a fresh enrollment.
fn not_started() -> Verification {
    Verification {
        status: VerificationStatus::NotStarted,
        submitted_at: None,
        action_required: false,
        reason: None,
        documents_requested: Vec::new(),
        appeals_used: 0,
        appeals: Vec::new(),
        overdue: false,
        escalated_case: None,
    }
}

fn program_ix(catalog: &Catalog, id: &str) -> Result<ProgramIx, WorkflowError> {
    catalog
        .program_ix(id)
        .ok_or_else(|| WorkflowError::UnknownProgram { id: id.to_owned() })
}

fn resolve_roles(catalog: &Catalog, ids: &[String]) -> Result<Set<RoleIx>, WorkflowError> {
    ids.iter()
        .map(|id| {
            catalog
                .role_ix(id)
                .ok_or_else(|| WorkflowError::UnknownRole { id: id.clone() })
        })
        .collect()
}

fn record_mut<'t>(
    tenant: &'t mut Tenant,
    catalog: &Catalog,
    program: &str,
) -> Result<&'t mut ProgramRecord, WorkflowError> {
    let ix = program_ix(catalog, program)?;
    tenant
        .programs
        .iter_mut()
        .find(|p| p.program == ix)
        .ok_or_else(|| WorkflowError::NotEnrolled {
            program: program.to_owned(),
        })
}

fn user_mut<'t>(tenant: &'t mut Tenant, id: &str) -> Result<&'t mut User, WorkflowError> {
    tenant
        .users
        .iter_mut()
        .find(|u| u.id == id)
        .ok_or_else(|| WorkflowError::UnknownUser { id: id.to_owned() })
}

fn case_mut<'t>(tenant: &'t mut Tenant, id: &str) -> Result<&'t mut SupportCase, WorkflowError> {
    tenant
        .cases
        .iter_mut()
        .find(|c| c.id == id)
        .ok_or_else(|| WorkflowError::CaseNotFound { id: id.to_owned() })
}
