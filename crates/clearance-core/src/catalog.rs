//! The catalog: programs, agreements, profiles, roles, offers, requirements,
//! workspaces and actions, loaded from TOML and compiled into dense indices.
//!
//! The catalog is data, not code: adding an action never needs a Rust change.
//! Loading validates everything once (unknown ids, duplicates, cycles, bad
//! values), naming the file, the line and the field of each error; after that
//! the hot path works on indices only.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;

mod load;
pub(crate) mod span;

use crate::vocabulary::{EnrollmentStatus, VerificationStatus};
pub(crate) use load::describe_parse_error;

/// The default catalog, modelling Microsoft Partner Center.
pub const PARTNER_CENTER_TOML: &str = include_str!("../../../catalog/partner-center.toml");

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub(crate) u16);

        impl $name {
            /// The dense position of this item in its catalog list.
            #[inline]
            pub fn index(self) -> usize {
                usize::from(self.0)
            }
        }
    };
}

index_type!(
    /// Index of a program in [`Catalog::programs`].
    ProgramIx
);
index_type!(
    /// Index of an agreement in [`Catalog::agreements`].
    AgreementIx
);
index_type!(
    /// Index of a profile in [`Catalog::profiles`].
    ProfileIx
);
index_type!(
    /// Index of a role in [`Catalog::roles`].
    RoleIx
);
index_type!(
    /// Index of an offer in [`Catalog::offers`].
    OfferIx
);
index_type!(
    /// Index of a requirement in [`Catalog::requirements`].
    RequirementIx
);
index_type!(
    /// Index of a workspace in [`Catalog::workspaces`].
    WorkspaceIx
);
index_type!(
    /// Index of an action in [`Catalog::actions`].
    ActionIx
);

/// A set of catalog items of one kind, as a 64-bit bitset.
///
/// Catalogs hold at most [`Set::CAPACITY`] roles, agreements, profiles and
/// programs each; loading refuses more.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Set<I> {
    bits: u64,
    #[serde(skip)]
    kind: PhantomData<I>,
}

impl<I> std::fmt::Debug for Set<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Set({:#x})", self.bits)
    }
}

impl<I> Default for Set<I> {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// An index type that a [`Set`] can hold.
pub trait SetMember: Copy {
    /// The bit position.
    fn bit(self) -> u32;
    /// The member at a bit position.
    fn from_bit(bit: u32) -> Self;
}

macro_rules! set_member {
    ($($name:ident),*) => {$(
        impl SetMember for $name {
            fn bit(self) -> u32 {
                u32::from(self.0)
            }
            fn from_bit(bit: u32) -> Self {
                $name(bit as u16)
            }
        }
    )*};
}
set_member!(ProgramIx, AgreementIx, ProfileIx, RoleIx);

impl<I> Set<I> {
    /// How many items of one kind a catalog may hold.
    pub const CAPACITY: usize = 64;
    /// The empty set.
    pub const EMPTY: Self = Set {
        bits: 0,
        kind: PhantomData,
    };

    /// No member at all.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// At least one member in common with `other`.
    pub fn intersects(self, other: Self) -> bool {
        self.bits & other.bits != 0
    }

    /// Every member of `self` is in `other`.
    pub fn is_subset(self, other: Self) -> bool {
        self.bits & !other.bits == 0
    }

    /// Members in either set.
    pub fn union(self, other: Self) -> Self {
        Set {
            bits: self.bits | other.bits,
            kind: PhantomData,
        }
    }

    /// Members of `self` that are not in `other`.
    pub fn difference(self, other: Self) -> Self {
        Set {
            bits: self.bits & !other.bits,
            kind: PhantomData,
        }
    }

    /// The number of members.
    pub fn len(self) -> usize {
        self.bits.count_ones() as usize
    }
}

impl<I: SetMember> Set<I> {
    /// Whether `item` is a member.
    pub fn contains(self, item: I) -> bool {
        self.bits & (1 << item.bit()) != 0
    }

    /// Adds `item`.
    pub fn insert(&mut self, item: I) {
        self.bits |= 1 << item.bit();
    }

    /// Removes `item`.
    pub fn remove(&mut self, item: I) {
        self.bits &= !(1 << item.bit());
    }

    /// Members in index order.
    pub fn iter(self) -> impl Iterator<Item = I> {
        let mut bits = self.bits;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let bit = bits.trailing_zeros();
            bits &= bits - 1;
            Some(I::from_bit(bit))
        })
    }
}

impl<I: SetMember> FromIterator<I> for Set<I> {
    fn from_iter<T: IntoIterator<Item = I>>(iter: T) -> Self {
        let mut set = Set::EMPTY;
        for item in iter {
            set.insert(item);
        }
        set
    }
}

/// A compiled, validated catalog.
#[derive(Clone, Debug)]
pub struct Catalog {
    /// Programs, in file order.
    pub programs: Vec<Program>,
    /// Agreements, in file order.
    pub agreements: Vec<Agreement>,
    /// Profiles (payment, tax, ...), in file order.
    pub profiles: Vec<Profile>,
    /// Roles, in file order.
    pub roles: Vec<Role>,
    /// Membership offers, in file order.
    pub offers: Vec<Offer>,
    /// Requirements, in file order.
    pub requirements: Vec<Requirement>,
    /// Workspaces, in file order.
    pub workspaces: Vec<Workspace>,
    /// Actions, in file order.
    pub actions: Vec<Action>,
    /// Rules of the vetting workflow.
    pub vetting: VettingRules,
    /// The action that gates each thing the workflow, the service and the
    /// portal do (the `[gates]` table).
    pub gates: Gates,
    /// The business-day calendar of the SLA clock.
    pub calendar: BusinessCalendar,
    /// Id → index tables, built by the loader.
    lookup: Lookup,
    /// Stable hash of the source text.
    fingerprint: u64,
}

/// Id → dense index tables of one catalog; used when parsing input, never on
/// the decision hot path.
#[derive(Clone, Debug, Default)]
struct Lookup {
    programs: HashMap<String, u16>,
    agreements: HashMap<String, u16>,
    profiles: HashMap<String, u16>,
    roles: HashMap<String, u16>,
    offers: HashMap<String, u16>,
    requirements: HashMap<String, u16>,
    workspaces: HashMap<String, u16>,
    actions: HashMap<String, u16>,
}

/// Declares the typed accessors, `catalog.program(ix)` and its siblings: the
/// item at an index, so no caller indexes a list by hand. Inlined slice
/// indexes, as cheap on the hot path as the expression they replace.
macro_rules! accessors {
    ($($name:ident($ix:ident) -> $item:ident in $list:ident;)*) => {
        impl Catalog {
            $(
                #[doc = concat!("The item at `ix` in [`Catalog::", stringify!($list), "`].")]
                #[inline]
                pub fn $name(&self, ix: $ix) -> &$item {
                    &self.$list[ix.index()]
                }
            )*
        }
    };
}

accessors! {
    program(ProgramIx) -> Program in programs;
    agreement(AgreementIx) -> Agreement in agreements;
    profile(ProfileIx) -> Profile in profiles;
    role(RoleIx) -> Role in roles;
    offer(OfferIx) -> Offer in offers;
    requirement(RequirementIx) -> Requirement in requirements;
    workspace(WorkspaceIx) -> Workspace in workspaces;
    action(ActionIx) -> Action in actions;
}

impl Catalog {
    /// Loads and validates a catalog from TOML text; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Catalog, CatalogError> {
        load::load(file, text)
    }

    /// The default catalog ([`PARTNER_CENTER_TOML`]), parsed once.
    pub fn partner_center() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::from_toml("catalog/partner-center.toml", PARTNER_CENTER_TOML)
                .expect("the embedded default catalog is validated by the crate's tests")
        })
    }

    /// A stable hash (64-bit FNV-1a) of the catalog's source text, so that
    /// stored snapshots can tell the catalog changed. Same text, same value,
    /// on every platform and Rust version.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The program with this id.
    pub fn program_ix(&self, id: &str) -> Option<ProgramIx> {
        self.lookup.programs.get(id).copied().map(ProgramIx)
    }

    /// The agreement with this id.
    pub fn agreement_ix(&self, id: &str) -> Option<AgreementIx> {
        self.lookup.agreements.get(id).copied().map(AgreementIx)
    }

    /// The profile with this id.
    pub fn profile_ix(&self, id: &str) -> Option<ProfileIx> {
        self.lookup.profiles.get(id).copied().map(ProfileIx)
    }

    /// The role with this id.
    pub fn role_ix(&self, id: &str) -> Option<RoleIx> {
        self.lookup.roles.get(id).copied().map(RoleIx)
    }

    /// The offer with this id.
    pub fn offer_ix(&self, id: &str) -> Option<OfferIx> {
        self.lookup.offers.get(id).copied().map(OfferIx)
    }

    /// The requirement with this id.
    pub fn requirement_ix(&self, id: &str) -> Option<RequirementIx> {
        self.lookup.requirements.get(id).copied().map(RequirementIx)
    }

    /// The workspace with this id.
    pub fn workspace_ix(&self, id: &str) -> Option<WorkspaceIx> {
        self.lookup.workspaces.get(id).copied().map(WorkspaceIx)
    }

    /// The action with this id.
    pub fn action_ix(&self, id: &str) -> Option<ActionIx> {
        self.lookup.actions.get(id).copied().map(ActionIx)
    }

    /// A gate as the catalog TOML writes it: the action's id, or `"off"`.
    pub fn gate_id(&self, gate: Gate) -> &str {
        match gate {
            Gate::Action(action) => &self.action(action).id,
            Gate::Off => Gate::OFF,
        }
    }

    /// Whether `action` buys or renews an offer (is some offer's `buy` or `renew`).
    pub fn is_purchase(&self, action: ActionIx) -> bool {
        let gated = Gate::Action(action);
        self.offers
            .iter()
            .any(|offer| offer.buy == gated || offer.renew == gated)
    }
}

/// 64-bit FNV-1a: tiny, and stable across platforms and Rust versions (unlike
/// `std`'s `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// What one gate says: the action whose decision opens the thing it gates, or
/// that the catalog turned the gate off on purpose (`"off"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gate {
    /// Open exactly when `decide` allows this action.
    Action(ActionIx),
    /// Turned off explicitly: for a `[gates]` entry the thing is ungated; for
    /// an offer's `buy` or `renew` there is no such button.
    Off,
}

impl Gate {
    /// The value that turns a gate off in the catalog TOML; never an id.
    pub const OFF: &'static str = "off";

    /// The gating action, `None` when the gate is off.
    pub fn action(self) -> Option<ActionIx> {
        match self {
            Gate::Action(action) => Some(action),
            Gate::Off => None,
        }
    }
}

/// Declares [`Gates`]: one field per key of the `[gates]` table, with what it
/// gates in words (used in the "missing" error and by `catalog show`).
macro_rules! gates {
    ($($(#[$doc:meta])* $key:ident: $gates:literal,)*) => {
        /// The `[gates]` table: which action gates each thing the workflow,
        /// the service and the portal do. Every key is required; a catalog
        /// that leaves one out is refused at load.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Gates {
            $($(#[$doc])* pub $key: Gate,)*
        }

        impl Gates {
            /// Every key of the table with what it gates, in table order.
            pub const KEYS: &'static [(&'static str, &'static str)] =
                &[$((stringify!($key), $gates),)*];

            /// Builds the table from `gate(key, what it gates)`, key by key in
            /// table order.
            pub(crate) fn build<E>(
                mut gate: impl FnMut(&'static str, &'static str) -> Result<Gate, E>,
            ) -> Result<Gates, E> {
                Ok(Gates { $($key: gate(stringify!($key), $gates)?,)* })
            }

            /// Every gate with its key, in table order.
            pub fn all(&self) -> Vec<(&'static str, Gate)> {
                vec![$((stringify!($key), self.$key),)*]
            }
        }
    };
}

gates! {
    /// Granting and revoking roles (`grant_roles`, `revoke_roles`).
    manage_roles: "role changes",
    /// Adding users (`add_user`).
    add_user: "adding users",
    /// Removing users (`remove_user`).
    remove_user: "removing users",
    /// Appealing a verification decision (`appeal`).
    appeal: "appeals",
    /// Opening support cases, and escalating a stuck verification into one.
    open_case: "opening and escalating support cases",
    /// Commenting on a support case.
    comment_case: "commenting on a support case",
    /// Reading the tenant's support cases.
    view_cases: "viewing support cases",
    /// The Partner tab of Legal Info.
    legal_info: "the Legal Info page",
    /// A program's verification summary.
    verification: "the verification summary",
    /// The tenant summary (`GET /v1/tenants/{tenant}`).
    tenant_summary: "the tenant summary",
    /// The tenant's users and their roles.
    view_users: "viewing users and their roles",
    /// The tenant's audit trail.
    audit_trail: "the audit trail",
    /// Another user's check, access or diagnosis (`?user=` other than oneself).
    other_users: "reading another user's check, access or diagnosis",
    /// The portal's Membership page.
    membership_page: "the Membership page",
    /// The portal's Membership offers page.
    offers_page: "the Membership offers page",
}

/// A partner program (MAICPP, CSP, Developer, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Stable id (`maicpp`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Agreements the program requires.
    pub agreements: Set<AgreementIx>,
    /// The workspace a partner lands on for the program (`home`); `None` when
    /// the catalog says `"off"`: the program has no page of its own.
    pub home: Option<WorkspaceIx>,
}

/// An agreement a tenant may accept (e.g. the Microsoft Partner Agreement).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// Stable id (`mpa`).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A tenant profile that must be complete for some actions (payment, tax).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Stable id (`payment`).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A role a tenant's user may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// Stable id (`global_admin`).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A membership offer that can be bought and renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    /// Stable id (`maicpp_core_benefits`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The program the offer belongs to.
    pub program: ProgramIx,
    /// Days before expiry when renewal opens.
    pub renewal_window_days: u32,
    /// Length of a membership bought or renewed, in days.
    pub term_days: u32,
    /// The action that gates buying it; [`Gate::Off`]: it cannot be bought.
    pub buy: Gate,
    /// The action that gates renewing it; [`Gate::Off`]: it cannot be renewed.
    pub renew: Gate,
}

/// The rules of the vetting workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VettingRules {
    /// Business days after submission before verification is overdue.
    pub sla_business_days: u32,
    /// Appeals allowed in total per program.
    pub max_appeals: u8,
    /// Roles that may appeal besides the primary contact.
    pub appeal_roles: Set<RoleIx>,
    /// Roles that may enroll and submit verification.
    pub enroll_roles: Set<RoleIx>,
    /// Roles a tenant must always keep a holder of (Global Admin): the last
    /// user holding one of them can neither lose it nor be removed, so the
    /// tenant never locks itself out.
    pub owner_roles: Set<RoleIx>,
}

/// One criterion an action can require, with its explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// Stable id (`maicpp_verification_authorized`).
    pub id: String,
    /// What is checked.
    pub kind: RequirementKind,
    /// Why it blocks, as one sentence for the user.
    pub reason: String,
    /// Who can fix it.
    pub fixed_by: FixedBy,
    /// The next supported step.
    pub next_step: NextStepRef,
}

/// What a requirement checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequirementKind {
    /// The user holds at least one of these roles.
    AnyRole(Set<RoleIx>),
    /// The tenant is enrolled in the program with one of these statuses.
    Enrollment {
        /// The program.
        program: ProgramIx,
        /// Statuses that satisfy it.
        statuses: Vec<EnrollmentStatus>,
    },
    /// The program's verification has one of these statuses.
    Verification {
        /// The program.
        program: ProgramIx,
        /// Statuses that satisfy it.
        statuses: Vec<VerificationStatus>,
    },
    /// The agreement is accepted.
    Agreement(AgreementIx),
    /// The profile is complete.
    Profile(ProfileIx),
    /// The tenant's Partner Capability Score is at least `min`.
    CapabilityScoreAtLeast {
        /// The threshold.
        min: u32,
    },
    /// The tenant has no active (unexpired) membership of the offer.
    NoActiveMembership(OfferIx),
    /// The tenant has a membership of the offer inside its renewal window.
    MembershipInRenewalWindow(OfferIx),
    /// The user is the tenant's primary contact or holds one of these roles.
    PrimaryContactOrRole(Set<RoleIx>),
    /// The program's verification has appeals left.
    AppealsLeft(ProgramIx),
}

impl RequirementKind {
    /// The stable snake_case name of the kind, as written in the catalog TOML
    /// and on the wire (`any_role`, `enrollment`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::AnyRole(_) => "any_role",
            Self::Enrollment { .. } => "enrollment",
            Self::Verification { .. } => "verification",
            Self::Agreement(_) => "agreement",
            Self::Profile(_) => "profile",
            Self::CapabilityScoreAtLeast { .. } => "capability_score_at_least",
            Self::NoActiveMembership(_) => "no_active_membership",
            Self::MembershipInRenewalWindow(_) => "membership_in_renewal_window",
            Self::PrimaryContactOrRole(_) => "primary_contact_or_role",
            Self::AppealsLeft(_) => "appeals_left",
        }
    }
}

/// Who can fix an unmet requirement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixedBy {
    /// Users holding any of these roles.
    pub roles: Set<RoleIx>,
    /// The tenant's primary contact.
    pub primary_contact: bool,
    /// The operator's support staff.
    pub support: bool,
}

/// The next supported step: a stable code and the portal page where it is taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextStepRef {
    /// Stable code (`contact_support`).
    pub code: String,
    /// Portal page path (`/account/legal-info`).
    pub page: String,
}

/// A workspace: a group of actions behind one navigation tile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    /// Stable id (`membership`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Portal page path.
    pub page: String,
    /// A parent workspace whose requirements also apply.
    pub parent: Option<WorkspaceIx>,
    /// Requirements of every action in it (after the parent's), in order.
    pub requires: Vec<RequirementIx>,
    /// Its actions, in catalog order.
    pub actions: Vec<ActionIx>,
}

/// One action a user can attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    /// Stable id (`membership_offers.buy`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Its workspace.
    pub workspace: WorkspaceIx,
    /// The action's own requirements.
    pub requires: Vec<RequirementIx>,
    /// Every requirement that applies, in catalog order: the workspace chain's
    /// (outermost first), then the action's own; each once.
    pub all_requirements: Vec<RequirementIx>,
}

/// A catalog that failed to load, with where and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}: {field}: {message}")]
pub struct CatalogError {
    /// The file (or source name) given to the loader.
    pub file: String,
    /// 1-based line of the offending value (0 when not known).
    pub line: usize,
    /// Dotted path of the field (`action[3].requires[1]`) or the item id.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

#[cfg(test)]
mod tests;
