//! Dry runs: whether the workflow would accept a command now, as the
//! [`Affordance`] a page shows beside its button. Nothing is written.

use super::*;

/// The document an appeal's dry run names: any well-formed SHA-256 will do,
/// since the workflow checks the form of the id, not the document.
const ANY_DOCUMENT: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Service {
    /// Whether `principal` could run `command` on `tenant` now, and if not,
    /// the refusal explained (the core's `execute` as a dry run: nothing is
    /// written). For a button no view carries; the views carry their own.
    pub fn preview(
        &self,
        principal: &Principal,
        tenant: &str,
        command: &Command,
    ) -> Result<Affordance, ServiceError> {
        let state = self.reachable(principal, tenant)?;
        Ok(self.afford(principal, &state, command, Timestamp::now()))
    }

    /// The affordance of `command` by `principal` on `state` at `now`.
    pub(super) fn afford(
        &self,
        principal: &Principal,
        state: &Tenant,
        command: &Command,
        now: Timestamp,
    ) -> Affordance {
        let result = workflow::execute(self.catalog(), state, &principal.actor(), command, now);
        Affordance::new(self.catalog(), &result)
    }

    /// The buttons of one program's verification.
    pub(super) fn verification_actions(
        &self,
        principal: &Principal,
        state: &Tenant,
        program: &str,
        now: Timestamp,
    ) -> VerificationActions {
        let program = program.to_owned();
        let afford = |command: Command| self.afford(principal, state, &command, now);
        // Staff write a reason and documents into the form; the dry run needs
        // some, and the rules never depend on their words.
        let reason = || "dry run".to_owned();
        VerificationActions {
            submit: afford(Command::SubmitVerification {
                program: program.clone(),
            }),
            appeal: afford(Command::Appeal {
                program: program.clone(),
                document_type: "dry run".to_owned(),
                document: ANY_DOCUMENT.to_owned(),
            }),
            start_review: afford(Command::StartReview {
                program: program.clone(),
            }),
            authorize: afford(Command::Authorize {
                program: program.clone(),
            }),
            reject: afford(Command::Reject {
                program: program.clone(),
                reason: reason(),
            }),
            challenge: afford(Command::Challenge {
                program,
                reason: reason(),
                documents: vec![reason()],
            }),
        }
    }

    /// The buttons of one support case.
    pub(super) fn case_actions(
        &self,
        principal: &Principal,
        state: &Tenant,
        case: &str,
        now: Timestamp,
    ) -> CaseActions {
        let text = || "dry run".to_owned();
        CaseActions {
            comment: self.afford(
                principal,
                state,
                &Command::CommentCase {
                    case: case.to_owned(),
                    body: text(),
                },
                now,
            ),
            resolve: self.afford(
                principal,
                state,
                &Command::ResolveCase {
                    case: case.to_owned(),
                    resolution: text(),
                },
                now,
            ),
        }
    }

    /// "Add user": the dry run adds a user id the tenant does not have yet,
    /// with no roles, so only the gate and the actor decide.
    pub(super) fn add_user_affordance(
        &self,
        principal: &Principal,
        state: &Tenant,
        now: Timestamp,
    ) -> Affordance {
        let user = (1..)
            .map(|n| format!("new-user-{n}"))
            .find(|id| state.user(id).is_none())
            .expect("a tenant has finitely many users");
        self.afford(
            principal,
            state,
            &Command::AddUser {
                user,
                roles: Vec::new(),
            },
            now,
        )
    }

    /// "Save roles" of `user`: the dry run grants the catalog's first role
    /// (the rules gate any change of roles alike).
    pub(super) fn change_roles_affordance(
        &self,
        principal: &Principal,
        state: &Tenant,
        user: &str,
        now: Timestamp,
    ) -> Affordance {
        let roles = self
            .catalog()
            .roles
            .first()
            .map(|role| vec![role.id.clone()])
            .unwrap_or_default();
        self.afford(
            principal,
            state,
            &Command::GrantRoles {
                user: user.to_owned(),
                roles,
            },
            now,
        )
    }

    /// Unticking every role of `user`: the dry run revokes every catalog
    /// role, so it is refused exactly when the user is the last owner.
    pub(super) fn revoke_all_affordance(
        &self,
        principal: &Principal,
        state: &Tenant,
        user: &str,
        now: Timestamp,
    ) -> Affordance {
        let roles = self
            .catalog()
            .roles
            .iter()
            .map(|role| role.id.clone())
            .collect();
        self.afford(
            principal,
            state,
            &Command::RevokeRoles {
                user: user.to_owned(),
                roles,
            },
            now,
        )
    }
}
