//! Reads: decisions (check, access, diagnosis), the partner pages and the operator views.

use super::*;

impl Service {
    // ---- decisions --------------------------------------------------------

    /// May `user` of `tenant` take `action` now? Never touches the database.
    /// A partner may ask only about its own tenant, and about another user
    /// than itself only through the catalog's `other_users` gate.
    pub async fn check(
        &self,
        principal: &Principal,
        tenant: &str,
        user: &str,
        action: &str,
        min_revision: Option<u64>,
    ) -> Result<CheckResult, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        let action = self.action(action, "action")?;
        self.may_read_user(principal, &state, user)?;
        self.check_cached(&state, user, action, Timestamp::now())
    }

    /// Many checks at once against one consistent moment; each answer or error
    /// in input order.
    pub async fn check_batch(
        &self,
        principal: &Principal,
        checks: &[(String, String, String)],
        min_revision: Option<u64>,
    ) -> Result<Vec<Result<CheckResult, ServiceError>>, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let now = Timestamp::now();
        Ok(checks
            .iter()
            .enumerate()
            .map(|(index, (tenant, user, action))| {
                let state = self.reachable(principal, tenant)?;
                let action = self.action(action, &format!("checks[{index}].action"))?;
                self.may_read_user(principal, &state, user)?;
                self.check_cached(&state, user, action, now)
            })
            .collect())
    }

    pub(super) fn check_cached(
        &self,
        state: &Tenant,
        user: &str,
        action: ActionIx,
        now: Timestamp,
    ) -> Result<CheckResult, ServiceError> {
        let user = state.user(user).ok_or_else(|| ServiceError::NotFound {
            what: "user",
            id: user.to_owned(),
        })?;
        let decision = clearance_core::decide(self.catalog(), state, user, action, now);
        let allowed = decision.allowed();
        metrics::counter!("clearance_decisions_total", "allowed" => if allowed { "true" } else { "false" })
            .increment(1);
        Ok(CheckResult::from_decision(self.catalog(), &decision))
    }

    /// Every workspace and action for `user` (default: the partner principal's own user).
    pub async fn access(
        &self,
        principal: &Principal,
        tenant: &str,
        user: Option<&str>,
        min_revision: Option<u64>,
    ) -> Result<AccessView, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        let user = self.subject_user(principal, &state, user)?;
        let workspaces = decision::access(self.catalog(), &state, user, Timestamp::now())
            .iter()
            .map(|workspace| WorkspaceView::new(self.catalog(), workspace))
            .collect();
        Ok(AccessView {
            tenant: state.id.clone(),
            user: user.id.clone(),
            workspaces,
        })
    }

    /// The tenant's root cause and next supported steps for `user`.
    pub async fn diagnosis(
        &self,
        principal: &Principal,
        tenant: &str,
        user: Option<&str>,
        min_revision: Option<u64>,
    ) -> Result<DiagnosisView, ServiceError> {
        self.wait_for_revision(min_revision).await?;
        let state = self.reachable(principal, tenant)?;
        let user = self.subject_user(principal, &state, user)?;
        let diagnosis = clearance_core::diagnose(self.catalog(), &state, user, Timestamp::now());
        Ok(DiagnosisView::new(self.catalog(), &diagnosis))
    }

    // ---- partner pages ------------------------------------------------------

    /// The Partner tab of Legal Info (gated by the catalog's `legal_info` gate for partners).
    pub async fn legal_info(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<LegalInfoView, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.legal_info,
                min_revision,
            )
            .await?;
        let catalog = self.catalog();
        let afford = |command: Command| self.afford(principal, &state, &command, now);
        Ok(LegalInfoView {
            tenant: state.id.clone(),
            country: state.country.clone(),
            primary_contact: state.primary_contact.clone(),
            programs: program_infos(catalog, &state, false)
                .into_iter()
                .map(|info| LegalProgramView {
                    enroll: afford(Command::Enroll {
                        program: info.program.clone(),
                    }),
                    submit: afford(Command::SubmitVerification {
                        program: info.program.clone(),
                    }),
                    info,
                })
                .collect(),
            agreements: catalog
                .agreements
                .iter()
                .map(|agreement| AgreementView {
                    agreement: agreement.id.clone(),
                    name: agreement.name.clone(),
                    accepted: catalog
                        .agreement_ix(&agreement.id)
                        .is_some_and(|ix| state.agreements.contains(ix)),
                    accept: afford(Command::AcceptAgreement {
                        agreement: agreement.id.clone(),
                    }),
                })
                .collect(),
            profiles: catalog
                .profiles
                .iter()
                .map(|profile| {
                    let complete = catalog
                        .profile_ix(&profile.id)
                        .is_some_and(|ix| state.profiles.contains(ix));
                    ProfileView {
                        profile: profile.id.clone(),
                        name: profile.name.clone(),
                        complete,
                        update: afford(Command::UpdateProfile {
                            profile: profile.id.clone(),
                            complete: !complete,
                        }),
                    }
                })
                .collect(),
            capability_score: state.capability_score,
            memberships: state
                .memberships
                .iter()
                .map(|membership| MembershipView {
                    offer: catalog.offer(membership.offer).id.clone(),
                    expires_at: membership.expires_at.to_string(),
                })
                .collect(),
        })
    }

    /// The verification summary of one program (gated by the catalog's `verification` gate for partners).
    pub async fn verification(
        &self,
        principal: &Principal,
        tenant: &str,
        program: &str,
        min_revision: Option<u64>,
    ) -> Result<VerificationView, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.verification,
                min_revision,
            )
            .await?;
        let program_ix =
            self.catalog()
                .program_ix(program)
                .ok_or_else(|| ServiceError::NotFound {
                    what: "program",
                    id: program.to_owned(),
                })?;
        let record = state
            .program(program_ix)
            .ok_or_else(|| ServiceError::NotFound {
                what: "enrollment",
                id: program.to_owned(),
            })?;
        Ok(self.verification_view(principal, &state, record, now))
    }

    /// The verification summary of every program the tenant is enrolled in,
    /// in the order it enrolled (gated as [`Service::verification`]).
    pub async fn verifications(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Vec<VerificationView>, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.verification,
                min_revision,
            )
            .await?;
        Ok(state
            .programs
            .iter()
            .map(|record| self.verification_view(principal, &state, record, now))
            .collect())
    }

    fn verification_view(
        &self,
        principal: &Principal,
        state: &Tenant,
        record: &ProgramRecord,
        now: Timestamp,
    ) -> VerificationView {
        let catalog = self.catalog();
        let program = catalog.program(record.program);
        let verification = &record.verification;
        let sla = self.sla(verification, now);
        let max = catalog.vetting.max_appeals;
        VerificationView {
            tenant: state.id.clone(),
            program: program.id.clone(),
            name: program.name.clone(),
            enrollment: record.enrollment.as_str().to_owned(),
            status: verification.status.as_str().to_owned(),
            reason: verification.reason.clone(),
            documents_requested: verification.documents_requested.clone(),
            submitted_at: verification.submitted_at.map(|at| at.to_string()),
            sla_due: sla.map(|sla| sla.due.to_string()),
            business_days_elapsed: sla.map(|sla| sla.elapsed),
            overdue: verification.overdue || sla.is_some_and(|sla| sla.overdue),
            action_required: verification.action_required,
            appeals_used: verification.appeals_used,
            appeals_left: max.saturating_sub(verification.appeals_used),
            escalated_case: verification.escalated_case.clone(),
            appeals: verification
                .appeals
                .iter()
                .map(|appeal| AppealView {
                    document_type: appeal.document_type.clone(),
                    document: appeal.document.clone(),
                    by: appeal.by.clone(),
                    at: appeal.at.to_string(),
                })
                .collect(),
            actions: self.verification_actions(principal, state, &program.id, now),
        }
    }

    /// The tenant's users and their roles (gated by the catalog's `view_users` gate for partners).
    pub async fn users(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<UsersView, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.view_users,
                min_revision,
            )
            .await?;
        Ok(UsersView {
            users: state
                .users
                .iter()
                .map(|user| UserView {
                    id: user.id.clone(),
                    roles: user
                        .roles
                        .iter()
                        .map(|role| self.catalog().role(role).id.clone())
                        .collect(),
                    primary_contact: state.primary_contact.as_deref() == Some(user.id.as_str()),
                    change_roles: self.change_roles_affordance(principal, &state, &user.id, now),
                    revoke_all: self.revoke_all_affordance(principal, &state, &user.id, now),
                    remove: self.afford(
                        principal,
                        &state,
                        &Command::RemoveUser {
                            user: user.id.clone(),
                        },
                        now,
                    ),
                })
                .collect(),
            add_user: self.add_user_affordance(principal, &state, now),
        })
    }

    /// The tenant's support cases (gated by the catalog's `view_cases` gate for partners).
    pub async fn cases(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Vec<CaseView>, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.view_cases,
                min_revision,
            )
            .await?;
        Ok(self.case_views(principal, &state, now))
    }

    /// The support page: the tenant's cases (gated as [`Service::cases`]),
    /// the programs a new case may concern, and "Open case".
    pub async fn support(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<SupportView, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.view_cases,
                min_revision,
            )
            .await?;
        let text = || "dry run".to_owned();
        Ok(SupportView {
            cases: self.case_views(principal, &state, now),
            programs: state
                .programs
                .iter()
                .map(|record| {
                    let program = self.catalog().program(record.program);
                    ProgramInfoView {
                        program: program.id.clone(),
                        name: program.name.clone(),
                        enrolled: true,
                        enrollment: Some(record.enrollment.as_str().to_owned()),
                        verification: Some(record.verification.status.as_str().to_owned()),
                    }
                })
                .collect(),
            open_case: self.afford(
                principal,
                &state,
                &Command::OpenCase {
                    subject: text(),
                    program: None,
                    body: text(),
                },
                now,
            ),
        })
    }

    fn case_views(&self, principal: &Principal, state: &Tenant, now: Timestamp) -> Vec<CaseView> {
        state
            .cases
            .iter()
            .map(|case| self.case_view(principal, state, case, now))
            .collect()
    }

    fn case_view(
        &self,
        principal: &Principal,
        state: &Tenant,
        case: &SupportCase,
        now: Timestamp,
    ) -> CaseView {
        let catalog = self.catalog();
        CaseView {
            tenant: state.id.clone(),
            id: case.id.clone(),
            subject: case.subject.clone(),
            program: case
                .program
                .map(|program| catalog.program(program).id.clone()),
            opened_by: case.opened_by.clone(),
            opened_at: case.opened_at.to_string(),
            status: match case.status {
                CaseStatus::Open => "open",
                CaseStatus::Resolved => "resolved",
            }
            .to_owned(),
            comments: case
                .comments
                .iter()
                .map(|comment| CommentView {
                    by: comment.by.clone(),
                    at: comment.at.to_string(),
                    body: comment.body.clone(),
                })
                .collect(),
            resolution: case.resolution.clone(),
            actions: self.case_actions(principal, state, &case.id, now),
        }
    }

    /// The memberships the tenant holds (gated by the catalog's
    /// `membership_page` gate for partners).
    pub async fn memberships(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Vec<HeldMembershipView>, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.membership_page,
                min_revision,
            )
            .await?;
        Ok(state
            .memberships
            .iter()
            .map(|held| {
                let offer = self.catalog().offer(held.offer);
                HeldMembershipView {
                    offer: offer.id.clone(),
                    name: offer.name.clone(),
                    expires_at: held.expires_at.to_string(),
                    active: held.expires_at > now,
                }
            })
            .collect())
    }

    /// Every membership offer of the catalog with its Buy and Renew buttons
    /// (gated by the catalog's `offers_page` gate for partners).
    pub async fn offers(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<Vec<OfferView>, ServiceError> {
        let (state, now) = self
            .gated(
                principal,
                tenant,
                self.catalog().gates.offers_page,
                min_revision,
            )
            .await?;
        // An action the catalog turned off has no button.
        let button = |gate: Gate, command: Command| {
            gate.action()
                .map(|_| self.afford(principal, &state, &command, now))
        };
        Ok(self
            .catalog()
            .offers
            .iter()
            .map(|offer| OfferView {
                offer: offer.id.clone(),
                name: offer.name.clone(),
                term_days: offer.term_days,
                renewal_window_days: offer.renewal_window_days,
                buy: button(
                    offer.buy,
                    Command::BuyMembership {
                        offer: offer.id.clone(),
                    },
                ),
                renew: button(
                    offer.renew,
                    Command::RenewMembership {
                        offer: offer.id.clone(),
                    },
                ),
            })
            .collect())
    }

    /// One support case.
    pub async fn case(
        &self,
        principal: &Principal,
        tenant: &str,
        case: &str,
        min_revision: Option<u64>,
    ) -> Result<CaseView, ServiceError> {
        self.cases(principal, tenant, min_revision)
            .await?
            .into_iter()
            .find(|view| view.id == case)
            .ok_or_else(|| ServiceError::NotFound {
                what: "case",
                id: case.to_owned(),
            })
    }

    /// The audit trail of a tenant, `limit` events after `seq` `after` (gated
    /// by the catalog's `audit_trail` gate for partners: the tenant's admins).
    pub async fn events(
        &self,
        principal: &Principal,
        tenant: &str,
        after: u64,
        limit: u32,
    ) -> Result<EventPage, ServiceError> {
        let state = self.reachable(principal, tenant)?;
        self.gate(
            principal,
            &state,
            self.catalog().gates.audit_trail,
            Timestamp::now(),
        )?;
        if limit == 0 || limit > MAX_EVENT_PAGE {
            return Err(ServiceError::invalid(
                "limit",
                format!("must be between 1 and {MAX_EVENT_PAGE}"),
            ));
        }
        // Sequence numbers are signed 64-bit in the store: a larger `after` is
        // the client's error, not the store's.
        if i64::try_from(after).is_err() {
            return Err(ServiceError::invalid(
                "after",
                format!("must be at most {}", i64::MAX),
            ));
        }
        let stored = self.inner.store.tenant_events(tenant, after, limit).await?;
        let next_after = (stored.len() == limit as usize)
            .then(|| stored.last().map(|event| event.seq))
            .flatten();
        let events = stored
            .into_iter()
            .map(|event| EventView {
                seq: event.seq,
                revision: event.revision,
                actor: serde_json::from_str(&event.actor)
                    .unwrap_or(serde_json::Value::String(event.actor)),
                at: event.recorded_at.to_string(),
                kind: event.kind,
                payload: event.payload,
            })
            .collect();
        Ok(EventPage { events, next_after })
    }

    // ---- operator views -----------------------------------------------------

    /// Every tenant (staff only), by id.
    pub fn tenants(&self, principal: &Principal) -> Result<Vec<TenantSummary>, ServiceError> {
        require_staff(principal)?;
        let mut tenants: Vec<TenantSummary> = self
            .all_tenants()
            .iter()
            .map(|state| summary(self.catalog(), state))
            .collect();
        tenants.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(tenants)
    }

    /// One tenant's summary (staff, or a partner of that tenant through the
    /// catalog's `tenant_summary` gate).
    pub async fn tenant_summary(
        &self,
        principal: &Principal,
        tenant: &str,
        min_revision: Option<u64>,
    ) -> Result<TenantSummary, ServiceError> {
        let state = self.tenant(principal, tenant, min_revision).await?;
        self.gate(
            principal,
            &state,
            self.catalog().gates.tenant_summary,
            Timestamp::now(),
        )?;
        Ok(summary(self.catalog(), &state))
    }

    /// Every support case across tenants (staff only); open ones first, oldest first.
    pub fn all_cases(&self, principal: &Principal) -> Result<Vec<CaseView>, ServiceError> {
        require_staff(principal)?;
        let now = Timestamp::now();
        let mut cases: Vec<(bool, Timestamp, CaseView)> = self
            .all_tenants()
            .iter()
            .flat_map(|state| {
                state.cases.iter().map(|case| {
                    (
                        case.status != CaseStatus::Open,
                        case.opened_at,
                        self.case_view(principal, state, case, now),
                    )
                })
            })
            .collect();
        cases.sort_by(|a, b| (a.0, a.1, &a.2.tenant).cmp(&(b.0, b.1, &b.2.tenant)));
        Ok(cases.into_iter().map(|(_, _, case)| case).collect())
    }

    /// Every verification waiting on someone (pending, in progress, challenged,
    /// rejected), most business days elapsed first (staff only).
    pub fn verification_queue(
        &self,
        principal: &Principal,
        now: Timestamp,
    ) -> Result<Vec<QueueEntry>, ServiceError> {
        require_staff(principal)?;
        let catalog = self.catalog();
        let mut queue: Vec<QueueEntry> = self
            .all_tenants()
            .iter()
            .flat_map(|state| {
                state.programs.iter().filter_map(|record| {
                    let verification = &record.verification;
                    if !matches!(
                        verification.status,
                        VerificationStatus::Pending
                            | VerificationStatus::InProgress
                            | VerificationStatus::Challenged
                            | VerificationStatus::Rejected
                    ) {
                        return None;
                    }
                    let sla = verification.submitted_at.map(|at| {
                        catalog
                            .calendar
                            .sla(at, catalog.vetting.sla_business_days, now)
                    });
                    Some(QueueEntry {
                        tenant: state.id.clone(),
                        program: catalog.program(record.program).id.clone(),
                        status: verification.status.as_str().to_owned(),
                        business_days_elapsed: sla.map_or(0, |sla| sla.elapsed),
                        sla_due: sla.map(|sla| sla.due.to_string()),
                        overdue: verification.overdue
                            || (sla.is_some_and(|sla| sla.overdue) && self.sla_runs(verification)),
                        action_required: verification.action_required,
                        appeals_used: verification.appeals_used,
                    })
                })
            })
            .collect();
        queue.sort_by(|a, b| {
            b.business_days_elapsed
                .cmp(&a.business_days_elapsed)
                .then_with(|| a.tenant.cmp(&b.tenant))
                .then_with(|| a.program.cmp(&b.program))
        });
        Ok(queue)
    }
}

fn program_infos(catalog: &Catalog, state: &Tenant, enrolled_only: bool) -> Vec<ProgramInfoView> {
    catalog
        .programs
        .iter()
        .filter_map(|program| {
            let record = catalog
                .program_ix(&program.id)
                .and_then(|ix| state.program(ix));
            if enrolled_only && record.is_none() {
                return None;
            }
            Some(ProgramInfoView {
                program: program.id.clone(),
                name: program.name.clone(),
                enrolled: record.is_some(),
                enrollment: record.map(|record| record.enrollment.as_str().to_owned()),
                verification: record.map(|record| record.verification.status.as_str().to_owned()),
            })
        })
        .collect()
}

fn summary(catalog: &Catalog, state: &Tenant) -> TenantSummary {
    TenantSummary {
        id: state.id.clone(),
        country: state.country.clone(),
        primary_contact: state.primary_contact.clone(),
        version: state.version,
        programs: program_infos(catalog, state, true),
    }
}
