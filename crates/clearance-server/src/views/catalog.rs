//! The catalog as plain data (`clearance catalog show --json`): every list of
//! the catalog with ids in place of indices, gates and holidays included.

use clearance_core::Catalog;
use clearance_core::catalog::{Gate, Gates, Requirement, RequirementIx, RequirementKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{FixedByView, NextStepView, role_ids};

/// The whole catalog, with ids in place of indices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogView {
    /// [`Catalog::fingerprint`] as 16 hex digits.
    pub fingerprint: String,
    /// The vetting rules.
    pub vetting: CatalogVettingView,
    /// Every gate of the `[gates]` table, in table order; `"off"` ones included.
    pub gates: Vec<CatalogGateView>,
    /// Holidays of the SLA clock (`YYYY-MM-DD`), sorted.
    pub holidays: Vec<String>,
    /// Programs with the agreements each requires.
    pub programs: Vec<CatalogProgramView>,
    /// Agreements.
    pub agreements: Vec<CatalogItemView>,
    /// Profiles.
    pub profiles: Vec<CatalogItemView>,
    /// Roles.
    pub roles: Vec<CatalogItemView>,
    /// Offers.
    pub offers: Vec<CatalogOfferView>,
    /// Requirements with their kind's parameters.
    pub requirements: Vec<CatalogRequirementView>,
    /// Workspaces.
    pub workspaces: Vec<CatalogWorkspaceView>,
    /// Actions with every requirement that applies to each.
    pub actions: Vec<CatalogActionView>,
}

/// The vetting rules with role ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogVettingView {
    /// Business days of the verification SLA.
    pub sla_business_days: u32,
    /// Appeals allowed in total.
    pub max_appeals: u8,
    /// Roles that may appeal besides the primary contact.
    pub appeal_roles: Vec<String>,
    /// Roles that may enroll and submit verification.
    pub enroll_roles: Vec<String>,
    /// Roles the tenant always keeps a holder of.
    pub owner_roles: Vec<String>,
}

/// One gate: its key, what it gates and its action id (or `"off"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogGateView {
    /// The key in the `[gates]` table (`manage_roles`).
    pub gate: String,
    /// What it gates, in words.
    pub gates: String,
    /// The gating action's id, or `"off"`.
    pub action: String,
    /// Whether the catalog turned it off.
    pub off: bool,
}

/// An item with an id and a name (agreements, profiles, roles).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogItemView {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A program with its agreement ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogProgramView {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Agreements it requires.
    pub agreements: Vec<String>,
    /// Its home workspace id, or `"off"`.
    pub home: String,
}

/// An offer with its program id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogOfferView {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The program it belongs to.
    pub program: String,
    /// Days before expiry when renewal opens.
    pub renewal_window_days: u32,
    /// Length of a term in days.
    pub term_days: u32,
    /// The action that buys it, or `"off"`.
    pub buy: String,
    /// The action that renews it, or `"off"`.
    pub renew: String,
}

/// A requirement as written in the catalog TOML: the fields of its kind, and
/// its explanation in the shape an unmet requirement carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogRequirementView {
    /// Stable id.
    pub id: String,
    /// The kind's name.
    pub kind: String,
    /// Roles (any_role, primary_contact_or_role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Program (enrollment, verification, appeals_left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// Statuses that satisfy it (enrollment, verification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<String>>,
    /// Agreement (agreement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<String>,
    /// Profile (profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Offer (no_active_membership, membership_in_renewal_window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    /// Threshold (capability_score_at_least).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u32>,
    /// Why it blocks.
    pub reason: String,
    /// Who can fix it.
    pub fixed_by: FixedByView,
    /// The next supported step.
    pub next_step: NextStepView,
}

/// A workspace with ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogWorkspaceView {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Portal page.
    pub page: String,
    /// Parent workspace id.
    pub parent: Option<String>,
    /// Its own requirements.
    pub requires: Vec<String>,
}

/// An action with its own and all applying requirements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CatalogActionView {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Workspace id.
    pub workspace: String,
    /// Its own requirements.
    pub requires: Vec<String>,
    /// Every requirement that applies, in decision order.
    pub all_requirements: Vec<String>,
}

impl CatalogView {
    /// The view of the whole catalog.
    pub fn new(catalog: &Catalog) -> Self {
        let requirement_ids = |list: &[RequirementIx]| -> Vec<String> {
            list.iter()
                .map(|&r| catalog.requirement(r).id.clone())
                .collect()
        };
        CatalogView {
            fingerprint: format!("{:016x}", catalog.fingerprint()),
            vetting: CatalogVettingView {
                sla_business_days: catalog.vetting.sla_business_days,
                max_appeals: catalog.vetting.max_appeals,
                appeal_roles: role_ids(catalog, catalog.vetting.appeal_roles),
                enroll_roles: role_ids(catalog, catalog.vetting.enroll_roles),
                owner_roles: role_ids(catalog, catalog.vetting.owner_roles),
            },
            gates: catalog
                .gates
                .all()
                .into_iter()
                .zip(Gates::KEYS)
                .map(|((gate, value), (_, gates))| CatalogGateView {
                    gate: gate.to_owned(),
                    gates: (*gates).to_owned(),
                    action: catalog.gate_id(value).to_owned(),
                    off: value == Gate::Off,
                })
                .collect(),
            holidays: catalog
                .calendar
                .holidays()
                .iter()
                .map(ToString::to_string)
                .collect(),
            programs: catalog
                .programs
                .iter()
                .map(|p| CatalogProgramView {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    agreements: p
                        .agreements
                        .iter()
                        .map(|a| catalog.agreement(a).id.clone())
                        .collect(),
                    home: p
                        .home
                        .map_or(Gate::OFF, |w| catalog.workspace(w).id.as_str())
                        .to_owned(),
                })
                .collect(),
            agreements: catalog
                .agreements
                .iter()
                .map(|a| CatalogItemView::new(&a.id, &a.name))
                .collect(),
            profiles: catalog
                .profiles
                .iter()
                .map(|p| CatalogItemView::new(&p.id, &p.name))
                .collect(),
            roles: catalog
                .roles
                .iter()
                .map(|r| CatalogItemView::new(&r.id, &r.name))
                .collect(),
            offers: catalog
                .offers
                .iter()
                .map(|o| CatalogOfferView {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    program: catalog.program(o.program).id.clone(),
                    renewal_window_days: o.renewal_window_days,
                    term_days: o.term_days,
                    buy: catalog.gate_id(o.buy).to_owned(),
                    renew: catalog.gate_id(o.renew).to_owned(),
                })
                .collect(),
            requirements: catalog
                .requirements
                .iter()
                .map(|r| CatalogRequirementView::new(catalog, r))
                .collect(),
            workspaces: catalog
                .workspaces
                .iter()
                .map(|w| CatalogWorkspaceView {
                    id: w.id.clone(),
                    name: w.name.clone(),
                    page: w.page.clone(),
                    parent: w.parent.map(|p| catalog.workspace(p).id.clone()),
                    requires: requirement_ids(&w.requires),
                })
                .collect(),
            actions: catalog
                .actions
                .iter()
                .map(|a| CatalogActionView {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    workspace: catalog.workspace(a.workspace).id.clone(),
                    requires: requirement_ids(&a.requires),
                    all_requirements: requirement_ids(&a.all_requirements),
                })
                .collect(),
        }
    }
}

impl CatalogItemView {
    fn new(id: &str, name: &str) -> Self {
        CatalogItemView {
            id: id.to_owned(),
            name: name.to_owned(),
        }
    }
}

impl CatalogRequirementView {
    /// The view of one requirement, its kind's parameters as ids.
    pub fn new(catalog: &Catalog, requirement: &Requirement) -> Self {
        let mut view = CatalogRequirementView {
            id: requirement.id.clone(),
            kind: requirement.kind.name().to_owned(),
            roles: None,
            program: None,
            statuses: None,
            agreement: None,
            profile: None,
            offer: None,
            min: None,
            reason: requirement.reason.clone(),
            fixed_by: FixedByView::new(catalog, &requirement.fixed_by),
            next_step: NextStepView::from(&requirement.next_step),
        };
        let program = |p| Some(catalog.program(p).id.clone());
        match &requirement.kind {
            RequirementKind::AnyRole(roles) | RequirementKind::PrimaryContactOrRole(roles) => {
                view.roles = Some(role_ids(catalog, *roles));
            }
            RequirementKind::Enrollment {
                program: p,
                statuses,
            } => {
                view.program = program(*p);
                view.statuses = Some(statuses.iter().map(|s| s.as_str().to_owned()).collect());
            }
            RequirementKind::Verification {
                program: p,
                statuses,
            } => {
                view.program = program(*p);
                view.statuses = Some(statuses.iter().map(|s| s.as_str().to_owned()).collect());
            }
            RequirementKind::Agreement(a) => {
                view.agreement = Some(catalog.agreement(*a).id.clone());
            }
            RequirementKind::Profile(p) => view.profile = Some(catalog.profile(*p).id.clone()),
            RequirementKind::CapabilityScoreAtLeast { min } => view.min = Some(*min),
            RequirementKind::NoActiveMembership(o)
            | RequirementKind::MembershipInRenewalWindow(o) => {
                view.offer = Some(catalog.offer(*o).id.clone());
            }
            RequirementKind::AppealsLeft(p) => view.program = program(*p),
        }
        view
    }
}
