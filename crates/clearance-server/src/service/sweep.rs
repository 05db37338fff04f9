//! The SLA sweeper: marks every verification past its business-day SLA overdue (the core's
//! workflow then opens its support case), and the SLA clock the reads show.

use super::*;

impl Service {
    /// Marks overdue (once, as the system actor) every pending or in-progress
    /// verification past the catalog's SLA with no action-required banner; the
    /// core's workflow opens its support case. Returns what it marked.
    pub async fn sweep(&self, now: Timestamp) -> SweepReport {
        let mut report = SweepReport::default();
        let mut due = self
            .all_tenants()
            .iter()
            .flat_map(|state| {
                state
                    .programs
                    .iter()
                    .filter(|record| {
                        let verification = &record.verification;
                        self.sla_runs(verification)
                            && !verification.overdue
                            && self.sla(verification, now).is_some_and(|sla| sla.overdue)
                    })
                    .map(|record| {
                        (
                            state.id.clone(),
                            self.catalog().program(record.program).id.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .into_iter();
        // The marks go out concurrently (each tenant's own write), so the
        // store's group commit takes many in one durable commit.
        let mut marking = tokio::task::JoinSet::new();
        loop {
            while marking.len() < SWEEP_CONCURRENCY
                && let Some((tenant, program)) = due.next()
            {
                let service = self.clone();
                marking.spawn(async move {
                    let command = Command::MarkOverdue {
                        program: program.clone(),
                    };
                    let result = service
                        .run(&Actor::System, &tenant, &command, None, now)
                        .await;
                    (tenant, program, result)
                });
            }
            let Some(joined) = marking.join_next().await else {
                break;
            };
            let (tenant, program, result) = match joined {
                Ok(marked) => marked,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => unreachable!("sweep tasks are never cancelled: {error}"),
            };
            match result {
                Ok(_) => report.marked.push((tenant, program)),
                // Another server swept it first.
                Err(ServiceError::Refused(WorkflowError::AlreadyOverdue { .. })) => {}
                Err(error) => report.failed.push((tenant, program, error.to_string())),
            }
        }
        report.marked.sort();
        report.failed.sort();
        if !report.marked.is_empty() || !report.failed.is_empty() {
            tracing::info!(
                marked = report.marked.len(),
                failed = report.failed.len(),
                "SLA sweep"
            );
        }
        report
    }

    /// Whether the SLA clock runs for a verification: pending or in progress, no banner.
    pub(super) fn sla_runs(&self, verification: &clearance_core::state::Verification) -> bool {
        matches!(
            verification.status,
            VerificationStatus::Pending | VerificationStatus::InProgress
        ) && !verification.action_required
    }

    pub(super) fn sla(
        &self,
        verification: &clearance_core::state::Verification,
        now: Timestamp,
    ) -> Option<SlaStatus> {
        if !self.sla_runs(verification) {
            return None;
        }
        let catalog = self.catalog();
        verification.submitted_at.map(|at| {
            catalog
                .calendar
                .sla(at, catalog.vetting.sla_business_days, now)
        })
    }
}
