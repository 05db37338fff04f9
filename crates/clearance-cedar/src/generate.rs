//! Random valid catalogs, tenants and users, as plain specs.
//!
//! A [`CatalogSpec`] is rendered as TOML text ([`CatalogSpec::to_toml`]) and
//! loaded through `Catalog::from_toml`, so every generated catalog also
//! exercises the loader. Every field of a spec is interpreted modulo the sizes
//! it refers to, so any value is valid: property-test strategies can produce
//! and shrink them freely. [`TenantSpec::build`] applies to any catalog.

use std::fmt::Write as _;

use clearance_core::catalog::ProgramIx;
use clearance_core::state::{Membership, ProgramRecord, Verification};
use clearance_core::{Catalog, EnrollmentStatus, Tenant, User, VerificationStatus};
use jiff::{SignedDuration, Timestamp};

use crate::{agreement_set, offer_ixs, profile_set, program_ixs, role_set};

/// How many roles a generated catalog may have (the masks' width).
pub const MAX_ROLES: usize = 8;

/// A catalog to generate.
#[derive(Clone, Debug)]
pub struct CatalogSpec {
    /// Number of roles (1 to [`MAX_ROLES`] are used).
    pub roles: usize,
    /// Number of programs (at least 1 is used).
    pub programs: usize,
    /// Number of agreements.
    pub agreements: usize,
    /// Number of profiles.
    pub profiles: usize,
    /// The offers.
    pub offers: Vec<OfferSpec>,
    /// `vetting.max_appeals`.
    pub max_appeals: u8,
    /// The requirements (at least one is generated when empty).
    pub requirements: Vec<RequirementSpec>,
    /// The workspaces (at least one is generated when empty).
    pub workspaces: Vec<WorkspaceSpec>,
    /// The actions (at least one is generated when empty).
    pub actions: Vec<ActionSpec>,
    /// Write the workspaces in reverse order (a parent after its child).
    pub reverse_workspaces: bool,
}

/// An offer to generate.
#[derive(Clone, Debug)]
pub struct OfferSpec {
    /// Its program (modulo the number of programs).
    pub program: usize,
    /// Days of its renewal window.
    pub window_days: u32,
    /// Days of its term beyond the window (the term is at least one day).
    pub extra_term_days: u32,
}

/// A requirement to generate; indices are taken modulo the catalog's sizes,
/// and a kind whose list is empty (no agreement, profile or offer) becomes an
/// `any_role` of the first role.
#[derive(Clone, Debug)]
pub enum RequirementSpec {
    /// `any_role` over a role mask (empty means the first role).
    AnyRole(u64),
    /// `enrollment`: program, status mask over [`EnrollmentStatus::ALL`].
    Enrollment(usize, u8),
    /// `verification`: program, status mask over [`VerificationStatus::ALL`].
    Verification(usize, u8),
    /// `agreement`.
    Agreement(usize),
    /// `profile`.
    Profile(usize),
    /// `capability_score_at_least`.
    CapabilityScoreAtLeast(u32),
    /// `no_active_membership`.
    NoActiveMembership(usize),
    /// `membership_in_renewal_window`.
    MembershipInRenewalWindow(usize),
    /// `primary_contact_or_role` over a role mask (may be empty).
    PrimaryContactOrRole(u64),
    /// `appeals_left`.
    AppealsLeft(usize),
}

/// A workspace to generate.
#[derive(Clone, Debug)]
pub struct WorkspaceSpec {
    /// A parent among the workspaces before it (modulo its position).
    pub parent: Option<usize>,
    /// Its requirements (modulo their number; repeats dropped).
    pub requires: Vec<usize>,
}

/// An action to generate.
#[derive(Clone, Debug)]
pub struct ActionSpec {
    /// Its workspace (modulo their number).
    pub workspace: usize,
    /// Its own requirements (modulo their number; repeats dropped).
    pub requires: Vec<usize>,
}

fn role_id(i: usize) -> String {
    format!("role-{i}")
}
fn program_id(i: usize) -> String {
    format!("prog_{i}")
}
fn agreement_id(i: usize) -> String {
    format!("agreement.{i}")
}
fn profile_id(i: usize) -> String {
    format!("profile_{i}")
}
fn offer_id(i: usize) -> String {
    format!("offer.{i}")
}
fn requirement_id(i: usize) -> String {
    format!("req-{i}")
}
fn workspace_id(i: usize) -> String {
    format!("ws{i}")
}
fn action_id(i: usize, workspace: usize) -> String {
    format!("ws{workspace}.act-{i}")
}

fn ids(list: &[String]) -> String {
    let quoted: Vec<String> = list.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn mask_ids(mask: u64, n: usize, id: fn(usize) -> String) -> Vec<String> {
    (0..n).filter(|i| mask & (1 << i) != 0).map(id).collect()
}

fn unique(list: &[usize], n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for &i in list {
        let i = i % n;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

impl CatalogSpec {
    /// The catalog as TOML text in the loader's format.
    pub fn to_toml(&self) -> String {
        let roles = self.roles.clamp(1, MAX_ROLES);
        let programs = self.programs.max(1);
        let n_requirements = self.requirements.len().max(1);
        let n_workspaces = self.workspaces.len().max(1);
        let mut t = String::new();
        let _ = writeln!(
            t,
            "[vetting]\nsla_business_days = 5\nmax_appeals = {}\nappeal_roles = []\nenroll_roles = [{:?}]\nowner_roles = [{:?}]\n",
            self.max_appeals,
            role_id(0),
            role_id(0)
        );
        // Decisions never read gates: every one is off.
        let _ = writeln!(t, "[gates]");
        for (key, _) in clearance_core::catalog::Gates::KEYS {
            let _ = writeln!(t, "{key} = \"off\"");
        }
        let _ = writeln!(t);
        for i in 0..roles {
            let _ = writeln!(t, "[[role]]\nid = {:?}\nname = \"Role {i}\"\n", role_id(i));
        }
        for i in 0..programs {
            let _ = writeln!(
                t,
                "[[program]]\nid = {:?}\nname = \"Program {i}\"\nhome = \"off\"\n",
                program_id(i)
            );
        }
        for i in 0..self.agreements {
            let _ = writeln!(
                t,
                "[[agreement]]\nid = {:?}\nname = \"Agreement {i}\"\n",
                agreement_id(i)
            );
        }
        for i in 0..self.profiles {
            let _ = writeln!(
                t,
                "[[profile]]\nid = {:?}\nname = \"Profile {i}\"\n",
                profile_id(i)
            );
        }
        for (i, offer) in self.offers.iter().enumerate() {
            let _ = writeln!(
                t,
                "[[offer]]\nid = {:?}\nname = \"Offer {i}\"\nprogram = {:?}\nrenewal_window_days = {}\nterm_days = {}\nbuy = \"off\"\nrenew = \"off\"\n",
                offer_id(i),
                program_id(offer.program % programs),
                offer.window_days,
                (offer.window_days + offer.extra_term_days).max(1),
            );
        }
        let first_role = || format!("kind = \"any_role\"\nroles = [{:?}]", role_id(0));
        for i in 0..n_requirements {
            let spec = self
                .requirements
                .get(i)
                .cloned()
                .unwrap_or(RequirementSpec::AnyRole(1));
            let status_list = |mask: u8, all: &[&str]| {
                let mask = if mask as usize & ((1 << all.len()) - 1) == 0 {
                    1
                } else {
                    mask
                };
                let list: Vec<String> = all
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, s)| s.to_string())
                    .collect();
                ids(&list)
            };
            let kind = match spec {
                RequirementSpec::AnyRole(mask) => {
                    let list = mask_ids(mask, roles, role_id);
                    if list.is_empty() {
                        first_role()
                    } else {
                        format!("kind = \"any_role\"\nroles = {}", ids(&list))
                    }
                }
                RequirementSpec::Enrollment(p, mask) => format!(
                    "kind = \"enrollment\"\nprogram = {:?}\nstatuses = {}",
                    program_id(p % programs),
                    status_list(mask, &EnrollmentStatus::ALL.map(|s| s.as_str()))
                ),
                RequirementSpec::Verification(p, mask) => format!(
                    "kind = \"verification\"\nprogram = {:?}\nstatuses = {}",
                    program_id(p % programs),
                    status_list(mask, &VerificationStatus::ALL.map(|s| s.as_str()))
                ),
                RequirementSpec::Agreement(a) if self.agreements > 0 => format!(
                    "kind = \"agreement\"\nagreement = {:?}",
                    agreement_id(a % self.agreements)
                ),
                RequirementSpec::Profile(p) if self.profiles > 0 => format!(
                    "kind = \"profile\"\nprofile = {:?}",
                    profile_id(p % self.profiles)
                ),
                RequirementSpec::CapabilityScoreAtLeast(min) => {
                    format!("kind = \"capability_score_at_least\"\nmin = {min}")
                }
                RequirementSpec::NoActiveMembership(o) if !self.offers.is_empty() => format!(
                    "kind = \"no_active_membership\"\noffer = {:?}",
                    offer_id(o % self.offers.len())
                ),
                RequirementSpec::MembershipInRenewalWindow(o) if !self.offers.is_empty() => {
                    format!(
                        "kind = \"membership_in_renewal_window\"\noffer = {:?}",
                        offer_id(o % self.offers.len())
                    )
                }
                RequirementSpec::PrimaryContactOrRole(mask) => format!(
                    "kind = \"primary_contact_or_role\"\nroles = {}",
                    ids(&mask_ids(mask, roles, role_id))
                ),
                RequirementSpec::AppealsLeft(p) => format!(
                    "kind = \"appeals_left\"\nprogram = {:?}",
                    program_id(p % programs)
                ),
                _ => first_role(),
            };
            let _ = writeln!(
                t,
                "[[requirement]]\nid = {:?}\n{kind}\nreason = \"Requirement {i} is not met.\"\nfixed_by = {{ support = true }}\nnext_step = {{ code = \"contact_support\", page = \"/support\" }}\n",
                requirement_id(i)
            );
        }
        let mut workspaces: Vec<String> = (0..n_workspaces)
            .map(|i| {
                let spec = self.workspaces.get(i);
                let mut w = format!(
                    "[[workspace]]\nid = {:?}\nname = \"Workspace {i}\"\npage = \"/ws/{i}\"\n",
                    workspace_id(i)
                );
                if let Some(parent) = spec.and_then(|s| s.parent)
                    && i > 0
                {
                    let _ = writeln!(w, "parent = {:?}", workspace_id(parent % i));
                }
                let requires = spec
                    .map(|s| unique(&s.requires, n_requirements))
                    .unwrap_or_default();
                let list: Vec<String> = requires.into_iter().map(requirement_id).collect();
                let _ = writeln!(w, "requires = {}", ids(&list));
                w
            })
            .collect();
        if self.reverse_workspaces {
            workspaces.reverse();
        }
        for w in workspaces {
            let _ = writeln!(t, "{w}");
        }
        let default_action = [ActionSpec {
            workspace: 0,
            requires: vec![0],
        }];
        let actions = if self.actions.is_empty() {
            &default_action[..]
        } else {
            &self.actions[..]
        };
        for (i, action) in actions.iter().enumerate() {
            let workspace = action.workspace % n_workspaces;
            let list: Vec<String> = unique(&action.requires, n_requirements)
                .into_iter()
                .map(requirement_id)
                .collect();
            let _ = writeln!(
                t,
                "[[action]]\nid = {:?}\nname = \"Action {i}\"\nworkspace = {:?}\nrequires = {}\n",
                action_id(i, workspace),
                workspace_id(workspace),
                ids(&list)
            );
        }
        t
    }

    /// A large deterministic catalog for the benches: `actions` actions over
    /// `actions / 10` workspaces (nested three deep), 8 roles, 3 programs,
    /// 4 agreements, 4 profiles, 4 offers and `actions * 2` requirements, each
    /// action needing about 10 requirements in all.
    pub fn synthetic(actions: usize, seed: u64) -> CatalogSpec {
        let mut rng = SplitMix64(seed);
        let n_workspaces = (actions / 10).max(1);
        let n_requirements = (actions * 2).max(1);
        let requirements = (0..n_requirements)
            .map(|i| match i % 8 {
                // Role, enrollment and verification requirements are the
                // common ones; the kinds below are spread among them.
                0 | 1 => RequirementSpec::AnyRole(rng.next_u64() & 0xff | 1),
                2 => RequirementSpec::Enrollment(rng.below(3), 1),
                3 => RequirementSpec::Verification(rng.below(3), 1 << 3),
                4 => RequirementSpec::Agreement(rng.below(4)),
                5 => RequirementSpec::Profile(rng.below(4)),
                6 => RequirementSpec::CapabilityScoreAtLeast(rng.below(60) as u32),
                _ => RequirementSpec::PrimaryContactOrRole(rng.next_u64() & 0xff),
            })
            .collect();
        let workspaces = (0..n_workspaces)
            .map(|i| WorkspaceSpec {
                // Chains of three: 0 ← 1 ← 2, 3 ← 4 ← 5, ...
                parent: (i % 3 != 0).then_some(i - 1),
                requires: (0..3).map(|_| rng.below(n_requirements)).collect(),
            })
            .collect();
        let actions = (0..actions)
            .map(|i| ActionSpec {
                workspace: i % n_workspaces,
                requires: (0..3).map(|_| rng.below(n_requirements)).collect(),
            })
            .collect();
        CatalogSpec {
            roles: 8,
            programs: 3,
            agreements: 4,
            profiles: 4,
            offers: (0..4)
                .map(|i| OfferSpec {
                    program: i,
                    window_days: 60,
                    extra_term_days: 305,
                })
                .collect(),
            max_appeals: 3,
            requirements,
            workspaces,
            actions,
            reverse_workspaces: false,
        }
    }
}

/// A tenant and one of its users, to apply to any catalog.
#[derive(Clone, Debug)]
pub struct TenantSpec {
    /// Per program (by position, modulo the catalog's programs): no record,
    /// or (enrollment, verification, appeals used) with the statuses taken
    /// modulo their number.
    pub programs: Vec<Option<(u8, u8, u8)>>,
    /// Accepted agreements, as a mask over the catalog's agreements.
    pub agreements: u64,
    /// Complete profiles, as a mask over the catalog's profiles.
    pub profiles: u64,
    /// Partner Capability Score.
    pub capability_score: Option<u32>,
    /// Per offer (by position): no membership, or its expiry.
    pub memberships: Vec<Option<Expiry>>,
    /// 0: no primary contact; 1: the user; otherwise another user.
    pub primary_contact: u8,
    /// The user's roles, as a mask over the catalog's roles.
    pub roles: u64,
}

/// When a generated membership expires, relative to `now`.
#[derive(Clone, Copy, Debug)]
pub enum Expiry {
    /// `now + seconds`.
    FromNow(i64),
    /// `now + renewal window + seconds`: near the edge of the window.
    FromWindowEdge(i64),
}

impl TenantSpec {
    /// The tenant and its user in `catalog` at `now`.
    pub fn build(&self, catalog: &Catalog, now: Timestamp) -> (Tenant, User) {
        let mut tenant = Tenant::new("tenant-1", "US");
        let user = User {
            id: "user-1".to_string(),
            roles: role_set(catalog, self.roles),
        };
        let programs: Vec<ProgramIx> = program_ixs(catalog);
        for (i, spec) in self.programs.iter().enumerate() {
            let Some((enrollment, verification, appeals)) = *spec else {
                continue;
            };
            let Some(&program) = programs.get(i) else {
                break;
            };
            let status =
                VerificationStatus::ALL[usize::from(verification) % VerificationStatus::ALL.len()];
            tenant.programs.push(ProgramRecord {
                program,
                enrollment: EnrollmentStatus::ALL
                    [usize::from(enrollment) % EnrollmentStatus::ALL.len()],
                verification: Verification {
                    status,
                    submitted_at: None,
                    action_required: false,
                    reason: None,
                    documents_requested: Vec::new(),
                    appeals_used: appeals,
                    appeals: Vec::new(),
                    overdue: false,
                    escalated_case: None,
                },
            });
        }
        tenant.agreements = agreement_set(catalog, self.agreements);
        tenant.profiles = profile_set(catalog, self.profiles);
        tenant.capability_score = self.capability_score;
        tenant.primary_contact = match self.primary_contact {
            0 => None,
            1 => Some(user.id.clone()),
            _ => Some("someone-else".to_string()),
        };
        for (offer, spec) in offer_ixs(catalog).into_iter().zip(&self.memberships) {
            let Some(expiry) = *spec else { continue };
            let seconds = match expiry {
                Expiry::FromNow(s) => s,
                Expiry::FromWindowEdge(s) => {
                    i64::from(catalog.offer(offer).renewal_window_days) * 86_400 + s
                }
            };
            tenant.memberships.push(Membership {
                offer,
                expires_at: now
                    .checked_add(SignedDuration::from_secs(seconds))
                    .expect("generated offsets stay within a few years"),
            });
        }
        tenant.users.push(user.clone());
        (tenant, user)
    }

    /// A tenant that meets every requirement it can: every program active and
    /// authorized with no appeal used, every agreement and profile, a score
    /// of 100, the user as primary contact with every role, no membership.
    pub fn healthy() -> TenantSpec {
        TenantSpec {
            programs: vec![Some((0, 3, 0)); 64],
            agreements: u64::MAX,
            profiles: u64::MAX,
            capability_score: Some(100),
            memberships: Vec::new(),
            primary_contact: 1,
            roles: u64::MAX,
        }
    }

    /// A tenant that meets nearly nothing: no program, agreement, profile,
    /// score or role, and someone else as primary contact.
    pub fn empty() -> TenantSpec {
        TenantSpec {
            programs: Vec::new(),
            agreements: 0,
            profiles: 0,
            capability_score: None,
            memberships: Vec::new(),
            primary_contact: 2,
            roles: 0,
        }
    }
}

/// A tiny deterministic generator (SplitMix64) for the benches' catalogs.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
