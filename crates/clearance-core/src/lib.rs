//! The clearance domain: who may do what in a partner program, and why not.
//!
//! This crate is pure: no I/O, no async, no clock reads. Time is always a
//! parameter. The storage, HTTP server, portal and CLI are thin shells around it.
//!
//! - [`catalog`]: programs, roles, workspaces, actions and their requirements,
//!   loaded from TOML and compiled into dense indices.
//! - [`state`]: a tenant's state (enrollments, verification, agreements,
//!   profiles, memberships, users), the fold of its events.
//! - [`decision`]: `decide` an action for a user, listing every unmet requirement.
//! - [`diagnosis`]: the ordered next supported steps for a tenant.
//! - [`workflow`]: commands, events and the vetting state machine.
//! - [`calendar`]: the SLA clock in business days.
//! - [`scenario`]: the scenario file the CLI reads.
//! - [`vocabulary`]: the stable codes every layer names (statuses, step codes).
//! - [`prose`]: list joining, "who can fix" and capitals, shared by every explanation.

pub mod calendar;
pub mod catalog;
pub mod decision;
pub mod diagnosis;
pub mod journey;
pub mod prose;
pub mod scenario;
pub mod state;
pub mod vocabulary;
pub mod workflow;

pub use catalog::{Catalog, CatalogError};
pub use decision::{Decision, Unmet, WorkspaceAccess, access, decide};
pub use diagnosis::{Diagnosis, Finding, FindingKind, Step, StepCode, diagnose};
pub use journey::{Journey, JourneyError};
pub use scenario::{Scenario, ScenarioError};
pub use state::{EnrollmentStatus, Tenant, User, VerificationStatus};
pub use workflow::{Actor, Command, Event, WorkflowError};
